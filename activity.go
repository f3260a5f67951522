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
	// UnansweredNodes names the nodes whose processes are missing because
	// they did not answer in time (a fourd extension, written
	// "unansweredNodes" and left out when empty).
	UnansweredNodes []string
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
//
// The processes are those of every node of the registry that answered in
// time, each with its node; the nodes that did not are named in
// UnansweredNodes. Sessions come from the session store, each once.
func ProcessActivity(ctx context.Context, procs ProcessRegistry, sessions SessionStore, sessionID string, opts ActivityOptions) (*Activity, error) {
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
		one = &s
	}

	a := &Activity{}
	if opts != SessionsOnly {
		snap, err := procs.Processes(ctx, sessionID)
		if err != nil {
			return nil, err
		}
		a.Processes, a.UnansweredNodes = snap.Processes, snap.Unanswered
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

// AddLocks lists in each session of the activity the entity locks it
// holds (a fourd extension, for administrators to see who holds what).
// Processes share their session's info, so they show them too.
func (a *Activity) AddLocks(ctx context.Context, locks LockTable) {
	if a == nil || locks == nil {
		return
	}
	for i := range a.Sessions {
		if l := locks.SessionLocks(ctx, a.Sessions[i].ID); len(l) > 0 {
			a.Sessions[i].Locks = l
		}
	}
}

// linkSessions points each process's Session at its session's info in
// a.Sessions.
func (a *Activity) linkSessions() {
	if len(a.Sessions) == 0 {
		return
	}
	byID := make(map[string]int32, len(a.Sessions))
	for i := range a.Sessions {
		byID[a.Sessions[i].ID] = int32(i)
	}
	for i := range a.Processes {
		p := &a.Processes[i]
		if p.SessionID == "" {
			continue
		}
		if k, ok := byID[p.SessionID]; ok {
			p.Session = &a.Sessions[k]
			p.sessionIndex = k + 1
		}
	}
}

// MarshalJSON writes the activity with 4D's property names; see AppendJSON.
func (a *Activity) MarshalJSON() ([]byte, error) {
	if a == nil {
		return []byte("null"), nil
	}
	return a.AppendJSON(nil), nil
}

// AppendJSON appends the JSON form of the activity to b. Each session's
// info is encoded once, where it first appears, and copied from there into
// every other place it appears; the output buffer is sized once.
func (a *Activity) AppendJSON(b []byte) []byte {
	size := 32 + len(a.Processes)*processJSONSizeHint + len(a.Sessions)*sessionJSONSizeHint
	for i := range a.Processes {
		if a.Processes[i].Session != nil {
			size += len(`,"session":`) + sessionJSONSizeHint
		}
	}
	if cap(b)-len(b) < size {
		nb := make([]byte, len(b), len(b)+size)
		copy(nb, b)
		b = nb
	}
	// spans[2k], spans[2k+1]: where session k's encoding stands in b; 0, 0
	// until it has been written.
	var spans []int
	if len(a.Sessions) > 0 {
		spans = make([]int, 2*len(a.Sessions))
	}
	appendSession := func(b []byte, k int) []byte {
		if spans[2*k+1] != 0 {
			return append(b, b[spans[2*k]:spans[2*k+1]]...)
		}
		start := len(b)
		b = a.Sessions[k].AppendJSON(b)
		spans[2*k], spans[2*k+1] = start, len(b)
		return b
	}

	b = append(b, '{')
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
				// linkSessions recorded where the session stands in a.Sessions.
				if k := int(p.sessionIndex) - 1; k >= 0 && k < len(a.Sessions) && &a.Sessions[k] == p.Session {
					b = appendSession(b, k)
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
		for k := range a.Sessions {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendSession(b, k)
		}
		b = append(b, ']')
	}
	if len(a.UnansweredNodes) > 0 {
		if a.Processes != nil || a.Sessions != nil {
			b = append(b, ',')
		}
		b = append(b, `"unansweredNodes":[`...)
		for i, n := range a.UnansweredNodes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, n)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// Typical encoded sizes, to size buffers once.
const (
	processJSONSizeHint = 360
	sessionJSONSizeHint = 440
)

// UnmarshalJSON reads an activity written by MarshalJSON.
func (a *Activity) UnmarshalJSON(data []byte) error {
	var w struct {
		Processes       []ProcessInfo `json:"processes"`
		Sessions        []SessionInfo `json:"sessions"`
		UnansweredNodes []string      `json:"unansweredNodes"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	a.Processes, a.Sessions, a.UnansweredNodes = w.Processes, w.Sessions, w.UnansweredNodes
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

// Keep keeps the processes for which keepProcess is true and the sessions
// for which keepSession is true (a nil function keeps all), and links the
// processes to the sessions kept again. keepProcess sees each process with
// its Session as linked before.
func (a *Activity) Keep(keepProcess func(*ProcessInfo) bool, keepSession func(*SessionInfo) bool) {
	if a == nil {
		return
	}
	linked := false
	if keepProcess != nil {
		kept := a.Processes[:0]
		for i := range a.Processes {
			if a.Processes[i].Session != nil {
				linked = true
			}
			if keepProcess(&a.Processes[i]) {
				kept = append(kept, a.Processes[i])
			}
		}
		a.Processes = kept
	}
	if keepSession != nil && a.Sessions != nil {
		kept := make([]SessionInfo, 0, len(a.Sessions))
		for i := range a.Sessions {
			if keepSession(&a.Sessions[i]) {
				kept = append(kept, a.Sessions[i])
			}
		}
		a.Sessions = kept
	}
	for i := range a.Processes {
		if a.Processes[i].Session != nil {
			linked = true
		}
		a.Processes[i].Session, a.Processes[i].sessionIndex = nil, 0
	}
	if linked {
		a.linkSessions()
	}
}
