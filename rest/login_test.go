package rest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

const (
	adminPassword = "admin-secret-1"
	bobPassword   = "bob-secret-22"
)

// mustOpenWithUsers opens a server with an administrator (alice) and a
// user without privileges (bob).
func mustOpenWithUsers(t *testing.T, opts ...func(*server.Server)) *server.Server {
	t.Helper()
	return MustOpenServer(t, append([]func(*server.Server){
		servertest.WithUser(t, "alice", adminPassword, fourd.PrivilegeWebAdmin),
		servertest.WithUser(t, "bob", bobPassword),
	}, opts...)...)
}

// jarSessionID returns the session ID in the client's cookie jar for srv.
func jarSessionID(t *testing.T, c *http.Client, srv *server.Server) string {
	t.Helper()
	u, _ := url.Parse(srv.URL())
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "4DSID_"+srv.AppName {
			return ck.Value
		}
	}
	return ""
}

func login(t *testing.T, c *http.Client, srv *server.Server, name, password, length string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/rest/$directory/login", nil)
	req.Header.Set("username-4D", name)
	req.Header.Set("password-4D", password)
	if length != "" {
		req.Header.Set("session-4D-length", length)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Result bool `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, map[bool]string{true: "true", false: "false"}[out.Result]
}

func TestDirectoryLogin(t *testing.T) {
	srv := mustOpenWithUsers(t)
	t.Run("OKNewSessionID", func(t *testing.T) {
		c := servertest.NewHTTPClient(t)
		get(t, c, srv.URL(), "/rest/$catalog") // a guest session first
		before := jarSessionID(t, c, srv)
		if status, result := login(t, c, srv, "alice", adminPassword, ""); status != http.StatusOK || result != "true" {
			t.Fatalf("login: %d %s", status, result)
		}
		after := jarSessionID(t, c, srv)
		if after == "" || after == before {
			t.Fatalf("session ID %q before, %q after: a login must give a new ID", before, after)
		}
		if srv.SessionInfo(before) != nil {
			t.Fatal("the ID from before the login still names a session")
		}
		info := srv.SessionInfo(after)
		if info == nil || info.UserName != "alice" || info.UserID == fourd.GuestUserID {
			t.Fatalf("session after login: %+v", info)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		c := servertest.NewHTTPClient(t)
		get(t, c, srv.URL(), "/rest/$catalog")
		before := jarSessionID(t, c, srv)
		for _, cred := range [][2]string{{"alice", "wrong-password"}, {"nobody", adminPassword}, {"", ""}} {
			if status, result := login(t, c, srv, cred[0], cred[1], ""); status != http.StatusUnauthorized || result != "false" {
				t.Fatalf("login %v: %d %s, want 401 false", cred, status, result)
			}
		}
		if jarSessionID(t, c, srv) != before || srv.SessionInfo(before).UserName != "" {
			t.Fatal("a failed login changed the session")
		}
	})
	t.Run("SessionLength", func(t *testing.T) {
		for _, tc := range []struct {
			length string
			want   int64
		}{{"120", 7200}, {"30", 3600}} {
			c := servertest.NewHTTPClient(t)
			login(t, c, srv, "alice", adminPassword, tc.length)
			s, _ := srv.Sessions.Session(context.Background(), jarSessionID(t, c, srv))
			if got := int64(s.IdleTimeout.Seconds()); got != tc.want {
				t.Errorf("session-4D-length %s: lifetime %d s, want %d", tc.length, got, tc.want)
			}
		}
	})
	t.Run("Logout", func(t *testing.T) {
		c := servertest.NewHTTPClient(t)
		login(t, c, srv, "alice", adminPassword, "")
		if status, body := send(t, c, http.MethodPost, srv.URL()+"/rest/$directory/logout", ""); status != http.StatusOK || string(body) != `{"result":true}` {
			t.Fatalf("logout: %d %s", status, body)
		}
		if status, _ := get(t, c, srv.URL(), "/rest/$info"); status != http.StatusUnauthorized {
			t.Fatalf("after logout $info answers %d, want 401", status)
		}
	})
}

func TestAuthentify(t *testing.T) {
	srv := mustOpenWithUsers(t, func(s *server.Server) {
		s.Functions.DataStore("hello", func(ctx context.Context, call *rest.Call) (any, error) {
			return "hello " + call.Session.UserName, nil
		})
	})
	c := servertest.NewHTTPClient(t)
	call := func(fn, body string) (int, string) {
		status, b := send(t, c, http.MethodPost, srv.URL()+"/rest/$catalog/"+fn, body)
		return status, string(b)
	}
	if status, body := call("authentify", `[{"name":"bob","password":"nope-nope"}]`); status != http.StatusOK || body != `{"result":false}` {
		t.Fatalf("wrong password: %d %s", status, body)
	}
	before := jarSessionID(t, c, srv)
	if status, body := call("authentify", `[{"name":"BOB","password":"`+bobPassword+`"}]`); status != http.StatusOK || body != `{"result":true}` {
		t.Fatalf("authentify: %d %s", status, body)
	}
	if jarSessionID(t, c, srv) == before {
		t.Fatal("authentify kept the session ID")
	}
	if status, body := call("hello", `[]`); status != http.StatusOK || body != `{"result":"hello bob"}` {
		t.Fatalf("registered function: %d %s", status, body)
	}
	for _, bad := range []string{`{"name":"bob"}`, `[1]`, `[{"password":"x"}]`} {
		if status, body := call("authentify", bad); status != http.StatusBadRequest {
			t.Errorf("authentify %s: %d %s, want 400", bad, status, body)
		}
	}
	if status, _ := call("nope", `[]`); status != http.StatusNotFound {
		t.Fatalf("unknown function: %d", status)
	}
	t.Run("Username", func(t *testing.T) {
		c := servertest.NewHTTPClient(t)
		before := jarSessionID(t, c, srv)
		status, body := send(t, c, http.MethodPost, srv.URL()+"/rest/$catalog/authentify", `[{"username":"bob","password":"`+bobPassword+`"}]`)
		if status != http.StatusOK || string(body) != `{"result":true}` {
			t.Fatalf("authentify with username: %d %s", status, body)
		}
		if jarSessionID(t, c, srv) == before {
			t.Fatal("authentify with username did not log in")
		}
		status, body = send(t, c, http.MethodPost, srv.URL()+"/rest/$catalog/authentify", `[{"name":"alice","username":"bob","password":"`+bobPassword+`"}]`)
		if status != http.StatusBadRequest {
			t.Fatalf("two different names: %d %s, want 400", status, body)
		}
	})
}

// TestAdminAccess checks controlled admin access: guests are refused the
// admin resources, a user without WebAdmin sees only its own session in
// $activity, an administrator sees everything.
func TestAdminAccess(t *testing.T) {
	srv := mustOpenWithUsers(t)
	u := srv.URL()
	guest := servertest.NewHTTPClient(t)
	bob := servertest.NewHTTPClient(t)
	alice := servertest.NewHTTPClient(t)
	login(t, bob, srv, "bob", bobPassword, "")
	login(t, alice, srv, "alice", adminPassword, "")
	t.Run("ErrGuest", func(t *testing.T) {
		for _, path := range []string{"/rest/$info", "/rest/$activity"} {
			status, body := get(t, guest, u, path)
			if status != http.StatusUnauthorized || errCodeOf(t, body) != fourd.ErrCodeAdminOnly {
				t.Errorf("guest %s: %d %s, want 401 errCode %d", path, status, body, fourd.ErrCodeAdminOnly)
			}
		}
	})
	t.Run("UserSeesOwnSession", func(t *testing.T) {
		status, body := get(t, bob, u, "/rest/$activity")
		var a fourd.Activity
		if status != http.StatusOK || json.Unmarshal(body, &a) != nil {
			t.Fatalf("%d %s", status, body)
		}
		own := jarSessionID(t, bob, srv)
		if len(a.Sessions) != 1 || a.Sessions[0].ID != own || a.Sessions[0].UserName != "bob" {
			t.Fatalf("bob sees sessions %+v, want only his own", a.Sessions)
		}
		for _, p := range a.Processes {
			if p.SessionID != own {
				t.Fatalf("bob sees process %d of session %q", p.Number, p.SessionID)
			}
		}
		status, body = get(t, bob, u, "/rest/$activity", "sessionID", jarSessionID(t, alice, srv))
		if status != http.StatusOK || string(body) != "null" {
			t.Fatalf("bob asking for alice's session: %d %s, want null", status, body)
		}
		if status, _ := get(t, bob, u, "/rest/$info"); status != http.StatusUnauthorized {
			t.Fatalf("bob's $info: %d, want 401", status)
		}
	})
	t.Run("AdminSeesAll", func(t *testing.T) {
		status, body := get(t, alice, u, "/rest/$activity", "options", "2")
		var a fourd.Activity
		if status != http.StatusOK || json.Unmarshal(body, &a) != nil || a.Session(jarSessionID(t, bob, srv)) == nil {
			t.Fatalf("alice's $activity: %d %s", status, body)
		}
		status, body = get(t, alice, u, "/rest/$info")
		var info struct {
			Privileges struct {
				Privileges []struct{ Privilege string } `json:"privileges"`
			} `json:"privileges"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &info) != nil || len(info.Privileges.Privileges) != 1 || info.Privileges.Privileges[0].Privilege != "WebAdmin" {
			t.Fatalf("alice's $info: %d %s", status, body)
		}
	})
}
