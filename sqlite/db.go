package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/fourd/fourd"
	msqlite "modernc.org/sqlite"
)

// Interface checks: the datastore and its optional capabilities.
var (
	_ fourd.Datastore = (*DB)(nil)
	_ fourd.Indexer   = (*DB)(nil)
	_ fourd.Flusher   = (*DB)(nil)
	_ fourd.Validator = (*DB)(nil)
)

// DB is fourd's datastore on an embedded SQLite database: one file (plus
// its -wal and -shm files while open), one table per dataclass.
//
// Reads go through a pool of read-only connections; every write goes
// through one writer connection, so that writers never contend for
// SQLite's single write lock and never see SQLITE_BUSY from each other.
// All methods are safe for concurrent use. Every method takes a context:
// when it is cancelled (a process aborted), the running SQL statement is
// interrupted and the method returns the context's error.
type DB struct {
	// Now returns the time recorded as __TIMESTAMP on save. Open sets it to
	// time.Now; tests may replace it before the DB is used.
	Now func() time.Time

	path    string
	name    string // the database name in 4D's messages: the file name without extension
	model   *fourd.Model
	tables  map[*fourd.DataClass]*table
	writer  *sql.DB // exactly one connection
	reader  *sql.DB // read-only connections
	readers int     // the reader pool's size

	mu        sync.Mutex
	missing   []IndexRef
	migration Migration

	stmtMu   sync.Mutex
	stmts    map[string]*stmtEntry // prepared read statements, by SQL text
	maxStmts int                   // bound on len(stmts); maxStmts by default

	counts countCache // Page's counts, for the current global stamp
	stamp  stampCache // the global stamp last committed (GlobalStamp)

	wstmtMu sync.Mutex
	wstmts  map[string]*sql.Stmt // the writer's prepared statements, by SQL text (see wtx)
	wwant   map[string]struct{}  // texts to prepare once the writer is free
	wclosed bool                 // Close has closed wstmts

	wq writeQueue // saves and deletes waiting to be committed together (group.go)
	// beforeCommit, when set (by tests), is called with the number of
	// writes in the transaction just before each COMMIT of the writer.
	beforeCommit func(writes int)

	closeOnce sync.Once
	closeErr  error
}

// Pragmas shared by the writer and the readers. Each is applied to every
// new connection (database/sql opens connections when it wants to), which
// is why they go in the DSN rather than in one Exec after Open.
var pragmas = []string{
	// Another process (fourd index, the sqlite3 shell) may hold a lock for
	// a moment; wait up to 5 s instead of failing at once. Inside this
	// process the single writer connection already serializes writes, and
	// the driver stops waiting when the context is cancelled.
	"busy_timeout=5000",
	// Off, deliberately: relations are checked by Save, which names the
	// attribute and the missing key in its error (SQLite's "FOREIGN KEY
	// constraint failed" names neither), and deleting an entity leaves the
	// entities that point to it intact, as 4D's default delete rule
	// ("leave related many intact") does; enforced REFERENCES would refuse
	// or cascade that delete.
	"foreign_keys=OFF",
	// Sorts (ORDER BY without an index, DISTINCT) and temporary indexes stay
	// in memory instead of temporary files: they are small next to the page
	// caches, and files would cost syscalls.
	"temp_store=MEMORY",
	// Map up to 256 MiB of the file: reads of mapped pages skip the read()
	// syscall and the copy into each connection's page cache, which matters
	// with several reader connections on the same pages. An I/O error on a
	// mapped page becomes a SIGBUS, which a local disk does not produce in
	// practice; a database on a network file system should not be mapped.
	"mmap_size=268435456",
}

// Per-role pragmas.
var (
	writerPragmas = []string{
		// WAL lets readers read a consistent snapshot while the writer
		// writes: a long query never blocks a save, and a save never
		// blocks a query. It is persistent in the file.
		"journal_mode=WAL",
		// In WAL mode NORMAL syncs at checkpoints, not at every commit: a
		// commit survives a crash of the process, and a power loss can
		// lose only the last commits, never corrupt the file. FULL would
		// cost an fsync per save.
		"synchronous=NORMAL",
		// After a checkpoint SQLite reuses the -wal file from its start;
		// this truncates it back to 64 MiB at most, so that one big import
		// does not leave a huge file behind.
		"journal_size_limit=67108864",
		// 64 MiB of page cache for the writer: a bulk insert or an index
		// build keeps its working set of B-tree pages in memory.
		"cache_size=-65536",
	}
	readerPragmas = []string{
		// 16 MiB per reader: with mmap the file's pages are shared through
		// the OS, so each connection needs little of its own.
		"cache_size=-16384",
		// A reader can never write, even through a bug: the writer is the
		// only path to a change.
		"query_only=1",
	}
)

// drv is fourd's own instance of the modernc driver, not registered with
// database/sql under a name, so that the SQL functions fourd adds
// (fourd_keyword) do not leak into other users of the driver in the same
// program.
var drv = newDriver()

func newDriver() *msqlite.Driver {
	d := &msqlite.Driver{}
	d.MustRegisterDeterministicScalarFunction("fourd_keyword", 2, keywordFunc)
	return d
}

// connector opens connections on drv with a fixed DSN.
type connector struct{ dsn string }

func (c connector) Connect(context.Context) (driver.Conn, error) { return drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return drv }

// dsn returns the URI that opens path with the given pragmas; txlock sets
// how BEGIN locks ("immediate" for the writer).
func dsn(path string, txlock string, pragmaLists ...[]string) string {
	q := url.Values{}
	for _, list := range pragmaLists {
		for _, p := range list {
			q.Add("_pragma", p)
		}
	}
	if txlock != "" {
		q.Set("_txlock", txlock)
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// Open opens (creating it if needed) the SQLite database at path for the
// model, creates the tables of new dataclasses and adds the columns of new
// attributes (see Migration for what it reports). It does not build the
// indexes a populated table lacks: MissingIndexes lists them for BuildIndex.
//
// The model must have been validated (fourd.ParseModel or Model.Init).
// Open refuses a model that SQLite cannot store as given (names that
// differ only in case, names starting with "__") and a model that changes
// the type of an existing attribute, with an error naming the attribute.
func Open(path string, model *fourd.Model) (*DB, error) {
	if model == nil {
		return nil, errors.New("open sqlite: no model")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	tables, err := newTables(model)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	name := filepath.Base(abs)
	name = name[:len(name)-len(filepath.Ext(name))]
	db := &DB{Now: time.Now, path: abs, name: name, model: model, tables: tables}

	// The writer: one connection, BEGIN IMMEDIATE so that a write
	// transaction takes the write lock when it starts rather than failing
	// to upgrade a read lock half-way.
	db.writer = sql.OpenDB(connector{dsn(abs, "immediate", pragmas, writerPragmas)})
	db.writer.SetMaxOpenConns(1)
	db.writer.SetMaxIdleConns(1)
	db.writer.SetConnMaxLifetime(0)
	db.writer.SetConnMaxIdleTime(0)

	// The readers: enough connections for every core to run a query, and a
	// few more for requests that wait on the network between two reads.
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	db.reader = sql.OpenDB(connector{dsn(abs, "", pragmas, readerPragmas)})
	db.reader.SetMaxOpenConns(readers)
	db.reader.SetMaxIdleConns(readers)
	db.readers = readers
	db.reader.SetConnMaxIdleTime(5 * time.Minute)

	ctx := context.Background()
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	var stamp int64
	if err := db.writer.QueryRowContext(ctx, sqlGlobalStamp).Scan(&stamp); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite: global stamp: %w", err)
	}
	db.stamp.seen(stamp)
	// Let SQLite gather statistics for tables that lack them (bounded work:
	// analysis_limit), so that the planner chooses between indexes from
	// real data rather than guesses.
	for _, p := range []string{"PRAGMA analysis_limit=1000", "PRAGMA optimize=0x10002"} {
		if _, err := db.writer.ExecContext(ctx, p); err != nil {
			db.Close()
			return nil, fmt.Errorf("open sqlite: optimize: %w", err)
		}
	}
	return db, nil
}

// Close closes the database: it lets SQLite record statistics for the
// planner, then closes every connection (the last one checkpoints the WAL).
// It is idempotent; calls after the first return the first one's result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = db.writer.ExecContext(ctx, "PRAGMA optimize") // best effort: statistics only
		db.stmtMu.Lock()
		for _, e := range db.stmts {
			e.st.Close() // the reader pool closes below: nothing can still be using it
		}
		db.stmts = nil
		db.stmtMu.Unlock()
		db.closeWriteStmts()
		db.closeErr = errors.Join(db.reader.Close(), db.writer.Close())
	})
	return db.closeErr
}

// Model returns the model the datastore serves.
func (db *DB) Model() *fourd.Model { return db.model }

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// write runs fn in a transaction of its own on the writer connection and
// commits it when fn returns nil; otherwise it rolls back and returns fn's
// error. The transaction takes the write lock when it begins (BEGIN
// IMMEDIATE). Saves and deletes go through writeGroup instead, which
// commits concurrent callers' writes together.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return ctxErr(ctx, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return ctxErr(ctx, err)
	}
	stamp, known := db.stampBeforeCommit(ctx, wtx{db, tx})
	if db.beforeCommit != nil {
		db.beforeCommit(1)
	}
	if err := tx.Commit(); err != nil {
		db.stamp.forget() // in doubt
		return ctxErr(ctx, err)
	}
	db.stampCommitted(stamp, known)
	db.prepareWanted(ctx)
	return nil
}

// read runs fn in a read transaction on a reader connection: every query
// fn makes sees the same snapshot of the database.
func (db *DB) read(ctx context.Context, fn func(q querier) error) error {
	tx, err := db.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return ctxErr(ctx, err)
	}
	defer tx.Rollback() //nolint:errcheck // a read transaction has nothing to lose
	return ctxErr(ctx, fn(cached{db, tx}))
}

// querier is what a reader pool (*sql.DB) and a transaction have in
// common for reading.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// query runs fn with the reader pool, for reads of one statement: a
// statement sees one snapshot by itself, and a transaction would cost a
// BEGIN and a ROLLBACK around it.
func (db *DB) query(ctx context.Context, fn func(q querier) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return ctxErr(ctx, fn(cached{db: db}))
}

// cached is a querier that runs queries through the reader pool's
// prepared statements, in transaction tx when it is not nil.
type cached struct {
	db *DB
	tx *sql.Tx
}

// txStmt returns the prepared statement for query in transaction c.tx, or
// nil to run it unprepared. It only uses a statement already prepared:
// preparing takes a connection from the reader pool, and a transaction
// that waits for a second connection while it holds one deadlocks as soon
// as every connection is held that way. A statement evicted and closed
// meanwhile is harmless here: Tx.StmtContext prepares a closed statement
// again on the transaction's connection.
func (c cached) txStmt(ctx context.Context, query string) *sql.Stmt {
	st := c.db.cachedStmt(query)
	if st == nil {
		return nil
	}
	return c.tx.StmtContext(ctx, st)
}

func (c cached) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if c.tx != nil {
		if st := c.txStmt(ctx, query); st != nil {
			return st.QueryContext(ctx, args...)
		}
		return c.tx.QueryContext(ctx, query, args...)
	}
	e := c.db.acquire(ctx, query)
	if e == nil {
		return c.db.reader.QueryContext(ctx, query, args...) // reports the error of preparing
	}
	defer c.db.release(e)
	return e.st.QueryContext(ctx, args...)
}

func (c cached) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if c.tx != nil {
		if st := c.txStmt(ctx, query); st != nil {
			return st.QueryRowContext(ctx, args...)
		}
		return c.tx.QueryRowContext(ctx, query, args...)
	}
	e := c.db.acquire(ctx, query)
	if e == nil {
		return c.db.reader.QueryRowContext(ctx, query, args...)
	}
	defer c.db.release(e)
	return e.st.QueryRowContext(ctx, args...)
}

// maxStmts bounds the prepared statements kept: each holds a compiled
// program on every reader connection that ran it.
const maxStmts = 256

// SetStatementCacheSize bounds the prepared read statements the datastore
// keeps to n (256 by default; n <= 0 restores it). Past the bound, a new
// statement evicts another. It is safe to call at any time.
func (db *DB) SetStatementCacheSize(n int) {
	db.stmtMu.Lock()
	db.maxStmts = n
	db.stmtMu.Unlock()
}

// stmtEntry is a statement of the cache. users counts the callers between
// acquire and release: a statement evicted while one of them is about to
// run it is closed by the last of them, never under its feet ("sql:
// statement is closed"). Once a query has started, closing the statement
// is safe: database/sql keeps it for the rows that are still open.
type stmtEntry struct {
	st      *sql.Stmt
	users   int
	evicted bool
}

// cachedStmt returns the prepared statement for query, if there is one,
// without holding it: only for Tx.StmtContext (see txStmt).
func (db *DB) cachedStmt(query string) *sql.Stmt {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if e := db.stmts[query]; e != nil {
		return e.st
	}
	return nil
}

// acquire returns the reader pool's prepared statement for query,
// preparing it on first use, held until release; nil if it cannot be
// prepared. Parsing and planning is about a third of the cost of reading
// one entity by key (docs/performance.md); a prepared statement pays it
// once per connection. The cache's lock is never held while preparing,
// which waits for a connection; the caller must hold none (see txStmt).
// When the cache is full, an arbitrary statement makes room: closed at
// once if nobody holds it, else by its last holder.
func (db *DB) acquire(ctx context.Context, query string) *stmtEntry {
	db.stmtMu.Lock()
	if e := db.stmts[query]; e != nil {
		e.users++
		db.stmtMu.Unlock()
		return e
	}
	db.stmtMu.Unlock()
	st, err := db.reader.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	var closeOld *sql.Stmt
	db.stmtMu.Lock()
	if cur := db.stmts[query]; cur != nil { // prepared meanwhile by another caller
		cur.users++
		db.stmtMu.Unlock()
		st.Close()
		return cur
	}
	if db.stmts == nil {
		db.stmts = make(map[string]*stmtEntry)
	}
	limit := db.maxStmts
	if limit <= 0 {
		limit = maxStmts
	}
	if len(db.stmts) >= limit {
		for k, old := range db.stmts {
			delete(db.stmts, k)
			if old.users == 0 {
				closeOld = old.st
			} else {
				old.evicted = true
			}
			break
		}
	}
	e := &stmtEntry{st: st, users: 1}
	db.stmts[query] = e
	db.stmtMu.Unlock()
	if closeOld != nil {
		closeOld.Close()
	}
	return e
}

// release ends a hold that acquire gave, closing the statement if it was
// evicted meanwhile and this was its last holder.
func (db *DB) release(e *stmtEntry) {
	db.stmtMu.Lock()
	e.users--
	last := e.users == 0 && e.evicted
	db.stmtMu.Unlock()
	if last {
		e.st.Close()
	}
}

// ctxErr returns ctx's error instead of err when ctx is done: a statement
// the driver interrupted fails with "interrupted", which means the context
// was cancelled.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Readers returns the size of the read pool: how many queries can read at
// once. A server that admits no more queries at once than Readers()-1
// keeps one reader free for lookups by key (see rest.Handler.MaxQueries).
func (db *DB) Readers() int { return db.readers }
