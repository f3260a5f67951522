package inmem

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fourd/fourd"
)

var _ fourd.SessionStore = (*SessionStore)(nil)

// SessionStore keeps sessions in memory, in creation order. It holds
// values (clones of what it is given) and hands out clones: a caller's
// copy never aliases the stored session.
//
// It writes every Touch: the write is one atomic store beside the session,
// under the read lock, so a request costs no exclusive lock and
// LastActivity and Expiration are never stale. Expiry is therefore exact
// (Session.Expired), with no TouchInterval of slack.
type SessionStore struct {
	// Now is the clock used to hide sessions that have expired but not yet
	// been swept by Expire; time.Now by default.
	Now func() time.Time

	mu    sync.RWMutex
	byID  map[string]*list.Element // of *stored
	order list.List                // oldest first
	// Counters for Count, kept as sessions come, change and go.
	guests          int
	guestsByAddress map[string]int
}

// stored is one session: its value, whose LastActivity is kept apart in
// last so that Touch needs only the read lock, and what it counts as.
type stored struct {
	s     fourd.Session
	last  atomic.Int64 // s's LastActivity, Unix nanoseconds
	guest bool
}

// session returns a clone of the stored session with its LastActivity.
func (v *stored) session() fourd.Session {
	s := v.s // Privileges is replaced by a copy below: nothing is shared
	if len(s.Privileges) > 0 {
		s.Privileges = append([]string(nil), s.Privileges...)
	}
	s.LastActivity = time.Unix(0, v.last.Load()).UTC()
	return s
}

func (v *stored) expired(now time.Time) bool {
	if v.s.IdleTimeout <= 0 {
		return false
	}
	return !now.Before(time.Unix(0, v.last.Load()).Add(v.s.IdleTimeout))
}

// set stores s in v and counts it; st.mu is held for writing and v is not
// counted (new, or dropped).
func (st *SessionStore) set(v *stored, s fourd.Session) {
	v.s = s.Clone()
	v.s.LastActivity = v.s.LastActivity.UTC()
	v.last.Store(v.s.LastActivity.UnixNano())
	v.guest = v.s.CountsAsGuest()
	if v.guest {
		st.guests++
		st.guestsByAddress[v.s.IPAddress]++
	}
}

// drop uncounts v; st.mu is held for writing.
func (st *SessionStore) drop(v *stored) {
	if v.guest {
		st.guests--
		if n := st.guestsByAddress[v.s.IPAddress] - 1; n > 0 {
			st.guestsByAddress[v.s.IPAddress] = n
		} else {
			delete(st.guestsByAddress, v.s.IPAddress)
		}
		v.guest = false
	}
}

// NewSessionStore returns an empty store.
func NewSessionStore() *SessionStore {
	return &SessionStore{Now: time.Now, byID: make(map[string]*list.Element), guestsByAddress: make(map[string]int)}
}

func errUnknownSession(id string) error {
	return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownSession, "no session with ID %q", id)
}

func errSessionExists(id string) error {
	return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "session %s exists already", id)
}

// Create implements fourd.SessionStore.
func (st *SessionStore) Create(_ context.Context, s fourd.Session) error {
	if !fourd.ValidID(s.ID) {
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "session ID %q: want 32 hexadecimal characters", s.ID)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.byID[s.ID]; ok {
		return errSessionExists(s.ID)
	}
	v := &stored{}
	st.set(v, s)
	st.byID[s.ID] = st.order.PushBack(v)
	return nil
}

// live returns the stored session with that ID unless it is unknown or
// expired at now; st.mu is held.
func (st *SessionStore) live(id string, now time.Time) (*list.Element, error) {
	e, ok := st.byID[id]
	if !ok || e.Value.(*stored).expired(now) {
		return nil, errUnknownSession(id)
	}
	return e, nil
}

// Session implements fourd.SessionStore.
func (st *SessionStore) Session(_ context.Context, id string) (fourd.Session, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	e, err := st.live(id, st.Now())
	if err != nil {
		return fourd.Session{}, err
	}
	return e.Value.(*stored).session(), nil
}

// Update implements fourd.SessionStore. fn runs once, under the store's
// lock: it must not call the store.
func (st *SessionStore) Update(_ context.Context, id string, fn func(fourd.Session) (fourd.Session, error)) (fourd.Session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	e, err := st.live(id, st.Now())
	if err != nil {
		return fourd.Session{}, err
	}
	v := e.Value.(*stored)
	next, err := fn(v.session())
	if err != nil {
		return fourd.Session{}, err
	}
	if next.ID != id {
		return fourd.Session{}, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "an update cannot change session %s's ID (a login replaces the session)", id)
	}
	st.drop(v)
	st.set(v, next)
	return v.session(), nil
}

// Touch implements fourd.SessionStore: it writes every call, under the
// read lock (LastActivity only moves forward, by compare-and-swap). A
// session expired at now is not touched: the request's time decides, so
// the store's clock is not read again.
func (st *SessionStore) Touch(_ context.Context, id string, now time.Time) error {
	st.mu.RLock()
	defer st.mu.RUnlock()
	e, err := st.live(id, now)
	if err != nil {
		return err
	}
	v, n := e.Value.(*stored), now.UnixNano()
	for {
		old := v.last.Load()
		if n <= old || v.last.CompareAndSwap(old, n) {
			return nil
		}
	}
}

// Delete implements fourd.SessionStore.
func (st *SessionStore) Delete(_ context.Context, id string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.byID[id]
	if !ok {
		return errUnknownSession(id)
	}
	st.drop(e.Value.(*stored))
	st.order.Remove(e)
	delete(st.byID, id)
	return nil
}

// Replace implements fourd.SessionStore. fn runs once, under the store's
// lock: it must not call the store. The successor takes the old session's
// place in the creation order.
func (st *SessionStore) Replace(_ context.Context, id string, fn func(fourd.Session) (fourd.Session, error)) (fourd.Session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	e, err := st.live(id, st.Now())
	if err != nil {
		return fourd.Session{}, err
	}
	v := e.Value.(*stored)
	next, err := fn(v.session())
	if err != nil {
		return fourd.Session{}, err
	}
	switch _, taken := st.byID[next.ID]; {
	case !fourd.ValidID(next.ID):
		return fourd.Session{}, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "successor of session %s: ID %q is not an ID", id, next.ID)
	case taken:
		return fourd.Session{}, errSessionExists(next.ID)
	}
	delete(st.byID, id)
	st.drop(v)
	succ := &stored{}
	st.set(succ, next)
	e.Value = succ
	st.byID[next.ID] = e
	return succ.session(), nil
}

// Sessions implements fourd.SessionStore. Each info is copied under the
// read lock; nothing else is done under it.
func (st *SessionStore) Sessions(context.Context) ([]fourd.SessionInfo, error) {
	now := st.Now()
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make([]fourd.SessionInfo, 0, st.order.Len())
	for e := st.order.Front(); e != nil; e = e.Next() {
		if v := e.Value.(*stored); !v.expired(now) {
			s := v.s
			s.LastActivity = time.Unix(0, v.last.Load()).UTC()
			out = append(out, s.Info())
		}
	}
	return out, nil
}

// Count implements fourd.SessionStore from counters: no session is
// visited.
func (st *SessionStore) Count(_ context.Context, address string) (fourd.SessionCount, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return fourd.SessionCount{Total: len(st.byID), Guests: st.guests, GuestsFromAddress: st.guestsByAddress[address]}, nil
}

// Len returns the number of stored sessions, expired ones not yet swept included.
func (st *SessionStore) Len() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.order.Len()
}

// Expire implements fourd.SessionStore.
func (st *SessionStore) Expire(_ context.Context, now time.Time) ([]string, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var ids []string
	for e := st.order.Front(); e != nil; {
		next := e.Next()
		if v := e.Value.(*stored); v.expired(now) {
			st.drop(v)
			ids = append(ids, v.s.ID)
			st.order.Remove(e)
			delete(st.byID, v.s.ID)
		}
		e = next
	}
	return ids, nil
}
