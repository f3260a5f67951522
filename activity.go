package fourd

import (
	"context"
	"encoding/json"
	"strings"
)

// ActivityOptions selects what Process activity returns: 4D's options
// constants with their 4D values.
type ActivityOptions int

// The options of Process activity.
const (
	ProcessesAndSessions ActivityOptions = 0 // both collections (the default)
	ProcessesOnly        ActivityOptions = 1 // only "processes"; no "session" property on them
	SessionsOnly         ActivityOptions = 2 // only "sessions"
)

// Valid reports whether o is one of the three options.
func (o ActivityOptions) Valid() bool { return o >= ProcessesAndSessions && o <= SessionsOnly }

// Activity is the result of Process activity: a snapshot of the running
// processes and of the user sessions. A nil collection was not asked for
// and is left out of the JSON form; an asked-for empty one is written [].
type Activity struct {
	Processes []ProcessInfo
	Sessions  []SessionInfo
}

// ProcessActivity is 4D's Process activity command.
//
// With sessionID "" it covers every process, internal ones included, and
// every session. With a session ID it covers that session's processes and a
// sessions collection holding exactly that session; for an unknown session
// it returns (nil, nil), which is JSON null, as the command returns null.
// opts selects the collections; with ProcessesAndSessions every process of
// a session carries that session's info in its Session field. An invalid
// opts returns a *Error with code EINVALID.
func ProcessActivity(ctx context.Context, procs ProcessTable, sessions SessionStore, sessionID string, opts ActivityOptions) (*Activity, error) {
	if !opts.Valid() {
		return nil, Errorf(EINVALID, ErrCodeBadParameter, "options must be 0 (processes and sessions), 1 (processes only) or 2 (sessions only), not %d", int(opts))
	}
	var one *Session
	if sessionID != "" {
		if !ValidID(sessionID) {
			return nil, nil
		}
		sessionID = strings.ToUpper(sessionID)
		s, err := sessions.Session(ctx, sessionID)
		if ErrorCode(err) == ENOTFOUND {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		one = s
	}

	a := &Activity{}
	if opts != SessionsOnly {
		a.Processes = procs.Processes(sessionID)
		if a.Processes == nil {
			a.Processes = []ProcessInfo{}
		}
	}
	if opts != ProcessesOnly {
		if one != nil {
			a.Sessions = []SessionInfo{one.Info()}
		} else {
			list, err := sessions.Sessions(ctx)
			if err != nil {
				return nil, err
			}
			a.Sessions = list
			if a.Sessions == nil {
				a.Sessions = []SessionInfo{}
			}
		}
	}
	if opts == ProcessesAndSessions {
		a.linkSessions()
	}
	return a, nil
}

// linkSessions points each process's Session at its session's info in
// a.Sessions.
func (a *Activity) linkSessions() {
	if len(a.Sessions) == 0 {
		return
	}
	if len(a.Sessions) == 1 {
		for i := range a.Processes {
			if a.Processes[i].SessionID == a.Sessions[0].ID {
				a.Processes[i].Session = &a.Sessions[0]
			}
		}
		return
	}
	byID := make(map[string]*SessionInfo, len(a.Sessions))
	for i := range a.Sessions {
		byID[a.Sessions[i].ID] = &a.Sessions[i]
	}
	for i := range a.Processes {
		if id := a.Processes[i].SessionID; id != "" {
			a.Processes[i].Session = byID[id]
		}
	}
}

// MarshalJSON writes the activity with 4D's property names; see AppendJSON.
func (a *Activity) MarshalJSON() ([]byte, error) {
	if a == nil {
		return []byte("null"), nil
	}
	return a.AppendJSON(make([]byte, 0, a.sizeHint())), nil
}

func (a *Activity) sizeHint() int {
	return 64 + len(a.Processes)*320 + len(a.Sessions)*420
}

// AppendJSON appends the JSON form of the activity to b. Each session's
// info is encoded once and copied into every process of that session.
func (a *Activity) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	var sessionJSON []byte
	var spans map[*SessionInfo][2]int
	if a.Sessions != nil {
		sessionJSON = make([]byte, 0, len(a.Sessions)*420)
		spans = make(map[*SessionInfo][2]int, len(a.Sessions))
		for i := range a.Sessions {
			start := len(sessionJSON)
			sessionJSON = a.Sessions[i].AppendJSON(sessionJSON)
			spans[&a.Sessions[i]] = [2]int{start, len(sessionJSON)}
		}
	}
	if a.Processes != nil {
		b = append(b, `"processes":[`...)
		for i := range a.Processes {
			if i > 0 {
				b = append(b, ',')
			}
			p := &a.Processes[i]
			b = p.appendFields(b)
			if p.Session != nil {
				b = append(b, `,"session":`...)
				if sp, ok := spans[p.Session]; ok {
					b = append(b, sessionJSON[sp[0]:sp[1]]...)
				} else {
					b = p.Session.AppendJSON(b)
				}
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if a.Sessions != nil {
		if a.Processes != nil {
			b = append(b, ',')
		}
		b = append(b, `"sessions":[`...)
		for i := range a.Sessions {
			if i > 0 {
				b = append(b, ',')
			}
			sp := spans[&a.Sessions[i]]
			b = append(b, sessionJSON[sp[0]:sp[1]]...)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// UnmarshalJSON reads an activity written by MarshalJSON.
func (a *Activity) UnmarshalJSON(data []byte) error {
	var w struct {
		Processes []ProcessInfo `json:"processes"`
		Sessions  []SessionInfo `json:"sessions"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	a.Processes, a.Sessions = w.Processes, w.Sessions
	return nil
}

// Session returns the session with that ID in the activity, or nil.
func (a *Activity) Session(id string) *SessionInfo {
	for i := range a.Sessions {
		if a.Sessions[i].ID == id {
			return &a.Sessions[i]
		}
	}
	return nil
}
