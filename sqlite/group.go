package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
)

// Group commit: the saves and deletes of concurrent requests are committed
// together, in one transaction of the single writer, instead of one
// transaction each. A commit is most of a small write's cost (the WAL
// frames of every page it changed, then the WAL index), and the pages a
// burst of creations change are mostly the same ones: committing sixteen
// creations costs little more than committing one.
//
// There is no goroutine of its own: the first caller that finds the writer
// idle leads. It takes the writes queued so far (its own included), runs
// each in a savepoint of one transaction, commits, acknowledges each, and
// hands the lead to the first write queued meanwhile. Each write keeps its
// own outcome:
//
//   - a write whose function fails is rolled back to its savepoint: the
//     others in the transaction keep their changes, and it reports its
//     own error;
//   - a write is acknowledged (its caller returns) only after the COMMIT
//     that made it durable returned;
//   - if the group's transaction itself fails (BEGIN, a savepoint
//     statement, COMMIT; or a write whose failure ended the whole
//     transaction, as SQLite does when an INSERT is interrupted), nothing
//     of it was committed, and each of its writes runs again alone, in a
//     transaction of its own, as if there were no grouping;
//   - a caller whose context ends while its write is still queued returns
//     the context's error at once, and its write never runs.
//
// A write function may therefore run more than once; it must set its
// outputs afresh each time (Save clears its results first).

// maxGroup bounds the writes committed together, so that the first of a
// group does not wait behind an unbounded number of others.
const maxGroup = 64

// The states of a queued write. Only the transitions from jobQueued are
// contended, between the waiting caller and a leader, and made by CAS.
const (
	jobQueued    int32 = iota
	jobTaken           // in a leader's group: it will be acknowledged
	jobLead            // chosen to lead the next group
	jobAbandoned       // its caller's context ended while it was queued
)

// writeJob is one caller's write waiting for, or running in, a group.
type writeJob struct {
	ctx   context.Context
	fn    func(tx *sql.Tx) error
	state atomic.Int32
	err   error         // the write's outcome, set before done is closed
	done  chan struct{} // closed when acknowledged
	lead  chan struct{} // closed when the job is chosen to lead
}

// writeQueue holds the writes waiting for the writer.
type writeQueue struct {
	mu      sync.Mutex
	pending []*writeJob
	leading bool // a leader runs a group now
}

// writeGroup runs fn in a transaction of the writer, possibly together
// with other callers' writes (see group commit above), and returns once
// that transaction has committed (nil) or fn's changes were rolled back
// (fn's error, or the database's). fn must leave the transaction usable
// when it returns an error (it must not COMMIT or ROLLBACK it).
func (db *DB) writeGroup(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan struct{}), lead: make(chan struct{})}
	q := &db.wq
	q.mu.Lock()
	q.pending = append(q.pending, j)
	leads := !q.leading
	if leads {
		q.leading = true
		j.state.Store(jobLead)
	}
	q.mu.Unlock()
	if !leads {
		select {
		case <-j.done:
			return j.err
		case <-j.lead:
		case <-ctx.Done():
			if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
				return ctx.Err() // a leader drops it from the queue
			}
			// A leader took it or chose it: it will be acknowledged or lead.
			select {
			case <-j.done:
				return j.err
			case <-j.lead:
			}
		}
	}
	db.leadGroup(j)
	<-j.done
	return j.err
}

// leadGroup runs one group, led by self (queued, in state jobLead), then
// passes the lead on. It returns once every write of the group is
// acknowledged, self's included.
func (db *DB) leadGroup(self *writeJob) {
	q := &db.wq
	q.mu.Lock()
	var group []*writeJob
	i := 0
	for ; i < len(q.pending) && len(group) < maxGroup; i++ {
		j := q.pending[i]
		if j == self || j.state.CompareAndSwap(jobQueued, jobTaken) {
			group = append(group, j)
		}
	}
	q.pending = append(q.pending[:0:0], q.pending[i:]...)
	q.mu.Unlock()

	defer func() {
		// Pass the lead to the first write still waiting, even when a write
		// function panicked: the others must not wait forever.
		q.mu.Lock()
		for len(q.pending) > 0 {
			j := q.pending[0]
			if j.state.CompareAndSwap(jobQueued, jobLead) {
				close(j.lead) // it stays first in the queue: its group takes it
				q.mu.Unlock()
				return
			}
			q.pending = q.pending[1:] // abandoned
		}
		q.pending = nil
		q.leading = false
		q.mu.Unlock()
	}()
	defer func() {
		if p := recover(); p != nil {
			for _, j := range group {
				select {
				case <-j.done:
				default:
					j.err = errors.New("sqlite: a write of the same group panicked; nothing of it was committed")
					close(j.done)
				}
			}
			panic(p)
		}
	}()

	if len(group) == 1 || !db.commitGroup(group) {
		// Alone, or the group's transaction failed: nothing of it was
		// committed, so each write runs again in its own transaction.
		for _, j := range group {
			j.err = db.write(j.ctx, j.fn)
			close(j.done)
		}
	}
}

// commitGroup runs the group's writes in one transaction, each in a
// savepoint, and commits. It reports false, having rolled everything back
// and acknowledged nothing, when the transaction itself failed; true once
// it committed and acknowledged every write.
func (db *DB) commitGroup(group []*writeJob) bool {
	// The group's own statements run under no caller's context: one
	// request's abort must not cut another's commit. Each write's
	// statements run under its own context.
	bg := context.Background()
	tx, err := db.writer.BeginTx(bg, nil)
	if err != nil {
		return false
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing; after a panic it frees the writer
	errs := make([]error, len(group))
	for i, j := range group {
		if err := j.ctx.Err(); err != nil {
			errs[i] = err // aborted while queued: it runs nothing
			continue
		}
		if _, err := tx.ExecContext(bg, "SAVEPOINT fourd_write"); err != nil {
			return false
		}
		err := j.fn(tx)
		if err != nil {
			if _, rerr := tx.ExecContext(bg, "ROLLBACK TO fourd_write"); rerr != nil {
				return false // SQLite ended the transaction: each runs alone
			}
		}
		if _, rerr := tx.ExecContext(bg, "RELEASE fourd_write"); rerr != nil {
			return false
		}
		errs[i] = ctxErr(j.ctx, err)
	}
	stamp, known := db.stampBeforeCommit(bg, wtx{db, tx})
	if db.beforeCommit != nil {
		db.beforeCommit(len(group))
	}
	if err := tx.Commit(); err != nil {
		db.stamp.forget() // in doubt
		return false
	}
	db.stampCommitted(stamp, known)
	for i, j := range group {
		j.err = errs[i]
		close(j.done)
	}
	db.prepareWanted(bg)
	return true
}
