// Package redistest gives tests a Redis: the server FOURD_TEST_REDIS
// names, opened under a key prefix no other test uses, whose keys are
// deleted when the test ends.
//
// Without FOURD_TEST_REDIS a test is skipped, saying so; with CI set (as
// .ci/run sets it) it fails instead, so that a CI run cannot pass without
// running the Redis suites. scripts/redis prints a URL, starting a
// private redis-server when none answers.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/fourd/fourd/redis"
)

// URL returns FOURD_TEST_REDIS, or skips tb (fails it under CI).
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("FOURD_TEST_REDIS")
	if u == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("FOURD_TEST_REDIS is unset under CI: the Redis tests must run (.ci/run gets one from scripts/redis)")
		}
		tb.Skip("FOURD_TEST_REDIS is unset: set it to a redis:// URL (scripts/redis prints one) to run the Redis tests")
	}
	return u
}

// PrefixedURL returns FOURD_TEST_REDIS with a key prefix of its own
// (?prefix=fourdtest.<random>), whose keys are deleted when tb ends.
func PrefixedURL(tb testing.TB) string {
	tb.Helper()
	raw := URL(tb)
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatalf("FOURD_TEST_REDIS %q: %v", raw, err)
	}
	var b [8]byte
	rand.Read(b[:])
	prefix := "fourdtest." + hex.EncodeToString(b[:])
	q := u.Query()
	q.Set("prefix", prefix)
	u.RawQuery = q.Encode()
	tb.Cleanup(func() { deleteKeys(tb, raw, prefix) })
	return u.String()
}

// Open returns a DB on FOURD_TEST_REDIS under a prefix of its own, closed
// and emptied when tb ends.
func Open(tb testing.TB) *redis.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := redis.Open(ctx, PrefixedURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Forget deletes every key of the prefix of rawURL (from PrefixedURL),
// as a Redis that restarted empty would have lost them, without touching
// the other tests' keys.
func Forget(tb testing.TB, rawURL string) {
	tb.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	prefix := q.Get("prefix")
	if prefix == "" {
		tb.Fatalf("%s has no prefix of its own", rawURL)
	}
	q.Del("prefix")
	u.RawQuery = q.Encode()
	deleteKeys(tb, u.String(), prefix)
}

// deleteKeys deletes every key of prefix.
func deleteKeys(tb testing.TB, raw, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := redis.Open(ctx, raw)
	if err != nil {
		tb.Errorf("cleaning prefix %s: %v", prefix, err)
		return
	}
	defer db.Close()
	iter := db.Client.Scan(ctx, 0, "{"+prefix+"}:*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("cleaning prefix %s: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := db.Client.Del(ctx, keys[:n]...).Err(); err != nil {
			tb.Errorf("cleaning prefix %s: %v", prefix, err)
			return
		}
		keys = keys[n:]
	}
}
