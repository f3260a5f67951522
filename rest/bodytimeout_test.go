package rest_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

// trickle opens a connection to srv and sends a POST whose body never
// arrives in full, then waits until its process is listed; it returns the
// connection and the process.
func trickle(t *testing.T, srv *server.Server) (net.Conn, fourd.ProcessInfo) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	const path = "/rest/Employee"
	fmt.Fprintf(conn, "POST %s?$method=update HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{\"lastName\":", path)
	var proc fourd.ProcessInfo
	servertest.Eventually(t, "the trickled request's process to be listed", func() bool {
		for _, p := range srv.Processes.Processes("") {
			if p.Name == "POST "+path {
				proc = p
				return true
			}
		}
		return false
	})
	return conn, proc
}

// gone waits until the process with that ID has ended.
func gone(t *testing.T, srv *server.Server, id int64, why string) {
	t.Helper()
	servertest.EventuallyWithin(t, 10*time.Second, "the process ended after "+why, func() bool {
		return srv.Processes.ProcessByID(id) == nil
	})
}

// TestTrickledBody checks that a request whose body never arrives ends:
// by its body timeout, by an abort, and with its session.
func TestTrickledBody(t *testing.T) {
	t.Run("ErrBodyTimeout", func(t *testing.T) {
		srv, _ := mustOpenFixture(t, func(s *server.Server) { s.BodyTimeout = 200 * time.Millisecond })
		conn, proc := trickle(t, srv)
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a hang fails the test rather than blocking it
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a body that never arrives: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("a body past --body-timeout: status %d, want 400", resp.StatusCode)
		}
		gone(t, srv, proc.ID, "its body timeout")
	})
	t.Run("AbortEndsIt", func(t *testing.T) {
		srv, _ := mustOpenFixture(t, func(s *server.Server) { s.BodyTimeout = -1 })
		_, proc := trickle(t, srv)
		if err := srv.AbortProcessByID(proc.ID); err != nil {
			t.Fatal(err)
		}
		gone(t, srv, proc.ID, "ABORT PROCESS BY ID")
	})
	t.Run("SessionEndEndsIt", func(t *testing.T) {
		srv, _ := mustOpenFixture(t, func(s *server.Server) { s.BodyTimeout = -1 })
		_, proc := trickle(t, srv)
		if err := srv.DropSession(t.Context(), proc.SessionID); err != nil {
			t.Fatal(err)
		}
		gone(t, srv, proc.ID, "its session was dropped")
	})
	t.Run("OKWorkLongerThanTheBodyTimeout", func(t *testing.T) {
		// A body read to its end lifts the deadline: work that goes on
		// longer than the body timeout afterwards is not cut (net/http
		// would take the deadline for a dead client and cancel it).
		slow := func(ctx context.Context, call *rest.Call) (any, error) {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("cancelled: %w", context.Cause(ctx))
			case <-time.After(300 * time.Millisecond):
				return "done", nil
			}
		}
		srv, c := mustOpenFixture(t, func(s *server.Server) {
			s.BodyTimeout = 50 * time.Millisecond
			s.Functions.DataStore("slow", slow)
		})
		status, body := send(t, c, http.MethodPost, srv.URL()+"/rest/$catalog/slow", `["x"]`)
		if status != http.StatusOK || string(body) != `{"result":"done"}` {
			t.Fatalf("work longer than the body timeout: %d %s", status, body)
		}
	})
}
