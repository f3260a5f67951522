package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/postgres"
	"github.com/fourd/fourd/storetest"
)

// serverEnv names the PostgreSQL server the tests use; markerEnv, when
// set, names a file TestMain writes the number of schemas the tests made
// into, so that CI can tell that the suites ran rather than skipped
// (.ci/run).
const (
	serverEnv = "FOURD_TEST_POSTGRES"
	markerEnv = "FOURD_TEST_POSTGRES_RAN"
)

// schemas counts the schemas made by this test binary.
var schemas atomic.Int64

func TestMain(m *testing.M) {
	code := m.Run()
	if path := os.Getenv(markerEnv); path != "" && code == 0 && schemas.Load() > 0 {
		if err := os.WriteFile(path, []byte(strconv.FormatInt(schemas.Load(), 10)+"\n"), 0o644); err != nil {
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

// serverURL returns FOURD_TEST_POSTGRES, or skips tb when it is unset.
func serverURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(serverEnv)
	if u == "" {
		tb.Skip(serverEnv + " is unset: no PostgreSQL server to test against (scripts/postgres starts one)")
	}
	return u
}

// MustSchema creates a new, empty schema on the test server, dropped with
// everything in it when tb ends, and returns a URL whose connections use
// it (search_path).
func MustSchema(tb testing.TB) string {
	tb.Helper()
	base := serverURL(tb)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", serverEnv, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 8)
	rand.Read(b)
	schema := "fourd_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	schemas.Add(1)
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s is not a URL: %v", serverEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

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
