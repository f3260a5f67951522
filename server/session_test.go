package server_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

// openRESTSession makes one call through a new client, which gets a new
// REST session, and returns the client and the session's ID.
func openRESTSession(t *testing.T, srv *server.Server) (*rest.Client, string) {
	t.Helper()
	c := servertest.NewClient(t, srv)
	if _, err := c.Activity(context.Background(), "", fourd.ProcessesAndSessions); err != nil {
		t.Fatal(err)
	}
	id := c.SessionID(srv.AppName)
	if !fourd.ValidID(id) {
		t.Fatalf("client session ID %q after a call", id)
	}
	return c, id
}

// trackInSession registers a process in the session, as an in-flight
// request of that session would be.
func trackInSession(t *testing.T, srv *server.Server, sessionID string) *fourd.Process {
	t.Helper()
	p, err := srv.Processes.Track(fourd.ProcessSpec{
		Name:      "GET /rest/held",
		Type:      fourd.TypeWebServerProcess,
		SessionID: sessionID,
		Visible:   true,
		Abortable: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.End(nil) })
	return p
}

func TestExpireSessions(t *testing.T) {
	ctx := context.Background()
	clock := servertest.NewClock(servertest.T0)
	srv := MustOpenServer(t, servertest.WithClock(clock), servertest.WithQuietTicks())
	_, id := openRESTSession(t, srv)
	p := trackInSession(t, srv, id)

	info := srv.SessionInfo(id)
	if info == nil {
		t.Fatal("SessionInfo = nil for a new session")
	}
	if want := servertest.T0.Add(fourd.DefaultIdleTimeout); !info.Expiration.Equal(want) {
		t.Errorf("expiration = %v, want %v (3600 s after the request)", info.Expiration, want)
	}

	t.Run("OKBeforeExpiry", func(t *testing.T) {
		clock.Advance(fourd.DefaultIdleTimeout - time.Millisecond)
		if ids := srv.ExpireSessions(ctx); slices.Contains(ids, id) {
			t.Fatalf("session expired %s early", time.Millisecond)
		}
		if srv.SessionInfo(id) == nil {
			t.Fatal("SessionInfo = nil before expiry")
		}
		if p.Err() != nil {
			t.Fatalf("process of the session stopped before expiry: %v", p.Cause())
		}
	})

	t.Run("OKExpired", func(t *testing.T) {
		clock.Advance(time.Millisecond)
		ids := srv.ExpireSessions(ctx)
		if !slices.Equal(ids, []string{id}) {
			t.Fatalf("ExpireSessions = %v, want [%s]", ids, id)
		}
		if got := srv.SessionInfo(id); got != nil {
			t.Errorf("SessionInfo = %+v after expiry, want nil", got)
		}
		servertest.Receive(t, "the session's process to be cancelled", p.Done())
		if p.Cause() != fourd.ErrSessionEnded {
			t.Errorf("process cause = %v, want %v", p.Cause(), fourd.ErrSessionEnded)
		}
		a, err := srv.ProcessActivity(ctx, id, fourd.ProcessesAndSessions)
		if err != nil || a != nil {
			t.Errorf("ProcessActivity(expired session) = %v, %v; want nil, nil", a, err)
		}
		c := servertest.NewClient(t, srv)
		if a, err := c.Activity(ctx, id, fourd.ProcessesAndSessions); err != nil || a != nil {
			t.Errorf("$activity?sessionID=<expired> = %v, %v; want null", a, err)
		}
	})

	t.Run("OKStoredProcedureNeverExpires", func(t *testing.T) {
		clock.Advance(100 * 365 * 24 * time.Hour)
		srv.ExpireSessions(ctx)
		if srv.SessionInfo(srv.StoredProcedureSession().ID) == nil {
			t.Error("stored-procedure session expired")
		}
	})
}

func TestExpireSessions_Sliding(t *testing.T) {
	ctx := context.Background()
	clock := servertest.NewClock(servertest.T0)
	srv := MustOpenServer(t, servertest.WithClock(clock), servertest.WithQuietTicks())
	c, id := openRESTSession(t, srv)

	touched := clock.Advance(50 * time.Minute)
	if _, err := c.Activity(ctx, "", fourd.SessionsOnly); err != nil {
		t.Fatal(err)
	}
	if got := c.SessionID(srv.AppName); got != id {
		t.Fatalf("second call got session %s, want %s", got, id)
	}
	clock.Advance(50 * time.Minute) // 100 minutes after creation, 50 after the last request

	t.Run("OKKeptAlive", func(t *testing.T) {
		if ids := srv.ExpireSessions(ctx); len(ids) != 0 {
			t.Fatalf("ExpireSessions = %v, want none", ids)
		}
		info := srv.SessionInfo(id)
		if info == nil {
			t.Fatal("session expired although used 50 minutes ago")
		}
		if !info.LastActivity.Equal(touched) {
			t.Errorf("lastActivity = %v, want %v", info.LastActivity, touched)
		}
		if want := touched.Add(fourd.DefaultIdleTimeout); !info.Expiration.Equal(want) {
			t.Errorf("expiration = %v, want %v", info.Expiration, want)
		}
	})
	t.Run("OKExpiredAfterIdle", func(t *testing.T) {
		clock.Advance(10 * time.Minute)
		if ids := srv.ExpireSessions(ctx); !slices.Equal(ids, []string{id}) {
			t.Fatalf("ExpireSessions = %v, want [%s]", ids, id)
		}
		if srv.SessionInfo(id) != nil {
			t.Error("session still there")
		}
	})
}

func TestSessionInfo(t *testing.T) {
	srv := MustOpenServer(t)
	_, id := openRESTSession(t, srv)
	t.Run("OK", func(t *testing.T) {
		info := srv.SessionInfo(id)
		if info == nil {
			t.Fatal("SessionInfo = nil for a live session")
		}
		if info.ID != id || info.Type != fourd.SessionREST || info.State != fourd.SessionActive || info.IPAddress != "127.0.0.1" {
			t.Errorf("SessionInfo = %+v, want an active rest session %s from 127.0.0.1", info, id)
		}
	})
	t.Run("OKLowercaseID", func(t *testing.T) {
		if info := srv.SessionInfo(strings.ToLower(id)); info == nil || info.ID != id {
			t.Errorf("SessionInfo(lowercase) = %+v, want session %s", info, id)
		}
	})
	t.Run("NullForUnknownSession", func(t *testing.T) {
		for _, id := range []string{fourd.NewID(), "", "nope", strings.Repeat("Z", 32)} {
			if info := srv.SessionInfo(id); info != nil {
				t.Errorf("SessionInfo(%q) = %+v, want nil", id, info)
			}
		}
	})
}

func TestDropSession(t *testing.T) {
	ctx := context.Background()
	srv := MustOpenServer(t)
	_, id := openRESTSession(t, srv)
	p := trackInSession(t, srv, id)
	t.Run("OK", func(t *testing.T) {
		if err := srv.DropSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		if srv.SessionInfo(id) != nil {
			t.Error("session still there")
		}
		servertest.Receive(t, "the session's process to be cancelled", p.Done())
		if p.Cause() != fourd.ErrSessionEnded {
			t.Errorf("cause = %v, want %v", p.Cause(), fourd.ErrSessionEnded)
		}
	})
	t.Run("ErrUnknownSession", func(t *testing.T) {
		if err := srv.DropSession(ctx, id); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Errorf("DropSession(dropped): %v, want code %q", err, fourd.ENOTFOUND)
		}
	})
	t.Run("ErrStoredProcedure", func(t *testing.T) {
		if err := srv.DropSession(ctx, srv.StoredProcedureSession().ID); fourd.ErrorCode(err) != fourd.EINVALID {
			t.Errorf("DropSession(stored procedure): %v, want code %q", err, fourd.EINVALID)
		}
	})
}

func TestProcessActivity(t *testing.T) {
	ctx := context.Background()
	srv := MustOpenServer(t)
	spID := srv.StoredProcedureSession().ID
	p := startBlocked(t, srv.NewProcess, "job")

	t.Run("OK", func(t *testing.T) {
		a, err := srv.ProcessActivity(ctx, "", fourd.ProcessesAndSessions)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, info := range a.Processes {
			switch {
			case info.ID == p.ID():
				found = true
				if info.Session == nil || !reflect.DeepEqual(*info.Session, *a.Session(spID)) {
					t.Errorf("user process session = %+v, want the stored-procedure session's info", info.Session)
				}
			case info.Type.Internal() && info.Session != nil:
				t.Errorf("internal process %d has a session property", info.Number)
			}
		}
		if !found {
			t.Errorf("process %d not in activity", p.ID())
		}
	})
	t.Run("OKOneSession", func(t *testing.T) {
		a, err := srv.ProcessActivity(ctx, spID, fourd.ProcessesAndSessions)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Processes) != 1 || a.Processes[0].ID != p.ID() {
			t.Errorf("processes of the stored-procedure session = %+v, want only process %d", a.Processes, p.ID())
		}
		if len(a.Sessions) != 1 || a.Sessions[0].ID != spID {
			t.Errorf("sessions = %+v, want only %s", a.Sessions, spID)
		}
	})
	t.Run("OKProcessesOnly", func(t *testing.T) {
		a, err := srv.ProcessActivity(ctx, "", fourd.ProcessesOnly)
		if err != nil {
			t.Fatal(err)
		}
		if a.Sessions != nil {
			t.Errorf("sessions = %v with ProcessesOnly", a.Sessions)
		}
		for _, info := range a.Processes {
			if info.Session != nil {
				t.Errorf("process %d has a session property with ProcessesOnly", info.Number)
			}
		}
	})
	t.Run("NullForUnknownSession", func(t *testing.T) {
		for _, id := range []string{fourd.NewID(), "garbage"} {
			if a, err := srv.ProcessActivity(ctx, id, fourd.ProcessesAndSessions); a != nil || err != nil {
				t.Errorf("ProcessActivity(%q) = %v, %v; want nil, nil", id, a, err)
			}
		}
	})
	t.Run("ErrBadOptions", func(t *testing.T) {
		if _, err := srv.ProcessActivity(ctx, "", 7); fourd.ErrorCode(err) != fourd.EINVALID {
			t.Errorf("options 7: %v, want code %q", err, fourd.EINVALID)
		}
	})
}
