package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

func withAdmin(s *server.Server) { s.AdminAddr = "127.0.0.1:0" }

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := servertest.NewHTTPClient(t).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// failingData is a datastore that no longer answers.
type failingData struct{ fourd.Datastore }

func (failingData) GlobalStamp(context.Context) (int64, error) {
	return 0, errors.New("database is locked")
}

func TestAdminListener(t *testing.T) {
	t.Run("OKHealth", func(t *testing.T) {
		srv := MustOpenServer(t, withAdmin, servertest.WithDemo(1, 1))
		for _, path := range []string{"/livez", "/readyz"} {
			if status, body := httpGet(t, srv.AdminURL()+path); status != http.StatusOK || body != "ok\n" {
				t.Errorf("GET %s: %d %q, want 200 ok", path, status, body)
			}
		}
		if status, body := httpGet(t, srv.AdminURL()+"/debug/pprof/goroutine?debug=1"); status != http.StatusOK || !strings.Contains(body, "goroutine profile") {
			t.Errorf("GET /debug/pprof/goroutine: %d %.80q", status, body)
		}
	})
	t.Run("ErrNotReadyDatastore", func(t *testing.T) {
		srv := MustOpenServer(t, withAdmin, servertest.WithDemo(1, 1))
		srv.Data = failingData{srv.Data}
		err := srv.Ready(t.Context())
		if err == nil || err.Error() != "the datastore does not answer: database is locked" {
			t.Errorf("Ready = %v", err)
		}
	})
	t.Run("ErrNotReadyStartingOrStopping", func(t *testing.T) {
		if err := server.New().Ready(t.Context()); err == nil || err.Error() != "the server is starting" {
			t.Errorf("before Open: %v", err)
		}
		srv := MustOpenServer(t, withAdmin)
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		if err := srv.Ready(t.Context()); err == nil || err.Error() != "the server is stopping" {
			t.Errorf("after Close: %v", err)
		}
	})
	t.Run("OKOffByDefault", func(t *testing.T) {
		if srv := MustOpenServer(t); srv.AdminURL() != "" {
			t.Errorf("AdminURL = %q with AdminAddr unset", srv.AdminURL())
		}
	})
	t.Run("ErrAddressInUse", func(t *testing.T) {
		first := MustOpenServer(t, withAdmin)
		srv := server.New()
		srv.Addr, srv.DataDir, srv.AdminAddr = "127.0.0.1:0", t.TempDir(), strings.TrimPrefix(first.AdminURL(), "http://")
		if err := srv.Open(); err == nil {
			srv.Close()
			t.Fatal("Open succeeded on an admin address in use")
		} else if !strings.HasPrefix(err.Error(), "admin listener on ") {
			t.Errorf("Open: %v", err)
		}
	})
}

func TestPublicRoutes(t *testing.T) {
	srv := MustOpenServer(t, withAdmin)
	sessions, procs := servertest.Sessions(t, srv), srv.Processes.Len()
	for _, path := range []string{"/", "/metrics", "/debug/pprof/", "/livez", "/favicon.ico"} {
		status, body := httpGet(t, srv.URL()+path)
		var env struct {
			Errors []struct{ ErrCode int } `json:"__ERROR"`
		}
		if err := json.Unmarshal([]byte(body), &env); status != http.StatusNotFound || err != nil || len(env.Errors) != 1 || env.Errors[0].ErrCode != fourd.ErrCodeUnknownResource {
			t.Errorf("public GET %s: %d %s, want 404 errCode %d", path, status, body, fourd.ErrCodeUnknownResource)
		}
	}
	if servertest.Sessions(t, srv) != sessions || srv.Processes.Len() != procs {
		t.Errorf("paths outside /rest/ made sessions (%d -> %d) or processes (%d -> %d)", sessions, servertest.Sessions(t, srv), procs, srv.Processes.Len())
	}
	if status, _ := httpGet(t, srv.URL()+"/rest//$catalog"); status != http.StatusBadRequest {
		t.Errorf("GET /rest//$catalog: %d, want 400 from the REST handler (not a redirect)", status)
	}
}
