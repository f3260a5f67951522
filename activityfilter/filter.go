// Package activityfilter is the one filter grammar of fourd's
// administration tools: it selects processes or sessions of Process
// activity, as Redis's CLIENT LIST and CLIENT KILL filters select clients.
// `fourd activity --filter`, `fourd kill --filter`, `fourd sessions
// --filter`, `fourd top` and the REST parameter $match of $activity and of
// $process/abort all read it.
//
// A filter is a list of terms separated by spaces, all of which must hold:
//
//	term  = ["NOT"] field "=" value | ["NOT"] ("age" | "idle") ">=" duration
//
//	type=<4D type number or name>    type=-13, type="Web server process"; sessions: type=rest
//	state=<4D state number or name>  state=paused, state="Waiting for input output"; sessions: state=active
//	user=<user name>                 the user of the process's session; user="" is a guest
//	session=<session ID>
//	node=<node name>                 the node that runs the process, or opened the session
//	name=<process name>              processes only
//	age>=<duration>                  created at least that long ago: age>=30s
//	idle>=<duration>                 the session's last request at least that long ago: idle>=5m
//
// Values with spaces are written in double quotes ("\"" inside them);
// names, users, sessions, nodes, types and states compare without regard
// to case, and '@' in them matches any run of characters, as in 4D's
// queries: name=GET@. Durations are Go's: 90s, 5m, 1h30m. An unknown
// field, a field that does not apply to the subject, an unknown type or
// state and a malformed value are errors: nothing is ignored.
package activityfilter

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/fourd/fourd"
)

// Subject is what a filter selects.
type Subject int

// The subjects of a filter.
const (
	Processes Subject = iota // the processes of Process activity
	Sessions                 // the sessions of Process activity
)

// Filter is a parsed filter. The zero Filter (and a nil one) matches
// everything.
type Filter struct {
	subject Subject
	terms   []term
	text    string
}

type term struct {
	not   bool
	field string
	value string        // lower-cased, for the text fields
	num   int           // type or state
	isNum bool          // type or state given by number
	dur   time.Duration // age, idle
}

var fields = map[string][2]bool{ // applies to processes, to sessions
	"type": {true, true}, "state": {true, true}, "user": {true, true}, "session": {true, true},
	"node": {true, true}, "name": {true, false}, "age": {true, true}, "idle": {true, true},
}

// Parse reads a filter for subject. The error names the faulty term.
func Parse(s string, subject Subject) (*Filter, error) {
	f := &Filter{subject: subject, text: strings.TrimSpace(s)}
	toks, err := tokens(s)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(toks); i++ {
		var t term
		if strings.EqualFold(toks[i], "NOT") {
			t.not = true
			i++
			if i == len(toks) {
				return nil, fmt.Errorf("NOT at the end: NOT comes before a term, as in NOT type=-13")
			}
		}
		if err := t.parse(toks[i], subject); err != nil {
			return nil, err
		}
		f.terms = append(f.terms, t)
	}
	return f, nil
}

// tokens splits s at spaces outside double quotes; quotes are kept.
func tokens(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote, escaped, started := false, false, false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case inQuote && r == '\\':
			cur.WriteRune(r)
			escaped = true
		case r == '"':
			cur.WriteRune(r)
			inQuote = !inQuote
			started = true
		case !inQuote && unicode.IsSpace(r):
			if started {
				out = append(out, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unclosed double quote in %q", s)
	}
	if started {
		out = append(out, cur.String())
	}
	return out, nil
}

func (t *term) parse(tok string, subject Subject) error {
	i := strings.IndexAny(tok, "=><!")
	if i <= 0 {
		return fmt.Errorf("%q: a term is field=value (or age>=, idle>=); fields: type, state, user, session, node, name, age, idle", tok)
	}
	t.field = strings.ToLower(tok[:i])
	rest := tok[i:]
	applies, known := fields[t.field]
	if !known {
		return fmt.Errorf("unknown field %q in %q; fields: type, state, user, session, node, name, age, idle", tok[:i], tok)
	}
	if subject == Sessions && !applies[1] {
		return fmt.Errorf("field %q applies to processes, not to sessions", t.field)
	}
	var op string
	switch {
	case strings.HasPrefix(rest, ">="):
		op, rest = ">=", rest[2:]
	case strings.HasPrefix(rest, "="):
		op, rest = "=", rest[1:]
	default:
		return fmt.Errorf("%q: the operator is = (or >= for age and idle)", tok)
	}
	value, err := unquote(rest)
	if err != nil {
		return fmt.Errorf("%q: %v", tok, err)
	}
	if t.field == "age" || t.field == "idle" {
		if op != ">=" {
			return fmt.Errorf("%q: %s takes >=, as in %s>=30s", tok, t.field, t.field)
		}
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return fmt.Errorf("%q: %q is not a duration (examples: 30s, 5m, 1h30m)", tok, value)
		}
		t.dur = d
		return nil
	}
	if op != "=" {
		return fmt.Errorf("%q: %s takes =", tok, t.field)
	}
	t.value = strings.ToLower(value)
	switch {
	case t.field == "type" && subject == Processes:
		return t.parseEnum(value, tok, processTypes)
	case t.field == "state" && subject == Processes:
		return t.parseEnum(value, tok, processStates)
	case t.field == "type" && subject == Sessions:
		return t.parseName(value, tok, sessionTypes)
	case t.field == "state" && subject == Sessions:
		return t.parseName(value, tok, sessionStates)
	}
	return nil
}

func unquote(v string) (string, error) {
	if !strings.HasPrefix(v, `"`) {
		if strings.Contains(v, `"`) {
			return "", fmt.Errorf("a quoted value starts with a double quote")
		}
		return v, nil
	}
	if len(v) < 2 || !strings.HasSuffix(v, `"`) {
		return "", fmt.Errorf("unclosed double quote")
	}
	var b strings.Builder
	escaped := false
	for _, r := range v[1 : len(v)-1] {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			return "", fmt.Errorf("a double quote inside a quoted value is written \\\"")
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// processTypes and processStates map lower-case names to 4D numbers.
var processTypes, processStates = func() (map[string]int, map[string]int) {
	types, states := map[string]int{}, map[string]int{}
	for n := -400; n <= 100; n++ {
		if s := fourd.ProcessType(n).String(); s != strconv.Itoa(n) {
			types[strings.ToLower(s)] = n
		}
		if s := fourd.ProcessState(n).String(); s != strconv.Itoa(n) && s != "" {
			states[strings.ToLower(s)] = n
		}
	}
	return types, states
}()

var sessionTypes = []string{string(fourd.SessionREST), string(fourd.SessionWeb), string(fourd.SessionStoredProcedure), string(fourd.SessionRemote), string(fourd.SessionStandalone)}
var sessionStates = []string{string(fourd.SessionActive), string(fourd.SessionPostponed), string(fourd.SessionSleeping)}

func (t *term) parseEnum(value, tok string, names map[string]int) error {
	if n, err := strconv.Atoi(value); err == nil {
		t.num, t.isNum = n, true
		return nil
	}
	n, ok := names[strings.ToLower(value)]
	if !ok && !strings.Contains(value, "@") {
		return fmt.Errorf("%q: no 4D process %s is named %q (give its number or its name, as Process activity's %s constants)", tok, t.field, value, t.field)
	}
	if ok {
		t.num, t.isNum = n, true
	}
	return nil
}

func (t *term) parseName(value, tok string, names []string) error {
	for _, n := range names {
		if match(t.value, n) {
			return nil
		}
	}
	return fmt.Errorf("%q: sessions have %s %s", tok, t.field, strings.Join(names, ", "))
}

// String returns the filter as it was given.
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	return f.text
}

// Empty reports whether the filter has no term (it matches everything).
func (f *Filter) Empty() bool { return f == nil || len(f.terms) == 0 }

// MatchProcess reports whether the process matches. Its Session (as
// Process activity links it) gives its user and idle time; node is the
// name of the node the process runs on, now the time of the snapshot.
func (f *Filter) MatchProcess(p *fourd.ProcessInfo, node string, now time.Time) bool {
	if f == nil {
		return true
	}
	for _, t := range f.terms {
		var ok bool
		switch t.field {
		case "type":
			ok = t.enum(int(p.Type), p.Type.String())
		case "state":
			ok = t.enum(int(p.State), p.State.String())
		case "user":
			ok = p.Session != nil && match(t.value, p.Session.UserName)
		case "session":
			ok = match(t.value, p.SessionID)
		case "node":
			ok = match(t.value, node)
		case "name":
			ok = match(t.value, p.Name)
		case "age":
			ok = now.Sub(p.CreationDateTime) >= t.dur
		case "idle":
			ok = p.Session != nil && !p.Session.LastActivity.IsZero() && now.Sub(p.Session.LastActivity) >= t.dur
		}
		if ok == t.not {
			return false
		}
	}
	return true
}

// MatchSession reports whether the session matches.
func (f *Filter) MatchSession(s *fourd.SessionInfo, node string, now time.Time) bool {
	if f == nil {
		return true
	}
	for _, t := range f.terms {
		var ok bool
		switch t.field {
		case "type":
			ok = match(t.value, string(s.Type))
		case "state":
			ok = match(t.value, string(s.State))
		case "user":
			ok = match(t.value, s.UserName)
		case "session":
			ok = match(t.value, s.ID)
		case "node":
			ok = match(t.value, node)
		case "age":
			ok = now.Sub(s.CreationDateTime) >= t.dur
		case "idle":
			ok = !s.LastActivity.IsZero() && now.Sub(s.LastActivity) >= t.dur
		}
		if ok == t.not {
			return false
		}
	}
	return true
}

func (t *term) enum(n int, name string) bool {
	if t.isNum {
		return n == t.num
	}
	return match(t.value, name)
}

// match reports whether s matches the lower-case pattern, where '@'
// matches any run of characters, without regard to case.
func match(pattern, s string) bool {
	s = strings.ToLower(s)
	if !strings.Contains(pattern, "@") {
		return pattern == s
	}
	parts := strings.Split(pattern, "@")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}
