package rest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

// lockAnswer is the body of a $lock answer or of an action refused by a lock.
type lockAnswer struct {
	Result *bool `json:"result"`
	Status struct {
		Success      *bool  `json:"success"`
		Status       int    `json:"status"`
		StatusText   string `json:"statusText"`
		LockKind     int    `json:"lockKind"`
		LockKindText string `json:"lockKindText"`
		LockInfo     *struct {
			Host      string `json:"host"`
			IPAddr    string `json:"IPAddr"`
			UserAgent string `json:"userAgent"`
		} `json:"lockInfo"`
	} `json:"__STATUS"`
	Errors []struct {
		ErrCode int `json:"errCode"`
	} `json:"__ERROR"`
}

func decodeLock(t *testing.T, body []byte) lockAnswer {
	t.Helper()
	var a lockAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return a
}

// wantLocked checks a 409 answer with 4D's "Already locked" status.
func wantLocked(t *testing.T, what string, status int, body []byte) {
	t.Helper()
	if status != http.StatusConflict {
		t.Errorf("%s: %d %s, want 409", what, status, body)
		return
	}
	a := decodeLock(t, body)
	if a.Status.Status != fourd.LockStatusLocked || a.Status.StatusText != "Already locked" || a.Status.LockKind != fourd.LockKindSession ||
		a.Status.LockKindText != "Locked by session" || a.Status.LockInfo == nil || a.Status.LockInfo.IPAddr != "127.0.0.1" ||
		len(a.Errors) == 0 || a.Errors[0].ErrCode != fourd.ErrCodeLocked {
		t.Errorf("%s: %s, want __STATUS status 3 with lockInfo and errCode %d", what, body, fourd.ErrCodeLocked)
	}
}

func lockEntity(t *testing.T, c *http.Client, u, entity, value string) (int, []byte) {
	t.Helper()
	return get(t, c, u, "/rest/"+entity, "$lock", value)
}

// lockOK sends $lock and expects success.
func lockOK(t *testing.T, what string, c *http.Client, u, entity, value string) {
	t.Helper()
	status, body := lockEntity(t, c, u, entity, value)
	if status != http.StatusOK || string(body) != `{"result":true,"__STATUS":{"success":true}}` {
		t.Errorf("%s: %d %s, want {\"result\":true,\"__STATUS\":{\"success\":true}}", what, status, body)
	}
}

// lockRefused sends $lock and expects "Already locked".
func lockRefused(t *testing.T, what string, c *http.Client, u, entity, value string) {
	t.Helper()
	status, body := lockEntity(t, c, u, entity, value)
	wantLocked(t, what, status, body)
}

// sessionLocks returns the locks $activity lists for a session.
func sessionLocks(t *testing.T, srv *server.Server, id string) []string {
	t.Helper()
	a, err := servertest.NewClient(t, srv).Activity(context.Background(), "", fourd.SessionsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range a.Sessions {
		if s.ID == id {
			for _, l := range s.Locks {
				out = append(out, l.DataClass+"("+l.Key+")")
			}
		}
	}
	return out
}

func TestLock(t *testing.T) {
	clock := servertest.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	srv, a := mustOpenFixture(t, servertest.WithClock(clock), servertest.WithQuietTicks())
	u := srv.URL()
	b := servertest.NewHTTPClient(t)
	lockOK(t, "A locks Employee(1)", a, u, "Employee(1)", "true")
	lockOK(t, "A locks it again", a, u, "Employee(1)", "true")
	aID := jarSessionID(t, a, srv)

	t.Run("OthersSeeItLocked", func(t *testing.T) {
		status, body := lockEntity(t, b, u, "Employee(1)", "true")
		wantLocked(t, "B locks it", status, body)
		if a := decodeLock(t, body); a.Result == nil || *a.Result {
			t.Errorf("B's lock answered %s, want result false", body)
		}
		lockRefused(t, "B unlocks it", b, u, "Employee(1)", "false")
		status, body = send(t, b, http.MethodPost, u+"/rest/Employee?$method=update", `{"__KEY":"1","__STAMP":1,"salary":1}`)
		wantLocked(t, "B updates it", status, body)
		status, body = send(t, b, http.MethodPost, u+"/rest/Employee(1)?$method=delete", "")
		wantLocked(t, "B deletes it", status, body)
		status, body = send(t, b, http.MethodPost, u+"/rest/Employee?$filter=salary%3E1&$method=delete", "")
		wantLocked(t, "B deletes a selection holding it", status, body)
		status, body = send(t, b, http.MethodPost, u+"/rest/Employee?$method=update&$atomic=true", `[{"__KEY":"1","__STAMP":1,"salary":1},{"__KEY":"2","__STAMP":1,"salary":2}]`)
		wantLocked(t, "B updates it atomically with another", status, body)
		// Without $atomic, the other entity is saved and the locked one carries the status.
		status, body = send(t, b, http.MethodPost, u+"/rest/Employee?$method=update", `[{"__KEY":"1","__STAMP":1,"salary":1},{"__KEY":"2","__STAMP":1,"salary":2}]`)
		var arr struct {
			Entities []json.RawMessage `json:"__ENTITIES"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &arr) != nil || len(arr.Entities) != 2 {
			t.Fatalf("B's array update: %d %s", status, body)
		}
		if first := decodeLock(t, arr.Entities[0]); first.Status.Status != fourd.LockStatusLocked || first.Status.Success == nil || *first.Status.Success {
			t.Errorf("the locked element: %s", arr.Entities[0])
		}
		if !strings.Contains(string(arr.Entities[1]), `"salary":2`) {
			t.Errorf("the other element was not saved: %s", arr.Entities[1])
		}
		if status, body := get(t, b, u, "/rest/Employee(1)"); status != http.StatusOK || !strings.Contains(string(body), `"salary":52000`) {
			t.Errorf("reading a locked entity: %d %s, want it unchanged", status, body)
		}
	})
	t.Run("HolderMayChangeIt", func(t *testing.T) {
		if status, body := send(t, a, http.MethodPost, u+"/rest/Employee?$method=update", `{"__KEY":"1","__STAMP":1,"salary":53000}`); status != http.StatusOK {
			t.Errorf("A updates its locked entity: %d %s", status, body)
		}
	})
	t.Run("Activity", func(t *testing.T) {
		if got := sessionLocks(t, srv, aID); !reflect.DeepEqual(got, []string{"Employee(1)"}) {
			t.Errorf("A's locks in $activity = %v", got)
		}
	})
	t.Run("Unlock", func(t *testing.T) {
		lockOK(t, "A unlocks", a, u, "Employee(1)", "false")
		lockOK(t, "A unlocks again", a, u, "Employee(1)", "false")
		lockOK(t, "B locks it now", b, u, "Employee(1)", "true")
		if got := sessionLocks(t, srv, aID); got != nil {
			t.Errorf("A's locks after unlock = %v", got)
		}
	})
	t.Run("ReleasedWhenTheSessionIsDropped", func(t *testing.T) {
		lockRefused(t, "A locks B's entity", a, u, "Employee(1)", "true")
		if err := srv.DropSession(context.Background(), jarSessionID(t, b, srv)); err != nil {
			t.Fatal(err)
		}
		lockOK(t, "A locks it after B's session ended", a, u, "Employee(1)", "true")
	})
	t.Run("ReleasedWhenTheSessionExpires", func(t *testing.T) {
		c := servertest.NewHTTPClient(t)
		lockOK(t, "C locks Employee(3)", c, u, "Employee(3)", "true")
		clock.Advance(srv.IdleTimeout - time.Second)
		get(t, a, u, "/rest/$catalog") // A stays alive
		clock.Advance(2 * time.Second)
		srv.ExpireSessions(context.Background())
		lockOK(t, "A locks it after C's session expired", a, u, "Employee(3)", "true")
	})
	t.Run("FollowsALogin", func(t *testing.T) {
		// A login gives the session a new ID; its locks go with it.
		srv2, d := mustOpenFixture(t, servertest.WithUser(t, "dan", "dan-secret-1"))
		e := servertest.NewHTTPClient(t)
		lockOK(t, "D locks", d, srv2.URL(), "Employee(2)", "true")
		if status, result := login(t, d, srv2, "dan", "dan-secret-1", ""); status != http.StatusOK || result != "true" {
			t.Fatalf("login: %d %s", status, result)
		}
		lockRefused(t, "E locks it", e, srv2.URL(), "Employee(2)", "true")
		lockOK(t, "D unlocks it after its login", d, srv2.URL(), "Employee(2)", "false")
	})
	t.Run("Errors", func(t *testing.T) {
		for _, tt := range []struct {
			path, value string
			status      int
		}{
			{"Employee(99)", "true", http.StatusNotFound},
			{"Employee", "true", http.StatusBadRequest},
			{"Employee(1)", "maybe", http.StatusBadRequest},
			{"Nope(1)", "true", http.StatusNotFound},
		} {
			if status, body := lockEntity(t, a, u, tt.path, tt.value); status != tt.status {
				t.Errorf("%s?$lock=%s: %d %s, want %d", tt.path, tt.value, status, body, tt.status)
			}
		}
	})
}

// TestLock_Function checks a lock a class function takes: held for its
// process, seen by other sessions, released when the process is aborted.
func TestLock_Function(t *testing.T) {
	locked := make(chan struct{})
	srv, a := mustOpenFixture(t, func(s *server.Server) {
		s.Functions.Entity("Employee", "hold", func(ctx context.Context, call *rest.Call) (any, error) {
			if err := call.Lock(ctx, call.Entity); err != nil {
				return nil, err
			}
			close(locked)
			<-ctx.Done()
			return nil, ctx.Err()
		})
	})
	u := srv.URL()
	b := servertest.NewHTTPClient(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequest(http.MethodPost, u+"/rest/Employee(4)/hold", nil)
		if resp, err := a.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	servertest.Receive(t, "the function to lock", locked)
	lockRefused(t, "B locks the entity the function holds", b, u, "Employee(4)", "true")
	locks := srv.Locks.SessionLocks(context.Background(), jarSessionID(t, a, srv))
	if len(locks) != 1 || locks[0].ProcessID == 0 {
		t.Fatalf("the function's lock: %+v", locks)
	}
	if err := srv.AbortProcessByID(locks[0].ProcessID); err != nil {
		t.Fatal(err)
	}
	servertest.Receive(t, "the call to end", done)
	lockOK(t, "B locks it after the abort", b, u, "Employee(4)", "true")
}
