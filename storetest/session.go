package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fourd/fourd"
)

// OpenSessionStore opens an empty fourd.SessionStore whose clock is now,
// and arranges for it to be closed when t ends.
type OpenSessionStore = func(t *testing.T, now func() time.Time) fourd.SessionStore

// TestSessionStore checks the fourd.SessionStore contract: create, read and
// delete with their errors; a stored session read back exactly, through
// JSON too; Update (applied, an error from fn changes nothing, unknown and
// expired IDs, concurrent Updates lose nothing); the sliding expiry and
// how stale a lazily written Touch may leave LastActivity (never an early
// expiry); a login's Replace (the old ID stops answering, the successor
// keeps the user, privileges and client, atomically with concurrent
// Updates and reads); the counters the session quotas read, through
// Update too; and the snapshot's order. Sessions are read back through the
// store, never through the value the test created, so that a store holding
// copies on another server passes as well as one holding them in memory.
// Run it with -race.
func TestSessionStore(t *testing.T, open OpenSessionStore) {
	t.Run("CreateGetDelete", func(t *testing.T) { testSessionCreateGetDelete(t, open) })
	t.Run("StoredExactly", func(t *testing.T) { testSessionStoredExactly(t, open) })
	t.Run("ExpirySlidesWithTouch", func(t *testing.T) { testSessionExpiry(t, open) })
	t.Run("TouchStalenessBounded", func(t *testing.T) { testSessionTouchStaleness(t, open) })
	t.Run("Update", func(t *testing.T) { testSessionUpdate(t, open) })
	t.Run("ConcurrentUpdatesLoseNothing", func(t *testing.T) { testSessionConcurrentUpdates(t, open) })
	t.Run("Replace", func(t *testing.T) { testSessionReplace(t, open) })
	t.Run("ReplaceAtomic", func(t *testing.T) { testSessionReplaceAtomic(t, open) })
	t.Run("Count", func(t *testing.T) { testSessionCount(t, open) })
	t.Run("CountFollowsUpdate", func(t *testing.T) { testSessionCountFollowsUpdate(t, open) })
}

func mustCreateSessions(t *testing.T, st fourd.SessionStore, ss ...fourd.Session) {
	t.Helper()
	for _, s := range ss {
		if err := st.Create(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

func mustSession(t *testing.T, st fourd.SessionStore, id string) fourd.Session {
	t.Helper()
	s, err := st.Session(context.Background(), id)
	if err != nil {
		t.Fatalf("session %s: %v", id, err)
	}
	return s
}

func sessionIDs(infos []fourd.SessionInfo) []string {
	var out []string
	for _, i := range infos {
		out = append(out, i.ID)
	}
	return out
}

// addPrivilege is an Update function that adds p.
func addPrivilege(p string) func(fourd.Session) (fourd.Session, error) {
	return func(s fourd.Session) (fourd.Session, error) {
		s.Privileges = append(s.Privileges, p)
		return s, nil
	}
}

// fullSession returns a session with every field set, times with
// nanoseconds.
func fullSession() fourd.Session {
	s := fourd.NewSession(fourd.SessionREST, t0, 90*time.Minute+7*time.Nanosecond)
	s.IPAddress, s.UserAgent = "10.1.2.3", "curl/8"
	s.MachineName, s.SystemUserName, s.HostType, s.PersistentID = "m", "u", "linux", "P"
	s.UserID, s.UserName, s.DirectoryUser = fourd.NewID(), "alice", true
	s.Privileges = []string{"sales", "WebAdmin"}
	s.LastActivity = t0.Add(3*time.Second + 1)
	return s
}

func testSessionCreateGetDelete(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	clock := NewClock(t0)
	st := open(t, clock.Now)
	s := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	s.IPAddress, s.UserAgent = "127.0.0.1", "curl/8"
	mustCreateSessions(t, st, s)
	if err := st.Create(ctx, s); fourd.ErrorCode(err) != fourd.EINVALID {
		t.Fatalf("duplicate create: %v, want EINVALID", err)
	}
	if got := mustSession(t, st, s.ID); !reflect.DeepEqual(got.Info(), s.Info()) {
		t.Fatalf("stored session\n%+v\nwant\n%+v", got.Info(), s.Info())
	}
	if err := st.Delete(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session(ctx, s.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("after delete: %v, want ENOTFOUND", err)
	}
	if err := st.Delete(ctx, s.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("second delete: %v, want ENOTFOUND", err)
	}
	if _, err := st.Session(ctx, fourd.NewID()); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("unknown ID: %v, want ENOTFOUND", err)
	}
	if err := st.Touch(ctx, fourd.NewID(), t0); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("Touch of an unknown ID: %v, want ENOTFOUND", err)
	}
}

// testSessionStoredExactly checks that a session is read back as it was
// stored, every field, times to the nanosecond; that it survives a JSON
// round trip unchanged (a shared store sends it as JSON); and that a copy
// handed out shares nothing with the stored session.
func testSessionStoredExactly(t *testing.T, open OpenSessionStore) {
	st := open(t, NewClock(t0).Now)
	s := fullSession()
	mustCreateSessions(t, st, s)
	s.Privileges[0] = "changed after Create" // the store kept its own copy
	want := fullSession()
	want.ID, want.UserID = s.ID, s.UserID
	got := mustSession(t, st, s.ID)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var back fourd.Session
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("JSON round trip of %s\n%+v\nwant\n%+v", b, back, want)
	}
	got.Privileges[0] = "changed in a copy"
	if again := mustSession(t, st, s.ID); !reflect.DeepEqual(again, want) {
		t.Fatalf("changing a copy changed the stored session: %+v", again)
	}
}

func testSessionExpiry(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	clock := NewClock(t0)
	st := open(t, clock.Now)
	idle := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	busy := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	forever := fourd.NewSession(fourd.SessionStoredProcedure, t0, 0)
	mustCreateSessions(t, st, forever, idle, busy)

	clock.Set(t0.Add(30 * time.Minute))
	if err := st.Touch(ctx, busy.ID, clock.Now()); err != nil {
		t.Fatal(err)
	}
	// A lazy store has written this Touch: 30 minutes is more than
	// TouchInterval. LastActivity is the Touch's time, to the nanosecond.
	b := mustSession(t, st, busy.ID)
	if want := clock.Now().Add(time.Hour); !b.Expiration().Equal(want) || !b.LastActivity.Equal(clock.Now()) {
		t.Fatalf("after Touch: lastActivity %v, expiration %v; want %v, %v", b.LastActivity, b.Expiration(), clock.Now(), want)
	}

	// idle has now been idle for its whole lifetime and TouchInterval more
	// (the most a lazy store may keep it).
	clock.Set(t0.Add(time.Hour + fourd.TouchInterval(time.Hour)))
	if _, err := st.Session(ctx, idle.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("expired session still served before the sweep: %v", err)
	}
	if _, err := st.Update(ctx, idle.ID, addPrivilege("x")); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("Update of an expired session: %v, want ENOTFOUND", err)
	}
	if err := st.Touch(ctx, idle.ID, clock.Now()); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("Touch of an expired session: %v, want ENOTFOUND (a request cannot revive it)", err)
	}
	infos, err := st.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := sessionIDs(infos); !reflect.DeepEqual(got, []string{forever.ID, busy.ID}) {
		t.Fatalf("Sessions before the sweep = %v, want %v (oldest first, expired left out)", got, []string{forever.ID, busy.ID})
	}
	expired, err := st.Expire(ctx, clock.Now())
	if err != nil || !reflect.DeepEqual(expired, []string{idle.ID}) {
		t.Fatalf("Expire = %v, %v; want [%s]", expired, err, idle.ID)
	}
	if n, err := st.Count(ctx, ""); err != nil || n.Total != 2 {
		t.Fatalf("Count after Expire = %+v, %v; want 2 sessions", n, err)
	}
	clock.Set(t0.Add(100 * 24 * time.Hour))
	expired, _ = st.Expire(ctx, clock.Now())
	if !reflect.DeepEqual(expired, []string{busy.ID}) {
		t.Fatalf("Expire = %v; want only [%s]: the stored-procedure session never expires", expired, busy.ID)
	}
	if _, err := st.Session(ctx, forever.ID); err != nil {
		t.Fatalf("the stored-procedure session: %v", err)
	}
}

// testSessionTouchStaleness touches a session at short intervals, as a
// busy client's requests do, and checks the contract's bounds after each:
// the LastActivity read back is behind the last Touch by less than
// TouchInterval and never goes back; the session is served and kept by
// Expire until a whole idle lifetime after the last Touch (never earlier,
// whatever a lazy store skipped), and is gone TouchInterval after that at
// the latest.
func testSessionTouchStaleness(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	clock := NewClock(t0)
	st := open(t, clock.Now)
	const lifetime = 10 * time.Minute
	bound := fourd.TouchInterval(lifetime)
	s := fourd.NewSession(fourd.SessionREST, t0, lifetime)
	mustCreateSessions(t, st, s)

	var last, prev time.Time
	for step := time.Duration(0); step <= 5*time.Minute; step += 7*time.Second + 3*time.Millisecond {
		last = t0.Add(step)
		clock.Set(last)
		if err := st.Touch(ctx, s.ID, last); err != nil {
			t.Fatalf("Touch at +%v: %v", step, err)
		}
		got := mustSession(t, st, s.ID)
		if stale := last.Sub(got.LastActivity); stale < 0 || stale >= bound {
			t.Fatalf("after Touch at +%v: lastActivity %v is %v behind, want less than TouchInterval %v", step, got.LastActivity, stale, bound)
		}
		if got.LastActivity.Before(prev) {
			t.Fatalf("after Touch at +%v: lastActivity went back from %v to %v", step, prev, got.LastActivity)
		}
		if !got.Expiration().Equal(got.LastActivity.Add(lifetime)) {
			t.Fatalf("expiration %v, want lastActivity + %v", got.Expiration(), lifetime)
		}
		prev = got.LastActivity
	}
	if err := st.Touch(ctx, s.ID, t0); err != nil {
		t.Fatal(err)
	}
	if got := mustSession(t, st, s.ID); got.LastActivity.Before(prev) {
		t.Fatalf("a Touch at an earlier time moved lastActivity back to %v", got.LastActivity)
	}

	justBefore := last.Add(lifetime - time.Nanosecond)
	clock.Set(justBefore)
	if _, err := st.Session(ctx, s.ID); err != nil {
		t.Fatalf("%v after the last Touch: %v; the session must live its whole idle lifetime", lifetime-time.Nanosecond, err)
	}
	if ids, err := st.Expire(ctx, justBefore); err != nil || len(ids) != 0 {
		t.Fatalf("Expire %v after the last Touch = %v, %v; want nothing expired", lifetime-time.Nanosecond, ids, err)
	}
	latest := last.Add(lifetime + bound)
	clock.Set(latest)
	if _, err := st.Session(ctx, s.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("lifetime + TouchInterval after the last Touch: %v, want ENOTFOUND", err)
	}
	if ids, err := st.Expire(ctx, latest); err != nil || !reflect.DeepEqual(ids, []string{s.ID}) {
		t.Fatalf("Expire at lifetime + TouchInterval = %v, %v; want [%s]", ids, err, s.ID)
	}
}

func testSessionUpdate(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	clock := NewClock(t0)
	st := open(t, clock.Now)
	s := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	s.IPAddress = "10.0.0.1"
	mustCreateSessions(t, st, s)

	t.Run("OK", func(t *testing.T) {
		got, err := st.Update(ctx, s.ID, func(cur fourd.Session) (fourd.Session, error) {
			if cur.ID != s.ID || cur.IPAddress != "10.0.0.1" {
				return cur, fmt.Errorf("fn got %+v", cur)
			}
			cur.UserID, cur.UserName = "U1", "alice"
			cur.Privileges = []string{"sales"}
			cur.IdleTimeout = 2 * time.Hour
			return cur, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		stored := mustSession(t, st, s.ID)
		if !reflect.DeepEqual(got, stored) {
			t.Fatalf("Update returned\n%+v\nthe store holds\n%+v", got, stored)
		}
		if stored.UserName != "alice" || stored.UserID != "U1" || !slices.Equal(stored.Privileges, []string{"sales"}) ||
			stored.IdleTimeout != 2*time.Hour || !stored.Expiration().Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("update not applied: %+v", stored)
		}
	})
	t.Run("ErrFromFnChangesNothing", func(t *testing.T) {
		before := mustSession(t, st, s.ID)
		errNo := errors.New("refused")
		_, err := st.Update(ctx, s.ID, func(cur fourd.Session) (fourd.Session, error) {
			cur.Privileges = append(cur.Privileges, "WebAdmin")
			cur.UserName = "mallory"
			return cur, errNo
		})
		if !errors.Is(err, errNo) {
			t.Fatalf("Update = %v, want fn's error", err)
		}
		if after := mustSession(t, st, s.ID); !reflect.DeepEqual(after, before) {
			t.Fatalf("a failed update changed the session\n%+v\nwas\n%+v", after, before)
		}
	})
	t.Run("ErrChangedID", func(t *testing.T) {
		before := mustSession(t, st, s.ID)
		_, err := st.Update(ctx, s.ID, func(cur fourd.Session) (fourd.Session, error) {
			cur.ID = fourd.NewID()
			return cur, nil
		})
		if fourd.ErrorCode(err) != fourd.EINVALID {
			t.Fatalf("Update changing the ID = %v, want EINVALID", err)
		}
		if after := mustSession(t, st, s.ID); !reflect.DeepEqual(after, before) {
			t.Fatalf("a refused update changed the session: %+v", after)
		}
	})
	t.Run("ErrUnknownSession", func(t *testing.T) {
		called := false
		_, err := st.Update(ctx, fourd.NewID(), func(cur fourd.Session) (fourd.Session, error) {
			called = true
			return cur, nil
		})
		if fourd.ErrorCode(err) != fourd.ENOTFOUND || called {
			t.Fatalf("Update of an unknown ID = %v (fn called: %v), want ENOTFOUND without calling fn", err, called)
		}
	})
	t.Run("ErrDeletedSession", func(t *testing.T) {
		d := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
		mustCreateSessions(t, st, d)
		if err := st.Delete(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Update(ctx, d.ID, addPrivilege("x")); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("Update of a deleted session = %v, want ENOTFOUND", err)
		}
		if _, err := st.Session(ctx, d.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("Update brought a deleted session back: %v", err)
		}
	})
}

// testSessionConcurrentUpdates runs Updates of one session from many
// goroutines, each adding its own privilege: every one must be there at
// the end (a store that writes back a stale read loses some).
func testSessionConcurrentUpdates(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	st := open(t, NewClock(t0).Now)
	s := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	mustCreateSessions(t, st, s)
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			if _, err := st.Update(ctx, s.ID, addPrivilege(fmt.Sprintf("p%02d", i))); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := mustSession(t, st, s.ID).Privileges
	slices.Sort(got)
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("p%02d", i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after %d concurrent updates: privileges %v, want %v", n, got, want)
	}
}

func testSessionReplace(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	clock := NewClock(t0)
	st := open(t, clock.Now)
	a := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	a.IPAddress = "10.0.0.1"
	b := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	mustCreateSessions(t, st, a, b)
	if _, err := st.Update(ctx, a.ID, addPrivilege("before the login")); err != nil {
		t.Fatal(err)
	}
	next, err := st.Replace(ctx, a.ID, func(cur fourd.Session) (fourd.Session, error) {
		n := cur.Successor(t0.Add(time.Minute))
		n.UserID, n.UserName = "U1", "alice"
		n.Privileges = append(n.Privileges, "sales")
		return n, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next.ID == a.ID || !fourd.ValidID(next.ID) {
		t.Fatalf("successor ID %s", next.ID)
	}
	if _, err := st.Session(ctx, a.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("the old ID still answers: %v", err)
	}
	got := mustSession(t, st, next.ID)
	if !reflect.DeepEqual(got, next) {
		t.Fatalf("Replace returned\n%+v\nthe store holds\n%+v", next, got)
	}
	if got.UserName != "alice" || got.UserID != "U1" || !slices.Equal(got.Privileges, []string{"before the login", "sales"}) ||
		got.IPAddress != "10.0.0.1" || !got.LastActivity.Equal(t0.Add(time.Minute)) {
		t.Fatalf("stored successor lost the session's data: %+v", got)
	}
	infos, _ := st.Sessions(ctx)
	if got := sessionIDs(infos); !reflect.DeepEqual(got, []string{next.ID, b.ID}) {
		t.Fatalf("order after replace: %v, want %v (the successor takes the old one's place)", got, []string{next.ID, b.ID})
	}

	t.Run("ErrUnknownSession", func(t *testing.T) {
		_, err := st.Replace(ctx, a.ID, func(cur fourd.Session) (fourd.Session, error) { return cur.Successor(t0), nil })
		if fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("replace of a gone session: %v, want ENOTFOUND", err)
		}
	})
	refused := func(t *testing.T, what string, fn func(fourd.Session) (fourd.Session, error), check func(error) bool) {
		t.Helper()
		before, _ := st.Sessions(ctx)
		if _, err := st.Replace(ctx, next.ID, fn); !check(err) {
			t.Fatalf("Replace %s = %v", what, err)
		}
		if after, _ := st.Sessions(ctx); !reflect.DeepEqual(after, before) {
			t.Fatalf("a refused Replace (%s) changed the sessions\n%+v\nwere\n%+v", what, after, before)
		}
	}
	isInvalid := func(err error) bool { return fourd.ErrorCode(err) == fourd.EINVALID }
	t.Run("ErrSameID", func(t *testing.T) {
		refused(t, "keeping the ID", func(cur fourd.Session) (fourd.Session, error) { return cur, nil }, isInvalid)
	})
	t.Run("ErrTakenID", func(t *testing.T) {
		refused(t, "to another session's ID", func(cur fourd.Session) (fourd.Session, error) { cur.ID = b.ID; return cur, nil }, isInvalid)
	})
	t.Run("ErrFromFnChangesNothing", func(t *testing.T) {
		errNo := errors.New("refused")
		refused(t, "failing", func(cur fourd.Session) (fourd.Session, error) { return cur.Successor(t0), errNo },
			func(err error) bool { return errors.Is(err, errNo) })
	})
}

// testSessionReplaceAtomic runs a Replace while other goroutines update
// the old session and read both IDs: an Update either lands before the
// Replace (the successor has it) or fails with ENOTFOUND (nothing has it),
// and no read sees neither session.
func testSessionReplaceAtomic(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	st := open(t, NewClock(t0).Now)
	a := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	mustCreateSessions(t, st, a)
	successorID := fourd.NewID()

	const updaters = 16
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		applied   []string
		problems  []string
		start     = make(chan struct{})
		replaced  = make(chan struct{})
		readsDone = make(chan struct{})
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for i := range updaters {
		wg.Go(func() {
			<-start
			p := fmt.Sprintf("p%02d", i)
			_, err := st.Update(ctx, a.ID, addPrivilege(p))
			switch {
			case err == nil:
				mu.Lock()
				applied = append(applied, p)
				mu.Unlock()
			case fourd.ErrorCode(err) != fourd.ENOTFOUND:
				fail("Update during Replace: %v", err)
			}
		})
	}
	wg.Go(func() {
		defer close(readsDone)
		<-start
		for {
			_, errOld := st.Session(ctx, a.ID)
			_, errNew := st.Session(ctx, successorID)
			if errOld != nil && errNew != nil {
				fail("a read saw neither the session nor its successor: %v; %v", errOld, errNew)
				return
			}
			select {
			case <-replaced:
				return
			default:
			}
		}
	})
	close(start)
	_, err := st.Replace(ctx, a.ID, func(cur fourd.Session) (fourd.Session, error) {
		n := cur.Successor(t0)
		n.ID = successorID
		return n, nil
	})
	close(replaced)
	wg.Wait()
	<-readsDone
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	got := mustSession(t, st, successorID).Privileges
	slices.Sort(got)
	slices.Sort(applied)
	if !slices.Equal(got, applied) {
		t.Fatalf("successor's privileges %v, want exactly those of the updates that succeeded %v", got, applied)
	}
}

func testSessionCount(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	clock := NewClock(t0)
	st := open(t, clock.Now)
	want := wantCount(t, st)
	sp := fourd.NewSession(fourd.SessionStoredProcedure, t0, 0)
	a1 := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	a1.IPAddress = "10.0.0.1"
	a2 := fourd.NewSession(fourd.SessionREST, t0, 2*time.Hour)
	a2.IPAddress = "10.0.0.1"
	b := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	b.IPAddress = "10.0.0.2"
	mustCreateSessions(t, st, sp, a1, a2, b)
	want("Create", "10.0.0.1", fourd.SessionCount{Total: 4, Guests: 3, GuestsFromAddress: 2})
	_, err := st.Replace(ctx, a1.ID, func(cur fourd.Session) (fourd.Session, error) {
		n := cur.Successor(t0)
		n.UserID, n.UserName = "U1", "alice"
		return n, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want("a login (Replace)", "10.0.0.1", fourd.SessionCount{Total: 4, Guests: 2, GuestsFromAddress: 1})
	if err := st.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	want("Delete", "10.0.0.2", fourd.SessionCount{Total: 3, Guests: 1, GuestsFromAddress: 0})
	clock.Set(t0.Add(90 * time.Minute)) // a2 (2 h) stays; the logged-in one (1 h) expires
	if _, err := st.Expire(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	want("Expire", "10.0.0.1", fourd.SessionCount{Total: 2, Guests: 1, GuestsFromAddress: 1})
}

// testSessionCountFollowsUpdate checks that a session counts as what it is
// now: an Update that gives a guest a privilege or a user takes it out of
// the guests, one that clears them puts it back.
func testSessionCountFollowsUpdate(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	st := open(t, NewClock(t0).Now)
	want := wantCount(t, st)
	g := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	g.IPAddress = "10.0.0.1"
	h := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	h.IPAddress = "10.0.0.1"
	mustCreateSessions(t, st, g, h)
	want("Create", "10.0.0.1", fourd.SessionCount{Total: 2, Guests: 2, GuestsFromAddress: 2})
	update := func(step string, fn func(fourd.Session) (fourd.Session, error), w fourd.SessionCount) {
		t.Helper()
		if _, err := st.Update(ctx, g.ID, fn); err != nil {
			t.Fatal(err)
		}
		want(step, "10.0.0.1", w)
	}
	update("a privilege given", addPrivilege("sales"), fourd.SessionCount{Total: 2, Guests: 1, GuestsFromAddress: 1})
	update("another privilege", addPrivilege("hr"), fourd.SessionCount{Total: 2, Guests: 1, GuestsFromAddress: 1})
	update("privileges cleared", func(s fourd.Session) (fourd.Session, error) { s.Privileges = nil; return s, nil },
		fourd.SessionCount{Total: 2, Guests: 2, GuestsFromAddress: 2})
	update("a user name given", func(s fourd.Session) (fourd.Session, error) { s.UserName = "bob"; return s, nil },
		fourd.SessionCount{Total: 2, Guests: 1, GuestsFromAddress: 1})
	update("an address change", func(s fourd.Session) (fourd.Session, error) { s.UserName, s.IPAddress = "", "10.0.0.9"; return s, nil },
		fourd.SessionCount{Total: 2, Guests: 2, GuestsFromAddress: 1})
	want("an address change", "10.0.0.9", fourd.SessionCount{Total: 2, Guests: 2, GuestsFromAddress: 1})
	if _, err := st.Update(ctx, g.ID, func(s fourd.Session) (fourd.Session, error) { s.Privileges = []string{"x"}; return s, errors.New("no") }); err == nil {
		t.Fatal("fn's error not returned")
	}
	want("a failed update", "10.0.0.9", fourd.SessionCount{Total: 2, Guests: 2, GuestsFromAddress: 1})
	if err := st.Delete(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	want("Delete", "10.0.0.9", fourd.SessionCount{Total: 1, Guests: 1, GuestsFromAddress: 0})
}

func wantCount(t *testing.T, st fourd.SessionStore) func(step, addr string, w fourd.SessionCount) {
	return func(step, addr string, w fourd.SessionCount) {
		t.Helper()
		got, err := st.Count(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Fatalf("after %s: Count(%q) = %+v, want %+v", step, addr, got, w)
		}
	}
}
