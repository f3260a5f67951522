package sqlite

import (
	"context"
	"database/sql/driver"
	"sync/atomic"

	msqlite "modernc.org/sqlite"
)

// started is closed by the SQL function fourd_test_started when a query
// calls it: a test then knows that the query runs.
var started atomic.Pointer[chan struct{}]

func init() {
	// Registered before any connection is opened, as the driver requires.
	drv.MustRegisterScalarFunction("fourd_test_started", 0, func(*msqlite.FunctionContext, []driver.Value) (driver.Value, error) {
		if ch := started.Swap(nil); ch != nil {
			close(*ch)
		}
		return int64(1), nil
	})
}

// LongQuery runs a query that never ends by itself (it counts the rows of
// an infinite recursive CTE) through the read path of the datastore, and
// closes running once SQLite is executing it.
func LongQuery(ctx context.Context, db *DB, running chan struct{}) error {
	started.Store(&running)
	return db.query(ctx, func(tx querier) error {
		var n int64
		return tx.QueryRowContext(ctx, `WITH RECURSIVE c(x) AS (SELECT fourd_test_started() UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c`).Scan(&n)
	})
}

// Pragma returns the value of a pragma on a reader connection and on the
// writer connection.
func Pragma(ctx context.Context, db *DB, name string) (reader, writer string, err error) {
	if err = db.reader.QueryRowContext(ctx, "PRAGMA "+name).Scan(&reader); err != nil {
		return "", "", err
	}
	err = db.writer.QueryRowContext(ctx, "PRAGMA "+name).Scan(&writer)
	return reader, writer, err
}

// CountsCached returns the number of counts db's count cache holds.
func CountsCached(db *DB) int {
	db.counts.mu.Lock()
	defer db.counts.mu.Unlock()
	return len(db.counts.counts)
}

// SetBeforeCommit makes db call f, with the number of writes the
// transaction holds, just before each COMMIT of its writer.
func SetBeforeCommit(db *DB, f func(writes int)) { db.beforeCommit = f }

// PendingWrites returns the number of writes queued for the next group,
// abandoned ones not yet dropped included.
func PendingWrites(db *DB) int {
	db.wq.mu.Lock()
	defer db.wq.mu.Unlock()
	return len(db.wq.pending)
}

// StoredStamp reads the global stamp from the database, as GlobalStamp did
// before it kept the value the writer committed.
func StoredStamp(ctx context.Context, db *DB) (int64, error) {
	var stamp int64
	err := db.reader.QueryRowContext(ctx, sqlGlobalStamp).Scan(&stamp)
	return stamp, err
}
