package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// MustOpenServer opens a server on 127.0.0.1:0 with a temporary data
// directory, closed when the test ends; see servertest.MustOpenServer.
func MustOpenServer(tb testing.TB, opts ...func(*server.Server)) *server.Server {
	tb.Helper()
	return servertest.MustOpenServer(tb, opts...)
}

// rawClient returns an HTTP client without a cookie jar: each test says
// which cookie it sends.
func rawClient(t *testing.T) *http.Client {
	c := servertest.NewHTTPClient(t)
	c.Jar = nil
	return c
}

// do sends a request to srv and returns the response with its body read.
func do(t *testing.T, c *http.Client, method, url string, cookies ...*http.Cookie) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// sessionCookie returns the one 4DSID_<app> cookie the response sets, or nil.
func sessionCookie(t *testing.T, resp *http.Response, app string) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name != "4DSID_"+app {
			t.Errorf("unexpected cookie %q", ck.Name)
			continue
		}
		if found != nil {
			t.Errorf("cookie %s set twice", ck.Name)
		}
		found = ck
	}
	return found
}

// decodeActivity decodes an $activity body.
func decodeActivity(t *testing.T, body []byte) *fourd.Activity {
	t.Helper()
	var a *fourd.Activity
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("decode $activity: %v\n%s", err, body)
	}
	return a
}

func TestSession(t *testing.T) {
	clock := servertest.NewClock(servertest.T0)
	srv := MustOpenServer(t, servertest.WithClock(clock), servertest.WithAppName("MyApp"), servertest.WithQuietTicks())
	c := rawClient(t)
	url := srv.URL() + "/rest/$activity"

	resp, body := do(t, c, http.MethodGet, url)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	first := sessionCookie(t, resp, "MyApp")
	if first == nil {
		t.Fatalf("no 4DSID_MyApp cookie; Set-Cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	id := first.Value

	t.Run("OKCookie", func(t *testing.T) {
		if !fourd.ValidID(id) || strings.ToUpper(id) != id {
			t.Errorf("cookie value %q, want 32 uppercase hex characters", id)
		}
		if first.Path != "/" || !first.HttpOnly || first.SameSite != http.SameSiteStrictMode || first.Secure {
			t.Errorf("cookie Path=%q HttpOnly=%v SameSite=%v Secure=%v; want Path=/ HttpOnly SameSite=Strict, not Secure over plain HTTP",
				first.Path, first.HttpOnly, first.SameSite, first.Secure)
		}
		if first.MaxAge != 0 || !first.Expires.IsZero() {
			t.Errorf("cookie MaxAge=%d Expires=%v; want a session cookie", first.MaxAge, first.Expires)
		}
		info := srv.SessionInfo(id)
		if info == nil {
			t.Fatal("SessionInfo = nil for the cookie's session")
		}
		if info.Type != fourd.SessionREST || info.UserName != "" || info.IPAddress != "127.0.0.1" || info.UserAgent != "Go-http-client/1.1" {
			t.Errorf("session info = %+v, want a guest rest session from 127.0.0.1", info)
		}
		if !info.CreationDateTime.Equal(servertest.T0) || !info.LastActivity.Equal(servertest.T0) {
			t.Errorf("created %v, last activity %v; want both %v", info.CreationDateTime, info.LastActivity, servertest.T0)
		}
		a := decodeActivity(t, body)
		if a.Session(id) == nil {
			t.Errorf("the request's own session %s is not in its $activity", id)
		}
	})

	t.Run("OKReused", func(t *testing.T) {
		later := clock.Advance(10 * time.Minute)
		resp, body := do(t, c, http.MethodGet, url, &http.Cookie{Name: "4DSID_MyApp", Value: id})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
			t.Errorf("Set-Cookie %q on a request with a valid cookie", got)
		}
		a := decodeActivity(t, body)
		s := a.Session(id)
		if s == nil {
			t.Fatalf("session %s not in $activity", id)
		}
		if !s.LastActivity.Equal(later) {
			t.Errorf("lastActivity = %v, want %v (the time of this request)", s.LastActivity, later)
		}
		if want := later.Add(fourd.DefaultIdleTimeout); !s.Expiration.Equal(want) {
			t.Errorf("expiration = %v, want %v", s.Expiration, want)
		}
		if !s.CreationDateTime.Equal(servertest.T0) {
			t.Errorf("creationDateTime = %v, want %v", s.CreationDateTime, servertest.T0)
		}
	})

	t.Run("OKReusedLowercase", func(t *testing.T) {
		resp, _ := do(t, c, http.MethodGet, url, &http.Cookie{Name: "4DSID_MyApp", Value: strings.ToLower(id)})
		if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
			t.Errorf("Set-Cookie %q for the lowercase form of a valid ID", got)
		}
	})

	for _, tt := range []struct{ name, cookie, value string }{
		{"NewSessionForUnknownID", "4DSID_MyApp", fourd.NewID()},
		{"NewSessionForGarbage", "4DSID_MyApp", "not-a-session"},
		{"NewSessionForEmpty", "4DSID_MyApp", ""},
		{"NewSessionForOtherAppCookie", "4DSID_Other", id},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name, value := tt.cookie, tt.value
			resp, body := do(t, c, http.MethodGet, url, &http.Cookie{Name: name, Value: value})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			ck := sessionCookie(t, resp, "MyApp")
			if ck == nil {
				t.Fatal("no new session cookie")
			}
			if ck.Value == id || ck.Value == value || !fourd.ValidID(ck.Value) {
				t.Errorf("new cookie value %q; want a fresh ID", ck.Value)
			}
			if srv.SessionInfo(ck.Value) == nil {
				t.Errorf("new session %s not stored", ck.Value)
			}
		})
	}

	t.Run("NewSessionForExpired", func(t *testing.T) {
		clock.Advance(fourd.DefaultIdleTimeout)
		resp, _ := do(t, c, http.MethodGet, url, &http.Cookie{Name: "4DSID_MyApp", Value: id})
		ck := sessionCookie(t, resp, "MyApp")
		if ck == nil || ck.Value == id {
			t.Fatalf("cookie %v for an expired session; want a new session", ck)
		}
		if srv.SessionInfo(id) != nil {
			t.Error("expired session still reported")
		}
	})
}

// errorBody decodes an __ERROR envelope, failing unless it holds exactly
// one error.
func errorBody(t *testing.T, body []byte) rest.ErrorItem {
	t.Helper()
	var env rest.ErrorEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("decode error envelope: %v\n%s", err, body)
	}
	if len(env.Errors) != 1 {
		t.Fatalf("__ERROR has %d items, want 1: %s", len(env.Errors), body)
	}
	return env.Errors[0]
}

func TestErrors(t *testing.T) {
	srv := MustOpenServer(t)
	c := rawClient(t)
	for _, tt := range []struct {
		name, method, path string
		status             int
		want               rest.ErrorItem
		allow              string
	}{
		{"ErrOptions7", "GET", "/rest/$activity?options=7", http.StatusBadRequest, rest.ErrorItem{
			Message: `options must be 0 (processes and sessions), 1 (processes only) or 2 (sessions only), not "7"`, ComponentSignature: "fourd", ErrCode: 9002}, ""},
		{"ErrOptionsX", "GET", "/rest/$activity?options=x", http.StatusBadRequest, rest.ErrorItem{
			Message: `options must be 0 (processes and sessions), 1 (processes only) or 2 (sessions only), not "x"`, ComponentSignature: "fourd", ErrCode: 9002}, ""},
		{"ErrOptionsNegative", "GET", "/rest/$activity?options=-1", http.StatusBadRequest, rest.ErrorItem{
			Message: `options must be 0 (processes and sessions), 1 (processes only) or 2 (sessions only), not "-1"`, ComponentSignature: "fourd", ErrCode: 9002}, ""},
		{"ErrUnknownResource", "GET", "/rest/$nope", http.StatusNotFound, rest.ErrorItem{
			Message: `unknown REST resource "/rest/$nope"`, ComponentSignature: "fourd", ErrCode: 9001}, ""},
		{"ErrUnknownResourceBelowActivity", "GET", "/rest/$activity/x", http.StatusNotFound, rest.ErrorItem{
			Message: `unknown REST resource "/rest/$activity/x"`, ComponentSignature: "fourd", ErrCode: 9001}, ""},
		{"ErrMethodPost", "POST", "/rest/$activity", http.StatusMethodNotAllowed, rest.ErrorItem{
			Message: "POST is not allowed on /rest/$activity; use GET", ComponentSignature: "fourd", ErrCode: 9003}, "GET, HEAD"},
		{"ErrMethodDelete", "DELETE", "/rest/$activity", http.StatusMethodNotAllowed, rest.ErrorItem{
			Message: "DELETE is not allowed on /rest/$activity; use GET", ComponentSignature: "fourd", ErrCode: 9003}, "GET, HEAD"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, c, tt.method, srv.URL()+tt.path)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if got := errorBody(t, body); got != tt.want {
				t.Errorf("error\n got %+v\nwant %+v", got, tt.want)
			}
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
	t.Run("OKHead", func(t *testing.T) {
		resp, body := do(t, c, http.MethodHead, srv.URL()+"/rest/$activity")
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD: status %d, %d bytes of body; want 200 and none", resp.StatusCode, len(body))
		}
	})
}

// TestBurst checks that after many concurrent requests (successes and
// errors alike) the process table is back to its baseline: every request
// process has left it.
func TestBurst(t *testing.T) {
	srv := MustOpenServer(t)
	internal := servertest.InternalProcesses
	baseline := srv.Processes.Len()
	if baseline != internal {
		t.Fatalf("baseline: %d processes, want %d internal ones", baseline, internal)
	}

	const goroutines, perGoroutine = 8, 25
	paths := []string{"/rest/$activity", "/rest/$activity?options=1", "/rest/$nope", "/rest/$activity?options=x", "/rest/$activity?sessionID=" + fourd.NewID()}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := servertest.NewHTTPClient(t) // one session per goroutine
			for i := 0; i < perGoroutine; i++ {
				path := paths[(g+i)%len(paths)]
				resp, err := c.Get(srv.URL() + path)
				if err != nil {
					errs <- err
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil {
					errs <- err
				} else if resp.StatusCode >= 500 {
					errs <- fmt.Errorf("%s: status %d", path, resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// A request process ends just after its response is written, so the
	// last ones may still be leaving.
	servertest.Eventually(t, "back to the baseline", func() bool { return srv.Processes.Len() == baseline })

	c := servertest.NewClient(t, srv)
	a, err := c.Activity(context.Background(), "", fourd.ProcessesOnly)
	if err != nil {
		t.Fatal(err)
	}
	var types []fourd.ProcessType
	for _, p := range a.Processes {
		types = append(types, p.Type)
	}
	want := append(slices.Clone(servertest.InternalTypes), fourd.TypeWebServerProcess)
	if !slices.Equal(types, want) {
		t.Errorf("process types after the burst = %v, want %v (the internal processes and this request)", types, want)
	}
	if len(a.Processes) == len(want) {
		if self := a.Processes[len(want)-1]; self.Number != internal+1 || self.SessionID != c.SessionID(srv.AppName) {
			t.Errorf("request process = number %d session %s; want number %d in session %s",
				self.Number, self.SessionID, internal+1, c.SessionID(srv.AppName))
		}
	}
}
