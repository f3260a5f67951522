package rest_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
	"github.com/fourd/fourd/userfile"
)

// openUsers opens the users directory of srv as fourd users does, at
// bcrypt's lowest cost.
func openUsers(t *testing.T, srv *server.Server) *userfile.Store {
	t.Helper()
	store, err := userfile.Open(filepath.Join(srv.DataDir, userfile.FileName))
	if err != nil {
		t.Fatal(err)
	}
	store.Cost = bcrypt.MinCost
	return store
}

// TestUsersAppearWhileServing adds the first user to a running server
// (fourd users add beside fourd serve): access control is on from the next
// request, the new user can log in, and the server logs the switch.
func TestUsersAppearWhileServing(t *testing.T) {
	logs := servertest.NewLogBuffer()
	srv := MustOpenServer(t, servertest.WithQuietTicks(), func(s *server.Server) { s.Logger = logs.Logger() })
	c := servertest.NewHTTPClient(t)
	if status, body := get(t, c, srv.URL(), "/rest/$info"); status != http.StatusOK {
		t.Fatalf("$info without users: %d %s", status, body)
	}
	if !strings.Contains(logs.String(), "access control off") {
		t.Errorf("the start-up log does not say access control is off:\n%s", logs)
	}
	if _, err := openUsers(t, srv).Add(t.Context(), "alice", adminPassword, []string{fourd.PrivilegeWebAdmin}); err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, c, srv.URL(), "/rest/$info"); status != http.StatusUnauthorized || errCodeOf(t, body) != fourd.ErrCodeAdminOnly {
		t.Fatalf("$info after the first user was added: %d %s, want 401", status, body)
	}
	if !srv.AccessControl() {
		t.Error("AccessControl() is false with a users file")
	}
	if status, result := login(t, c, srv, "alice", adminPassword, ""); status != http.StatusOK || result != "true" {
		t.Fatalf("login of the new user: %d %s", status, result)
	}
	if status, body := get(t, c, srv.URL(), "/rest/$info"); status != http.StatusOK {
		t.Fatalf("$info as the new administrator: %d %s", status, body)
	}
	srv.WatchUsers(t.Context()) // the session timer's look at the users file
	if !strings.Contains(logs.String(), "access control on: the users directory appeared") {
		t.Errorf("the log does not say access control switched on:\n%s", logs)
	}
}

// TestUserChangesReachSessions changes and removes users behind logged-in
// sessions: new privileges apply at the session's next request, and a
// removed user's session ends, at its next request or when the server
// looks at the users file, whichever comes first.
func TestUserChangesReachSessions(t *testing.T) {
	srv := mustOpenWithUsers(t, servertest.WithQuietTicks())
	users := openUsers(t, srv)
	ctx := t.Context()
	alice := servertest.NewHTTPClient(t)
	if status, result := login(t, alice, srv, "alice", adminPassword, ""); status != http.StatusOK || result != "true" {
		t.Fatalf("login: %d %s", status, result)
	}
	info := func() int {
		status, _ := get(t, alice, srv.URL(), "/rest/$info")
		return status
	}
	t.Run("OKPrivilegesTakenAway", func(t *testing.T) {
		if err := users.SetPrivileges(ctx, "alice", nil); err != nil {
			t.Fatal(err)
		}
		if status := info(); status != http.StatusUnauthorized {
			t.Fatalf("$info after WebAdmin was taken away: %d, want 401", status)
		}
	})
	t.Run("OKPrivilegesGiven", func(t *testing.T) {
		if err := users.SetPrivileges(ctx, "alice", []string{fourd.PrivilegeWebAdmin}); err != nil {
			t.Fatal(err)
		}
		if status := info(); status != http.StatusOK {
			t.Fatalf("$info after WebAdmin was given back: %d, want 200", status)
		}
	})
	t.Run("OKRemovedUserSessionEndsAtRequest", func(t *testing.T) {
		before := jarSessionID(t, alice, srv)
		if err := users.Remove(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if status := info(); status != http.StatusUnauthorized {
			t.Fatalf("$info from a removed administrator's cookie: %d, want 401", status)
		}
		if srv.SessionInfo(before) != nil {
			t.Fatal("the removed user's session is still there")
		}
		if after := jarSessionID(t, alice, srv); after == before {
			t.Fatal("the request kept the removed user's session cookie")
		}
	})
	t.Run("OKRemovedUserSessionEndsWithoutRequest", func(t *testing.T) {
		bob := servertest.NewHTTPClient(t)
		if status, result := login(t, bob, srv, "bob", bobPassword, ""); status != http.StatusOK || result != "true" {
			t.Fatalf("login: %d %s", status, result)
		}
		id := jarSessionID(t, bob, srv)
		if err := users.Remove(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
		srv.WatchUsers(context.Background()) // what the session timer does every second
		if srv.SessionInfo(id) != nil {
			t.Fatal("the removed user's session outlived the server's look at the users file")
		}
	})
}

// TestLoginOneCookie logs in without a prior cookie, as a first request:
// the answer carries one session cookie, the logged-in one, and that cookie
// alone gives the user's rights.
func TestLoginOneCookie(t *testing.T) {
	srv := mustOpenWithUsers(t)
	c := rawClient(t)
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/rest/$directory/login", nil)
	req.Header.Set("username-4D", "alice")
	req.Header.Set("password-4D", adminPassword)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var ours []*http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "4DSID_"+srv.AppName {
			ours = append(ours, ck)
		}
	}
	if resp.StatusCode != http.StatusOK || len(ours) != 1 {
		t.Fatalf("login: %d with session cookies %v; want 200 and one", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL()+"/rest/$info", nil)
	req.AddCookie(ours[0])
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("$info with the login's cookie: %d, want 200", resp.StatusCode)
	}
}
