package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixedActivity returns an activity as the server would answer it at now,
// with processes and sessions deliberately out of order.
func fixedActivity(now time.Time) *fourd.Activity {
	start := now.Add(-(2*24*time.Hour + 3*time.Hour + 4*time.Minute))
	sessions := []fourd.SessionInfo{
		{Type: fourd.SessionREST, UserName: "alice", IPAddress: "10.0.0.7", CreationDateTime: now.Add(-(3*time.Hour + 4*time.Minute + 5*time.Second)),
			State: fourd.SessionActive, ID: "9A1B2C3D4E5F60718293A4B5C6D7E8F9", LastActivity: now.Add(-10 * time.Minute),
			Expiration: now.Add(50 * time.Minute), UserAgent: "curl/8.5.0"},
		{Type: fourd.SessionStoredProcedure, MachineName: "db1", SystemUserName: "fourd", IPAddress: "localhost", HostType: "linux",
			CreationDateTime: start, State: fourd.SessionActive, ID: "5F0C8E0A7B3D4C2E9F1A6B8C0D2E4F60", LastActivity: start},
		{Type: fourd.SessionREST, IPAddress: "192.168.1.20", CreationDateTime: now.Add(-(12*time.Minute + 3*time.Second)),
			State: fourd.SessionActive, ID: "3C81A8D7AFE64C2E9CCFFCDC35DC52F5", LastActivity: now.Add(-45 * time.Second),
			Expiration: now.Add(-45*time.Second + time.Hour), UserAgent: "Go-http-client/1.1"},
	}
	alice, sp, guest := sessions[0].ID, sessions[1].ID, sessions[2].ID
	processes := []fourd.ProcessInfo{
		{Number: 5, Name: "GET /rest/$activity", SessionID: guest, ID: 912, Visible: true, Type: fourd.TypeWebServerProcess,
			State: fourd.StateExecuting, CreationDateTime: now.Add(-200 * time.Millisecond), Preemptive: true, SystemID: "4242",
			CPUUsage: 0, CPUTime: 0.000412, URL: "/rest/$activity"},
		{Number: 1, Name: "Main process", ID: 1, Type: fourd.TypeMainProcess, State: fourd.StateWaitingForInternalFlag,
			CreationDateTime: start, Preemptive: true, SystemID: "4100", CPUTime: 0.012},
		{Number: 3, Name: "Session timer", ID: 3, Type: fourd.TypeInternalTimerProcess, State: fourd.StateDelayed,
			CreationDateTime: start, Preemptive: true, SystemID: "4102", CPUTime: 0.25, CPUUsage: 0.0001},
		{Number: 2, Name: "HTTP Listener", ID: 2, Type: fourd.TypeHTTPListener, State: fourd.StateWaitingForInputOutput,
			CreationDateTime: start, Preemptive: true, SystemID: "4101", CPUTime: 1.5, CPUUsage: 0.0012},
		{Number: 4, Name: "Process monitor", ID: 4, Type: fourd.TypeMonitorProcess, State: fourd.StateDelayed,
			CreationDateTime: start, Preemptive: true, SystemID: "4103", CPUTime: 0.98},
		{Number: 6, Name: "mailer", SessionID: sp, ID: 40, Visible: true, Type: fourd.TypeWorkerProcess,
			State: fourd.StateWaitingForInternalFlag, CreationDateTime: now.Add(-(26*time.Hour + 5*time.Minute)), Preemptive: true, SystemID: "4120", CPUTime: 3},
		{Number: 7, Name: "import", SessionID: sp, ID: 877, Visible: true, Type: fourd.TypeOtherUserProcess,
			State: fourd.StatePaused, CreationDateTime: now.Add(-(7*time.Minute + 30*time.Second)), Preemptive: true, SystemID: "4188",
			CPUTime: 12.3456, CPUUsage: 0.873},
		{Number: 8, Name: "nightly", SessionID: sp, ID: 878, Visible: true, Type: fourd.TypeExecuteOnServerProcess,
			State: fourd.StateDelayed, CreationDateTime: now.Add(-59 * time.Second), Preemptive: true, SystemID: "4190", CPUTime: 0.1},
		{Number: 9, Name: "GET /rest/$info", SessionID: alice, ID: 913, Visible: true, Type: fourd.TypeWebServerProcess,
			State: fourd.StateWaitingForInputOutput, CreationDateTime: now.Add(-1500 * time.Millisecond), Preemptive: true, SystemID: "4243",
			CPUTime: 0.002, URL: "/rest/$info"},
	}
	for i := range processes {
		processes[i].Node = "db1"
	}
	for i := range sessions {
		sessions[i].Node = "db1"
	}
	return &fourd.Activity{Processes: processes, Sessions: sessions}
}

func TestRenderActivity(t *testing.T) {
	now := time.Date(2024, time.September, 22, 14, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		golden string
		make   func() *fourd.Activity
	}{
		{"OKProcessesAndSessions", "activity.golden", func() *fourd.Activity {
			a := fixedActivity(now)
			for i := range a.Processes { // as ProcessActivity links them
				a.Processes[i].Session = a.Session(a.Processes[i].SessionID)
			}
			return a
		}},
		{"OKProcessesOnly", "activity_processes.golden", func() *fourd.Activity {
			a := fixedActivity(now)
			a.Sessions = nil
			return a
		}},
		{"OKSessionsOnly", "activity_sessions.golden", func() *fourd.Activity {
			a := fixedActivity(now)
			a.Processes = nil
			return a
		}},
		{"OKClusterWithUnansweredNode", "activity_cluster.golden", func() *fourd.Activity {
			a := fixedActivity(now)
			a.Sessions = nil
			// Node db2's processes, listed after the answering node's.
			a.Processes = append(a.Processes,
				fourd.ProcessInfo{Number: 1, Name: "Main process", ID: 31000000000002, Type: fourd.TypeMainProcess,
					State: fourd.StateWaitingForInternalFlag, CreationDateTime: now.Add(-time.Hour), Preemptive: true, Node: "db2"},
				fourd.ProcessInfo{Number: 5, Name: "GET /rest/Employee", SessionID: "9A1B2C3D4E5F60718293A4B5C6D7E8F9", ID: 31000000000007,
					Visible: true, Type: fourd.TypeWebServerProcess, State: fourd.StateExecuting, CreationDateTime: now.Add(-2 * time.Second),
					Preemptive: true, CPUTime: 0.5, CPUUsage: 0.25, Node: "db2"})
			a.Sessions = fixedActivity(now).Sessions
			a.UnansweredNodes = []string{"db3"}
			return a
		}},
		{"OKEmpty", "activity_empty.golden", func() *fourd.Activity {
			return &fourd.Activity{Processes: []fourd.ProcessInfo{}, Sessions: []fourd.SessionInfo{}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := renderActivity(&out, tt.make(), now, "3C81A8D7AFE64C2E9CCFFCDC35DC52F5"); err != nil { // the guest: the command's own session
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, out.Bytes())
		})
	}
}

// checkGolden compares got with testdata/name; go test -update rewrites it.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                   "0s",
		0:                              "0s",
		999 * time.Millisecond:         "0s",
		45 * time.Second:               "45s",
		time.Minute:                    "1m00s",
		12*time.Minute + 3*time.Second: "12m03s",
		time.Hour - time.Second:        "59m59s",
		time.Hour:                      "1h00m00s",
		3*time.Hour + 4*time.Minute + 5*time.Second: "3h04m05s",
		24 * time.Hour:               "1d00h00m",
		51*time.Hour + 4*time.Minute: "2d03h04m",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// topKeys returns the top-level keys of a JSON object.
func topKeys(t *testing.T, s string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode: %v\n%s", err, s)
	}
	return slices.Sorted(maps.Keys(m))
}

func TestActivity(t *testing.T) {
	srv := servertest.MustOpenServer(t)

	t.Run("OKJSON", func(t *testing.T) {
		stdout, _, err := runCmd(t, "activity", "--server", srv.URL(), "--json")
		if err != nil {
			t.Fatal(err)
		}
		var a fourd.Activity
		if err := json.Unmarshal([]byte(stdout), &a); err != nil {
			t.Fatalf("decode: %v\n%s", err, stdout)
		}
		var types []fourd.ProcessType
		for _, p := range a.Processes {
			types = append(types, p.Type)
		}
		want := append(slices.Clone(servertest.InternalTypes), fourd.TypeWebServerProcess)
		if !slices.Equal(types, want) {
			t.Errorf("process types %v, want %v", types, want)
		}
		if a.Session(srv.StoredProcedureSession().ID) == nil {
			t.Error("no stored-procedure session")
		}
		if !strings.HasSuffix(stdout, "}\n") || strings.Count(stdout, "\n") != 1 {
			t.Errorf("--json printed %q; want one line of JSON", stdout)
		}
	})
	t.Run("OKTable", func(t *testing.T) {
		srv := servertest.MustOpenServer(t) // a server no other call has added a session to
		stdout, _, err := runCmd(t, "activity", "--server", srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(stdout, "\n")
		// the internal processes and the CLI's request, then 2 sessions
		// (stored procedure, the CLI's own, marked), then the mark's note.
		n := servertest.InternalProcesses + 1
		want := map[int]string{0: fmt.Sprintf("PROCESSES (%d)", n), n + 2: "", n + 3: "SESSIONS (2)", n + 7: "", n + 8: ownNote, n + 9: ""}
		if len(lines) != n+10 {
			t.Fatalf("%d lines, want %d:\n%s", len(lines), n+10, stdout)
		}
		for i, w := range want {
			if lines[i] != w {
				t.Errorf("line %d = %q, want %q", i, lines[i], w)
			}
		}
		if got := strings.Fields(lines[1]); !slices.Equal(got, []string{"ID", "NODE", "NUM", "TYPE", "NAME", "STATE", "SESSION", "USER", "RUNNING", "CPU", "TIME", "CPU"}) {
			t.Errorf("process header %q", lines[1])
		}
	})
	t.Run("OKProcessesOnly", func(t *testing.T) {
		stdout, _, err := runCmd(t, "activity", "--server", srv.URL(), "--json", "--processes-only")
		if err != nil {
			t.Fatal(err)
		}
		if got := topKeys(t, stdout); !slices.Equal(got, []string{"processes"}) {
			t.Errorf("keys %v, want [processes]", got)
		}
	})
	t.Run("OKSessionsOnly", func(t *testing.T) {
		stdout, _, err := runCmd(t, "activity", "--server", srv.URL(), "--json", "--sessions-only")
		if err != nil {
			t.Fatal(err)
		}
		if got := topKeys(t, stdout); !slices.Equal(got, []string{"sessions"}) {
			t.Errorf("keys %v, want [sessions]", got)
		}
	})
	t.Run("OKSession", func(t *testing.T) {
		id := srv.StoredProcedureSession().ID
		stdout, _, err := runCmd(t, "activity", "--server", srv.URL(), "--json", "--session", id)
		if err != nil {
			t.Fatal(err)
		}
		var a fourd.Activity
		if err := json.Unmarshal([]byte(stdout), &a); err != nil {
			t.Fatal(err)
		}
		if len(a.Processes) != 0 || len(a.Sessions) != 1 || a.Sessions[0].ID != id {
			t.Errorf("activity of the stored-procedure session = %+v; want no process and that one session", a)
		}
	})
	t.Run("ErrUnknownSession", func(t *testing.T) {
		id := fourd.NewID()
		_, _, err := runCmd(t, "activity", "--server", srv.URL(), "--session", id)
		wantExit(t, err, 1, `no session "`+id+`" on `+srv.URL())
	})
	t.Run("ErrExclusiveFlags", func(t *testing.T) {
		_, _, err := runCmd(t, "activity", "--server", srv.URL(), "--processes-only", "--sessions-only")
		wantExit(t, err, 2, "activity: --processes-only and --sessions-only exclude each other")
	})
	t.Run("ErrUnexpectedArgument", func(t *testing.T) {
		_, _, err := runCmd(t, "activity", "--server", srv.URL(), "extra")
		wantExit(t, err, 2, `activity: unexpected argument "extra" (fourd activity -h shows the usage)`)
	})
	t.Run("ErrBadServerURL", func(t *testing.T) {
		_, _, err := runCmd(t, "activity", "--server", "localhost:8080")
		wantExit(t, err, 2, `activity: --server "localhost:8080": give the server's base URL, as in http://127.0.0.1:8080`)
	})
	t.Run("ErrServerURLWithPath", func(t *testing.T) {
		// http://host:port/rest would make every call ask for /rest/rest/...
		_, _, err := runCmd(t, "activity", "--server", srv.URL()+"/rest")
		wantExit(t, err, 2, `activity: --server "`+srv.URL()+`/rest": give the server's base URL without a path, as in `+srv.URL())
	})
}

func TestActivity_Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()

	_, _, err = runCmd(t, "activity", "--server", url)
	var ee *exitError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v, want *exitError", err)
	}
	if prefix := "cannot reach the server at " + url + ": "; ee.code != 1 || !strings.HasPrefix(ee.msg, prefix) {
		t.Errorf("exit %d %q; want exit 1 and a message starting %q", ee.code, ee.msg, prefix)
	}
}
