package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
)

func TestNewClient(t *testing.T) {
	t.Run("ErrBadURL", func(t *testing.T) {
		for _, u := range []string{"", "127.0.0.1:8080", "ftp://host", "http://", "://x"} {
			if c, err := rest.NewClient(u, nil); err == nil {
				t.Errorf("NewClient(%q) = %v, want an error", u, c.URL())
			}
		}
	})
	t.Run("OKTrailingSlash", func(t *testing.T) {
		srv := MustOpenServer(t)
		c, err := rest.NewClient(srv.URL()+"/", servertest.NewHTTPClient(t))
		if err != nil {
			t.Fatal(err)
		}
		if c.URL() != srv.URL() {
			t.Errorf("URL() = %q, want %q", c.URL(), srv.URL())
		}
		if _, err := c.Activity(context.Background(), "", fourd.ProcessesAndSessions); err != nil {
			t.Errorf("Activity: %v", err)
		}
	})
}

func TestClient_Activity(t *testing.T) {
	ctx := context.Background()
	srv := MustOpenServer(t)
	c := servertest.NewClient(t, srv)

	t.Run("NoSessionBeforeFirstCall", func(t *testing.T) {
		if id := c.SessionID(srv.AppName); id != "" {
			t.Errorf("SessionID = %q before any call", id)
		}
	})
	t.Run("OK", func(t *testing.T) {
		a, err := c.Activity(ctx, "", fourd.ProcessesAndSessions)
		if err != nil {
			t.Fatal(err)
		}
		id := c.SessionID(srv.AppName)
		if !fourd.ValidID(id) {
			t.Fatalf("SessionID = %q after a call", id)
		}
		if a.Session(id) == nil || a.Session(srv.StoredProcedureSession().ID) == nil {
			t.Errorf("sessions %+v; want the client's and the stored-procedure session", a.Sessions)
		}
		if len(a.Processes) != servertest.InternalProcesses+1 {
			t.Errorf("%d processes, want %d (the internal ones, this request)", len(a.Processes), servertest.InternalProcesses+1)
		}
	})
	t.Run("OKSameSession", func(t *testing.T) {
		before := c.SessionID(srv.AppName)
		a, err := c.Activity(ctx, before, fourd.ProcessesOnly)
		if err != nil {
			t.Fatal(err)
		}
		if c.SessionID(srv.AppName) != before {
			t.Errorf("session changed from %s to %s", before, c.SessionID(srv.AppName))
		}
		if len(a.Processes) != 1 || a.Processes[0].SessionID != before || a.Sessions != nil {
			t.Errorf("activity of own session, processes only = %+v; want this request only", a)
		}
	})
	t.Run("NullForUnknownSession", func(t *testing.T) {
		a, err := c.Activity(ctx, fourd.NewID(), fourd.ProcessesAndSessions)
		if err != nil || a != nil {
			t.Errorf("Activity(unknown) = %v, %v; want nil, nil", a, err)
		}
	})
	t.Run("ErrBadOptions", func(t *testing.T) {
		_, err := c.Activity(ctx, "", 7)
		var fe *fourd.Error
		if !errors.As(err, &fe) {
			t.Fatalf("Activity(options 7): %v, want a *fourd.Error", err)
		}
		want := fourd.Error{Code: fourd.EINVALID, ErrCode: fourd.ErrCodeBadParameter, Component: fourd.ComponentServer,
			Message: `options must be 0 (processes and sessions), 1 (processes only) or 2 (sessions only), not "7"`}
		if !reflect.DeepEqual(*fe, want) {
			t.Errorf("error\n got %+v\nwant %+v", *fe, want)
		}
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := c.Activity(ctx, "", fourd.ProcessesAndSessions); !errors.Is(err, context.Canceled) {
			t.Errorf("Activity with a cancelled context: %v, want context.Canceled", err)
		}
	})
}

// TestClient_NotFourd checks what the client makes of answers that are
// not fourd's: a proxy's error page, a body that is not JSON.
func TestClient_NotFourd(t *testing.T) {
	ctx := context.Background()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("sessionID") {
		case "":
			http.Error(w, "bad gateway", http.StatusBadGateway)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`<html>`))
		}
	}))
	defer ts.Close()
	hc := servertest.NewHTTPClient(t)
	c, err := rest.NewClient(ts.URL, hc)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ErrPlainTextStatus", func(t *testing.T) {
		_, err := c.Activity(ctx, "", fourd.ProcessesAndSessions)
		var fe *fourd.Error
		if !errors.As(err, &fe) {
			t.Fatalf("%v, want a *fourd.Error", err)
		}
		want := fourd.Error{Code: fourd.EINTERNAL, Component: fourd.ComponentServer, Message: "HTTP 502: bad gateway"}
		if !reflect.DeepEqual(*fe, want) {
			t.Errorf("error\n got %+v\nwant %+v", *fe, want)
		}
	})
	t.Run("ErrNotJSON", func(t *testing.T) {
		_, err := c.Activity(ctx, fourd.NewID(), fourd.ProcessesAndSessions)
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%v, want a JSON syntax error", err)
		}
	})
	hc.CloseIdleConnections()
}
