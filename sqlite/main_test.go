package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
	"github.com/fourd/fourd/sqlite"
	"github.com/fourd/fourd/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupBenchData()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goroutine leak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

func testModel(tb testing.TB) *fourd.Model { return storetest.DatastoreModel(tb) }

// TestDatastore runs the fourd.Datastore conformance suite on SQLite.
func TestDatastore(t *testing.T) {
	storetest.TestDatastore(t, func(t *testing.T, m *fourd.Model) fourd.Datastore { return MustOpenDB(t, m) })
}

// MustOpenDB opens a new database in a temporary directory, closed when
// the test ends.
func MustOpenDB(tb testing.TB, m *fourd.Model) *sqlite.DB {
	tb.Helper()
	return mustOpenPath(tb, filepath.Join(tb.TempDir(), "data.sqlite"), m)
}

func mustOpenPath(tb testing.TB, path string, m *fourd.Model) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(path, m)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

// MustOpenFixture opens a database with the test model and the fixture.
func MustOpenFixture(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db := MustOpenDB(tb, testModel(tb))
	storetest.LoadFixture(tb, db)
	return db
}

// The suite's helpers, under the names the SQLite-only tests use.
var (
	mustCreate = storetest.MustCreate
	query      = storetest.Query
	keysOf     = storetest.Keys
	wantError  = storetest.WantError
	count      = storetest.Count
)

type fourdComparison = filter.Comparison

// orderBy builds an OrderBy of one path holding name as it is, as a Go
// caller could (the $orderby parser would refuse it).
func orderBy(name string) filter.OrderBy {
	return filter.OrderBy{{Path: filter.Path{{Name: name}}}}
}
