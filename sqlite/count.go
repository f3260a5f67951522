package sqlite

import (
	"math"
	"strconv"
	"sync"
)

// countCache remembers the counts of selections (Page's __COUNT) for one
// value of the datastore's global stamp. Every change of the data goes
// through Save, Delete or GenerateDemo, which bump the stamp in the same
// transaction as the change, so two snapshots with the same stamp hold the
// same rows and a count taken in one is exact in the other: a cached count
// is used only by a read transaction that reads that same stamp in its own
// snapshot. A newer stamp empties the cache; a count from an older snapshot
// (a read that began before a write committed) is not stored.
//
// The cache is bounded (maxCounts entries, keys of at most maxCountKey
// bytes) and safe for concurrent use. A database changed behind fourd's
// back (the sqlite3 shell while fourd runs) bumps no stamp; that is not
// supported, as __GlobalStamp would not be true either.
type countCache struct {
	mu     sync.Mutex
	stamp  int64
	counts map[string]int
}

const (
	// maxCounts bounds the entries: a full cache is emptied, so that a
	// stream of distinct filters costs a map clear now and then.
	maxCounts = 4096
	// maxCountKey is the longest key stored: a long filter (an IN list of
	// thousands of values) is counted every time rather than held.
	maxCountKey = 4096
)

// get returns the count stored for key at stamp.
func (c *countCache) get(stamp int64, key string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamp != c.stamp {
		return 0, false
	}
	n, ok := c.counts[key]
	return n, ok
}

// put stores count n of key, read in a snapshot whose stamp is stamp.
func (c *countCache) put(stamp int64, key string, n int) {
	if len(key) > maxCountKey {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case stamp < c.stamp:
		return
	case stamp > c.stamp || c.counts == nil || len(c.counts) >= maxCounts:
		c.stamp = stamp
		clear(c.counts)
		if c.counts == nil {
			c.counts = make(map[string]int)
		}
	}
	c.counts[key] = n
}

// countKey is the key of the count of "FROM table AS t0" + where with
// args: the SQL text and each argument with its type, strings
// length-prefixed, so that two different queries never share a key. ok is
// false for an argument of a type it does not know (the count is then not
// cached).
func countKey(table, where string, args []any) (key string, ok bool) {
	if len(table)+len(where) > maxCountKey {
		return "", false
	}
	b := make([]byte, 0, len(table)+len(where)+16*len(args)+2)
	b = append(b, table...)
	b = append(b, 0)
	b = append(b, where...)
	for _, a := range args {
		b = append(b, 0)
		switch v := a.(type) {
		case nil:
			b = append(b, 'n')
		case int64:
			b = strconv.AppendInt(append(b, 'i'), v, 10)
		case int:
			b = strconv.AppendInt(append(b, 'i'), int64(v), 10)
		case float64:
			b = strconv.AppendUint(append(b, 'f'), math.Float64bits(v), 16)
		case bool:
			b = strconv.AppendBool(append(b, 'b'), v)
		case string:
			if len(b)+len(v) > maxCountKey {
				return "", false
			}
			b = strconv.AppendInt(append(b, 's'), int64(len(v)), 10)
			b = append(append(b, ':'), v...)
		case []byte:
			if len(b)+len(v) > maxCountKey {
				return "", false
			}
			b = strconv.AppendInt(append(b, 'x'), int64(len(v)), 10)
			b = append(append(b, ':'), v...)
		default:
			return "", false
		}
		if len(b) > maxCountKey {
			return "", false
		}
	}
	return string(b), true
}
