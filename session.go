package fourd

import (
	"context"
	"strings"
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
// it expires. Its processes carry its ID. It is a plain value: a copy
// never changes under its holder, and it round-trips through JSON exactly
// (times in UTC to the nanosecond, IdleTimeout in nanoseconds), so that a
// store may keep it in memory or send it to another node. The session a
// server serves is the one in its SessionStore: a change is made there,
// through SessionStore.Update, never on a copy.
//
// A login gives a client a new session ID (no session fixation): the
// SessionStore replaces the session (Replace) rather than changing its ID.
type Session struct {
	ID             string      `json:"id"` // 32 uppercase hex characters
	Type           SessionType `json:"type"`
	Created        time.Time   `json:"created"`
	IPAddress      string      `json:"ipAddress,omitempty"`      // client address without port; "localhost" for the stored-procedure session
	UserAgent      string      `json:"userAgent,omitempty"`      // the client's User-Agent header, for REST and web sessions
	MachineName    string      `json:"machineName,omitempty"`    // server host name for the stored-procedure session; "" for REST: an HTTP client does not send one
	SystemUserName string      `json:"systemUserName,omitempty"` // OS user running the server for the stored-procedure session; "" for REST
	HostType       string      `json:"hostType,omitempty"`       // the server's OS for the stored-procedure session; "" for REST: unknown
	PersistentID   string      `json:"persistentID,omitempty"`   // only 4D remote sessions have one; always "" in fourd
	Node           string      `json:"node,omitempty"`           // the node that opened the session (fourd); its successor after a login keeps it

	// UserID is GuestUserID until a login; UserName is "" for a guest REST
	// session, as in 4D until setPrivileges gives one.
	UserID   string `json:"userID"`
	UserName string `json:"userName,omitempty"`
	// DirectoryUser says the user logged in against the server's users
	// directory (users.json): the server then follows that user's changes
	// (a removed user's sessions end, new privileges apply at the session's
	// next request). A user that a Go program's own authentify function
	// logs in is not a directory user.
	DirectoryUser bool `json:"directoryUser,omitempty"`
	// Privileges are the session's privileges, roles and includes expanded
	// (Roles.Expand), in the order they were set (4D's
	// Session.getPrivileges). Setting them replaces the previous ones, as
	// 4D's Session.setPrivileges does; nil makes the session a guest again
	// (Session.clearPrivileges).
	Privileges []string `json:"privileges,omitempty"`

	// LastActivity is the time of the session's last request, as stored:
	// see SessionStore.Touch for how far behind it may be.
	LastActivity time.Time `json:"lastActivity"`
	// IdleTimeout is the idle lifetime (4D's Session.idleTimeout); 0 means
	// the session never expires.
	IdleTimeout time.Duration `json:"idleTimeout"`
}

// NewSession returns a new guest session of type typ with a fresh ID,
// created at now, that expires after idle of inactivity (0: never).
func NewSession(typ SessionType, now time.Time, idle time.Duration) Session {
	now = now.UTC()
	return Session{ID: NewID(), Type: typ, Created: now, UserID: GuestUserID, LastActivity: now, IdleTimeout: idle}
}

// Clone returns a copy of s that shares nothing with it (Privileges is
// copied; an empty list becomes nil, as JSON gives it back). Stores hand
// out and keep clones, so that no caller changes a stored session by
// changing its copy's slice.
func (s Session) Clone() Session {
	if len(s.Privileges) == 0 {
		s.Privileges = nil
	} else {
		s.Privileges = append([]string(nil), s.Privileges...)
	}
	return s
}

// Successor returns the session a login turns s into: a new ID (so that an
// ID known before the login is worth nothing after it: no session
// fixation), created and active at now, with s's client, user, privileges
// and idle lifetime. SessionStore.Replace swaps the two.
func (s Session) Successor(now time.Time) Session {
	n := s.Clone()
	now = now.UTC()
	n.ID, n.Created, n.LastActivity = NewID(), now, now
	return n
}

// Expiration returns when the session expires if it stays idle, read from
// its stored LastActivity, or the zero time for a session that never
// expires.
func (s Session) Expiration() time.Time {
	if s.IdleTimeout <= 0 {
		return time.Time{}
	}
	return s.LastActivity.Add(s.IdleTimeout)
}

// Expired reports whether the session has been idle for its whole lifetime
// at now. A store that writes every Touch decides expiry with it; a store
// that writes Touch lazily uses ExpiredLazily.
func (s Session) Expired(now time.Time) bool {
	exp := s.Expiration()
	return !exp.IsZero() && !now.Before(exp)
}

// TouchInterval returns how much of an idle lifetime may pass before a
// request's activity must be written to the store (SessionStore.Touch): a
// tenth of the lifetime, at most one minute (one minute for a session that
// never expires). A tenth keeps the error on a short lifetime's expiry
// within 10% (6 s for the shortest lifetime the server accepts, one
// minute); the minute keeps lastActivity, which $activity shows, as fresh
// as people read it, while a busy client of a 60-minute session costs its
// store one write a minute instead of one a request.
func TouchInterval(idle time.Duration) time.Duration {
	if idle <= 0 {
		return time.Minute
	}
	return min(idle/10, time.Minute)
}

// TouchDue reports whether a request at now must be written to a store
// that writes Touch lazily: TouchInterval or more has passed since the
// stored LastActivity.
func (s Session) TouchDue(now time.Time) bool {
	return now.Sub(s.LastActivity) >= TouchInterval(s.IdleTimeout)
}

// ExpiredLazily is Expired for a store that writes Touch only when
// TouchDue: its LastActivity may be up to TouchInterval behind the last
// request, so the session is kept that much longer, to be sure it never
// ends before its idle lifetime (it may live up to TouchInterval longer).
func (s Session) ExpiredLazily(now time.Time) bool {
	exp := s.Expiration()
	return !exp.IsZero() && !now.Before(exp.Add(TouchInterval(s.IdleTimeout)))
}

// PrivilegeWebAdmin is the admin privilege: with access control on,
// $info, $activity and the admin actions require it. roles.json (package
// access) reserves the name: it always exists and may be listed without
// being declared.
const PrivilegeWebAdmin = "WebAdmin"

// HasPrivilege reports whether the session has the privilege; names are
// case-insensitive, as in roles.json.
func (s Session) HasPrivilege(name string) bool {
	for _, p := range s.Privileges {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// IsGuest reports whether the session has no privilege (4D's
// Session.isGuest for REST sessions).
func (s Session) IsGuest() bool { return len(s.Privileges) == 0 }

// CountsAsGuest reports whether s counts as a guest for the session
// quotas: a client session with no user and no privilege (the
// stored-procedure session is the server's own, not a guest).
func (s Session) CountsAsGuest() bool {
	return s.Type != SessionStoredProcedure && s.IsGuest() && s.UserName == ""
}

// Info returns the session's .info object (4D's Session info).
func (s Session) Info() SessionInfo {
	return SessionInfo{
		Type:             s.Type,
		UserName:         s.UserName,
		MachineName:      s.MachineName,
		SystemUserName:   s.SystemUserName,
		IPAddress:        s.IPAddress,
		HostType:         s.HostType,
		CreationDateTime: s.Created,
		State:            SessionActive,
		ID:               s.ID,
		PersistentID:     s.PersistentID,
		LastActivity:     s.LastActivity,
		Expiration:       s.Expiration(),
		UserAgent:        s.UserAgent,
		UserID:           s.UserID,
		Node:             s.Node,
	}
}

// SessionInfo is 4D's Session.info object: a copy of a session's properties
// at one moment. The JSON form has 4D's property names and order, followed
// by fourd's lastActivity, expiration (left out for a session that never
// expires), userAgent, userID and node.
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
	Node             string    // fourd: the node that opened the session; left out of the JSON form when ""
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

// SessionStore keeps the sessions of a server: the one place a session
// lives. Callers get copies (plain values) and change a session only
// through the store, with Update or Replace, so that a store shared by
// several nodes (Redis) loses no change and every node sees it.
//
// Implementations are safe for concurrent use. Errors a client may see are
// *Error values: ENOTFOUND (errCode ErrCodeUnknownSession) for an ID that
// is unknown, removed, or expired but not yet swept (an expired session is
// never served, whatever the sweep's delay); EINVALID for a refused
// argument. Any other error is the backend's own (a lost connection) and
// changed nothing.
//
// Expiry: a session expires once it has been idle for its IdleTimeout
// after its last request (Touch). Session, Sessions, Update and Replace
// treat it as gone from then on; Expire removes it. What the store
// reports as its LastActivity (and Expiration, computed from it) may be
// behind the last request by less than TouchInterval(IdleTimeout): see
// Touch. The in-memory store (inmem) writes every Touch and serves one
// node; a shared store writes lazily and lets several nodes see the same
// sessions: a change made through it on one node is seen by every node's
// next call.
type SessionStore interface {
	// Create stores a new session; a session whose ID is already stored is
	// refused with EINVALID.
	Create(ctx context.Context, s Session) error
	// Session returns a copy of the session with that ID, as stored now;
	// ENOTFOUND for an unknown or expired ID.
	Session(ctx context.Context, id string) (Session, error)
	// Update changes the session with that ID: fn receives a copy of the
	// stored session and returns the session to store, which Update
	// returns. An error from fn is returned as it is and changes nothing.
	// fn may be called more than once (a shared store calls it again when
	// another writer changed the session between its read and its write),
	// so it must be pure: compute from its argument, change nothing
	// outside, not call the store. The result keeps the session's ID (else
	// EINVALID: a new ID is a Replace). ENOTFOUND for an unknown or expired
	// ID. Concurrent Updates of one session are serialised: none is lost.
	Update(ctx context.Context, id string, fn func(Session) (Session, error)) (Session, error)
	// Touch records a request in the session at now, sliding its
	// expiration; ENOTFOUND for an unknown or expired ID. It runs on every
	// request, so a store may write it lazily: only when the stored
	// LastActivity is TouchInterval(IdleTimeout) or more before now
	// (Session.TouchDue). The stored LastActivity is then behind the last
	// request by less than TouchInterval, and never goes back. Either way,
	// a session touched at T is served until T+IdleTimeout at least (never
	// less: a lazy store checks expiry with Session.ExpiredLazily) and
	// expires by T+IdleTimeout+TouchInterval at most if it is not touched
	// again.
	Touch(ctx context.Context, id string, now time.Time) error
	// Delete removes the session; ENOTFOUND for an unknown ID.
	Delete(ctx context.Context, id string) error
	// Replace turns the session with ID id into its successor in one step,
	// as a login does: fn receives a copy of the stored session and
	// returns the successor (Session.Successor, then the login's user,
	// privileges and lifetime). The old ID stops answering and the
	// successor is stored at once, so that no request sees neither and no
	// Update made meanwhile is lost: fn sees it, or it fails with
	// ENOTFOUND. fn follows Update's rules (it may be called more than
	// once); its error is returned as it is and changes nothing. The
	// successor is returned. ENOTFOUND for an unknown or expired id;
	// EINVALID when the successor's ID is id, is not an ID, or is taken.
	Replace(ctx context.Context, id string, fn func(Session) (Session, error)) (Session, error)
	// Count returns what the session quotas read: how many sessions there
	// are, how many of them are guests, and how many guests come from
	// address. Its cost does not depend on the number of sessions (counters
	// kept beside them). A session counts as a guest by what it is now
	// (Session.CountsAsGuest): Update and Replace keep the counters right.
	// Sessions expired but not yet removed by Expire still count.
	Count(ctx context.Context, address string) (SessionCount, error)
	// Sessions returns a snapshot of every live session's info, oldest first.
	Sessions(ctx context.Context) ([]SessionInfo, error)
	// Expire removes every session expired at now and returns their IDs.
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
