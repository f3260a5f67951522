package activityfilter_test

import (
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/activityfilter"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func TestMatchProcess(t *testing.T) {
	alice := &fourd.SessionInfo{ID: "AAAA", UserName: "Alice", LastActivity: now.Add(-10 * time.Minute), Type: fourd.SessionREST}
	req := fourd.ProcessInfo{Name: "GET /rest/Employee", Type: fourd.TypeWebServerProcess, State: fourd.StateExecuting,
		SessionID: "AAAA", Session: alice, CreationDateTime: now.Add(-time.Minute)}
	listener := fourd.ProcessInfo{Name: "HTTP Listener", Type: fourd.TypeHTTPListener, State: fourd.StateWaitingForInputOutput,
		CreationDateTime: now.Add(-time.Hour)}
	for _, tc := range []struct {
		filter        string
		req, listener bool
	}{
		{"", true, true},
		{"type=-13", true, false},
		{`type="web server process"`, true, false},
		{"NOT type=-13", false, true},
		{"state=executing", true, false},
		{`state="Waiting for input output"`, false, true},
		{"state=3", false, true},
		{"user=alice", true, false},
		{"user=AL@", true, false},
		{`user=""`, false, false}, // the listener has no session, hence no user
		{"session=aaaa", true, false},
		{"node=db1", true, true},
		{"node=db@", true, true},
		{"node=web1", false, false},
		{"name=GET@", true, false},
		{"name=@listener", false, true},
		{"name=@rest@", true, false},
		{"age>=30m", false, true},
		{"age>=30s", true, true},
		{"idle>=5m", true, false},
		{"idle>=11m", false, false},
		{"type=-13 user=bob", false, false},
		{"NOT name=GET@ NOT name=HTTP@", false, false},
	} {
		f, err := activityfilter.Parse(tc.filter, activityfilter.Processes)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.filter, err)
			continue
		}
		if got := f.MatchProcess(&req, "db1", now); got != tc.req {
			t.Errorf("%q on the request: %v, want %v", tc.filter, got, tc.req)
		}
		if got := f.MatchProcess(&listener, "db1", now); got != tc.listener {
			t.Errorf("%q on the listener: %v, want %v", tc.filter, got, tc.listener)
		}
	}
}

func TestMatchSession(t *testing.T) {
	s := &fourd.SessionInfo{ID: "ABCD", UserName: "", Type: fourd.SessionREST, State: fourd.SessionActive,
		CreationDateTime: now.Add(-2 * time.Hour), LastActivity: now.Add(-time.Hour)}
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{"type=rest", true},
		{"type=storedProcedure", false},
		{"state=active", true},
		{`user=""`, true},
		{"NOT user=@?", true},
		{"idle>=30m", true},
		{"idle>=2h", false},
		{"age>=2h", true},
		{"session=abcd", true},
	} {
		f, err := activityfilter.Parse(tc.filter, activityfilter.Sessions)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.filter, err)
			continue
		}
		if got := f.MatchSession(s, "db1", now); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		filter  string
		subject activityfilter.Subject
		want    string
	}{
		{"colour=red", activityfilter.Processes, `unknown field "colour" in "colour=red"; fields: type, state, user, session, node, name, age, idle`},
		{"name=x", activityfilter.Sessions, `field "name" applies to processes, not to sessions`},
		{"type=Nonsense", activityfilter.Processes, `"type=Nonsense": no 4D process type is named "Nonsense" (give its number or its name, as Process activity's type constants)`},
		{"type=kiosk", activityfilter.Sessions, `"type=kiosk": sessions have type rest, web, storedProcedure, remote, standalone`},
		{"age=5m", activityfilter.Processes, `"age=5m": age takes >=, as in age>=30s`},
		{"age>=soon", activityfilter.Processes, `"age>=soon": "soon" is not a duration (examples: 30s, 5m, 1h30m)`},
		{"user>=a", activityfilter.Processes, `"user>=a": user takes =`},
		{"NOT", activityfilter.Processes, `NOT at the end: NOT comes before a term, as in NOT type=-13`},
		{`user="alice`, activityfilter.Processes, `unclosed double quote in "user=\"alice"`},
		{"alice", activityfilter.Processes, `"alice": a term is field=value (or age>=, idle>=); fields: type, state, user, session, node, name, age, idle`},
		{"user<a", activityfilter.Processes, `"user<a": the operator is = (or >= for age and idle)`},
	} {
		_, err := activityfilter.Parse(tc.filter, tc.subject)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) = %v\nwant %s", tc.filter, err, tc.want)
		}
	}
}

func TestQuotedValues(t *testing.T) {
	p := fourd.ProcessInfo{Name: `say "hi" now`}
	f, err := activityfilter.Parse(`name="say \"hi\" now"`, activityfilter.Processes)
	if err != nil {
		t.Fatal(err)
	}
	if !f.MatchProcess(&p, "", now) {
		t.Error("quoted name with escaped quotes does not match")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"type=-13 NOT user=a@", `name="x y" age>=5m`, "idle>=1h state=paused"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := activityfilter.Parse(s, activityfilter.Processes)
		if err != nil {
			return
		}
		flt.MatchProcess(&fourd.ProcessInfo{}, "", now)
		flt.MatchSession(&fourd.SessionInfo{}, "", now)
	})
}
