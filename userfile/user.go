// Package userfile keeps fourd's users directory as one JSON file in the
// data directory, users.json, with bcrypt password hashes. It implements
// fourd.UserStore.
//
// # Two processes, one file
//
// `fourd users add` may run while `fourd serve` has the same file open, so
// the Store never trusts what it read earlier: before answering, it checks
// the file's identity, size and modification time (one stat) and reads it
// again if any changed. Writers take an exclusive lock on users.json.lock
// (flock, on Unix), read the file again under it, apply their change and
// replace the file atomically: a temporary file in the same directory,
// written, fsynced, renamed over users.json, then the directory fsynced.
// A reader therefore sees the old file or the new one, never a mix, and two
// writers never lose each other's change. Nothing is created before the
// first change: opening a data directory without users leaves it as it is.
//
// A users.json that does not parse (edited by hand, say) is an error that
// names the file and the line; the Store then refuses every call, including
// logins, until the file is fixed, rather than run with an old copy.
//
// # Cost
//
// Hashes are bcrypt at DefaultCost (10): see DefaultCost for the
// measurements. A login costs one bcrypt comparison, also for an unknown
// user, whose password is compared with a fixed dummy hash, so that the
// time of an answer does not tell which names exist.
package userfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/password"
)

// FileName is the users directory's file name in the data directory.
const FileName = "users.json"

// DefaultCost is the bcrypt cost of new hashes: password.DefaultCost
// (see it for the measurements).
const DefaultCost = password.DefaultCost

// compareHash is the one bcrypt comparison of Authenticate; tests replace
// it to count comparisons and see their cost.
var compareHash = bcrypt.CompareHashAndPassword

// Store is the users directory kept in one file. It is safe for concurrent
// use, and several Stores (in one process or several) may share the file.
type Store struct {
	// Cost is the bcrypt cost of new hashes, DefaultCost unless set.
	// Set it before the first call; tests lower it to bcrypt.MinCost.
	Cost int
	// Now returns the current time, time.Now unless set. Set it before the
	// first call.
	Now func() time.Time

	path string

	mu  sync.Mutex // guards cur; held while the file is read
	cur *state

	wmu sync.Mutex // one writer at a time in this process; the file lock orders processes
}

var _ fourd.UserStore = (*Store)(nil)

// Open returns the Store of the users file at path (usually
// filepath.Join(dataDir, FileName)). A missing file is an empty directory
// and is not created; a file that cannot be read or does not parse is an
// error naming the file and the line.
func Open(path string) (*Store, error) {
	s := &Store{Cost: DefaultCost, Now: time.Now, path: path, cur: &state{}}
	if _, err := s.snapshot(); err != nil {
		return nil, err
	}
	return s, nil
}

// Exists reports whether a users file exists at path. Access control turns
// on when it does, even with no users left in it, so removing the last
// user never opens the server; an error other than "does not exist" (no
// permission, say) also counts as existing, so that it is Open that
// reports it.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// Present reports whether the users file exists now (or cannot be
// checked, which counts as existing, as for Exists). A server controls
// access once it does: rest.UsersPresence.
func (s *Store) Present() bool {
	st, err := s.snapshot()
	return err != nil || st.stamp != nil
}

// Path returns the users file's path.
func (s *Store) Path() string { return s.path }

// User returns the user with that name (case-insensitively), or ENOTFOUND.
func (s *Store) User(ctx context.Context, name string) (*fourd.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	r, ok := st.find(name)
	if !ok {
		return nil, errUnknownUser(name)
	}
	return r.user(), nil
}

// Users returns every user, sorted by name case-insensitively.
func (s *Store) Users(ctx context.Context) ([]fourd.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	users := make([]fourd.User, len(st.users))
	for i := range st.users {
		users[i] = *st.users[i].user()
	}
	return users, nil
}

// Add creates a user. The password is hashed before the file is locked,
// so that concurrent additions hash in parallel.
func (s *Store) Add(ctx context.Context, name, password string, privileges []string) (*fourd.User, error) {
	if err := fourd.CheckUserName(name); err != nil {
		return nil, err
	}
	if err := fourd.CheckPassword(password); err != nil {
		return nil, err
	}
	privs, err := fourd.CheckPrivileges(privileges)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	if r, ok := st.find(name); ok {
		return nil, errUserExists(r.Name)
	}
	hash, err := s.hash(password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rec := record{ID: fourd.NewID(), Name: name, Hash: hash, Privileges: privs, Created: now, Updated: now}
	err = s.mutate(ctx, func(st *state) (*state, error) {
		if r, ok := st.find(name); ok {
			return nil, errUserExists(r.Name)
		}
		return st.with(rec), nil
	})
	if err != nil {
		return nil, err
	}
	return rec.user(), nil
}

// Remove deletes the user.
func (s *Store) Remove(ctx context.Context, name string) error {
	if err := s.mustExist(ctx, name); err != nil {
		return err
	}
	return s.mutate(ctx, func(st *state) (*state, error) {
		r, ok := st.find(name)
		if !ok {
			return nil, errUnknownUser(name)
		}
		return st.without(r.ID), nil
	})
}

// SetPassword replaces the user's password hash and updates Updated.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	if err := fourd.CheckPassword(password); err != nil {
		return err
	}
	if err := s.mustExist(ctx, name); err != nil {
		return err
	}
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	return s.update(ctx, name, func(r *record) { r.Hash = hash })
}

// SetPrivileges replaces the user's privileges and updates Updated.
func (s *Store) SetPrivileges(ctx context.Context, name string, privileges []string) error {
	privs, err := fourd.CheckPrivileges(privileges)
	if err != nil {
		return err
	}
	if err := s.mustExist(ctx, name); err != nil {
		return err
	}
	return s.update(ctx, name, func(r *record) { r.Privileges = privs })
}

// update changes the named user's record with change and sets Updated.
func (s *Store) update(ctx context.Context, name string, change func(r *record)) error {
	now := s.now()
	return s.mutate(ctx, func(st *state) (*state, error) {
		r, ok := st.find(name)
		if !ok {
			return nil, errUnknownUser(name)
		}
		change(&r)
		r.Updated = now
		return st.without(r.ID).with(r), nil
	})
}

// Authenticate returns the user if password is theirs. Every call that
// reaches the file spends one bcrypt comparison: against the user's hash,
// or against a dummy hash at the Store's Cost when the name is unknown or
// the password longer than bcrypt reads. Wrong password and unknown user
// return the same EUNAUTHORIZED error.
func (s *Store) Authenticate(ctx context.Context, name, password string) (*fourd.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	r, ok := st.find(name)
	ok = ok && len(password) <= fourd.MaxPasswordBytes
	hash := s.dummy()
	if ok {
		hash = []byte(r.Hash)
	}
	if err := compareHash(hash, []byte(password)); err != nil || !ok {
		return nil, &fourd.Error{Code: fourd.EUNAUTHORIZED, ErrCode: fourd.ErrCodeBadCredentials, Message: fourd.MsgBadCredentials}
	}
	return r.user(), nil
}

// mustExist returns ENOTFOUND, before anything is locked or created, for a
// user that is not in the file.
func (s *Store) mustExist(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := s.snapshot()
	if err != nil {
		return err
	}
	if _, ok := st.find(name); !ok {
		return errUnknownUser(name)
	}
	return nil
}

func (s *Store) cost() int {
	if s.Cost == 0 {
		return DefaultCost
	}
	return s.Cost
}

func (s *Store) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	// The file keeps milliseconds: a User returned now equals the one read back.
	return now().UTC().Truncate(time.Millisecond)
}

func (s *Store) hash(pw string) (string, error) { return password.Hash(pw, s.cost()) }

// dummy returns the hash that unknown users' passwords are compared with,
// at the Store's cost so that the comparison takes as long as a real one.
func (s *Store) dummy() []byte { return password.Dummy(s.cost()) }

// snapshot returns the file's current contents: the copy in memory if the
// file has not changed since it was read or written, else a fresh read.
func (s *Store) snapshot() (*state, error) {
	fi, err := os.Stat(s.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("users directory: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sameFile(s.cur.stamp, fi) {
		return s.cur, nil
	}
	st, err := readFile(s.path)
	if err != nil {
		return nil, err
	}
	s.cur = st
	return st, nil
}

// mutate applies change to the file's latest contents under the file lock
// and writes the result. change must not modify the state it is given.
func (s *Store) mutate(ctx context.Context, change func(*state) (*state, error)) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.path), 0o750); err != nil { // as fourd serve creates it
		return fmt.Errorf("users directory: %w", err)
	}
	unlock, err := lockFile(ctx, s.path+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.snapshot() // another process may have written since our last look
	if err != nil {
		return err
	}
	next, err := change(st)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if next.stamp, err = writeFile(s.path, next); err != nil {
		return err
	}
	s.mu.Lock()
	s.cur = next
	s.mu.Unlock()
	return nil
}

// sameFile reports whether a and b (either nil for a missing file)
// describe the same version of the file. Every write renames a new file
// into place, so a write changes the identity even within one mtime tick.
func sameFile(a, b fs.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// record is a user as the file keeps it, hash included. Records are
// values; a state's records are never changed in place.
type record struct {
	ID         string
	Name       string
	Hash       string
	Privileges []string
	Created    time.Time
	Updated    time.Time
}

func (r *record) user() *fourd.User {
	return &fourd.User{
		ID:         r.ID,
		Name:       r.Name,
		Privileges: append([]string{}, r.Privileges...),
		Created:    r.Created,
		Updated:    r.Updated,
	}
}

// state is one version of the file's contents, immutable once built.
type state struct {
	stamp fs.FileInfo       // the file it was read from or written to; nil if none
	users []record          // sorted by folded name, then name
	index map[string]string // folded name -> ID
	byID  map[string]int    // ID -> position in users
}

func newState(users []record) *state {
	sort.Slice(users, func(i, j int) bool {
		fi, fj := fourd.FoldUserName(users[i].Name), fourd.FoldUserName(users[j].Name)
		if fi != fj {
			return fi < fj
		}
		return users[i].Name < users[j].Name
	})
	st := &state{users: users, index: make(map[string]string, len(users)), byID: make(map[string]int, len(users))}
	for i, r := range users {
		st.index[fourd.FoldUserName(r.Name)] = r.ID
		st.byID[r.ID] = i
	}
	return st
}

func (st *state) find(name string) (record, bool) {
	id, ok := st.index[fourd.FoldUserName(name)]
	if !ok {
		return record{}, false
	}
	return st.users[st.byID[id]], true
}

// with returns a new state with r added.
func (st *state) with(r record) *state {
	users := make([]record, 0, len(st.users)+1)
	users = append(users, st.users...)
	return newState(append(users, r))
}

// without returns a new state without the user with that ID.
func (st *state) without(id string) *state {
	users := make([]record, 0, len(st.users))
	for _, r := range st.users {
		if r.ID != id {
			users = append(users, r)
		}
	}
	return newState(users)
}

func errUnknownUser(name string) error {
	return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownUser, "no user named %q", name)
}

func errUserExists(name string) error {
	return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeUserExists, "a user named %q exists already (names are case-insensitive)", name)
}
