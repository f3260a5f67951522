package fourd

import (
	"context"
	"strings"
	"time"
)

// DefaultEntitySetTimeout is an entity set's lifetime when $timeout is not
// given: 4D's 2 hours.
const DefaultEntitySetTimeout = 2 * time.Hour

// RebuiltEntitySetTimeout is the lifetime of a set rebuilt from its saved
// filter and order: 4D's 10 minutes, whatever the original $timeout.
const RebuiltEntitySetTimeout = 10 * time.Minute

// RowSet is the content of an entity set: row IDs, either in an order
// (sorted: a packed array) or as a set (unsorted: a compressed bitmap,
// iterated in ascending row order). A RowSet is immutable once built and
// safe for concurrent use.
type RowSet interface {
	// Len returns the number of rows.
	Len() int
	// Sorted reports whether the rows keep an order of their own.
	Sorted() bool
	// Bytes returns the heap bytes the representation holds.
	Bytes() int
	// Page returns at most n rows starting at position skip.
	Page(skip, n int) []RowID
	// Contains reports whether row is in the set.
	Contains(row RowID) bool
	// AppendTo appends every row, in order, to dst.
	AppendTo(dst []RowID) []RowID
}

// SetOperator is a $logicOperator.
type SetOperator string

// The operators of $logicOperator (case-insensitive on the wire).
const (
	SetAnd       SetOperator = "AND"       // rows in both
	SetOr        SetOperator = "OR"        // rows in either
	SetExcept    SetOperator = "EXCEPT"    // rows of the first that are not in the second
	SetIntersect SetOperator = "INTERSECT" // whether they share a row (a boolean, not a set)
)

// EntitySet is a selection kept on the server: 4D's entity set.
type EntitySet struct {
	ID           string // 32 uppercase hex characters
	DataClass    string
	Rows         RowSet
	SessionID    string // the session that made it; "" for the server's own sets
	Created      time.Time
	Refreshed    time.Time     // creation or last use
	Timeout      time.Duration // expires at Refreshed + Timeout
	SavedFilter  string        // $savedfilter: rebuilds the set if it vanishes
	SavedOrderBy string        // $savedorderby
}

// Expires returns when the set expires if it is not used again.
func (es *EntitySet) Expires() time.Time { return es.Refreshed.Add(es.Timeout) }

// Bytes returns the bytes the set holds in the cache: its rows and its
// bookkeeping.
func (es *EntitySet) Bytes() int {
	const overhead = 256 // the struct, its strings and the store's index entry
	n := overhead + len(es.ID) + len(es.DataClass) + len(es.SessionID) + len(es.SavedFilter) + len(es.SavedOrderBy)
	if es.Rows != nil {
		n += es.Rows.Bytes()
	}
	return n
}

// EntitySetInfo is one element of $info.entitySet.
type EntitySetInfo struct {
	ID            string
	DataClass     string
	SelectionSize int
	Sorted        bool
	Refreshed     time.Time
	Expires       time.Time
	SessionID     string // fourd: the session that made it
	Bytes         int    // fourd: bytes held in the cache
}

// EntitySetStore is the cache of entity sets: bounded in bytes, expiring
// sets on time, evicting the least recently used when full.
//
// The contract, which storetest.TestEntitySetStore checks for every
// backend: Put keeps a copy of the set and Get returns a copy, so callers
// never share a set the store refreshes; a set whose Expires is at or
// before now is gone everywhere (Get and Release answer 1802, EntitySets
// leaves it out) even before Expire sweeps it; "oldest first" is the order
// sets were put in; Put refuses with EINVALID a nil set, one without ID or
// rows, or with a timeout of 0 or less; NewRowSet copies its input; the
// 1802 error's message is `EntitySet "<ID>" cannot be found`, component
// dbmg.
//
// Implementations are safe for concurrent use. The in-memory store (inmem)
// serves one node.
type EntitySetStore interface {
	// NewRowSet builds the content of a set from rows: sorted keeps their
	// order in a packed array; unsorted stores them as a compressed bitmap
	// (their order is lost; duplicates collapse).
	NewRowSet(rows []RowID, sorted bool) RowSet
	// Combine applies a $logicOperator to two row sets. For SetIntersect
	// the RowSet is nil and the bool is the answer.
	Combine(a, b RowSet, op SetOperator) (RowSet, bool, error)
	// Put stores a set, evicting least recently used sets if the cache
	// would exceed its size. A set larger than the whole cache is refused
	// with EQUOTA (errCode 9012).
	Put(ctx context.Context, es *EntitySet) error
	// Get returns the set with that ID and makes now its refresh time (it
	// expires Timeout later and becomes the most recently used). An
	// unknown, expired or evicted ID returns ENOTFOUND with errCode 1802.
	Get(ctx context.Context, id string, now time.Time) (*EntitySet, error)
	// Release removes the set; ENOTFOUND (1802) if there is none.
	Release(ctx context.Context, id string) error
	// ReleaseOwn removes the set only if the session sessionID made it;
	// a set of another session answers ENOTFOUND (1802) as an unknown
	// one does, so that IDs cannot be probed. Its cost does not depend on
	// how many sets are held.
	ReleaseOwn(ctx context.Context, id, sessionID string) error
	// SessionSets returns how many live sets a session holds, and when the
	// first of them expires (the zero time when it holds none): for the
	// per-session quota and its Retry-After.
	SessionSets(ctx context.Context, sessionID string) (int, time.Time, error)
	// ReleaseSession removes every set of a session and returns how many.
	ReleaseSession(ctx context.Context, sessionID string) (int, error)
	// MoveSession gives every set of session from to session to (a login
	// gives the session a new ID: its sets follow it) and returns how
	// many.
	MoveSession(ctx context.Context, from, to string) (int, error)
	// EntitySets returns a snapshot of every set, oldest first.
	EntitySets(ctx context.Context) ([]EntitySetInfo, error)
	// Expire removes the sets expired at now and returns their IDs.
	Expire(ctx context.Context, now time.Time) ([]string, error)
	// Size returns the cache's size in bytes, and Used the bytes its sets
	// hold now.
	Size() int64
	Used() int64
}

// ReleaseEntitySet releases the entity set with that ID (any case). With
// owner "" it releases any set: the administrator's action, or any client
// on a server without access control, as in 4D. With an owner session ID
// it releases only a set that session made, and answers another's as an
// unknown set (ENOTFOUND, errCode 1802), so that IDs cannot be probed.
// Either way it costs one lookup in the store. It is the one way a set is
// released on request: REST's $method=release and $release, and the Go
// API's ReleaseEntitySet.
func ReleaseEntitySet(ctx context.Context, sets EntitySetStore, id, owner string) error {
	id = strings.ToUpper(id)
	if owner == "" {
		return sets.Release(ctx, id)
	}
	return sets.ReleaseOwn(ctx, id, owner)
}
