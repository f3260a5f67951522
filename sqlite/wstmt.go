package sqlite

import (
	"context"
	"database/sql"
)

// maxWriteStmts bounds the writer's prepared statements. Their texts
// depend on the dataclass and on which attributes a save sets, so a few
// dozen cover a model; past the bound, statements run unprepared.
const maxWriteStmts = 256

// wtx is a write transaction that runs its statements through the writer's
// prepared statements: parsing and planning was a fifth of creating an
// entity (BenchmarkCreate's profile). The writer is one connection, so a
// statement prepared on it once is reused by every later transaction
// (Tx.StmtContext finds it prepared on the transaction's connection).
//
// A statement is never prepared inside a transaction: preparing on the
// writer pool waits for its one connection, which the transaction holds.
// A text not prepared yet runs unprepared and is noted; write prepares the
// noted texts after the transaction ends, when the connection is free.
type wtx struct {
	db *DB
	tx *sql.Tx
}

// stmt returns the transaction's form of the prepared statement for query,
// or nil after noting query to be prepared.
func (w wtx) stmt(ctx context.Context, query string) *sql.Stmt {
	w.db.wstmtMu.Lock()
	st, ok := w.db.wstmts[query]
	if !ok && len(w.db.wstmts)+len(w.db.wwant) < maxWriteStmts {
		if w.db.wwant == nil {
			w.db.wwant = make(map[string]struct{})
		}
		w.db.wwant[query] = struct{}{}
	}
	w.db.wstmtMu.Unlock()
	if st == nil {
		return nil
	}
	return w.tx.StmtContext(ctx, st)
}

func (w wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := w.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return w.tx.ExecContext(ctx, query, args...)
}

func (w wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := w.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return w.tx.QueryContext(ctx, query, args...)
}

func (w wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := w.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return w.tx.QueryRowContext(ctx, query, args...)
}

// prepareWanted prepares on the writer the statements transactions noted,
// once no transaction holds the writer's connection. A text that fails to
// prepare is dropped; it keeps running unprepared.
func (db *DB) prepareWanted(ctx context.Context) {
	db.wstmtMu.Lock()
	want := db.wwant
	db.wwant = nil
	db.wstmtMu.Unlock()
	for q := range want {
		if ctx.Err() != nil {
			return
		}
		st, err := db.writer.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		db.wstmtMu.Lock()
		if _, dup := db.wstmts[q]; dup || db.wclosed {
			db.wstmtMu.Unlock()
			st.Close()
			continue
		}
		if db.wstmts == nil {
			db.wstmts = make(map[string]*sql.Stmt)
		}
		db.wstmts[q] = st
		db.wstmtMu.Unlock()
	}
}

// closeWriteStmts closes the writer's prepared statements, for Close.
func (db *DB) closeWriteStmts() {
	db.wstmtMu.Lock()
	defer db.wstmtMu.Unlock()
	for _, st := range db.wstmts {
		st.Close()
	}
	db.wstmts, db.wwant, db.wclosed = nil, nil, true
}
