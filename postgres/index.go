package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/fourd/fourd"
)

// indexPoll is how often BuildIndex reads the build's progress.
const indexPoll = 200 * time.Millisecond

// BuildIndex builds (or rebuilds) the index of attribute attr of dc, which
// the model must ask for (an indexed storage attribute or a relatedEntity),
// with CREATE INDEX CONCURRENTLY: saves go on while it builds, on every
// node. An index already there (or left invalid by a build that failed)
// is dropped first, concurrently too.
//
// progress (which may be nil) follows PostgreSQL's own report of the
// build, pg_stat_progress_create_index, read every 200 ms from another
// connection: its title names the phase ("building index: scanning
// table", "waiting for old snapshots", ...), its total and done are the
// phase's blocks (table scans) or tuples (sorting and loading the index).
// When ctx is cancelled (the Indexing process aborted), pgx cancels the
// statement on the server; PostgreSQL then leaves an invalid index, which
// MissingIndexes lists again and the next build replaces.
func (db *DB) BuildIndex(ctx context.Context, dc *fourd.DataClass, attr string, progress *fourd.ProgressIndicator) error {
	t, err := db.table(dc)
	if err != nil {
		return err
	}
	c := t.byName[attr]
	switch {
	case c == nil:
		return unknownAttribute(dc, attr)
	case c == t.key:
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "%s.%s is the primary key: its index is the key's unique index", dc.Name, attr)
	case !t.wantsIndex(c):
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "%s.%s is not indexed in the model", dc.Name, attr)
	}
	title := "Indexing " + dc.Name + "." + attr
	if progress != nil {
		progress.Begin(title, 0)
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("index %s.%s: %w", dc.Name, attr, ctxErr(ctx, err))
	}
	defer conn.Release()
	var pid int32
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return fmt.Errorf("index %s.%s: %w", dc.Name, attr, ctxErr(ctx, err))
	}
	done := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+indexName(dc.Name, attr))
		if err == nil {
			_, err = conn.Exec(ctx, createIndex(t, c, true))
		}
		done <- err
	}()
	tick := time.NewTicker(indexPoll)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("index %s.%s: %w", dc.Name, attr, ctxErr(ctx, err))
			}
			if progress != nil {
				progress.SetTitle(title)
				progress.Set(progress.Total())
			}
			db.mu.Lock()
			db.missing = slices.DeleteFunc(db.missing, func(r IndexRef) bool { return r.DataClass == dc.Name && r.Attribute == attr })
			db.mu.Unlock()
			return nil
		case <-tick.C:
			if progress != nil {
				db.indexProgress(ctx, pid, title, progress)
			}
		}
	}
}

// indexProgress copies the build's row of pg_stat_progress_create_index
// to progress. A failed read only skips this report.
func (db *DB) indexProgress(ctx context.Context, pid int32, title string, progress *fourd.ProgressIndicator) {
	var phase string
	var blocksDone, blocksTotal, tuplesDone, tuplesTotal int64
	err := db.pool.QueryRow(ctx, `SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total
		FROM pg_stat_progress_create_index WHERE pid = $1`, pid).Scan(&phase, &blocksDone, &blocksTotal, &tuplesDone, &tuplesTotal)
	if err != nil {
		return
	}
	progress.SetTitle(title + ": " + phase)
	switch {
	case blocksTotal > 0 && (tuplesTotal == 0 || blocksDone < blocksTotal):
		progress.SetTotal(blocksTotal)
		progress.Set(blocksDone)
	case tuplesTotal > 0:
		progress.SetTotal(tuplesTotal)
		progress.Set(tuplesDone)
	}
}
