// Package pgtest gives tests a PostgreSQL schema of their own on the
// server that FOURD_TEST_POSTGRES names (scripts/postgres starts one), and
// skips them, saying so, when the variable is unset.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env names the PostgreSQL server the tests use, as a postgres:// URL.
const Env = "FOURD_TEST_POSTGRES"

// schemas counts the schemas made by this test binary.
var schemas atomic.Int64

// Schemas returns how many schemas MustSchema made in this test binary:
// 0 means every PostgreSQL test skipped.
func Schemas() int64 { return schemas.Load() }

// URL returns FOURD_TEST_POSTGRES, or skips tb when it is unset.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(Env)
	if u == "" {
		tb.Skip(Env + " is unset: no PostgreSQL server to test against (scripts/postgres starts one)")
	}
	return u
}

// MustSchema creates a new, empty schema on the test server, dropped with
// everything in it when tb ends, and returns a URL whose connections use
// it (search_path), so that parallel tests and packages never share data.
func MustSchema(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", Env, err)
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
		tb.Fatalf("%s is not a URL: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
