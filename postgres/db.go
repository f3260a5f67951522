package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/fourd/fourd"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Interface checks: the datastore and its optional capabilities.
var (
	_ fourd.Datastore = (*DB)(nil)
	_ fourd.Indexer   = (*DB)(nil)
	_ fourd.Flusher   = (*DB)(nil)
	_ fourd.Validator = (*DB)(nil)
)

// DB is fourd's datastore on a PostgreSQL database: one table per
// dataclass in one schema (the first of the connection's search_path),
// shared by every fourd node that opens the same URL.
//
// All methods are safe for concurrent use, also by several DB values on
// the same schema (in one process or on several nodes): every write is one
// PostgreSQL transaction that checks stamps and bumps the global stamp
// itself. Every method takes a context: when it is cancelled (a process
// aborted), pgx cancels the running statement on the server and the
// method returns the context's error.
type DB struct {
	// Now returns the time recorded as __TIMESTAMP on save. Open sets it to
	// time.Now; tests may replace it before the DB is used.
	Now func() time.Time

	name   string // the database name in 4D's messages: PostgreSQL's database name
	schema string // the schema the tables live in
	model  *fourd.Model
	tables map[*fourd.DataClass]*table
	pool   *pgxpool.Pool

	mu        sync.Mutex
	missing   []IndexRef
	migration Migration

	counts countCache // Page's counts, for the current global stamp

	closeOnce sync.Once
}

// Open connects to the PostgreSQL database that url names (a postgres://
// URL or a key=value connection string, as libpq reads them; pgx's
// pool_max_conns and the like are honoured), creates the tables of new
// dataclasses and adds the columns of new attributes (see Migration), in
// the first schema of the connection's search_path ("public" unless the
// URL sets search_path). It does not build the indexes a populated table
// lacks: MissingIndexes lists them for BuildIndex.
//
// Several nodes may open the same database at once: their migrations are
// serialised by a transaction-level advisory lock, and each sees the
// schema the one before left. The model must have been validated
// (fourd.ParseModel or Model.Init); Open refuses names PostgreSQL would
// confuse (differing only in case, starting with "__") and a changed
// attribute type, naming the attribute.
func Open(ctx context.Context, url string, model *fourd.Model) (*DB, error) {
	if model == nil {
		return nil, errors.New("open postgres: no model")
	}
	tables, err := newTables(model)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// Enough connections for every core to run a query and for requests
	// that wait on the network between two statements, unless the URL
	// says otherwise (pool_max_conns).
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.ConnConfig.RuntimeParams["application_name"] = "fourd"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := &DB{Now: time.Now, model: model, tables: tables, pool: pool}
	var schema *string
	if err := pool.QueryRow(ctx, "SELECT current_database(), current_schema()").Scan(&db.name, &schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if schema == nil {
		pool.Close()
		return nil, errors.New("open postgres: no schema to create tables in: the search_path names no existing schema")
	}
	db.schema = *schema
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return db, nil
}

// Close closes every connection of the pool, waiting for those in use to
// be released. It is idempotent.
func (db *DB) Close() error {
	db.closeOnce.Do(db.pool.Close)
	return nil
}

// Model returns the model the datastore serves.
func (db *DB) Model() *fourd.Model { return db.model }

// Schema returns the schema the datastore's tables live in.
func (db *DB) Schema() string { return db.schema }

// Pool returns the connection pool, for tools and tests.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Readers returns how many queries can run at once: the pool's size. A
// server that admits no more queries at once than Readers()-1 keeps one
// connection free for lookups by key (see rest.Handler.MaxQueries).
func (db *DB) Readers() int { return int(db.pool.Config().MaxConns) }

// write runs fn in a read-committed transaction and commits it when fn
// returns nil; otherwise it rolls back and returns fn's error.
//
// Read committed is enough for fourd's writes: an update locks its row
// (SELECT ... FOR UPDATE) before it compares stamps, so a concurrent
// update of the same entity waits and then sees the new stamp; creations
// take their keys from the key counter row, which orders them likewise.
func (db *DB) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return ctxErr(ctx, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return ctxErr(ctx, err)
	}
	return ctxErr(ctx, tx.Commit(ctx))
}

// read runs fn in a read-only repeatable-read transaction: every query fn
// makes sees the same snapshot of the database.
func (db *DB) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return ctxErr(ctx, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a read transaction has nothing to lose
	return ctxErr(ctx, fn(tx))
}

// ctxErr returns ctx's error instead of err when ctx ended: a statement
// that pgx cancelled on the server fails with PostgreSQL's "canceling
// statement due to user request", which says less than the context.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// pgCode returns the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// SQLSTATEs fourd reacts to.
const (
	codeUniqueViolation  = "23505"
	codeSequenceLimit    = "2200H" // sequence_generator_limit_exceeded: a table's row numbers are spent
	codeSerialization    = "40001"
	codeDeadlockDetected = "40P01"
)
