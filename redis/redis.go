package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix of a DB whose URL names none.
const DefaultPrefix = "fourd"

// DB is a connection pool to the Redis that holds a cluster's shared
// state, and the prefix of every key fourd writes there. The stores of
// this package are made from it and share it; Close it after them.
//
// Every key is "{" + Prefix + "}:" + a name: the braces are a Redis
// Cluster hash tag, so that all of a cluster's keys live in one slot and
// the Lua scripts that change several of them stay atomic.
type DB struct {
	Client *goredis.Client
	Prefix string
}

var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,100}$`)

// Open connects to the Redis a URL names and checks that it answers:
//
//	redis://[user:password@]host:port/db[?prefix=name&…]
//	rediss://… (TLS)
//
// prefix (default DefaultPrefix) separates fourd clusters sharing one
// Redis database; the other query parameters are go-redis options
// (dial_timeout, pool_size, …).
func Open(ctx context.Context, rawURL string) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis %q: not a URL: %w", rawURL, err)
	}
	q := u.Query()
	prefix := DefaultPrefix
	if q.Has("prefix") {
		prefix = q.Get("prefix")
		q.Del("prefix")
		u.RawQuery = q.Encode()
	}
	if !prefixRE.MatchString(prefix) {
		return nil, fmt.Errorf("redis %q: prefix %q: 1 to 100 letters, digits and _ . : -", u.Redacted(), prefix)
	}
	opts, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("redis %q: %w", u.Redacted(), err)
	}
	// Scripts and transactions would not survive a silent retry on
	// another connection any better than an explicit one: fail fast and
	// let the request answer an error.
	opts.MaxRetries = 1
	db := &DB{Client: goredis.NewClient(opts), Prefix: prefix}
	if err := db.Client.Ping(ctx).Err(); err != nil {
		db.Client.Close()
		return nil, fmt.Errorf("redis %s: %w", u.Redacted(), err)
	}
	return db, nil
}

// Close closes the connection pool.
func (db *DB) Close() error {
	if err := db.Client.Close(); err != nil && !errors.Is(err, goredis.ErrClosed) {
		return err
	}
	return nil
}

// key returns the full name of a key of this DB.
func (db *DB) key(name string) string { return "{" + db.Prefix + "}:" + name }
