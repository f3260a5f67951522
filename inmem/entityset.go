package inmem

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fourd/fourd"
)

var _ fourd.EntitySetStore = (*EntitySetStore)(nil)

// Removal says why a set left the store.
type Removal string

// The reasons a set leaves the store.
const (
	RemovalEvicted  Removal = "evicted"  // least recently used when the cache was full
	RemovalExpired  Removal = "expired"  // its timeout passed
	RemovalReleased Removal = "released" // Release or ReleaseSession
)

// EntitySetStats counts what an EntitySetStore has done since it was made.
type EntitySetStats struct {
	Sets        int    // sets held now, expired ones not yet swept included
	Used, Size  int64  // as Used and Size
	Puts        uint64 // sets stored (replacements included)
	Refused     uint64 // sets refused as larger than the whole cache
	Hits        uint64 // Gets that found a live set
	Misses      uint64 // Gets that did not
	Evictions   uint64 // sets evicted to make room
	Expirations uint64 // sets removed because their timeout passed
	Releases    uint64 // sets removed by Release and ReleaseSession
}

// EntitySetStore is the in-memory cache of entity sets of one node: at most
// Size bytes, where a set weighs (*fourd.EntitySet).Bytes(), the bytes its
// rows really hold plus its bookkeeping. When a new set does not fit, the
// sets already expired go first, then the least recently used (by their
// last Get or Put).
//
// The store keeps its own copy of each EntitySet and hands out copies:
// the rows are shared (a RowSet is immutable), the other fields are not, so
// a caller may read or change what it gets without a lock. The lock is held
// only for map and list updates: sets are built and weighed before it is
// taken, and snapshots copy values under it and nothing else.
//
// It is safe for concurrent use.
type EntitySetStore struct {
	// Now is the clock that tells which sets have expired when Get's own
	// time is not at hand: in Put (expired sets leave before any is
	// evicted), Release, ReleaseSession and EntitySets. time.Now by
	// default.
	Now  func() time.Time
	size int64

	mu        sync.Mutex
	used      int64
	byID      map[string]*entry
	lru       chain // least recently used first
	age       chain // oldest Put first
	bySession map[string]*sessionSets
	stats     EntitySetStats
	// soonest is at or before the earliest expiry of the sets held: a
	// lower bound, since a refresh only pushes an expiry later. Until now
	// reaches it no set can have expired, so Put and Expire skip the scan.
	soonest time.Time
}

// NewEntitySetStore returns an empty store of size bytes (the server's
// --cache-size). A size of 0 or less holds nothing.
func NewEntitySetStore(size int64) *EntitySetStore {
	return &EntitySetStore{
		Now:       time.Now,
		size:      max(size, 0),
		byID:      make(map[string]*entry),
		bySession: make(map[string]*sessionSets),
	}
}

func errEntitySetNotFound(id string) error {
	// 4D: `EntitySet "4C51204DD8184B65AC7D79F09A077F24" cannot be found`.
	return &fourd.Error{
		Code:      fourd.ENOTFOUND,
		ErrCode:   fourd.ErrCodeEntitySetNotFound,
		Component: fourd.ComponentDB,
		Message:   `EntitySet "` + id + `" cannot be found`,
	}
}

// NewRowSet implements fourd.EntitySetStore with the package's NewRowSet.
func (s *EntitySetStore) NewRowSet(rows []fourd.RowID, sorted bool) fourd.RowSet {
	return NewRowSet(rows, sorted)
}

// Combine implements fourd.EntitySetStore with the package's Combine.
func (s *EntitySetStore) Combine(a, b fourd.RowSet, op fourd.SetOperator) (fourd.RowSet, bool, error) {
	return Combine(a, b, op)
}

// Put implements fourd.EntitySetStore. The store keeps a copy of *es. A set
// with the ID of one already held replaces it. Put refuses with EINVALID a
// set without ID or rows or with a timeout that is not positive, and with
// EQUOTA (errCode 9012) a set larger than the whole cache; a refused Put
// changes nothing.
func (s *EntitySetStore) Put(_ context.Context, es *fourd.EntitySet) error {
	switch {
	case es == nil || es.ID == "":
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "an entity set needs an ID")
	case es.Rows == nil:
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "entity set %q has no rows", es.ID)
	case es.Timeout <= 0:
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter,
			"entity set %q: the timeout must be positive, not %v", es.ID, es.Timeout)
	}
	// Weighed before the lock: a foreign RowSet may take time.
	e := &entry{es: *es, bytes: int64(es.Bytes()), len: es.Rows.Len(), sorted: es.Rows.Sorted()}
	if e.bytes > s.size {
		s.mu.Lock()
		s.stats.Refused++
		s.mu.Unlock()
		return &fourd.Error{
			Code: fourd.EQUOTA, ErrCode: fourd.ErrCodeCacheFull, Component: fourd.ComponentServer,
			Message: fmtTooBig(es, e.bytes, s.size),
		}
	}
	now := s.Now()

	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.byID[es.ID]
	need := s.used + e.bytes
	if old != nil {
		need -= old.bytes
	}
	if need > s.size {
		// Expired sets first: nobody can get them any more.
		for _, v := range s.sweep(now, old) {
			need -= v.bytes
		}
		for v := s.lru.head; v != nil && need > s.size; {
			next := v.next(byLRU)
			if v != old {
				need -= v.bytes
				s.remove(v, RemovalEvicted)
			}
			v = next
		}
	}
	if old != nil {
		s.remove(old, "")
	}
	s.insert(e)
	s.stats.Puts++
	return nil
}

func fmtTooBig(es *fourd.EntitySet, bytes, size int64) string {
	return fmt.Sprintf("entity set %q of %d entities needs %d bytes, more than the whole entity-set cache (%d bytes; see --cache-size)",
		es.ID, es.Rows.Len(), bytes, size)
}

// Get implements fourd.EntitySetStore. A set whose expiry is at or before
// now is removed rather than returned. Refreshed only moves forward: a Get
// with an earlier now (a request that read the clock before another one)
// keeps the later time, and still makes the set the most recently used.
func (s *EntitySetStore) Get(_ context.Context, id string, now time.Time) (*fourd.EntitySet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byID[id]
	if e == nil {
		s.stats.Misses++
		return nil, errEntitySetNotFound(id)
	}
	if !now.Before(e.es.Expires()) {
		s.stats.Misses++
		s.remove(e, RemovalExpired)
		return nil, errEntitySetNotFound(id)
	}
	if now.After(e.es.Refreshed) {
		e.es.Refreshed = now
		e.session.fix(e) // its expiry moved later
	}
	s.lru.moveToBack(byLRU, e)
	s.stats.Hits++
	es := e.es
	return &es, nil
}

// Release implements fourd.EntitySetStore. A set that has expired by Now
// is removed too, but reported as not found: it was gone already.
func (s *EntitySetStore) Release(_ context.Context, id string) error {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byID[id]
	if e == nil {
		return errEntitySetNotFound(id)
	}
	if !now.Before(e.es.Expires()) {
		s.remove(e, RemovalExpired)
		return errEntitySetNotFound(id)
	}
	s.remove(e, RemovalReleased)
	return nil
}

// ReleaseOwn implements fourd.EntitySetStore: one map lookup.
func (s *EntitySetStore) ReleaseOwn(_ context.Context, id, sessionID string) error {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byID[id]
	if e == nil || e.es.SessionID != sessionID {
		return errEntitySetNotFound(id)
	}
	if !now.Before(e.es.Expires()) {
		s.remove(e, RemovalExpired)
		return errEntitySetNotFound(id)
	}
	s.remove(e, RemovalReleased)
	return nil
}

// ReleaseSession implements fourd.EntitySetStore. It removes every set of
// the session and counts those that had not expired by Now. The empty
// session ID, that of the server's own sets, is no session: it releases
// nothing.
func (s *EntitySetStore) ReleaseSession(_ context.Context, sessionID string) (int, error) {
	if sessionID == "" {
		return 0, nil
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.bySession[sessionID]
	if ss == nil {
		return 0, nil
	}
	n := 0
	for _, e := range slices.Clone(ss.heap) { // remove changes the heap
		if now.Before(e.es.Expires()) {
			n++
			s.remove(e, RemovalReleased)
		} else {
			s.remove(e, RemovalExpired)
		}
	}
	return n, nil
}

// MoveSession implements fourd.EntitySetStore. The empty session ID, that
// of the server's own sets, is no session: nothing moves from or to it.
func (s *EntitySetStore) MoveSession(_ context.Context, from, to string) (int, error) {
	if from == "" || to == "" || from == to {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.bySession[from]
	if src == nil {
		return 0, nil
	}
	delete(s.bySession, from)
	dst := s.bySession[to]
	if dst == nil {
		dst = new(sessionSets)
		s.bySession[to] = dst
	}
	for _, e := range src.heap {
		e.es.SessionID = to
		e.session = dst
		e.sessionIdx = len(dst.heap)
		dst.heap = append(dst.heap, e)
	}
	heap.Init(dst)
	return len(src.heap), nil
}

// EntitySets implements fourd.EntitySetStore: the sets that have not
// expired by Now, in the order they were put (oldest first). The lock is
// held only to copy each set's values.
func (s *EntitySetStore) EntitySets(context.Context) ([]fourd.EntitySetInfo, error) {
	now := s.Now()
	s.mu.Lock()
	n := len(s.byID)
	s.mu.Unlock()
	out := make([]fourd.EntitySetInfo, 0, n+n/8) // allocated outside the lock
	s.mu.Lock()
	for e := s.age.head; e != nil; e = e.next(byAge) {
		expires := e.es.Expires()
		if !now.Before(expires) {
			continue
		}
		out = append(out, fourd.EntitySetInfo{
			ID:            e.es.ID,
			DataClass:     e.es.DataClass,
			SelectionSize: e.len,
			Sorted:        e.sorted,
			Refreshed:     e.es.Refreshed,
			Expires:       expires,
			SessionID:     e.es.SessionID,
			Bytes:         int(e.bytes),
		})
	}
	s.mu.Unlock()
	return out, nil
}

// Expire implements fourd.EntitySetStore. The IDs are in the order the sets
// were put.
func (s *EntitySetStore) Expire(_ context.Context, now time.Time) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, e := range s.sweep(now, nil) {
		ids = append(ids, e.es.ID)
	}
	return ids, nil
}

// sweep removes the sets expired at now but keep, and returns them in the
// order they were put. It scans only when now has reached soonest, and
// then makes soonest exact. s.mu is held.
func (s *EntitySetStore) sweep(now time.Time, keep *entry) []*entry {
	if now.Before(s.soonest) {
		return nil
	}
	var gone []*entry
	var soonest time.Time
	for e := s.age.head; e != nil; {
		next := e.next(byAge)
		if exp := e.es.Expires(); e != keep && !now.Before(exp) {
			gone = append(gone, e)
			s.remove(e, RemovalExpired)
		} else if soonest.IsZero() || exp.Before(soonest) {
			soonest = exp
		}
		e = next
	}
	s.soonest = soonest
	return gone
}

// Size implements fourd.EntitySetStore.
func (s *EntitySetStore) Size() int64 { return s.size }

// Used implements fourd.EntitySetStore: the sum of the Bytes of the sets
// held, expired ones not yet swept included. It never exceeds Size.
func (s *EntitySetStore) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// SessionSets implements fourd.EntitySetStore in O(log n) for a session
// holding n sets: the session's sets are a heap on their expiry, so the
// sets that have expired are at its top, removed (as Get would), and what
// is left is the count, with the first expiry at the top.
func (s *EntitySetStore) SessionSets(_ context.Context, sessionID string) (int, time.Time, error) {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		ss := s.bySession[sessionID]
		if ss == nil {
			return 0, time.Time{}, nil
		}
		first := ss.heap[0]
		if exp := first.es.Expires(); now.Before(exp) {
			return len(ss.heap), exp, nil
		}
		s.remove(first, RemovalExpired)
	}
}

// Len returns the number of sets held, expired ones not yet swept included.
func (s *EntitySetStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

// Stats returns the store's counters.
func (s *EntitySetStore) Stats() EntitySetStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Sets, st.Used, st.Size = len(s.byID), s.used, s.size
	return st
}

// insert adds e as the most recently used and newest set. s.mu is held.
func (s *EntitySetStore) insert(e *entry) {
	if exp := e.es.Expires(); len(s.byID) == 0 || exp.Before(s.soonest) {
		s.soonest = exp
	}
	s.byID[e.es.ID] = e
	s.used += e.bytes
	s.lru.pushBack(byLRU, e)
	s.age.pushBack(byAge, e)
	ss := s.bySession[e.es.SessionID]
	if ss == nil {
		ss = new(sessionSets)
		s.bySession[e.es.SessionID] = ss
	}
	e.session = ss
	heap.Push(ss, e)
}

// remove takes e out and counts why; an empty why (a replacement) is not
// counted. s.mu is held.
func (s *EntitySetStore) remove(e *entry, why Removal) {
	delete(s.byID, e.es.ID)
	s.used -= e.bytes
	s.lru.remove(byLRU, e)
	s.age.remove(byAge, e)
	if ss := e.session; ss != nil {
		heap.Remove(ss, e.sessionIdx)
		e.session = nil
		if len(ss.heap) == 0 {
			delete(s.bySession, e.es.SessionID)
		}
	}
	switch why {
	case RemovalEvicted:
		s.stats.Evictions++
	case RemovalExpired:
		s.stats.Expirations++
	case RemovalReleased:
		s.stats.Releases++
	}
}

// entry is a set held by the store, on two intrusive lists (no allocation
// per list, and O(1) moves and removals) and in its session's heap.
type entry struct {
	es         fourd.EntitySet
	bytes      int64
	len        int  // es.Rows.Len(), read once before the lock
	sorted     bool // es.Rows.Sorted()
	links      [nLinks]link
	session    *sessionSets // the heap of its session's sets
	sessionIdx int          // its index in session.heap
}

type link struct{ prev, next *entry }

// The lists an entry is on.
const (
	byLRU = iota // the store's lru chain
	byAge        // the store's age chain
	nLinks
)

func (e *entry) next(k int) *entry { return e.links[k].next }

// chain is a doubly linked list of entries through their links[k].
type chain struct{ head, tail *entry }

func (c *chain) pushBack(k int, e *entry) {
	e.links[k] = link{prev: c.tail}
	if c.tail != nil {
		c.tail.links[k].next = e
	} else {
		c.head = e
	}
	c.tail = e
}

func (c *chain) remove(k int, e *entry) {
	l := e.links[k]
	if l.prev != nil {
		l.prev.links[k].next = l.next
	} else {
		c.head = l.next
	}
	if l.next != nil {
		l.next.links[k].prev = l.prev
	} else {
		c.tail = l.prev
	}
	e.links[k] = link{}
}

func (c *chain) moveToBack(k int, e *entry) {
	if c.tail != e {
		c.remove(k, e)
		c.pushBack(k, e)
	}
}

// sessionSets is one session's sets, a min-heap on their expiry
// (container/heap): the per-session quota reads its count and first expiry
// without walking the sets. A Get that refreshes a set moves it down.
type sessionSets struct{ heap []*entry }

func (h *sessionSets) Len() int { return len(h.heap) }
func (h *sessionSets) Less(i, j int) bool {
	return h.heap[i].es.Expires().Before(h.heap[j].es.Expires())
}
func (h *sessionSets) Swap(i, j int) {
	h.heap[i], h.heap[j] = h.heap[j], h.heap[i]
	h.heap[i].sessionIdx = i
	h.heap[j].sessionIdx = j
}
func (h *sessionSets) Push(x any) {
	e := x.(*entry)
	e.sessionIdx = len(h.heap)
	h.heap = append(h.heap, e)
}
func (h *sessionSets) Pop() any {
	e := h.heap[len(h.heap)-1]
	h.heap[len(h.heap)-1] = nil
	h.heap = h.heap[:len(h.heap)-1]
	return e
}

// fix restores the heap after e's expiry changed.
func (h *sessionSets) fix(e *entry) {
	if h != nil {
		heap.Fix(h, e.sessionIdx)
	}
}
