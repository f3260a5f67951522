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
	byID  map[string]*list.Element // of *fourd.Session
	order list.List                // oldest first
}

// NewSessionStore returns an empty store.
func NewSessionStore() *SessionStore {
	return &SessionStore{Now: time.Now, byID: make(map[string]*list.Element)}
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
	st.byID[s.ID] = st.order.PushBack(s)
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
	s := e.Value.(*fourd.Session)
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
	e.Value = successor
	st.byID[successor.ID] = e
	return nil
}

// Sessions implements fourd.SessionStore. The store's lock is held only to
// copy the list; each session's values are then read from the session.
func (st *SessionStore) Sessions(context.Context) ([]fourd.SessionInfo, error) {
	st.mu.RLock()
	list := make([]*fourd.Session, 0, st.order.Len())
	for e := st.order.Front(); e != nil; e = e.Next() {
		list = append(list, e.Value.(*fourd.Session))
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

// Count implements fourd.SessionStore.
func (st *SessionStore) Count(context.Context) (total, guests int, err error) {
	now := st.Now()
	st.mu.RLock()
	defer st.mu.RUnlock()
	for e := st.order.Front(); e != nil; e = e.Next() {
		s := e.Value.(*fourd.Session)
		if s.Expired(now) {
			continue
		}
		total++
		if s.Type != fourd.SessionStoredProcedure && s.IsGuest() && s.UserName() == "" {
			guests++ // the stored-procedure session is the server's own, not a guest
		}
	}
	return total, guests, nil
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
		if s := e.Value.(*fourd.Session); s.Expired(now) {
			ids = append(ids, s.ID)
			st.order.Remove(e)
			delete(st.byID, s.ID)
		}
		e = next
	}
	return ids, nil
}
