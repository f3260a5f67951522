package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
)

func TestAdminActions(t *testing.T) {
	srv, _ := mustOpenFixture(t,
		servertest.WithUser(t, "alice", adminPassword, fourd.PrivilegeWebAdmin),
		servertest.WithUser(t, "bob", bobPassword))
	u := srv.URL()
	alice := servertest.NewHTTPClient(t)
	if status, result := login(t, alice, srv, "alice", adminPassword, ""); status != http.StatusOK || result != "true" {
		t.Fatalf("alice's login: %d %s", status, result)
	}
	t.Run("Abort", func(t *testing.T) {
		p := servertest.Blocked(t, srv)
		status, body := send(t, alice, http.MethodPost, u+"/rest/$process/abort", `{"ID": `+strconv.FormatInt(p.ID(), 10)+`}`)
		if status != http.StatusOK || string(body) != `{"ok":true}` {
			t.Fatalf("abort: %d %s", status, body)
		}
		servertest.Receive(t, "the process to end", p.Ended())
		if !errors.Is(p.Cause(), fourd.ErrAborted) || p.State() != fourd.StateAborted {
			t.Fatalf("cause %v, state %v; want ErrAborted, Aborted", p.Cause(), p.State())
		}
	})
	t.Run("PauseResume", func(t *testing.T) {
		p := servertest.Blocked(t, srv)
		n := strconv.Itoa(p.Number())
		state := func() fourd.ProcessState {
			info := srv.ProcessInfo(p.Number())
			if info == nil {
				return fourd.StateDoesNotExist
			}
			return info.State
		}
		if status, body := send(t, alice, http.MethodPost, u+"/rest/$process/pause", `{"number": `+n+`}`); status != http.StatusOK {
			t.Fatalf("pause: %d %s", status, body)
		}
		servertest.Eventually(t, "state Paused", func() bool { return state() == fourd.StatePaused })
		if status, body := send(t, alice, http.MethodPost, u+"/rest/$process/resume", `{"number": `+n+`}`); status != http.StatusOK {
			t.Fatalf("resume: %d %s", status, body)
		}
		servertest.Eventually(t, "state Executing", func() bool { return state() == fourd.StateExecuting })
	})
	t.Run("DropSession", func(t *testing.T) {
		bob := servertest.NewHTTPClient(t)
		login(t, bob, srv, "bob", bobPassword, "")
		set := makeSet(t, bob, u, "Employee")
		id := jarSessionID(t, bob, srv)
		p, err := srv.Processes.Start(fourd.ProcessSpec{Name: "bob's work", Type: fourd.TypeOtherUserProcess, SessionID: id, Visible: true, Abortable: true},
			func(p *fourd.Process) error { <-p.Done(); return p.Err() })
		if err != nil {
			t.Fatal(err)
		}
		status, body := send(t, alice, http.MethodPost, u+"/rest/$session/drop", `{"sessionID": "`+id+`"}`)
		if status != http.StatusOK || string(body) != `{"ok":true}` {
			t.Fatalf("drop: %d %s", status, body)
		}
		servertest.Receive(t, "bob's process to end", p.Ended())
		if !errors.Is(p.Cause(), fourd.ErrSessionEnded) {
			t.Errorf("cause %v, want ErrSessionEnded", p.Cause())
		}
		if srv.SessionInfo(id) != nil {
			t.Error("the dropped session is still there")
		}
		if _, err := srv.EntitySets.Get(context.Background(), set, time.Now()); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Errorf("bob's entity set after the drop: %v, want not found", err)
		}
		get(t, bob, u, "/rest/$catalog")
		if next := jarSessionID(t, bob, srv); next == id || next == "" {
			t.Fatalf("bob's next request runs in session %q", next)
		}
		if info := srv.SessionInfo(jarSessionID(t, bob, srv)); info == nil || info.UserName != "" {
			t.Fatalf("bob's next session %+v, want a guest one", info)
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		for _, c := range []struct {
			path, body string
			errCode    int
		}{
			{"/rest/$process/abort", `{"ID": 987654321}`, fourd.ErrCodeUnknownProcess},
			{"/rest/$process/pause", `{"number": 99999}`, fourd.ErrCodeUnknownProcess},
			{"/rest/$process/resume", `{"number": 99999}`, fourd.ErrCodeUnknownProcess},
			{"/rest/$session/drop", `{"sessionID": "4C51204DD8184B65AC7D79F09A077F24"}`, fourd.ErrCodeUnknownSession},
		} {
			status, body := send(t, alice, http.MethodPost, u+c.path, c.body)
			if status != http.StatusNotFound || errCodeOf(t, body) != c.errCode {
				t.Errorf("%s %s: %d %s, want 404 errCode %d", c.path, c.body, status, body, c.errCode)
			}
		}
	})
	t.Run("ErrBadBody", func(t *testing.T) {
		for _, c := range []struct{ path, body string }{
			{"/rest/$process/abort", `{}`},
			{"/rest/$process/abort", `[1]`},
			{"/rest/$process/pause", `{"number": "x"}`},
			{"/rest/$session/drop", `{"sessionID": ""}`},
		} {
			status, body := send(t, alice, http.MethodPost, u+c.path, c.body)
			if status != http.StatusBadRequest || errCodeOf(t, body) != fourd.ErrCodeBadParameter {
				t.Errorf("%s %s: %d %s, want 400 errCode %d", c.path, c.body, status, body, fourd.ErrCodeBadParameter)
			}
		}
		if status, _ := get(t, alice, u, "/rest/$process/abort"); status != http.StatusMethodNotAllowed {
			t.Errorf("GET $process/abort: %d, want 405", status)
		}
	})
	t.Run("ErrPermanentProcess", func(t *testing.T) {
		for _, info := range srv.Processes.Processes("") {
			if !slices.Contains(servertest.InternalTypes, info.Type) {
				continue
			}
			status, body := send(t, alice, http.MethodPost, u+"/rest/$process/abort", `{"ID": `+strconv.FormatInt(info.ID, 10)+`}`)
			if status != http.StatusBadRequest {
				t.Errorf("abort %s: %d %s, want 400", info.Type, status, body)
			}
			status, body = send(t, alice, http.MethodPost, u+"/rest/$process/pause", `{"number": `+strconv.Itoa(info.Number)+`}`)
			if status != http.StatusBadRequest {
				t.Errorf("pause %s: %d %s, want 400", info.Type, status, body)
			}
		}
	})
	t.Run("ErrNotAdmin", func(t *testing.T) {
		p := servertest.Blocked(t, srv)
		guest := servertest.NewHTTPClient(t)
		bob := servertest.NewHTTPClient(t)
		login(t, bob, srv, "bob", bobPassword, "")
		aliceSession := jarSessionID(t, alice, srv)
		for _, c := range []struct{ path, body string }{
			{"/rest/$process/abort", `{"ID": ` + strconv.FormatInt(p.ID(), 10) + `}`},
			{"/rest/$process/pause", `{"number": ` + strconv.Itoa(p.Number()) + `}`},
			{"/rest/$process/resume", `{"number": ` + strconv.Itoa(p.Number()) + `}`},
			{"/rest/$session/drop", `{"sessionID": "` + aliceSession + `"}`},
		} {
			for name, client := range map[string]*http.Client{"guest": guest, "bob": bob} {
				status, body := send(t, client, http.MethodPost, u+c.path, c.body)
				if status != http.StatusUnauthorized || errCodeOf(t, body) != fourd.ErrCodeAdminOnly {
					t.Errorf("%s %s: %d %s, want 401 errCode %d", name, c.path, status, body, fourd.ErrCodeAdminOnly)
				}
			}
		}
		if p.State() != fourd.StateExecuting && p.State() != fourd.StateDelayed {
			t.Errorf("the process is %v after refused actions", p.State())
		}
		if srv.SessionInfo(aliceSession) == nil {
			t.Error("alice's session was dropped by a refused request")
		}
	})
}

// Without access control the admin actions are open, as $info is.
func TestAdminActions_Open(t *testing.T) {
	srv := MustOpenServer(t)
	p := servertest.Blocked(t, srv)
	c := servertest.NewHTTPClient(t)
	status, body := send(t, c, http.MethodPost, srv.URL()+"/rest/$process/abort", `{"ID": `+strconv.FormatInt(p.ID(), 10)+`}`)
	if status != http.StatusOK {
		t.Fatalf("abort: %d %s", status, body)
	}
	servertest.Receive(t, "the process to end", p.Ended())
}

func TestClient_AdminActions(t *testing.T) {
	srv := mustOpenWithUsers(t)
	ctx := context.Background()
	c := servertest.NewClient(t, srv)
	if err := c.Login(ctx, "alice", "wrong-password"); fourd.ErrorCode(err) != fourd.EUNAUTHORIZED {
		t.Fatalf("login with a wrong password: %v, want EUNAUTHORIZED", err)
	}
	p := servertest.Blocked(t, srv)
	if err := c.PauseProcess(ctx, p.Number()); fourd.ErrorCode(err) != fourd.EUNAUTHORIZED {
		t.Fatalf("pause as a guest: %v, want EUNAUTHORIZED", err)
	}
	if err := c.Login(ctx, "alice", adminPassword); err != nil {
		t.Fatal(err)
	}
	if err := c.PauseProcess(ctx, p.Number()); err != nil {
		t.Fatal(err)
	}
	servertest.Eventually(t, "state Paused", func() bool { return p.State() == fourd.StatePaused })
	if err := c.ResumeProcess(ctx, p.Number()); err != nil {
		t.Fatal(err)
	}
	servertest.Eventually(t, "state Executing", func() bool { return p.State() == fourd.StateExecuting })
	if err := c.AbortProcess(ctx, p.ID()); err != nil {
		t.Fatal(err)
	}
	servertest.Receive(t, "the process to end", p.Ended())
	if err := c.AbortProcess(ctx, p.ID()); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("abort of an ended process: %v, want ENOTFOUND", err)
	}
	other := servertest.NewClient(t, srv)
	if _, err := other.Activity(ctx, "", fourd.SessionsOnly); fourd.ErrorCode(err) != fourd.EUNAUTHORIZED {
		t.Fatalf("a guest's $activity: %v", err)
	}
	id := other.SessionID(srv.AppName)
	if err := c.DropSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	if srv.SessionInfo(id) != nil {
		t.Fatal("the session is still there")
	}
	if err := c.DropSession(ctx, id); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("dropping it again: %v, want ENOTFOUND", err)
	}
	if err := c.ReleaseEntitySet(ctx, "4C51204DD8184B65AC7D79F09A077F24"); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("release of an unknown set: %v, want ENOTFOUND", err)
	}
}

// TestReleaseOthersSets checks the admin action "release any entity set":
// with access control, a user may release only its own session's sets,
// an administrator any.
func TestReleaseOthersSets(t *testing.T) {
	srv := mustOpenWithUsers(t, servertest.WithModel(t, fixtureModel))
	u := srv.URL()
	bob, carl, alice := servertest.NewHTTPClient(t), servertest.NewHTTPClient(t), servertest.NewHTTPClient(t)
	login(t, bob, srv, "bob", bobPassword, "")
	login(t, alice, srv, "alice", adminPassword, "")
	get(t, carl, u, "/rest/$catalog")
	bobs := makeSet(t, bob, u, "Employee")
	carls := makeSet(t, carl, u, "Employee")
	for _, who := range []*http.Client{bob, carl} {
		other := carls
		if who == carl {
			other = bobs
		}
		status, body := get(t, who, u, "/rest/Employee/$entityset/"+other, "$method", "release")
		if status != http.StatusNotFound || errCodeOf(t, body) != fourd.ErrCodeEntitySetNotFound {
			t.Fatalf("releasing another session's set: %d %s, want 404 1802", status, body)
		}
	}
	if status, body := get(t, bob, u, "/rest/Employee/$entityset/"+bobs, "$method", "release"); status != http.StatusOK {
		t.Fatalf("releasing its own set: %d %s", status, body)
	}
	status, body := send(t, alice, http.MethodPost, u+"/rest/$entityset/$release", `["`+carls+`"]`)
	var out struct {
		Released []string `json:"released"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &out) != nil || len(out.Released) != 1 || out.Released[0] != carls {
		t.Fatalf("the administrator releasing another's set: %d %s", status, body)
	}
	if err := srv.ReleaseEntitySet(t.Context(), carls); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("Go API release of a released set: %v", err)
	}
}
