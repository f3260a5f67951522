package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/fourd/fourd"
)

// indexBatch is how many rows BuildIndex reads between two progress
// reports and context checks.
const indexBatch = 10_000

// Progress units of an index build, per row: reading a row counts 1,
// sorting and writing it into the index counts 9. On the demo's 100,000
// employees reading takes 10 to 15 % of the build and CREATE INDEX the
// rest (docs/performance.md), so that the percentage follows the time.
const (
	indexReadUnits  = 1
	indexBuildUnits = 9
)

// BuildIndex builds (or rebuilds) the index of attribute attr of dc, which
// the model must ask for (an indexed storage attribute or a relatedEntity),
// reporting through progress (which may be nil). It holds the writer for
// the whole build, in one transaction: saves wait, and a build that is
// stopped (ctx cancelled) leaves the database as it was.
//
// SQLite's CREATE INDEX reports no progress, and the driver keeps SQLite's
// progress callback for itself (it interrupts statements with it), so the
// build is measured in two steps. First fourd reads the attribute's column
// in rowid order, 10,000 rows at a time, into the writer's page cache:
// progress moves by rows read, and the context is checked between
// batches. Then CREATE INDEX sorts and writes the index from those cached
// pages; its share is credited when it ends, and the context interrupts
// it. The total is 10 units per row of the table: 1 for reading the row,
// 9 for indexing it, the split of the time the two steps take on the demo
// data, so that the percentage follows the elapsed time.
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
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "%s.%s is the primary key: its index is the table itself", dc.Name, attr)
	case !t.wantsIndex(c):
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "%s.%s is not indexed in the model", dc.Name, attr)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		var rows, last int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*), coalesce(max("+t.rowCol+"), 0) FROM "+t.name).Scan(&rows, &last); err != nil {
			return err
		}
		if progress != nil {
			progress.Begin("Indexing "+dc.Name+"."+attr, (indexReadUnits+indexBuildUnits)*rows)
		}
		var done int64
		for from := int64(0); from < last; from += indexBatch {
			if err := ctx.Err(); err != nil {
				return err
			}
			var n int64
			if err := tx.QueryRowContext(ctx, "SELECT count("+c.name+" IS NULL) FROM "+t.name+" WHERE "+t.rowCol+" > ? AND "+t.rowCol+" <= ?", from, from+indexBatch).Scan(&n); err != nil {
				return err
			}
			done += n
			if progress != nil {
				progress.Set(indexReadUnits * done)
			}
		}
		if _, err := tx.ExecContext(ctx, "DROP INDEX IF EXISTS "+indexName(dc.Name, attr)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, createIndex(t, c)); err != nil {
			return err
		}
		if progress != nil {
			progress.Set((indexReadUnits + indexBuildUnits) * rows)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index %s.%s: %w", dc.Name, attr, err)
	}
	db.mu.Lock()
	db.missing = slices.DeleteFunc(db.missing, func(r IndexRef) bool { return r.DataClass == dc.Name && r.Attribute == attr })
	db.mu.Unlock()
	return nil
}
