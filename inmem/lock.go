package inmem

import (
	"context"
	"sort"
	"sync"

	"github.com/fourd/fourd"
)

var _ fourd.LockTable = (*LockTable)(nil)

type lockKey struct{ dataClass, key string }

// LockTable is the entity lock table of one node: a map of the locks with
// an index by session, by process and by dataclass, so that releasing a
// session's locks or checking a dataclass costs only the locks concerned.
// Use NewLockTable.
type LockTable struct {
	mu          sync.Mutex
	locks       map[lockKey]fourd.EntityLock
	bySession   map[string]map[lockKey]struct{}
	byProcess   map[int64]map[lockKey]struct{}
	byDataClass map[string]map[lockKey]struct{}
}

// NewLockTable returns an empty lock table.
func NewLockTable() *LockTable {
	return &LockTable{
		locks:       map[lockKey]fourd.EntityLock{},
		bySession:   map[string]map[lockKey]struct{}{},
		byProcess:   map[int64]map[lockKey]struct{}{},
		byDataClass: map[string]map[lockKey]struct{}{},
	}
}

func addIndex[K comparable](m map[K]map[lockKey]struct{}, k K, lk lockKey) {
	set := m[k]
	if set == nil {
		set = map[lockKey]struct{}{}
		m[k] = set
	}
	set[lk] = struct{}{}
}

func dropIndex[K comparable](m map[K]map[lockKey]struct{}, k K, lk lockKey) {
	if set := m[k]; set != nil {
		delete(set, lk)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

func (t *LockTable) addLocked(l fourd.EntityLock) {
	lk := lockKey{l.DataClass, l.Key}
	t.locks[lk] = l
	addIndex(t.bySession, l.SessionID, lk)
	addIndex(t.byDataClass, l.DataClass, lk)
	if l.ProcessID != 0 {
		addIndex(t.byProcess, l.ProcessID, lk)
	}
}

func (t *LockTable) removeLocked(lk lockKey) {
	l, ok := t.locks[lk]
	if !ok {
		return
	}
	delete(t.locks, lk)
	dropIndex(t.bySession, l.SessionID, lk)
	dropIndex(t.byDataClass, l.DataClass, lk)
	if l.ProcessID != 0 {
		dropIndex(t.byProcess, l.ProcessID, lk)
	}
}

// Lock implements fourd.LockTable.
func (t *LockTable) Lock(_ context.Context, l fourd.EntityLock) (fourd.EntityLock, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if held, ok := t.locks[lockKey{l.DataClass, l.Key}]; ok {
		if held.SessionID != l.SessionID {
			return fourd.EntityLock{}, fourd.ErrLocked(held)
		}
		if held.ProcessID == 0 || l.ProcessID != 0 {
			return held, nil
		}
		// A session-wide lock asked for while a process holds one: the
		// lock now outlives the process.
		t.removeLocked(lockKey{l.DataClass, l.Key})
	}
	t.addLocked(l)
	return l, nil
}

// Unlock implements fourd.LockTable.
func (t *LockTable) Unlock(_ context.Context, dataClass, key, sessionID string) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lk := lockKey{dataClass, key}
	held, ok := t.locks[lk]
	if !ok {
		return false, nil
	}
	if held.SessionID != sessionID {
		return false, fourd.ErrLocked(held)
	}
	t.removeLocked(lk)
	return true, nil
}

// Holder implements fourd.LockTable.
func (t *LockTable) Holder(_ context.Context, dataClass, key string) (fourd.EntityLock, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.locks[lockKey{dataClass, key}]
	return l, ok
}

// Locks implements fourd.LockTable.
func (t *LockTable) Locks(_ context.Context, dataClass, exceptSessionID string) []fourd.EntityLock {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []fourd.EntityLock
	for lk := range t.byDataClass[dataClass] {
		if l := t.locks[lk]; l.SessionID != exceptSessionID {
			out = append(out, l)
		}
	}
	return out
}

// SessionLocks implements fourd.LockTable.
func (t *LockTable) SessionLocks(_ context.Context, sessionID string) []fourd.EntityLock {
	t.mu.Lock()
	out := make([]fourd.EntityLock, 0, len(t.bySession[sessionID]))
	for lk := range t.bySession[sessionID] {
		out = append(out, t.locks[lk])
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Locked.Equal(out[j].Locked) {
			return out[i].Locked.Before(out[j].Locked)
		}
		if out[i].DataClass != out[j].DataClass {
			return out[i].DataClass < out[j].DataClass
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// ReleaseSession implements fourd.LockTable.
func (t *LockTable) ReleaseSession(_ context.Context, sessionID string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for lk := range t.bySession[sessionID] {
		t.removeLocked(lk)
		n++
	}
	return n
}

// ReleaseProcess implements fourd.LockTable.
func (t *LockTable) ReleaseProcess(_ context.Context, processID int64) int {
	if processID == 0 {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for lk := range t.byProcess[processID] {
		t.removeLocked(lk)
		n++
	}
	return n
}

// MoveSession implements fourd.LockTable.
func (t *LockTable) MoveSession(_ context.Context, from, to string) int {
	if from == to {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for lk := range t.bySession[from] {
		l := t.locks[lk]
		t.removeLocked(lk)
		l.SessionID = to
		t.addLocked(l)
		n++
	}
	return n
}

// Len returns the number of locks held.
func (t *LockTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.locks)
}
