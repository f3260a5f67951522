// Package postgres is fourd's datastore on PostgreSQL, for data or write
// loads that outgrow one machine and for several fourd nodes serving the
// same data: the entities of a model (fourd.Model) in one schema of a
// PostgreSQL database, served through the fourd.Datastore contract, with
// the optional fourd.Indexer, fourd.Flusher and fourd.Validator
// capabilities. The storetest Datastore suite runs on it as on SQLite.
//
//	db, err := postgres.Open(ctx, "postgres://fourd@127.0.0.1:5432/fourd", model)
//	defer db.Close()
//	es, n, err := db.Page(ctx, fourd.Selection{DataClass: emp, Filter: q}, 0, 20, nil)
//
// # Driver and connections
//
// The driver is github.com/jackc/pgx/v5 with its pool (pgxpool): by
// default 4 connections per core, at least 8 (pool_max_conns in the URL
// sets another size). Writes are read-committed transactions run as
// closures; Page and Compute read in one repeatable-read, read-only
// transaction, so that a page and its count come from one snapshot. pgx
// prepares each statement once per connection and keeps it. Every method
// takes a context: when it is cancelled (a fourd.Process aborted), pgx
// sends PostgreSQL a cancel request for the running statement and the
// method returns the context's error.
//
// # Schema
//
// Open creates, in the first schema of the connection's search_path, one
// table per dataclass, named after it, with a column per storage attribute
// and per relatedEntity attribute (holding the related entity's key), and
// three hidden columns:
//
//   - __row, the fourd.RowID entity sets hold: a bigint identity column,
//     the table's primary key, capped at 2^32-1 (MAXVALUE). It is
//     separate from the entity's key, never reused (a sequence only moves
//     forward), and dense but for the numbers of rolled-back creations.
//     A table whose numbers are spent refuses creations with EINVALID
//     (errCode 1534).
//   - __stamp (REST's __STAMP) and __timestamp (Unix milliseconds).
//
// The key has a unique index (on its folded text for a string key: keys
// differ regardless of case, as in 4D). Tables named "__fourd" hold the
// layout version and the model as last applied, the global stamp (the sum
// of 64 rows, each write bumping the row of its backend process, so that
// writers on several nodes seldom queue for one row) and the last long key given per
// dataclass. Open migrates as the sqlite package does (new tables and
// columns added, nothing dropped, a changed type refused), in one
// transaction under pg_advisory_xact_lock on the schema, so that nodes
// starting at once migrate one after the other.
//
// # Queries
//
// A selection is checked against the model by package query, and the
// typed tree it returns is compiled to SQL with $n parameters, each with a
// type cast; identifiers come only from the model. Text compares and
// sorts through lower(x) COLLATE "C" (case folded by the database's
// locale, ordered by code point), and each text index is an expression
// index on exactly that, so that =, IN, begin, a prefix @ and a sort by
// an indexed attribute use it. query.go states the semantics of each
// operator; docs/performance.md compares this choice with citext and a
// nondeterministic ICU collation.
//
// # Concurrency
//
// An update locks its row (SELECT ... FOR UPDATE) before comparing
// stamps, in the transaction that writes it: of two nodes saving the same
// entity with the same stamp, one succeeds and the other gets 4D's stamp
// conflict (1263, 1046, 1517), and no update is lost. Creations with a
// generated long key lock their dataclass's key counter until the commit.
//
// # Users
//
// UserStore is the users directory (fourd.UserStore) in the same
// database: one table, __fourd_users, created by the first user added.
// A server whose datastore is PostgreSQL keeps its users there, so that
// every node shares them, and `fourd users … --datastore postgres://…`
// manages them; see user.go.
package postgres
