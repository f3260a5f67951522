package sqlite

import (
	"context"
	"fmt"
	"os"

	"github.com/fourd/fourd"
)

// Flush checkpoints the write-ahead log: it copies the pages that commits
// appended to the -wal file into the database file, which is what 4D's
// cache flush amounts to for SQLite. progress (which may be nil) counts WAL
// frames (one frame is one page written by a commit): the total is the
// frames in the log, done the frames copied.
//
// SQLite copies the frames in one call that reports nothing while it
// runs, so the total is first estimated from the size of the -wal file,
// then both numbers are set from what the checkpoint reports when it ends.
// The checkpoint is PASSIVE: it never waits for readers, and frames that a
// running read still needs are left for the next flush (done < total
// then). SQLite also checkpoints by itself whenever the log passes 1,000
// pages, so the log stays small between flushes. ctx is checked before the
// checkpoint starts and interrupts it.
func (db *DB) Flush(ctx context.Context, progress *fourd.ProgressIndicator) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if progress != nil {
		progress.Begin("Flushing the data cache", db.walFrames())
	}
	var busy, frames, copied int64
	// On the writer connection: the checkpoint then never runs beside one of
	// this process's own write transactions.
	err := db.writer.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	if err = ctxErr(ctx, err); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if progress != nil {
		if frames < 0 { // not in WAL mode: nothing to copy
			frames, copied = 0, 0
		}
		progress.SetTotal(frames)
		progress.Set(copied)
	}
	return nil
}

// walFrames estimates the frames in the -wal file from its size: a 32-byte
// header, then frames of a 24-byte header and one page. After a checkpoint
// SQLite rewrites the log from its start without shrinking the file, so
// this can overestimate; Flush corrects it from the checkpoint's own
// figures.
func (db *DB) walFrames() int64 {
	fi, err := os.Stat(db.path + "-wal")
	if err != nil || fi.Size() <= 32 {
		return 0
	}
	const pageSize = 4096 // SQLite's default, which fourd does not change
	return (fi.Size() - 32) / (pageSize + 24)
}
