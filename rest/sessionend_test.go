package rest_test

import (
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
)

// TestSessionEndReleasesSets checks that every way a session ends (expiry,
// drop, logout) releases its entity sets, and that a logout ends the
// session itself.
func TestSessionEndReleasesSets(t *testing.T) {
	t.Run("Expiry", func(t *testing.T) {
		clock := servertest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
		srv, c := mustOpenFixture(t, servertest.WithClock(clock), servertest.WithQuietTicks())
		id := makeSet(t, c, srv.URL(), "Employee")
		sid := jarSessionID(t, c, srv)
		clock.Advance(fourd.DefaultIdleTimeout + time.Minute)
		if ids := srv.ExpireSessions(t.Context()); len(ids) != 1 || ids[0] != sid {
			t.Fatalf("expired %v, want [%s]", ids, sid)
		}
		if n, _, _ := srv.EntitySets.SessionSets(t.Context(), sid); n != 0 {
			t.Fatalf("the expired session still holds %d sets", n)
		}
		if err := srv.ReleaseEntitySet(t.Context(), id); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("set of an expired session: release answers %v, want not found", err)
		}
	})
	t.Run("Drop", func(t *testing.T) {
		srv, c := mustOpenFixture(t)
		makeSet(t, c, srv.URL(), "Employee")
		sid := jarSessionID(t, c, srv)
		if err := srv.DropSession(t.Context(), sid); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := srv.EntitySets.SessionSets(t.Context(), sid); n != 0 {
			t.Fatalf("the dropped session (Go API) still holds %d sets", n)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		srv := mustOpenWithUsers(t, servertest.WithModel(t, fixtureModel))
		c := servertest.NewHTTPClient(t)
		if status, result := login(t, c, srv, "bob", bobPassword, ""); status != http.StatusOK || result != "true" {
			t.Fatalf("login: %d %s", status, result)
		}
		id := makeSet(t, c, srv.URL(), "Employee")
		sid := jarSessionID(t, c, srv)
		status, body := get(t, c, srv.URL(), "/rest/$directory/logout")
		if status != http.StatusOK || string(body) != `{"result":true}` {
			t.Fatalf("logout: %d %s", status, body)
		}
		if n, _, _ := srv.EntitySets.SessionSets(t.Context(), sid); n != 0 {
			t.Fatalf("the logged-out session still holds %d sets", n)
		}
		if info := srv.SessionInfo(sid); info != nil {
			t.Fatalf("the logged-out session is still there: %+v", info)
		}
		if status, body := get(t, c, srv.URL(), "/rest/Employee/$entityset/"+id); status != http.StatusNotFound {
			t.Fatalf("the logged-out session's set: %d %s, want 404", status, body)
		}
		if next := jarSessionID(t, c, srv); next == sid || next == "" {
			t.Fatalf("after logout the client has session %q, want a new one (was %s)", next, sid)
		}
	})
}

// TestLoginKeepsSets checks that the sets a session made before its login
// follow it to its new ID: counted, released by it, ended with it.
func TestLoginKeepsSets(t *testing.T) {
	srv := mustOpenWithUsers(t, servertest.WithModel(t, fixtureModel))
	c := servertest.NewHTTPClient(t)
	id := makeSet(t, c, srv.URL(), "Employee")
	guest := jarSessionID(t, c, srv)
	if status, result := login(t, c, srv, "bob", bobPassword, ""); status != http.StatusOK || result != "true" {
		t.Fatalf("login: %d %s", status, result)
	}
	sid := jarSessionID(t, c, srv)
	if n, _, _ := srv.EntitySets.SessionSets(t.Context(), sid); n != 1 {
		t.Fatalf("the logged-in session holds %d sets, want the 1 it made as a guest", n)
	}
	if n, _, _ := srv.EntitySets.SessionSets(t.Context(), guest); n != 0 {
		t.Fatalf("the guest session's old ID still holds %d sets", n)
	}
	get(t, c, srv.URL(), "/rest/$directory/logout")
	if err := srv.ReleaseEntitySet(t.Context(), id); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("a set made before the login, after the logout: release answers %v, want not found", err)
	}
}

// TestSavedFilterRebuild checks that $savedfilter rebuilds only a set the
// session made, and within the session's quota.
func TestSavedFilterRebuild(t *testing.T) {
	srv, c := mustOpenFixture(t, withQuotas(rest.Quotas{MaxEntitySetsPerSession: 2}))
	u := srv.URL()
	t.Run("ErrIDNotMade", func(t *testing.T) {
		status, body := get(t, c, u, "/rest/Employee/$entityset/0123456789ABCDEF0123456789ABCDEF", "$savedfilter", "salary>0")
		if status != http.StatusNotFound || errCodeOf(t, body) != fourd.ErrCodeEntitySetNotFound {
			t.Fatalf("rebuild under an ID of the client's choosing: %d %s, want 404 1802", status, body)
		}
	})
	first := makeSet(t, c, u, "Employee", "$savedfilter", "salary>50000", "$filter", "salary>50000")
	t.Run("ErrAnotherSessionsID", func(t *testing.T) {
		get(t, c, u, "/rest/Employee/$entityset/"+first, "$method", "release")
		other := servertest.NewHTTPClient(t)
		status, body := get(t, other, u, "/rest/Employee/$entityset/"+first, "$savedfilter", "salary>50000")
		if status != http.StatusNotFound {
			t.Fatalf("another session rebuilding the set: %d %s, want 404", status, body)
		}
	})
	t.Run("ErrQuota", func(t *testing.T) {
		makeSet(t, c, u, "Employee")
		makeSet(t, c, u, "Employee")
		status, body := get(t, c, u, "/rest/Employee/$entityset/"+first, "$savedfilter", "salary>50000")
		if status != http.StatusTooManyRequests || errCodeOf(t, body) != fourd.ErrCodeQuota {
			t.Fatalf("rebuild beyond the quota: %d %s, want 429", status, body)
		}
	})
	t.Run("OK", func(t *testing.T) {
		c2 := servertest.NewHTTPClient(t)
		id := makeSet(t, c2, u, "Employee", "$savedfilter", "salary>50000", "$filter", "salary>50000")
		get(t, c2, u, "/rest/Employee/$entityset/"+id, "$method", "release")
		col := getCollection(t, c2, u, "/rest/Employee/$entityset/"+id, "$savedfilter", "salary>50000")
		if col.Count != 3 {
			t.Fatalf("rebuilt set of its own session: %d entities, want 3", col.Count)
		}
	})
}

// TestReleaseCostFlat checks that a non-administrator's release of many
// IDs does not walk every live set per ID: with 5,000 live sets of another
// session, releasing 200 IDs allocates far less than one copy of the set
// list per ID (about 40 MB) would.
func TestReleaseCostFlat(t *testing.T) {
	srv := mustOpenWithUsers(t, servertest.WithModel(t, fixtureModel))
	u := srv.URL()
	bob := servertest.NewHTTPClient(t)
	login(t, bob, srv, "bob", bobPassword, "")
	now := time.Now()
	for i := 0; i < 5000; i++ {
		es := &fourd.EntitySet{ID: fourd.NewID(), DataClass: "Employee", Rows: srv.EntitySets.NewRowSet([]fourd.RowID{1}, false),
			SessionID: "OTHER", Created: now, Refreshed: now, Timeout: time.Hour}
		if err := srv.EntitySets.Put(t.Context(), es); err != nil {
			t.Fatal(err)
		}
	}
	body := []byte{'['}
	for i := 0; i < 200; i++ {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, '"')
		body = append(body, fourd.NewID()...)
		body = append(body, '"')
	}
	body = append(body, ']')
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	status, out := send(t, bob, http.MethodPost, u+"/rest/$entityset/$release", string(body))
	runtime.ReadMemStats(&after)
	if status != http.StatusOK {
		t.Fatalf("release: %d %s", status, out)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("releasing 200 IDs among 5,000 live sets allocated %d bytes: the cost grows with the sets held", alloc)
	}
}
