package fourd_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fourd/fourd"
)

var sessionT0 = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

// TestSessionJSONRoundTrip checks that a session with every field set
// comes back from JSON exactly: times to the nanosecond, in UTC, with no
// monotonic reading, so that reflect.DeepEqual holds and a shared store
// can keep sessions as JSON.
func TestSessionJSONRoundTrip(t *testing.T) {
	local := time.FixedZone("UTC+2", 2*3600)
	s := fourd.NewSession(fourd.SessionREST, time.Now().In(local), 90*time.Minute+7) // a wall clock reading, not UTC
	s.IPAddress, s.UserAgent = "10.1.2.3", "curl/8"
	s.MachineName, s.SystemUserName, s.HostType, s.PersistentID = "m", "u", "linux", "P"
	s.UserID, s.UserName, s.DirectoryUser = fourd.NewID(), "alice", true
	s.Privileges = []string{"sales", "WebAdmin"}
	next := s.Successor(time.Now())
	for _, v := range []fourd.Session{s, next, fourd.NewSession(fourd.SessionStoredProcedure, sessionT0, 0)} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back fourd.Session
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, v) {
			t.Errorf("JSON round trip of %s\n%#v\nwant\n%#v", b, back, v)
		}
	}
}

func TestSessionInfo(t *testing.T) {
	s := fourd.NewSession(fourd.SessionREST, sessionT0, time.Hour)
	s.IPAddress, s.UserAgent = "127.0.0.1", "curl/8"
	info := s.Info()
	want := fourd.SessionInfo{Type: "rest", IPAddress: "127.0.0.1", CreationDateTime: sessionT0, State: "active", ID: s.ID,
		LastActivity: sessionT0, Expiration: sessionT0.Add(time.Hour), UserAgent: "curl/8", UserID: fourd.GuestUserID}
	if !reflect.DeepEqual(info, want) {
		t.Fatalf("info\n%+v\nwant\n%+v", info, want)
	}
	if !fourd.ValidID(s.ID) || s.UserID != fourd.GuestUserID {
		t.Fatalf("ID %q, user ID %q", s.ID, s.UserID)
	}
	if sp := fourd.NewSession(fourd.SessionStoredProcedure, sessionT0, 0); !sp.Info().Expiration.IsZero() || sp.Expired(sessionT0.Add(1000*time.Hour)) {
		t.Fatal("a session without idle lifetime expires")
	}
}

func TestSessionPrivileges(t *testing.T) {
	s := fourd.NewSession(fourd.SessionREST, sessionT0, time.Hour)
	if !s.IsGuest() || s.HasPrivilege("WebAdmin") || !s.CountsAsGuest() {
		t.Fatal("a new session is not a guest without privileges")
	}
	s.Privileges = []string{"sales", "WebAdmin"}
	if s.IsGuest() || !s.HasPrivilege("webadmin") || !s.HasPrivilege("SALES") || s.HasPrivilege("hr") || s.CountsAsGuest() {
		t.Fatalf("privileges %v", s.Privileges)
	}
	s.Privileges = nil
	s.UserName = "bob"
	if !s.IsGuest() || s.CountsAsGuest() {
		t.Fatal("a session with a user name counts as a guest for the quotas")
	}
	if sp := fourd.NewSession(fourd.SessionStoredProcedure, sessionT0, 0); sp.CountsAsGuest() {
		t.Fatal("the stored-procedure session counts as a guest")
	}
}

func TestSessionCloneSharesNothing(t *testing.T) {
	s := fourd.NewSession(fourd.SessionREST, sessionT0, time.Hour)
	s.Privileges = []string{"sales"}
	c := s.Clone()
	c.Privileges[0] = "x"
	if s.Privileges[0] != "sales" {
		t.Fatal("Clone shares the privileges")
	}
	if e := (fourd.Session{Privileges: []string{}}).Clone(); e.Privileges != nil {
		t.Fatal("Clone keeps an empty, non-nil list: JSON would not give it back")
	}
}

// TestSessionSuccessor checks what a login's successor keeps (the store's
// side of Replace is in the storetest suite).
func TestSessionSuccessor(t *testing.T) {
	a := fourd.NewSession(fourd.SessionREST, sessionT0, 2*time.Hour)
	a.IPAddress = "10.0.0.1"
	a.UserID, a.UserName, a.DirectoryUser = "U1", "alice", true
	a.Privileges = []string{"sales"}
	later := sessionT0.Add(time.Minute)
	next := a.Successor(later)
	if next.ID == a.ID || !fourd.ValidID(next.ID) {
		t.Fatalf("successor ID %s", next.ID)
	}
	want := a
	want.ID, want.Created, want.LastActivity = next.ID, later, later
	if !reflect.DeepEqual(next, want) {
		t.Fatalf("successor\n%+v\nwant\n%+v", next, want)
	}
	next.Privileges[0] = "x"
	if a.Privileges[0] != "sales" {
		t.Fatal("the successor shares the privileges")
	}
}

// TestSessionTouchInterval checks the laziness bound and what a lazy store
// decides with it, on an injected clock: a Touch is due once TouchInterval
// has passed since the stored LastActivity, and a session whose Touches were
// skipped for less than that is still alive a whole idle lifetime after
// the last request.
func TestSessionTouchInterval(t *testing.T) {
	for _, c := range []struct{ idle, want time.Duration }{
		{time.Minute, 6 * time.Second},
		{5 * time.Minute, 30 * time.Second},
		{10 * time.Minute, time.Minute},
		{time.Hour, time.Minute},
		{24 * time.Hour, time.Minute},
		{0, time.Minute},
	} {
		if got := fourd.TouchInterval(c.idle); got != c.want {
			t.Errorf("TouchInterval(%v) = %v, want %v", c.idle, got, c.want)
		}
	}

	// A lazy store: it writes lastActivity only when TouchDue.
	stored := fourd.NewSession(fourd.SessionREST, sessionT0, time.Hour)
	bound := fourd.TouchInterval(time.Hour)
	var requests []time.Time
	for at := sessionT0; at.Before(sessionT0.Add(10 * time.Minute)); at = at.Add(13 * time.Second) {
		requests = append(requests, at)
		if stored.TouchDue(at) {
			stored.LastActivity = at
		}
		if stale := at.Sub(stored.LastActivity); stale >= bound {
			t.Fatalf("request at %v: stored lastActivity %v is %v old, want less than %v", at, stored.LastActivity, stale, bound)
		}
	}
	last := requests[len(requests)-1]
	if stored.LastActivity.Equal(last) {
		t.Fatal("the test wants a last request that was not written")
	}
	if !stored.Expired(last.Add(time.Hour - time.Nanosecond)) {
		t.Fatal("the test wants a session that Expired would end early")
	}
	if stored.ExpiredLazily(last.Add(time.Hour - time.Nanosecond)) {
		t.Fatal("ExpiredLazily ends the session before a whole idle lifetime after its last request")
	}
	if !stored.ExpiredLazily(last.Add(time.Hour + bound)) {
		t.Fatal("ExpiredLazily keeps the session TouchInterval or more past its idle lifetime")
	}
	if got := slices.Index(requests, stored.LastActivity); got < 0 {
		t.Fatalf("stored lastActivity %v is not a request's time", stored.LastActivity)
	}
}
