package postgres_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/pgtest"
	"github.com/fourd/fourd/postgres"
	"github.com/fourd/fourd/storetest"
)

// markerEnv, when set, names a file TestMain writes the number of schemas
// the tests made into, so that CI can tell that the suites ran rather than
// skipped (.ci/run).
const markerEnv = "FOURD_TEST_POSTGRES_RAN"

func TestMain(m *testing.M) {
	code := m.Run()
	if path := os.Getenv(markerEnv); path != "" && code == 0 && pgtest.Schemas() > 0 {
		if err := os.WriteFile(path, []byte(strconv.FormatInt(pgtest.Schemas(), 10)+"\n"), 0o644); err != nil {
			os.Stderr.WriteString("write " + markerEnv + ": " + err.Error() + "\n")
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goroutine leak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// TestDatastore runs the fourd.Datastore conformance suite on PostgreSQL.
func TestDatastore(t *testing.T) {
	storetest.TestDatastore(t, func(t *testing.T, m *fourd.Model) fourd.Datastore { return MustOpenDB(t, m) })
}

// MustSchema is pgtest.MustSchema.
func MustSchema(tb testing.TB) string { tb.Helper(); return pgtest.MustSchema(tb) }

// MustOpenDB opens a datastore in a new schema, closed when tb ends.
func MustOpenDB(tb testing.TB, m *fourd.Model) *postgres.DB {
	tb.Helper()
	return MustOpenURL(tb, MustSchema(tb), m)
}

// MustOpenURL opens a datastore on url, closed when tb ends (before the
// schema is dropped).
func MustOpenURL(tb testing.TB, u string, m *fourd.Model) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), u, m)
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
