// Package sqlite is fourd's embedded default datastore: the entities of a
// model (fourd.Model) in one SQLite database file, served through the
// fourd.Datastore contract, with the optional fourd.Indexer and
// fourd.Flusher capabilities.
//
//	db, err := sqlite.Open("data/data.sqlite", model)
//	defer db.Close()
//	es, n, err := db.Page(ctx, fourd.Selection{DataClass: emp, Filter: q}, 0, 20, nil)
//
// # Driver
//
// The driver is modernc.org/sqlite, SQLite compiled to pure Go: builds
// need no C compiler, cross-compile, and run under the race detector at
// the speed of any Go package. It measured 1.2 to 2.2 times slower than
// the cgo driver github.com/mattn/go-sqlite3 on fourd's workload, well
// within what fourd needs (docs/performance.md, "SQLite driver"). fourd
// uses its own instance of the driver, registered under no name, with
// the SQL function fourd_keyword (the % operator) added.
//
// # Connections
//
// One writer connection (a database/sql pool of size 1, BEGIN IMMEDIATE)
// does every write, in transactions run as closures; a pool of read-only
// connections (PRAGMA query_only) does the reads, each of one statement
// or, for Page, of one read transaction. WAL mode lets them run side by
// side. The pragmas are set on every connection, each with its reason in
// db.go. Read statements are prepared once and kept, and so are the
// writer's.
//
// Saves and deletes of concurrent callers are committed together (group
// commit, group.go): one transaction, a savepoint per caller, so that a
// failing save rolls back only itself; each caller returns only after the
// COMMIT that holds its write. The global stamp is read inside each write
// transaction and kept in memory once committed, so GlobalStamp costs no
// read (stamp.go).
//
// Every method takes a context; when it is cancelled (a fourd.Process is
// aborted), the driver interrupts the running statement and the method
// returns the context's error (context.Canceled).
//
// # Schema
//
// Open creates one STRICT table per dataclass, named after it, with a
// column per storage attribute and per relatedEntity attribute (holding
// the related entity's key), and two hidden columns: __stamp (REST's
// __STAMP, 1 at creation, +1 per save) and __timestamp (Unix
// milliseconds of the last save). The SQLite rowid is the fourd.RowID
// that entity sets hold: for a long or long64 primary key it is the key
// itself (INTEGER PRIMARY KEY), otherwise a hidden __row column beside a
// UNIQUE key column. AUTOINCREMENT keeps SQLite from reusing the rowid of
// a deleted entity. Text columns are COLLATE NOCASE. The table __fourd
// holds the layout version, the global stamp and the model as last
// applied.
//
// Open migrates an existing database: it adds the tables of new
// dataclasses and the columns of new attributes, keeps (and reports, see
// Migration) those the model no longer names, and refuses a changed type
// with an error naming the attribute. The indexes of new tables are made
// at once; those a populated table lacks are listed by MissingIndexes for
// BuildIndex to build in an Indexing process. docs/model.md describes the
// model file and these rules for users.
//
// # Queries
//
// A selection is checked against the model by package query, which
// resolves attributes, converts constants, makes relation joins explicit
// and returns the errors a client sees for a filter that does not fit;
// query.go compiles that typed tree to parameterized SQL: identifiers come
// only from the model, every value is a "?" parameter. query.go also says
// how each of 4D's rules maps to SQLite (COLLATE NOCASE, LIKE, IS NOT
// TRUE for set complements, subqueries for joins, json_extract).
package sqlite
