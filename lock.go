package fourd

import (
	"context"
	"time"
)

// EntityLock is a pessimistic lock on one entity, as REST's $lock=true
// takes it: held by a session, which alone may update, delete or unlock
// the entity until it unlocks it or ends. A lock with a ProcessID is held
// for that process of the session (a lock a class function takes) and is
// released when the process ends, aborted or not.
type EntityLock struct {
	DataClass string
	Key       string // the entity's primary key in text form
	Row       RowID  // the entity's row, for deletions by selection
	SessionID string
	ProcessID int64     // 0: held until unlocked or the session ends
	Locked    time.Time // when it was taken

	// What other sessions are told of the holder (4D's lockInfo for a
	// REST session): the Host header of the request that locked it, the
	// client's address and user agent, and the session's user name.
	Host      string
	IPAddress string
	UserAgent string
	UserName  string
}

// Lock statuses of 4D's __STATUS objects ($lock.md).
const (
	LockStatusStampChanged = 2 // "Stamp has changed"
	LockStatusLocked       = 3 // "Already locked"
	LockStatusOther        = 4 // "Other error"
	LockStatusGone         = 5 // "Entity does not exist anymore"
	// LockKindSession is 4D's lockKind of a lock held by a REST session
	// ("Locked by session").
	LockKindSession = 7
)

// LockedError is the error of an action refused because another session
// holds a lock on the entity: its Code is ECONFLICT, its Holder says who.
type LockedError struct {
	Err    *Error // ECONFLICT, errCode ErrCodeLocked
	Holder EntityLock
}

// Error implements the error interface.
func (e *LockedError) Error() string { return e.Err.Error() }

// Unwrap returns the *Error, so that ErrorCode and errors.As see it.
func (e *LockedError) Unwrap() error { return e.Err }

// ErrLocked returns the error for an entity that another session holds.
func ErrLocked(holder EntityLock) *LockedError {
	return &LockedError{
		Err:    Errorf(ECONFLICT, ErrCodeLocked, "%s(%s) is locked by another session", holder.DataClass, holder.Key),
		Holder: holder,
	}
}

// LockTable keeps the entity locks of a server.
//
// Implementations are safe for concurrent use. Every method's cost is in
// the number of locks concerned, never in the number of all locks or
// sessions.
type LockTable interface {
	// Lock takes l. If the entity is already locked by l's session it
	// returns that lock (a session-wide lock is not turned into a process
	// one); if by another session, a *LockedError naming the holder.
	Lock(ctx context.Context, l EntityLock) (EntityLock, error)
	// Unlock releases the lock of sessionID on the entity and reports
	// whether there was one; a *LockedError if another session holds it.
	Unlock(ctx context.Context, dataClass, key, sessionID string) (bool, error)
	// Holder returns the lock on the entity, if any.
	Holder(ctx context.Context, dataClass, key string) (EntityLock, bool)
	// Locks returns the locks on entities of dataClass held by sessions
	// other than sessionID.
	Locks(ctx context.Context, dataClass, exceptSessionID string) []EntityLock
	// SessionLocks returns the locks a session holds, oldest first.
	SessionLocks(ctx context.Context, sessionID string) []EntityLock
	// ReleaseSession releases every lock of a session and returns how many.
	ReleaseSession(ctx context.Context, sessionID string) int
	// ReleaseProcess releases the locks held for a process and returns how many.
	ReleaseProcess(ctx context.Context, processID int64) int
	// MoveSession gives the locks of session from to session to: a login
	// gives a session a new ID and its locks follow it.
	MoveSession(ctx context.Context, from, to string) int
}
