package fourd

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SessionType is 4D's Session.info.type.
type SessionType string

// Session types. fourd has no 4D remote-client protocol and is never
// single-user, so it creates neither "remote" nor "standalone" sessions.
const (
	SessionREST            SessionType = "rest"            // a REST client (cookie 4DSID_<AppName>)
	SessionWeb             SessionType = "web"             // a non-REST HTTP client
	SessionStoredProcedure SessionType = "storedProcedure" // the one session of the server-side processes
	SessionRemote          SessionType = "remote"          // not used by fourd
	SessionStandalone      SessionType = "standalone"      // not used by fourd
)

// SessionState is 4D's Session.info.state.
type SessionState string

// Session states. fourd sessions are always "active": "sleeping" belongs to
// 4D remote clients whose machine sleeps, and 4D never defines "postponed".
const (
	SessionActive    SessionState = "active"
	SessionPostponed SessionState = "postponed"
	SessionSleeping  SessionState = "sleeping"
)

// DefaultIdleTimeout is a REST session's idle lifetime: 4D's 60 minutes.
const DefaultIdleTimeout = time.Hour

// Session is a client's session: who it is, where it comes from and when
// it expires. Its processes carry its ID. The identity fields are set when
// it is created and never change; the user and the activity times change
// under the session's own lock, so a *Session is safe for concurrent use.
//
// A login gives a client a new session ID (no session fixation): the
// SessionStore replaces the session rather than changing its ID.
type Session struct {
	ID             string      // 32 uppercase hex characters
	Type           SessionType // rest, web, storedProcedure
	Created        time.Time
	IPAddress      string // client address without port; "" for the stored-procedure session
	UserAgent      string // the client's User-Agent header, for REST and web sessions
	MachineName    string // server host name for the stored-procedure session; "" for REST: an HTTP client does not send one
	SystemUserName string // OS user running the server for the stored-procedure session; "" for REST
	HostType       string // the server's OS for the stored-procedure session; "" for REST: unknown
	PersistentID   string // only 4D remote sessions have one; always "" in fourd

	mu         sync.Mutex
	userName   string
	userID     string
	privileges []string
	directory  bool // the user logged in against the users directory
	storage    Storage

	lastActivity atomic.Int64 // Unix nanoseconds
	idleTimeout  atomic.Int64 // nanoseconds; 0 = never expires
}

// NewSession returns a new guest session of type typ with a fresh ID,
// created at now, that expires after idle of inactivity (0: never).
func NewSession(typ SessionType, now time.Time, idle time.Duration) *Session {
	s := &Session{ID: NewID(), Type: typ, Created: now, userID: GuestUserID}
	s.lastActivity.Store(now.UnixNano())
	s.idleTimeout.Store(int64(idle))
	return s
}

// Successor returns the session a login turns s into: a new ID (so that an
// ID known before the login is worth nothing after it: no session
// fixation), created at now, with s's client, user, privileges, idle
// lifetime and storage. The SessionStore's Replace swaps the two.
func (s *Session) Successor(now time.Time) *Session {
	n := NewSession(s.Type, now, s.IdleTimeout())
	n.IPAddress, n.UserAgent = s.IPAddress, s.UserAgent
	n.MachineName, n.SystemUserName, n.HostType, n.PersistentID = s.MachineName, s.SystemUserName, s.HostType, s.PersistentID
	s.mu.Lock()
	n.userID, n.userName, n.directory = s.userID, s.userName, s.directory
	n.privileges = append([]string(nil), s.privileges...)
	s.mu.Unlock()
	s.storage.Range(func(k string, v any) bool {
		n.storage.Set(k, v)
		return true
	})
	return n
}

// Touch records activity at now, sliding the expiration.
func (s *Session) Touch(now time.Time) {
	n := now.UnixNano()
	for {
		old := s.lastActivity.Load()
		if n <= old || s.lastActivity.CompareAndSwap(old, n) {
			return
		}
	}
}

// LastActivity returns the time of the last request in the session.
func (s *Session) LastActivity() time.Time { return time.Unix(0, s.lastActivity.Load()).UTC() }

// IdleTimeout returns the idle lifetime; 0 means the session never expires.
func (s *Session) IdleTimeout() time.Duration { return time.Duration(s.idleTimeout.Load()) }

// SetIdleTimeout changes the idle lifetime (4D's Session.idleTimeout).
func (s *Session) SetIdleTimeout(d time.Duration) { s.idleTimeout.Store(int64(d)) }

// Expiration returns when the session expires if it stays idle, or the
// zero time for a session that never expires.
func (s *Session) Expiration() time.Time {
	idle := s.IdleTimeout()
	if idle <= 0 {
		return time.Time{}
	}
	return s.LastActivity().Add(idle)
}

// Expired reports whether the session has been idle for its whole lifetime at now.
func (s *Session) Expired(now time.Time) bool {
	exp := s.Expiration()
	return !exp.IsZero() && !now.Before(exp)
}

// UserName returns the session's user name: "" for a guest REST session,
// as in 4D until setPrivileges gives one.
func (s *Session) UserName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userName
}

// UserID returns the session's user ID: GuestUserID until a login.
func (s *Session) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userID
}

// SetPrivileges gives the session these privileges, already expanded
// (roles to their privileges, includes followed: Roles.Expand does it).
// Like 4D's Session.setPrivileges, it replaces the previous ones; the
// session stops being a guest when it has at least one.
func (s *Session) SetPrivileges(privileges []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.privileges = append(s.privileges[:0:0], privileges...)
}

// GetPrivileges returns the session's privileges, roles and includes
// expanded, in the order they were set (4D's Session.getPrivileges).
func (s *Session) GetPrivileges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.privileges...)
}

// HasPrivilege reports whether the session has the privilege; names are
// case-insensitive, as in roles.json.
func (s *Session) HasPrivilege(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.privileges {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// ClearPrivileges removes every privilege: the session becomes a guest
// again (4D's Session.clearPrivileges).
func (s *Session) ClearPrivileges() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.privileges = nil
}

// IsGuest reports whether the session has no privilege (4D's
// Session.isGuest for REST sessions).
func (s *Session) IsGuest() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.privileges) == 0
}

// Storage returns the session's storage: values shared by every process
// of the session (4D's Session.storage). It is empty when the session is
// created and safe for concurrent use.
func (s *Session) Storage() *Storage { return &s.storage }

// Storage holds a session's shared values.
type Storage struct{ m sync.Map }

// Get returns the value stored under key, and whether there is one.
func (st *Storage) Get(key string) (any, bool) { return st.m.Load(key) }

// Set stores value under key.
func (st *Storage) Set(key string, value any) { st.m.Store(key, value) }

// Delete removes key.
func (st *Storage) Delete(key string) { st.m.Delete(key) }

// Range calls f for each key and value until f returns false.
func (st *Storage) Range(f func(key string, value any) bool) {
	st.m.Range(func(k, v any) bool { return f(k.(string), v) })
}

// SetUser records who the session belongs to. The user is not one of the
// users directory's (see SetDirectoryUser).
func (s *Session) SetUser(id, name string) {
	s.mu.Lock()
	s.userID, s.userName, s.directory = id, name, false
	s.mu.Unlock()
}

// SetDirectoryUser records that the session belongs to a user of the
// server's users directory (users.json), who logged in against it: the
// server then follows that user's changes (a removed user's sessions end,
// new privileges apply at the session's next request). A user that a Go
// program's own authentify function logs in is set with SetUser.
func (s *Session) SetDirectoryUser(id, name string) {
	s.mu.Lock()
	s.userID, s.userName, s.directory = id, name, true
	s.mu.Unlock()
}

// DirectoryUser reports whether the session's user logged in against the
// users directory (SetDirectoryUser).
func (s *Session) DirectoryUser() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.directory
}

// Info returns the session's .info object (4D's Session info), read now.
func (s *Session) Info() SessionInfo {
	return SessionInfo{
		Type:             s.Type,
		UserName:         s.UserName(),
		MachineName:      s.MachineName,
		SystemUserName:   s.SystemUserName,
		IPAddress:        s.IPAddress,
		HostType:         s.HostType,
		CreationDateTime: s.Created,
		State:            SessionActive,
		ID:               s.ID,
		PersistentID:     s.PersistentID,
		LastActivity:     s.LastActivity(),
		Expiration:       s.Expiration(),
		UserAgent:        s.UserAgent,
		UserID:           s.UserID(),
	}
}

// SessionInfo is 4D's Session.info object: a copy of a session's properties
// at one moment. The JSON form has 4D's property names and order, followed
// by fourd's lastActivity, expiration (left out for a session that never
// expires), userAgent and userID.
type SessionInfo struct {
	Type             SessionType
	UserName         string
	MachineName      string
	SystemUserName   string
	IPAddress        string
	HostType         string
	CreationDateTime time.Time
	State            SessionState
	ID               string
	PersistentID     string
	LastActivity     time.Time // fourd: time of the last request
	Expiration       time.Time // fourd: when it expires if idle; zero if never
	UserAgent        string    // fourd: the client's User-Agent
	UserID           string    // fourd: the user's ID, GuestUserID for a guest
	// Locks are the entity locks the session holds (fourd), filled by
	// Activity.AddLocks; nil when it holds none.
	Locks []EntityLock
}

// SessionCount is what SessionStore.Count returns.
type SessionCount struct {
	Total             int // sessions, the stored-procedure session included
	Guests            int // client sessions with no user and no privilege
	GuestsFromAddress int // guests whose IPAddress is the address asked for
}

// CountsAsGuest reports whether s counts as a guest for the session
// quotas: a client session with no user and no privilege (the
// stored-procedure session is the server's own, not a guest).
func CountsAsGuest(s *Session) bool {
	return s.Type != SessionStoredProcedure && s.IsGuest() && s.UserName() == ""
}

// SessionStore keeps the sessions of a server.
//
// Implementations are safe for concurrent use. The in-memory store (inmem)
// serves one node; a shared store lets several nodes see the same sessions.
type SessionStore interface {
	// Create stores a new session.
	Create(ctx context.Context, s *Session) error
	// Session returns the live session with that ID; an unknown or expired
	// ID returns a *Error with code ENOTFOUND.
	Session(ctx context.Context, id string) (*Session, error)
	// Touch records a request in the session at now, sliding its expiration.
	Touch(ctx context.Context, s *Session, now time.Time) error
	// Delete removes the session; an unknown ID returns ENOTFOUND.
	Delete(ctx context.Context, id string) error
	// Replace removes old and stores its successor in one step, so that no
	// request sees neither; ENOTFOUND if old is gone.
	Replace(ctx context.Context, old, successor *Session) error
	// Count returns what the session quotas read: how many sessions there
	// are, how many of them are guests, and how many guests come from
	// address. Its cost does not depend on the number of sessions (counters
	// kept beside them). A session counts as a guest by what it was when
	// stored (by Create or Replace): a client session with no user and no
	// privilege. Sessions expired but not yet removed by Expire still
	// count.
	Count(ctx context.Context, address string) (SessionCount, error)
	// Sessions returns a snapshot of every live session's info, oldest first.
	Sessions(ctx context.Context) ([]SessionInfo, error)
	// Expire removes every session idle for its whole lifetime at now and
	// returns their IDs.
	Expire(ctx context.Context, now time.Time) ([]string, error)
}

// EndSession ends the session with that ID for good. It is the one way a
// client session ends, whatever ends it: its idle lifetime passing (the
// session timer), an administrator's drop ($session/drop and the Go API's
// DropSession) and the client's logout ($directory/logout). The session is
// removed from sessions, every process of it is aborted with cause (a
// request waiting on its client included: see the rest package), and every
// entity set it made is released from sets, and every entity lock it
// holds from locks (either may be nil: a server without datastore keeps
// none), so that nothing of the session outlives it.
//
// It returns how many processes it aborted and sets it released. When the
// session is not stored (Expire removed it already, or the ID is unknown)
// the processes and sets that still carry its ID are ended all the same,
// and the error is the store's ENOTFOUND.
func EndSession(ctx context.Context, sessions SessionStore, procs ProcessTable, sets EntitySetStore, locks LockTable, id string, cause error) (processes, released int, err error) {
	err = sessions.Delete(ctx, id)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return 0, 0, err
	}
	if procs != nil {
		processes = procs.AbortSession(id, cause)
	}
	if locks != nil {
		locks.ReleaseSession(ctx, id)
	}
	if sets != nil {
		n, rerr := sets.ReleaseSession(ctx, id)
		if rerr != nil {
			return processes, n, rerr
		}
		released = n
	}
	return processes, released, err
}
