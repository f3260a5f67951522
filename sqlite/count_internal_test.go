package sqlite

import "testing"

// TestCountKeyDistinct checks that queries differing only in their
// arguments' types or boundaries never share a count.
func TestCountKeyDistinct(t *testing.T) {
	type q struct {
		where string
		args  []any
	}
	qs := []q{
		{"x = ?", []any{"1"}},
		{"x = ?", []any{int64(1)}},
		{"x = ?", []any{1.0}},
		{"x = ?", []any{true}},
		{"x = ?", []any{nil}},
		{"x = ?", []any{""}},
		{"x = ? AND y = ?", []any{"ab", ""}},
		{"x = ? AND y = ?", []any{"a", "b"}},
		{"x = ? AND y = ?", []any{"a\x00sb", ""}},
		{"x = ?", []any{[]byte("1")}},
	}
	seen := map[string]int{}
	for i, q := range qs {
		k, ok := countKey(`"Employee"`, q.where, q.args)
		if !ok {
			t.Fatalf("%d: not cacheable", i)
		}
		if j, dup := seen[k]; dup {
			t.Errorf("queries %d and %d share the key %q", j, i, k)
		}
		seen[k] = i
	}
	if _, ok := countKey(`"Employee"`, "x = ?", []any{struct{}{}}); ok {
		t.Error("an argument of an unknown type is cacheable")
	}
	if _, ok := countKey(`"Employee"`, "x IN (?)", []any{string(make([]byte, maxCountKey))}); ok {
		t.Error("a key longer than maxCountKey is cacheable")
	}
}

// TestCountCacheStamps checks that a count from an older snapshot is never
// stored, and that a newer stamp empties the cache.
func TestCountCacheStamps(t *testing.T) {
	var c countCache
	c.put(5, "k", 10)
	if n, ok := c.get(5, "k"); !ok || n != 10 {
		t.Fatalf("get(5) = %d, %v", n, ok)
	}
	if _, ok := c.get(6, "k"); ok {
		t.Error("a count of stamp 5 is used at stamp 6")
	}
	c.put(4, "old", 1)
	if _, ok := c.get(4, "old"); ok {
		t.Error("a count of an older stamp was stored")
	}
	c.put(6, "k2", 11)
	if _, ok := c.get(5, "k"); ok {
		t.Error("stamp 5's count kept after stamp 6")
	}
	if len(c.counts) != 1 {
		t.Errorf("%d entries after a newer stamp, want 1", len(c.counts))
	}
	for i := range maxCounts + 10 {
		c.put(6, string(rune('a'+i%26))+string(rune(i)), i)
	}
	if len(c.counts) > maxCounts {
		t.Errorf("%d entries, bound %d", len(c.counts), maxCounts)
	}
}
