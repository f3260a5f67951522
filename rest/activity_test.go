package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// rawActivity is an $activity body decoded with every key kept.
type rawActivity struct {
	top       map[string]json.RawMessage
	processes []map[string]json.RawMessage
	sessions  []map[string]json.RawMessage
}

func decodeRaw(t *testing.T, body []byte) rawActivity {
	t.Helper()
	var r rawActivity
	if err := json.Unmarshal(body, &r.top); err != nil {
		t.Fatalf("decode: %v\n%s", err, body)
	}
	if p, ok := r.top["processes"]; ok {
		if err := json.Unmarshal(p, &r.processes); err != nil {
			t.Fatalf("decode processes: %v", err)
		}
	}
	if s, ok := r.top["sessions"]; ok {
		if err := json.Unmarshal(s, &r.sessions); err != nil {
			t.Fatalf("decode sessions: %v", err)
		}
	}
	return r
}

func keys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func str(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("not a string: %s", raw)
	}
	return s
}

// getActivity calls $activity with query through c and returns the status
// and the body.
func getActivity(t *testing.T, c *http.Client, base, query string) (int, []byte) {
	t.Helper()
	u := base + "/rest/$activity"
	if query != "" {
		u += "?" + query
	}
	resp, body := do(t, c, http.MethodGet, u)
	return resp.StatusCode, body
}

var (
	processKeys        = []string{"ID", "cpuTime", "cpuUsage", "creationDateTime", "name", "node", "number", "preemptive", "sessionID", "state", "systemID", "type", "visible"}
	requestProcessKeys = slices.Sorted(slices.Values(append(slices.Clone(processKeys), "url", "session")))
)

func TestActivity_InFlightRequest(t *testing.T) {
	srv := MustOpenServer(t)
	c := servertest.NewHTTPClient(t)
	status, body := getActivity(t, c, srv.URL(), "")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	base, _ := url.Parse(srv.URL())
	var id string
	for _, ck := range c.Jar.Cookies(base) {
		if ck.Name == "4DSID_"+srv.AppName {
			id = ck.Value
		}
	}
	a := decodeActivity(t, body)
	raw := decodeRaw(t, body)

	var self *fourd.ProcessInfo
	var selfRaw map[string]json.RawMessage
	for i, p := range a.Processes {
		if p.Type == fourd.TypeWebServerProcess {
			if self != nil {
				t.Fatalf("two request processes in a one-request snapshot: %+v, %+v", *self, p)
			}
			self, selfRaw = &a.Processes[i], raw.processes[i]
		}
	}
	if self == nil {
		t.Fatalf("the request observing $activity is not in it: %s", body)
	}
	t.Run("OK", func(t *testing.T) {
		if self.Name != "GET /rest/$activity" || self.State != fourd.StateExecuting || self.URL != "/rest/$activity" ||
			!self.Visible || self.SessionID != id {
			t.Errorf("request process = %+v; want GET /rest/$activity, Executing, url /rest/$activity, visible, session %s", *self, id)
		}
		if self.Number != servertest.InternalProcesses+1 {
			t.Errorf("request process number %d, want %d (the lowest free after the internal processes)", self.Number, servertest.InternalProcesses+1)
		}
		if self.Session == nil {
			t.Fatal("request process has no session property")
		}
		if s := a.Session(id); s == nil || !reflect.DeepEqual(*self.Session, *s) {
			t.Errorf("process session property = %+v, want its session's info %+v", self.Session, s)
		}
		if got := keys(selfRaw); !slices.Equal(got, requestProcessKeys) {
			t.Errorf("request process keys %v, want %v", got, requestProcessKeys)
		}
	})
	t.Run("OKSessionPropertyIsSessionInfo", func(t *testing.T) {
		var fromSessions json.RawMessage
		for _, s := range raw.sessions {
			if str(t, s["ID"]) == id {
				fromSessions, _ = json.Marshal(s)
			}
		}
		var prop map[string]json.RawMessage
		if err := json.Unmarshal(selfRaw["session"], &prop); err != nil {
			t.Fatal(err)
		}
		fromProcess, _ := json.Marshal(prop)
		if !bytes.Equal(fromProcess, fromSessions) {
			t.Errorf("session property %s\ndiffers from sessions[] entry %s", fromProcess, fromSessions)
		}
	})
	t.Run("OKNoSessionPropertyOnInternalProcesses", func(t *testing.T) {
		for i, p := range a.Processes {
			if p.Type.Internal() && p.Type != fourd.TypeWebServerProcess {
				if got := keys(raw.processes[i]); !slices.Equal(got, processKeys) {
					t.Errorf("internal process %d keys %v, want %v", p.Number, got, processKeys)
				}
			}
		}
	})
}

func TestActivity_Options(t *testing.T) {
	srv := MustOpenServer(t)
	c := rawClient(t)
	for _, tt := range []struct {
		name, query string
		top         []string
		session     bool // processes of a session carry a session property
	}{
		{"OKDefault", "", []string{"processes", "sessions"}, true},
		{"OKOptions0", "options=0", []string{"processes", "sessions"}, true},
		{"OKProcessesOnly", "options=1", []string{"processes"}, false},
		{"OKSessionsOnly", "options=2", []string{"sessions"}, false},
		{"OKQuotedProcessesOnly", "options=%221%22", []string{"processes"}, false},
		{"OKQuotedSessionsOnly", `options="2"`, []string{"sessions"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := getActivity(t, c, srv.URL(), tt.query)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			raw := decodeRaw(t, body)
			if got := keys(raw.top); !slices.Equal(got, tt.top) {
				t.Fatalf("top-level keys %v, want %v", got, tt.top)
			}
			if _, ok := raw.top["processes"]; ok && len(raw.processes) == 0 {
				t.Error("no processes")
			}
			if _, ok := raw.top["sessions"]; ok && len(raw.sessions) == 0 {
				t.Error("no sessions")
			}
			for _, p := range raw.processes {
				_, has := p["session"]
				inSession := str(t, p["sessionID"]) != ""
				if has != (tt.session && inSession) {
					t.Errorf("process %s (session %s): session property present = %v", p["name"], p["sessionID"], has)
				}
			}
		})
	}
}

func TestActivity_SessionFilter(t *testing.T) {
	ctx := context.Background()
	srv := MustOpenServer(t)
	a := servertest.NewClient(t, srv)
	b := servertest.NewClient(t, srv)
	for _, c := range []interface {
		Activity(context.Context, string, fourd.ActivityOptions) (*fourd.Activity, error)
	}{a, b} {
		if _, err := c.Activity(ctx, "", fourd.SessionsOnly); err != nil {
			t.Fatal(err)
		}
	}
	idA, idB := a.SessionID(srv.AppName), b.SessionID(srv.AppName)
	if idA == "" || idB == "" || idA == idB {
		t.Fatalf("sessions %q and %q; want two distinct sessions", idA, idB)
	}
	blocked, err := srv.NewProcess("job", func(p *fourd.Process) error { <-p.Done(); return nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blocked.Abort(nil); <-blocked.Ended() })
	spID := srv.StoredProcedureSession().ID

	for _, tt := range []struct {
		name      string
		sessionID string
		processes []string // names of the processes expected
	}{
		{"OKOwnSession", idA, []string{"GET /rest/$activity"}},
		{"OKOwnSessionLowercase", strings.ToLower(idA), []string{"GET /rest/$activity"}},
		{"OKOtherSession", idB, []string{}},
		{"OKStoredProcedure", spID, []string{"job"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := strings.ToUpper(tt.sessionID)
			got, err := a.Activity(ctx, tt.sessionID, fourd.ProcessesAndSessions)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("null for a live session")
			}
			if len(got.Sessions) != 1 || got.Sessions[0].ID != want {
				t.Errorf("sessions %+v, want exactly session %s", got.Sessions, want)
			}
			names := []string{}
			for _, p := range got.Processes {
				names = append(names, p.Name)
				if p.SessionID != want {
					t.Errorf("process %d of session %s in the snapshot of %s", p.Number, p.SessionID, want)
				}
				if p.Session == nil || !reflect.DeepEqual(*p.Session, got.Sessions[0]) {
					t.Errorf("process %d session property %+v, want the session's info", p.Number, p.Session)
				}
			}
			if !slices.Equal(names, tt.processes) {
				t.Errorf("processes %q, want %q", names, tt.processes)
			}
		})
	}
}

func TestActivity_Null(t *testing.T) {
	srv := MustOpenServer(t)
	c := rawClient(t)
	for _, tt := range []struct{ name, query string }{
		{"NullForUnknownSession", "sessionID=" + fourd.NewID()},
		{"NullForUnknownSessionProcessesOnly", "sessionID=" + fourd.NewID() + "&options=1"},
		{"NullForMalformedSession", "sessionID=not-an-id"},
		{"NullForTooLongSession", "sessionID=" + fourd.NewID() + "0"},
		{"NullForQuotedUnknownSession", `sessionID="` + fourd.NewID() + `"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := getActivity(t, c, srv.URL(), tt.query)
			if status != http.StatusOK {
				t.Errorf("status %d, want 200", status)
			}
			var v any = "unset"
			if err := json.Unmarshal(body, &v); err != nil || v != nil {
				t.Errorf("body %s, want null", body)
			}
		})
	}
}

// normalize rewrites the volatile values of an $activity body (process and
// session IDs, CPU figures, thread IDs, the server host's names) as fixed
// placeholders, keeping the key order, and indents it. Times are not
// volatile: the server runs on a fixed clock.
func normalize(t *testing.T, body []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := readOrdered(dec)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, body)
	}
	sessions := map[string]string{}
	sessionRef := func(id string) string {
		if !fourd.ValidID(id) {
			t.Errorf("session ID %q is not 32 hex characters", id)
		}
		if _, ok := sessions[id]; !ok {
			sessions[id] = fmt.Sprintf("{session %d}", len(sessions)+1)
		}
		return sessions[id]
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e)
			}
		case *object:
			for i, k := range v.keys {
				val := v.vals[i]
				switch s, isString := val.(string); {
				case k == "ID" && isString, k == "sessionID" && isString && s != "":
					v.vals[i] = sessionRef(s)
				case k == "ID" || k == "cpuUsage" || k == "cpuTime":
					if _, ok := val.(json.Number); !ok {
						t.Errorf("%s = %v, want a number", k, val)
					}
					v.vals[i] = "{" + k + "}"
				case k == "systemID":
					if !isString || s == "" {
						t.Errorf("systemID = %v, want a thread ID", val)
					}
					v.vals[i] = "{" + k + "}"
				case (k == "machineName" || k == "systemUserName" || k == "hostType") && v.get("type") == string(fourd.SessionStoredProcedure):
					v.vals[i] = "{server " + k + "}"
				default:
					walk(val)
				}
			}
		}
	}
	walk(v)
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// object is a JSON object that keeps its key order.
type object struct {
	keys []string
	vals []any
}

func (o *object) get(k string) any {
	if i := slices.Index(o.keys, k); i >= 0 {
		return o.vals[i]
	}
	return nil
}

func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func readOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &object{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := readOrdered(dec)
			if err != nil {
				return nil, err
			}
			o.keys = append(o.keys, k.(string))
			o.vals = append(o.vals, v)
		}
		_, err := dec.Token()
		return o, err
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := readOrdered(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.Token()
		return a, err
	}
	return tok, nil
}

// TestActivity_Golden compares one $activity answer, normalised, with
// testdata/activity.golden (go test -run Golden -update rewrites it).
func TestActivity_Golden(t *testing.T) {
	clock := servertest.NewClock(servertest.T0)
	srv := MustOpenServer(t, servertest.WithClock(clock), servertest.WithQuietTicks())
	c := servertest.NewHTTPClient(t)

	// A first request opens the session and the connection, so that the
	// listener is back waiting for a connection when the second is served
	// on the same connection.
	if status, body := getActivity(t, c, srv.URL(), "options=2"); status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	want := map[int]fourd.ProcessState{1: fourd.StateWaitingForInternalFlag, 2: fourd.StateWaitingForInputOutput, 3: fourd.StateDelayed, 4: fourd.StateDelayed, 5: fourd.StateDelayed}
	var body []byte
	for attempt := 1; ; attempt++ {
		servertest.Eventually(t, "every internal process waiting", func() bool {
			for n, s := range want {
				if p := srv.ProcessInfo(n); p == nil || p.State != s {
					return false
				}
			}
			return srv.Processes.Len() == len(want)
		})
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, srv.URL()+"/rest/$activity", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, %v: %s", resp.StatusCode, err, body)
		}
		// On a new connection the listener was busy accepting it: its
		// state in the snapshot is not known. Ask again.
		if reused {
			break
		}
		if attempt == 10 {
			t.Fatal("the client opened a new connection for each of 10 requests")
		}
	}
	got := normalize(t, body)
	golden := filepath.Join("testdata", "activity.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantBody, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, wantBody) {
		t.Errorf("$activity differs from %s (go test -run Golden -update rewrites it)\n got:\n%s\nwant:\n%s", golden, got, wantBody)
	}
}
