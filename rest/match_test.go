package rest_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
)

func TestActivityMatch(t *testing.T) {
	srv := MustOpenServer(t)
	one, two := servertest.BlockedNamed(t, srv, "import batch 1"), servertest.BlockedNamed(t, srv, "import batch 2")
	servertest.BlockedNamed(t, srv, "report")
	c := servertest.NewClient(t, srv)

	t.Run("OKProcesses", func(t *testing.T) {
		a, err := c.ActivityMatch(t.Context(), "", fourd.ProcessesAndSessions, "name=import@")
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Processes) != 2 || a.Processes[0].ID != one.ID() || a.Processes[1].ID != two.ID() {
			t.Fatalf("processes %+v, want the two import batches", a.Processes)
		}
		if len(a.Sessions) != 1 || a.Sessions[0].ID != srv.StoredProcedureSession().ID || a.Processes[0].Session == nil {
			t.Errorf("sessions %+v: want only the stored-procedure session, linked", a.Sessions)
		}
	})
	t.Run("OKProcessesOnlyWithNot", func(t *testing.T) {
		a, err := c.ActivityMatch(t.Context(), "", fourd.ProcessesOnly, "NOT name=import@ name=report")
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Processes) != 1 || a.Processes[0].Name != "report" || a.Sessions != nil || a.Processes[0].Session != nil {
			t.Errorf("%+v, want the report process alone, without sessions", a)
		}
	})
	t.Run("OKSessions", func(t *testing.T) {
		a, err := c.ActivityMatch(t.Context(), "", fourd.SessionsOnly, "type=rest")
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Sessions) != 1 || a.Sessions[0].ID != c.OwnSessionID() || a.Processes != nil {
			t.Errorf("%+v, want the client's own session alone", a)
		}
	})
	for name, q := range map[string]url.Values{
		"ErrUnknownField":           {"$match": {"colour=red"}},
		"ErrProcessFieldOnSessions": {"$match": {"name=x"}, "options": {"2"}},
		"ErrBadDuration":            {"$match": {"age>=soon"}},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := get(t, servertest.NewHTTPClient(t), srv.URL(), "/rest/$activity?"+q.Encode())
			if status != http.StatusBadRequest || errCodeOf(t, body) != fourd.ErrCodeBadParameter {
				t.Errorf("%d %s, want 400 errCode %d", status, body, fourd.ErrCodeBadParameter)
			}
		})
	}
	t.Run("OKAbortMatching", func(t *testing.T) {
		before := srv.Processes.Len()
		ids, err := c.AbortMatching(t.Context(), "name=import@")
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 2 || ids[0] != one.ID() || ids[1] != two.ID() {
			t.Fatalf("aborted %v, want %d and %d", ids, one.ID(), two.ID())
		}
		servertest.Receive(t, "batch 1 to end", one.Ended())
		servertest.Receive(t, "batch 2 to end", two.Ended())
		if n := srv.Processes.Len(); n != before-2 {
			t.Errorf("%d processes left, want %d", n, before-2)
		}
	})
	t.Run("OKAbortSparesInternalProcessesAndItself", func(t *testing.T) {
		ids, err := c.AbortMatching(t.Context(), "age>=0s")
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 1 {
			t.Errorf("aborted %v, want only the report process", ids)
		}
		for _, p := range srv.Processes.Processes("") {
			if p.Name == "report" {
				servertest.Eventually(t, "the report to end", func() bool { return srv.Processes.ProcessByID(p.ID) == nil })
			}
		}
		if srv.Processes.Len() != servertest.InternalProcesses {
			t.Errorf("%d processes left, want the %d internal ones", srv.Processes.Len(), servertest.InternalProcesses)
		}
	})
	t.Run("ErrAbortEmptyMatch", func(t *testing.T) {
		if _, err := c.AbortMatching(t.Context(), " "); fourd.ErrorCode(err) != fourd.EINVALID {
			t.Errorf("empty $match: %v, want EINVALID", err)
		}
	})
}
