// Package driverbench compares SQLite drivers for database/sql on fourd's
// datastore workload: a bulk insert of 100,000 rows in one transaction, a
// filtered sorted page of 20 through an index, a point lookup by key, and
// loading 100,000 rows by rowid through json_each.
//
// It is a module of its own so that the main module does not depend on the
// drivers it rejected: run it from this directory,
//
//	cd sqlite/driverbench && go test -run=XXX -bench=. -benchmem -count=3
//
// The figures and the choice are in docs/performance.md, "SQLite driver".
package driverbench
