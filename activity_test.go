package fourd_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

// fixture is a table and a store with two REST sessions, a stored-procedure
// session, an internal process and processes in each session.
type fixture struct {
	procs      *inmem.ProcessTable
	sessions   *inmem.SessionStore
	a, b, sp   fourd.Session
	internal   *fourd.Process
	inA1, inA2 *fourd.Process
	inB, inSP  *fourd.Process
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f := &fixture{procs: newTable(t), sessions: inmem.NewSessionStore()}
	f.sessions.Now = func() time.Time { return now }
	f.procs.Now = func() time.Time { return now }
	ctx := context.Background()
	f.sp = fourd.NewSession(fourd.SessionStoredProcedure, now, 0)
	f.a = fourd.NewSession(fourd.SessionREST, now, time.Hour)
	f.b = fourd.NewSession(fourd.SessionREST, now.Add(time.Second), time.Hour)
	f.a.UserID, f.a.UserName = "U1", "alice"
	for _, s := range []*fourd.Session{&f.sp, &f.a, &f.b} {
		s.Node = "n1"
		if err := f.sessions.Create(ctx, *s); err != nil {
			t.Fatal(err)
		}
	}
	f.internal = track(t, f.procs, fourd.ProcessSpec{Name: "HTTP Listener", Type: fourd.TypeHTTPListener})
	f.inA1 = track(t, f.procs, fourd.ProcessSpec{Name: "GET /rest/a1", Type: fourd.TypeWebServerProcess, SessionID: f.a.ID, URL: "/rest/a1?x=1"})
	f.inB = track(t, f.procs, fourd.ProcessSpec{Name: "GET /rest/b", Type: fourd.TypeWebServerProcess, SessionID: f.b.ID})
	f.inA2 = track(t, f.procs, fourd.ProcessSpec{Name: "GET /rest/a2", Type: fourd.TypeWebServerProcess, SessionID: f.a.ID})
	f.inSP = track(t, f.procs, fourd.ProcessSpec{Name: "job", Type: fourd.TypeOtherUserProcess, SessionID: f.sp.ID})
	t.Cleanup(func() {
		for _, p := range []*fourd.Process{f.internal, f.inA1, f.inA2, f.inB, f.inSP} {
			p.End(nil)
		}
	})
	return f
}

func (f *fixture) activity(t *testing.T, sessionID string, opts fourd.ActivityOptions) *fourd.Activity {
	t.Helper()
	a, err := fourd.ProcessActivity(context.Background(), inmem.NewProcessRegistry("n1", f.procs), f.sessions, sessionID, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func numbers(ps []fourd.ProcessInfo) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.Number)
	}
	return out
}

func sessionIDs(ss []fourd.SessionInfo) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func TestProcessActivity(t *testing.T) {
	t.Run("AllProcessesAndSessions", func(t *testing.T) {
		f := newFixture(t)
		a := f.activity(t, "", fourd.ProcessesAndSessions)
		if got, want := numbers(a.Processes), []int{1, 2, 3, 4, 5}; !reflect.DeepEqual(got, want) {
			t.Fatalf("process numbers %v, want %v", got, want)
		}
		if got, want := sessionIDs(a.Sessions), []string{f.sp.ID, f.a.ID, f.b.ID}; !reflect.DeepEqual(got, want) {
			t.Fatalf("sessions %v, want %v (oldest first)", got, want)
		}
		for _, p := range a.Processes {
			switch p.SessionID {
			case "":
				if p.Session != nil {
					t.Errorf("process %d without session has a session property", p.Number)
				}
			default:
				if p.Session == nil || p.Session.ID != p.SessionID {
					t.Errorf("process %d: session property %+v, want session %s", p.Number, p.Session, p.SessionID)
				}
			}
		}
		if a.Processes[1].Session.UserName != "alice" {
			t.Fatalf("session property does not carry the session's info: %+v", a.Processes[1].Session)
		}
		if !reflect.DeepEqual(*a.Processes[1].Session, f.a.Info()) {
			t.Fatalf("session property %+v != session info %+v", *a.Processes[1].Session, f.a.Info())
		}
	})
	t.Run("ProcessesOnlyHasNoSessions", func(t *testing.T) {
		f := newFixture(t)
		a := f.activity(t, "", fourd.ProcessesOnly)
		if a.Sessions != nil || len(a.Processes) != 5 {
			t.Fatalf("got %d processes, sessions %v", len(a.Processes), a.Sessions)
		}
		for _, p := range a.Processes {
			if p.Session != nil {
				t.Fatalf("process %d has a session property with Processes only", p.Number)
			}
		}
	})
	t.Run("SessionsOnlyHasNoProcesses", func(t *testing.T) {
		f := newFixture(t)
		a := f.activity(t, "", fourd.SessionsOnly)
		if a.Processes != nil || len(a.Sessions) != 3 {
			t.Fatalf("processes %v, %d sessions", a.Processes, len(a.Sessions))
		}
	})
	t.Run("OneSession", func(t *testing.T) {
		f := newFixture(t)
		a := f.activity(t, f.a.ID, fourd.ProcessesAndSessions)
		if got, want := numbers(a.Processes), []int{f.inA1.Number(), f.inA2.Number()}; !reflect.DeepEqual(got, want) {
			t.Fatalf("processes %v, want %v", got, want)
		}
		if len(a.Sessions) != 1 || a.Sessions[0].ID != f.a.ID {
			t.Fatalf("sessions %v, want exactly %s", sessionIDs(a.Sessions), f.a.ID)
		}
		if a.Processes[0].Session != &a.Sessions[0] {
			t.Fatal("session property not linked")
		}
	})
	t.Run("OneSessionLowercaseID", func(t *testing.T) {
		f := newFixture(t)
		a := f.activity(t, strings.ToLower(f.b.ID), fourd.ProcessesOnly)
		if got := numbers(a.Processes); !reflect.DeepEqual(got, []int{f.inB.Number()}) {
			t.Fatalf("processes %v", got)
		}
	})
	t.Run("OneSessionWithoutProcesses", func(t *testing.T) {
		f := newFixture(t)
		f.inB.End(nil)
		a := f.activity(t, f.b.ID, fourd.ProcessesAndSessions)
		if a.Processes == nil || len(a.Processes) != 0 || len(a.Sessions) != 1 {
			t.Fatalf("want an empty processes collection and one session, got %+v", a)
		}
		b, _ := json.Marshal(a)
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		if string(raw["processes"]) != "[]" {
			t.Fatalf(`processes = %s, want []`, raw["processes"])
		}
	})
	t.Run("NullForUnknownSession", func(t *testing.T) {
		f := newFixture(t)
		for _, id := range []string{"3C81A8D7AFE64C2E9CCFFCDC35DC52F5", "not-an-id", strings.Repeat("Z", 32)} {
			for _, opts := range []fourd.ActivityOptions{0, 1, 2} {
				if a := f.activity(t, id, opts); a != nil {
					t.Fatalf("ProcessActivity(%q, %d) = %+v, want nil", id, opts, a)
				}
			}
		}
		b, err := json.Marshal((*fourd.Activity)(nil))
		if err != nil || string(b) != "null" {
			t.Fatalf("nil activity encodes as %s, %v", b, err)
		}
	})
	t.Run("NullForExpiredSession", func(t *testing.T) {
		f := newFixture(t)
		later := time.Date(2026, 11, 22, 11, 0, 1, 0, time.UTC)
		f.sessions.Now = func() time.Time { return later }
		if a := f.activity(t, f.a.ID, 0); a != nil {
			t.Fatal("expired session still answered")
		}
	})
	t.Run("ErrInvalidOptions", func(t *testing.T) {
		f := newFixture(t)
		for _, opts := range []fourd.ActivityOptions{-1, 3, 42} {
			_, err := fourd.ProcessActivity(context.Background(), inmem.NewProcessRegistry("n1", f.procs), f.sessions, "", opts)
			if fourd.ErrorCode(err) != fourd.EINVALID {
				t.Fatalf("options %d: err %v, want EINVALID", opts, err)
			}
		}
	})
	t.Run("SnapshotIsACopy", func(t *testing.T) {
		f := newFixture(t)
		a := f.activity(t, "", fourd.ProcessesAndSessions)
		f.inA1.End(nil)
		if _, err := f.sessions.Update(context.Background(), f.a.ID, func(s fourd.Session) (fourd.Session, error) {
			s.UserID, s.UserName = "U2", "bob"
			return s, nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(a.Processes) != 5 || a.Processes[1].State != fourd.StateExecuting || a.Processes[1].Session.UserName != "alice" {
			t.Fatal("snapshot changed after the fact")
		}
	})
}

func TestActivityJSON(t *testing.T) {
	f := newFixture(t)
	a := f.activity(t, "", fourd.ProcessesAndSessions)
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	t.Run("ProcessKeysInOrder", func(t *testing.T) {
		var raw struct {
			Processes []json.RawMessage `json:"processes"`
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		want := []string{"number", "name", "sessionID", "ID", "visible", "type", "state", "creationDateTime", "preemptive", "systemID", "cpuUsage", "cpuTime", "url", "node", "session"}
		if got := keys(t, raw.Processes[1]); !reflect.DeepEqual(got, want) {
			t.Fatalf("keys %v\nwant %v", got, want)
		}
		if got, want := keys(t, raw.Processes[0]), append(want[:12:12], "node"); !reflect.DeepEqual(got, want) {
			t.Fatalf("internal process keys %v, want %v: no url and no session", got, want)
		}
	})
	t.Run("SessionKeysInOrder", func(t *testing.T) {
		var raw struct {
			Sessions []json.RawMessage `json:"sessions"`
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		want := []string{"type", "userName", "machineName", "systemUserName", "IPAddress", "hostType", "creationDateTime", "state", "ID", "persistentID", "lastActivity", "expiration", "userAgent", "userID", "node"}
		if got := keys(t, raw.Sessions[1]); !reflect.DeepEqual(got, want) {
			t.Fatalf("keys %v\nwant %v", got, want)
		}
		if got := keys(t, raw.Sessions[0]); reflect.DeepEqual(got, want) {
			t.Fatal("a session that never expires has an expiration")
		}
	})
	t.Run("Values", func(t *testing.T) {
		var v map[string][]map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		p := v["processes"][1]
		if p["number"] != 2.0 || p["name"] != "GET /rest/a1" || p["type"] != -13.0 || p["state"] != 0.0 || p["url"] != "/rest/a1?x=1" || p["sessionID"] != f.a.ID {
			t.Fatalf("process %v", p)
		}
		if p["creationDateTime"] != "2026-11-22T10:00:00.000Z" {
			t.Fatalf("creationDateTime %v", p["creationDateTime"])
		}
		s := v["sessions"][1]
		if s["type"] != "rest" || s["userName"] != "alice" || s["state"] != "active" || s["expiration"] != "2026-11-22T11:00:00.000Z" {
			t.Fatalf("session %v", s)
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		var back fourd.Activity
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		b2, _ := json.Marshal(&back)
		if string(b) != string(b2) {
			t.Fatalf("round trip changed the JSON:\n%s\n%s", b, b2)
		}
	})
}

// keys returns an object's keys in order.
func keys(t *testing.T, obj json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(obj)))
	var out []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// FuzzAppendString checks the hand-written string encoder against
// encoding/json on any input: same decoded value, valid JSON.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uote\back`, "ctl\x00\x01\x1f", "<html>&", "é€😀", "\xff\xfe bad", "\u2028\u2029", "tab\tnl\ncr\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info := fourd.ProcessInfo{Name: s, SystemID: s, URL: s}
		b, err := json.Marshal(info)
		if err != nil || !json.Valid(b) {
			t.Fatalf("invalid JSON for %q: %s", s, b)
		}
		var back fourd.ProcessInfo
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(s)
		var wantS string
		_ = json.Unmarshal(want, &wantS)
		if back.Name != wantS || (s != "" && back.URL != wantS) {
			t.Fatalf("%q came back as %q, encoding/json gives %q", s, back.Name, wantS)
		}
	})
}

// TestActivityJSONUnansweredNodes checks fourd's extension for a cluster:
// the nodes that did not answer are named after the collections, and the
// form reads back.
func TestActivityJSONUnansweredNodes(t *testing.T) {
	a := &fourd.Activity{
		Processes:       []fourd.ProcessInfo{{Number: 1, Name: "Main process", ID: 7, Node: "a"}},
		Sessions:        []fourd.SessionInfo{},
		UnansweredNodes: []string{"b", "c"},
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if string(raw["unansweredNodes"]) != `["b","c"]` {
		t.Fatalf("unansweredNodes %s in %s", raw["unansweredNodes"], b)
	}
	var back fourd.Activity
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.UnansweredNodes, a.UnansweredNodes) || back.Processes[0].Node != "a" {
		t.Fatalf("read back %+v", back)
	}
	one, _ := json.Marshal(&fourd.Activity{Sessions: []fourd.SessionInfo{}})
	if strings.Contains(string(one), "unansweredNodes") {
		t.Fatalf("a single node's answer names unanswered nodes: %s", one)
	}
}
