package inmem

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/fourd/fourd"
)

var _ fourd.SessionStore = (*SessionStore)(nil)

// SessionStore keeps sessions in memory, in creation order.
type SessionStore struct {
	// Now is the clock used to hide sessions that have expired but not yet
	// been swept by Expire; time.Now by default.
	Now func() time.Time

	mu    sync.RWMutex
	byID  map[string]*list.Element // of *stored
	order list.List                // oldest first
	// Counters for Count, kept as sessions come and go.
	guests          int
	guestsByAddress map[string]int
}

// stored is a session with what it counted as when stored.
type stored struct {
	s     *fourd.Session
	guest bool
}

// add and drop keep the counters; st.mu is held.
func (st *SessionStore) add(s *fourd.Session) *stored {
	v := &stored{s: s, guest: fourd.CountsAsGuest(s)}
	if v.guest {
		st.guests++
		st.guestsByAddress[s.IPAddress]++
	}
	return v
}

func (st *SessionStore) drop(v *stored) {
	if v.guest {
		st.guests--
		if n := st.guestsByAddress[v.s.IPAddress] - 1; n > 0 {
			st.guestsByAddress[v.s.IPAddress] = n
		} else {
			delete(st.guestsByAddress, v.s.IPAddress)
		}
	}
}

// NewSessionStore returns an empty store.
func NewSessionStore() *SessionStore {
	return &SessionStore{Now: time.Now, byID: make(map[string]*list.Element), guestsByAddress: make(map[string]int)}
}

func errUnknownSession(id string) error {
	return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownSession, "no session with ID %q", id)
}

// Create implements fourd.SessionStore. A session whose ID is already
// stored is refused with EINVALID.
func (st *SessionStore) Create(_ context.Context, s *fourd.Session) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.byID[s.ID]; ok {
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "session %s exists already", s.ID)
	}
	st.byID[s.ID] = st.order.PushBack(st.add(s))
	return nil
}

// Session implements fourd.SessionStore.
func (st *SessionStore) Session(_ context.Context, id string) (*fourd.Session, error) {
	st.mu.RLock()
	e, ok := st.byID[id]
	st.mu.RUnlock()
	if !ok {
		return nil, errUnknownSession(id)
	}
	s := e.Value.(*stored).s
	if s.Expired(st.Now()) {
		return nil, errUnknownSession(id)
	}
	return s, nil
}

// Touch implements fourd.SessionStore.
func (st *SessionStore) Touch(_ context.Context, s *fourd.Session, now time.Time) error {
	s.Touch(now)
	return nil
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

// Replace implements fourd.SessionStore. The successor takes the old
// session's place in the creation order.
func (st *SessionStore) Replace(_ context.Context, old, successor *fourd.Session) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.byID[old.ID]
	if !ok {
		return errUnknownSession(old.ID)
	}
	if _, taken := st.byID[successor.ID]; taken {
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "session %s exists already", successor.ID)
	}
	delete(st.byID, old.ID)
	st.drop(e.Value.(*stored))
	e.Value = st.add(successor)
	st.byID[successor.ID] = e
	return nil
}

// Sessions implements fourd.SessionStore. The store's lock is held only to
// copy the list; each session's values are then read from the session.
func (st *SessionStore) Sessions(context.Context) ([]fourd.SessionInfo, error) {
	st.mu.RLock()
	list := make([]*fourd.Session, 0, st.order.Len())
	for e := st.order.Front(); e != nil; e = e.Next() {
		list = append(list, e.Value.(*stored).s)
	}
	st.mu.RUnlock()
	now := st.Now()
	out := make([]fourd.SessionInfo, 0, len(list))
	for _, s := range list {
		if !s.Expired(now) {
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
		if v := e.Value.(*stored); v.s.Expired(now) {
			st.drop(v)
			ids = append(ids, v.s.ID)
			st.order.Remove(e)
			delete(st.byID, v.s.ID)
		}
		e = next
	}
	return ids, nil
}
