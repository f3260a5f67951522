package fourd

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The JSON forms of ProcessInfo and SessionInfo are written by hand: a
// snapshot of 20,000 objects must encode in a few milliseconds, which
// encoding/json's reflection cannot do (docs/performance.md). They are read
// back with encoding/json through the wire structs below.

// MarshalJSON writes the process info with 4D's property names and order.
func (p ProcessInfo) MarshalJSON() ([]byte, error) {
	b := p.appendFields(make([]byte, 0, 320))
	if p.Session != nil {
		b = append(b, `,"session":`...)
		b = p.Session.AppendJSON(b)
	}
	return append(b, '}'), nil
}

// appendFields writes everything but the closing brace and the session.
func (p *ProcessInfo) appendFields(b []byte) []byte {
	b = append(b, `{"number":`...)
	b = strconv.AppendInt(b, int64(p.Number), 10)
	b = append(b, `,"name":`...)
	b = appendString(b, p.Name)
	b = append(b, `,"sessionID":`...)
	b = appendSafeString(b, p.SessionID)
	b = append(b, `,"ID":`...)
	b = strconv.AppendInt(b, p.ID, 10)
	b = append(b, `,"visible":`...)
	b = strconv.AppendBool(b, p.Visible)
	b = append(b, `,"type":`...)
	b = strconv.AppendInt(b, int64(p.Type), 10)
	b = append(b, `,"state":`...)
	b = strconv.AppendInt(b, int64(p.State), 10)
	b = append(b, `,"creationDateTime":"`...)
	b = AppendTime(b, p.CreationDateTime)
	b = append(b, `","preemptive":`...)
	b = strconv.AppendBool(b, p.Preemptive)
	b = append(b, `,"systemID":`...)
	b = appendSafeString(b, p.SystemID)
	b = append(b, `,"cpuUsage":`...)
	b = appendFloat(b, p.CPUUsage, 1e4)
	b = append(b, `,"cpuTime":`...)
	b = appendFloat(b, p.CPUTime, 1e6)
	if p.URL != "" {
		b = append(b, `,"url":`...)
		b = appendString(b, p.URL)
	}
	if p.DataClass != "" {
		b = append(b, `,"dataClass":`...)
		b = appendString(b, p.DataClass)
	}
	if p.Filter != "" {
		b = append(b, `,"filter":`...)
		b = appendString(b, p.Filter)
	}
	if p.Phase != PhaseNone {
		b = append(b, `,"phase":"`...)
		b = append(b, p.Phase.String()...)
		b = append(b, `","rowsDone":`...)
		b = strconv.AppendInt(b, p.RowsDone, 10)
	}
	if p.Node != "" {
		b = append(b, `,"node":`...)
		b = appendString(b, p.Node)
	}
	return b
}

type processInfoWire struct {
	Number           int          `json:"number"`
	Name             string       `json:"name"`
	SessionID        string       `json:"sessionID"`
	ID               int64        `json:"ID"`
	Visible          bool         `json:"visible"`
	Type             ProcessType  `json:"type"`
	State            ProcessState `json:"state"`
	CreationDateTime string       `json:"creationDateTime"`
	Preemptive       bool         `json:"preemptive"`
	SystemID         string       `json:"systemID"`
	CPUUsage         float64      `json:"cpuUsage"`
	CPUTime          float64      `json:"cpuTime"`
	URL              string       `json:"url"`
	DataClass        string       `json:"dataClass"`
	Filter           string       `json:"filter"`
	Phase            string       `json:"phase"`
	RowsDone         int64        `json:"rowsDone"`
	Node             string       `json:"node"`
	Session          *SessionInfo `json:"session"`
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (p *ProcessInfo) UnmarshalJSON(data []byte) error {
	var w processInfoWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	created, err := parseOptionalTime(w.CreationDateTime)
	if err != nil {
		return err
	}
	*p = ProcessInfo{
		Number: w.Number, Name: w.Name, SessionID: w.SessionID, ID: w.ID, Visible: w.Visible,
		Type: w.Type, State: w.State, CreationDateTime: created, Preemptive: w.Preemptive,
		SystemID: w.SystemID, CPUUsage: w.CPUUsage, CPUTime: w.CPUTime, URL: w.URL, Session: w.Session,
		DataClass: w.DataClass, Filter: w.Filter, Phase: ParsePhase(w.Phase), RowsDone: w.RowsDone,
		Node: w.Node,
	}
	return nil
}

// MarshalJSON writes the session info with 4D's property names and order.
func (s SessionInfo) MarshalJSON() ([]byte, error) {
	return s.AppendJSON(make([]byte, 0, 420)), nil
}

// AppendJSON appends the JSON form of the session info to b.
func (s *SessionInfo) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendSafeString(b, string(s.Type))
	b = append(b, `,"userName":`...)
	b = appendString(b, s.UserName)
	b = append(b, `,"machineName":`...)
	b = appendString(b, s.MachineName)
	b = append(b, `,"systemUserName":`...)
	b = appendString(b, s.SystemUserName)
	b = append(b, `,"IPAddress":`...)
	b = appendString(b, s.IPAddress)
	b = append(b, `,"hostType":`...)
	b = appendString(b, s.HostType)
	b = append(b, `,"creationDateTime":"`...)
	b = AppendTime(b, s.CreationDateTime)
	b = append(b, `","state":`...)
	b = appendSafeString(b, string(s.State))
	b = append(b, `,"ID":`...)
	b = appendSafeString(b, s.ID)
	b = append(b, `,"persistentID":`...)
	b = appendSafeString(b, s.PersistentID)
	b = append(b, `,"lastActivity":"`...)
	b = AppendTime(b, s.LastActivity)
	b = append(b, '"')
	if !s.Expiration.IsZero() {
		b = append(b, `,"expiration":"`...)
		b = AppendTime(b, s.Expiration)
		b = append(b, '"')
	}
	b = append(b, `,"userAgent":`...)
	b = appendString(b, s.UserAgent)
	b = append(b, `,"userID":`...)
	b = appendSafeString(b, s.UserID)
	if s.Node != "" {
		b = append(b, `,"node":`...)
		b = appendString(b, s.Node)
	}
	if len(s.Locks) > 0 {
		b = append(b, `,"locks":[`...)
		for i := range s.Locks {
			if i > 0 {
				b = append(b, ',')
			}
			b = s.Locks[i].AppendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// AppendJSON appends the JSON form of a lock as $activity lists it:
// {"dataClass":…,"key":…,"locked":…[,"processID":…]}.
func (l *EntityLock) AppendJSON(b []byte) []byte {
	b = append(b, `{"dataClass":`...)
	b = appendString(b, l.DataClass)
	b = append(b, `,"key":`...)
	b = appendString(b, l.Key)
	b = append(b, `,"locked":"`...)
	b = AppendTime(b, l.Locked)
	b = append(b, '"')
	if l.ProcessID != 0 {
		b = append(b, `,"processID":`...)
		b = strconv.AppendInt(b, l.ProcessID, 10)
	}
	return append(b, '}')
}

type sessionInfoWire struct {
	Type             SessionType  `json:"type"`
	UserName         string       `json:"userName"`
	MachineName      string       `json:"machineName"`
	SystemUserName   string       `json:"systemUserName"`
	IPAddress        string       `json:"IPAddress"`
	HostType         string       `json:"hostType"`
	CreationDateTime string       `json:"creationDateTime"`
	State            SessionState `json:"state"`
	ID               string       `json:"ID"`
	PersistentID     string       `json:"persistentID"`
	LastActivity     string       `json:"lastActivity"`
	Expiration       string       `json:"expiration"`
	UserAgent        string       `json:"userAgent"`
	UserID           string       `json:"userID"`
	Node             string       `json:"node"`
	Locks            []lockWire   `json:"locks"`
}

type lockWire struct {
	DataClass string `json:"dataClass"`
	Key       string `json:"key"`
	Locked    string `json:"locked"`
	ProcessID int64  `json:"processID"`
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (s *SessionInfo) UnmarshalJSON(data []byte) error {
	var w sessionInfoWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	var times [3]time.Time
	for i, v := range []string{w.CreationDateTime, w.LastActivity, w.Expiration} {
		t, err := parseOptionalTime(v)
		if err != nil {
			return err
		}
		times[i] = t
	}
	*s = SessionInfo{
		Type: w.Type, UserName: w.UserName, MachineName: w.MachineName, SystemUserName: w.SystemUserName,
		IPAddress: w.IPAddress, HostType: w.HostType, CreationDateTime: times[0], State: w.State, ID: w.ID,
		PersistentID: w.PersistentID, LastActivity: times[1], Expiration: times[2], UserAgent: w.UserAgent, UserID: w.UserID,
		Node: w.Node,
	}
	for _, l := range w.Locks {
		t, err := parseOptionalTime(l.Locked)
		if err != nil {
			return err
		}
		s.Locks = append(s.Locks, EntityLock{DataClass: l.DataClass, Key: l.Key, Locked: t, ProcessID: l.ProcessID, SessionID: w.ID})
	}
	return nil
}

func parseOptionalTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return ParseTime(s)
}

// appendFloat writes f rounded to 1/scale, in the shortest form.
func appendFloat(b []byte, f, scale float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, math.Round(f*scale)/scale, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it.
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }

// appendSafeString appends s as a JSON string without scanning it when it
// is short and made only of letters and digits, as IDs, thread IDs and the
// type and state constants are; anything else goes through appendString.
func appendSafeString(b []byte, s string) []byte {
	if len(s) > 64 {
		return appendString(b, s)
	}
	for i := 0; i < len(s); i++ {
		if !alnum[s[i]] {
			return appendString(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// alnum[c] is true for ASCII letters and digits.
var alnum = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c], t[c+'a'-'A'] = true, true
	}
	return t
}()

// jsonSafe[c] is true for the ASCII bytes written as they are in a JSON
// string: not a control character, quote, backslash, or <, > and & (which
// encoding/json escapes for HTML safety).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string, escaped as encoding/json does:
// control characters, quote and backslash escaped, <, > and & escaped for
// HTML safety, invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
