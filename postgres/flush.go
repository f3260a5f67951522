package postgres

import (
	"context"
	"fmt"

	"github.com/fourd/fourd"
)

// Flush is 4D's cache flush on PostgreSQL. A commit there is durable when
// it returns (fourd never turns synchronous_commit off): the write-ahead
// log holds it, and nothing fourd wrote waits in a cache of fourd's own.
// What is left to flush is PostgreSQL's: its shared buffers, written to
// the table files by a checkpoint, which shortens a crash recovery.
//
// So Flush runs CHECKPOINT when the role may (a superuser, or, from
// PostgreSQL 15, a member of pg_checkpoint), and otherwise does nothing
// and says so in the progress title ("commits are durable: nothing to
// flush"): a flush never fails for want of a privilege that the data's
// safety does not need. progress (which may be nil) counts one step.
// ctx cancels the checkpoint request (the checkpoint itself, run by
// PostgreSQL's checkpointer, completes on its own).
func (db *DB) Flush(ctx context.Context, progress *fourd.ProgressIndicator) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if progress != nil {
		progress.Begin("Flushing the data cache (CHECKPOINT)", 1)
	}
	var allowed bool
	err := db.pool.QueryRow(ctx, `SELECT r.rolsuper OR CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pg_checkpoint')
		THEN pg_has_role(current_user, 'pg_checkpoint', 'MEMBER') ELSE false END
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&allowed)
	if err != nil {
		return fmt.Errorf("flush: %w", ctxErr(ctx, err))
	}
	if !allowed {
		if progress != nil {
			progress.SetTitle("Flushing the data cache: commits are durable, nothing to flush (CHECKPOINT needs superuser or pg_checkpoint)")
			progress.Set(1)
		}
		return nil
	}
	if _, err := db.pool.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("flush: %w", ctxErr(ctx, err))
	}
	if progress != nil {
		progress.Set(1)
	}
	return nil
}
