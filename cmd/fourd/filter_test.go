package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/fourd/fourd/internal/servertest"
)

func TestFilterCommands(t *testing.T) {
	t.Setenv("FOURD_USER", "")
	srv := servertest.MustOpenServer(t)
	one, two := servertest.BlockedNamed(t, srv, "import 1"), servertest.BlockedNamed(t, srv, "import 2")
	report := servertest.BlockedNamed(t, srv, "report")

	t.Run("OKActivityFilter", func(t *testing.T) {
		stdout, _, err := runCmd(t, "activity", "--server", srv.URL(), "--processes-only", "--filter", "name=import@")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout, "PROCESSES (2)") || !strings.Contains(stdout, "import 1") || strings.Contains(stdout, "report") {
			t.Errorf("activity --filter:\n%s", stdout)
		}
	})
	t.Run("ErrUnknownField", func(t *testing.T) {
		_, _, err := runCmd(t, "activity", "--server", srv.URL(), "--filter", "colour=red")
		wantExit(t, err, 2, `--filter: unknown field "colour" in "colour=red"; fields: type, state, user, session, node, name, age, idle`)
	})
	t.Run("OKSessionsFilter", func(t *testing.T) {
		stdout, _, err := runCmd(t, "sessions", "--server", srv.URL(), "--filter", "type=storedProcedure")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout, "SESSIONS (1)") || !strings.Contains(stdout, srv.StoredProcedureSession().ID) {
			t.Errorf("sessions --filter:\n%s", stdout)
		}
	})
	t.Run("ErrSessionsProcessField", func(t *testing.T) {
		_, _, err := runCmd(t, "sessions", "list", "--server", srv.URL(), "--filter", "name=x")
		wantExit(t, err, 2, `--filter: field "name" applies to processes, not to sessions`)
	})
	t.Run("OKKillDryRun", func(t *testing.T) {
		stdout, _, err := runCmd(t, "kill", "--server", srv.URL(), "--filter", "name=import@", "--dry-run")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(stdout, "would abort 2 processes (dry run)\n") || !strings.Contains(stdout, strconv.FormatInt(one.ID(), 10)) {
			t.Errorf("kill --dry-run:\n%s", stdout)
		}
		if srv.Processes.ProcessByID(one.ID()) == nil || srv.Processes.ProcessByID(two.ID()) == nil {
			t.Error("a dry run aborted a process")
		}
	})
	t.Run("OKKillFilter", func(t *testing.T) {
		stdout, _, err := runCmd(t, "kill", "--server", srv.URL(), "--filter", "name=import@")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(stdout, "aborted 2 processes\n") {
			t.Errorf("kill --filter:\n%s", stdout)
		}
		servertest.Receive(t, "import 1 to end", one.Ended())
		servertest.Receive(t, "import 2 to end", two.Ended())
		if srv.Processes.ProcessByID(report.ID()) == nil {
			t.Error("kill --filter aborted a process it does not select")
		}
	})
	t.Run("ErrKillEmptyFilter", func(t *testing.T) {
		_, _, err := runCmd(t, "kill", "--server", srv.URL(), "--filter", "")
		wantExit(t, err, 2, "kill: --filter is empty; it would abort every process")
	})
}
