package inmem_test

import (
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/storetest"
)

// TestSessionStore runs the fourd.SessionStore conformance suite.
func TestSessionStore(t *testing.T) {
	storetest.TestSessionStore(t, func(t *testing.T, now func() time.Time) fourd.SessionStore {
		st := inmem.NewSessionStore()
		st.Now = now
		return st
	})
}

// TestSessionStoreTouchExact checks what inmem promises beyond the
// contract: it writes every Touch, so LastActivity is the last request's
// time and the session expires exactly one idle lifetime after it.
func TestSessionStoreTouchExact(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clock := storetest.NewClock(t0)
	st := inmem.NewSessionStore()
	st.Now = clock.Now
	s := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	if err := st.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Second)
	if err := st.Touch(t.Context(), s.ID, at); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Session(t.Context(), s.ID); err != nil || !got.LastActivity.Equal(at) {
		t.Fatalf("lastActivity %v, %v; want %v", got.LastActivity, err, at)
	}
	clock.Set(at.Add(time.Hour))
	if _, err := st.Session(t.Context(), s.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("an hour after its last request: %v, want ENOTFOUND", err)
	}
}
