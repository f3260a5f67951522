package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
)

func TestRenderInfo(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var info rest.Info
	raw := `{"cacheSize":209715200,"usedCache":3136000,"entitySetCount":2,
	 "entitySet":[{"id":"1418741678864021B56F8C6D77F2FC06","dataClass":"Company","selectionSize":1,"sorted":false,"refreshed":"2026-11-22T09:55:00.000Z","expires":"2026-11-22T10:05:00.000Z","sessionID":"","bytes":300},
	              {"id":"CAD79E5BF339462E85DA613754C05CC0","dataClass":"Employee","selectionSize":58492,"sorted":true,"refreshed":"2026-11-22T09:59:00.000Z","expires":"2026-11-22T11:59:00.000Z","sessionID":"","bytes":234224}],
	 "ProgressInfo":[{"UserInfo":"indexProgressIndicator","sessions":0,"percent":37,"SessionCount":0,"Title":"Indexing Employee.lastName","CanInterrupt":true,"done":370000,"total":1000000,"processID":42}],
	 "sessionInfo":[{"sessionID":"6657ABBCEE7C3B4089C20D8995851E30","userID":"00000000000000000000000000000000","userName":"default guest","lifeTime":3600,"expiration":"2026-11-22T10:45:00.000Z"}],
	 "privileges":{"privileges":[]}}`
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := renderInfo(&out, &info, now, "6657ABBCEE7C3B4089C20D8995851E30"); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "info.golden", out.Bytes())
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		p    fourd.ProgressInfo
		want string
	}{
		{fourd.ProgressInfo{Percent: 0, Title: "Indexing", Done: 0, Total: 10}, "[>         ]   0%  Indexing (0/10)"},
		{fourd.ProgressInfo{Percent: 50, Title: "Indexing", Done: 5, Total: 10}, "[=====>    ]  50%  Indexing (5/10)"},
		{fourd.ProgressInfo{Percent: 100, Title: "Indexing", Done: 10, Total: 10}, "[==========] 100%  Indexing (10/10)"},
	} {
		if got := progressBar(tc.p, 10); got != tc.want {
			t.Errorf("progressBar(%d%%) = %q, want %q", tc.p.Percent, got, tc.want)
		}
	}
}

// TestDataCommands runs fourd info, index and flush against a server with
// the demo data.
func TestDataCommands(t *testing.T) {
	srv := servertest.MustOpenServer(t, servertest.WithDemo(10, 3000))
	servertest.WaitForDemo(t, srv)
	t.Run("InfoJSON", func(t *testing.T) {
		stdout, _, err := runCmd(t, "info", "--server", srv.URL(), "--json")
		if err != nil {
			t.Fatal(err)
		}
		var info rest.Info
		if err := json.Unmarshal([]byte(stdout), &info); err != nil || info.CacheSize != srv.CacheSize {
			t.Fatalf("info %+v, %v", info, err)
		}
	})
	t.Run("InfoTable", func(t *testing.T) {
		stdout, _, err := runCmd(t, "info", "--server", srv.URL())
		if err != nil || !strings.HasPrefix(stdout, "CACHE  ") {
			t.Fatalf("%v\n%s", err, stdout)
		}
	})
	t.Run("Index", func(t *testing.T) {
		stdout, _, err := runCmd(t, "index", "--server", srv.URL(), "Employee.lastName")
		if err != nil || stdout != "index of Employee.lastName built\n" {
			t.Fatalf("%v: %q", err, stdout)
		}
	})
	t.Run("ErrIndexUnknownAttribute", func(t *testing.T) {
		_, _, err := runCmd(t, "index", "--server", srv.URL(), "Employee.nope")
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(ee.msg, "nope") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrIndexNotInModel", func(t *testing.T) {
		_, _, err := runCmd(t, "index", "--server", srv.URL(), "Employee.firstName")
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 1 || !strings.HasSuffix(ee.msg, "answered: Employee.firstName is not indexed in the model") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrIndexUsage", func(t *testing.T) {
		_, _, err := runCmd(t, "index", "--server", srv.URL(), "EmployeeLastName")
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("Flush", func(t *testing.T) {
		stdout, _, err := runCmd(t, "flush", "--server", srv.URL())
		if err != nil || stdout != "cache flushed\n" {
			t.Fatalf("%v: %q", err, stdout)
		}
	})
}
