package sqlite

import (
	"context"
	"sync/atomic"
)

// stampCache is the global stamp as the writer last committed it, so that
// GlobalStamp, which every REST answer of data calls, costs an atomic load
// instead of a read transaction: a reader connection, a shared lock on the
// WAL index, and a remap of the file whenever a checkpoint has grown it
// (17 % of the server's CPU under a load of creations, before).
//
// Every change of the stamp goes through this DB's single writer (the
// database file belongs to one server), which reads the stamp inside each
// write transaction, just before its COMMIT, and records it once COMMIT has
// returned, before the write is acknowledged: a caller that reads
// GlobalStamp after its write returned sees that write's stamp or a later
// one. The value only moves forward, so two commits recorded in the other
// order cannot take it back.
type stampCache struct {
	v     atomic.Int64
	known atomic.Bool
}

// get returns the stamp and whether one is known.
func (c *stampCache) get() (int64, bool) {
	if !c.known.Load() {
		return 0, false
	}
	return c.v.Load(), true
}

// seen records the stamp a write transaction read just before it
// committed.
func (c *stampCache) seen(stamp int64) {
	for {
		cur := c.v.Load()
		if c.v.CompareAndSwap(cur, max(cur, stamp)) {
			c.known.Store(true)
			return
		}
	}
}

// forget makes GlobalStamp read the database until the next commit: a
// COMMIT that failed may or may not have changed the stamp.
func (c *stampCache) forget() { c.known.Store(false) }

// stampBeforeCommit reads the stamp inside the write transaction tx, for
// stampCache.seen once it has committed. ok is false when it cannot be
// read (the metadata table does not exist yet, during the first
// migration): the cache then forgets its value rather than keep one that
// the commit may make stale.
func (db *DB) stampBeforeCommit(ctx context.Context, tx wtx) (stamp int64, ok bool) {
	if err := tx.QueryRowContext(ctx, sqlGlobalStamp).Scan(&stamp); err != nil {
		return 0, false
	}
	return stamp, true
}

// stampCommitted records what stampBeforeCommit read, once the
// transaction has committed.
func (db *DB) stampCommitted(stamp int64, ok bool) {
	if ok {
		db.stamp.seen(stamp)
	} else {
		db.stamp.forget()
	}
}
