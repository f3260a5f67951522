// Package pgtest gives tests a PostgreSQL schema of their own on the
// server that FOURD_TEST_POSTGRES names (scripts/postgres starts one), and
// skips them, saying so, when the variable is unset.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
	return mustSchema(tb, URL(tb))
}

// MustSchemaIn is MustSchema in the database named database on the same
// server, created if missing (and left there: other tests may be using
// it).
func MustSchemaIn(tb testing.TB, database string) string {
	tb.Helper()
	base := URL(tb)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", Env, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		tb.Fatal(err)
	}
	if !exists {
		// Another test binary may create it at the same moment.
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize()); err != nil && !created(err) {
			tb.Fatal(err)
		}
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s is not a URL: %v", Env, err)
	}
	u.Path = "/" + database
	return mustSchema(tb, u.String())
}

// created reports whether err says the database exists already.
func created(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "42P04" || pe.Code == "23505")
}

func mustSchema(tb testing.TB, base string) string {
	tb.Helper()
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
