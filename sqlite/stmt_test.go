package sqlite_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/fourd/fourd"
)

// TestStatementCacheChurn is the reproduction of a race in the statement
// cache: with more filter shapes than the cache holds, one goroutine
// evicted and closed a statement another had just taken from it, and that
// request failed with "sql: statement is closed" (33 failures in 24,000
// calls over 400 shapes with 8 goroutines and the default cache). The
// cache here holds 4 statements for 40 shapes, so that it evicts on
// nearly every call.
func TestStatementCacheChurn(t *testing.T) {
	db := MustOpenFixture(t)
	db.SetStatementCacheSize(4)
	emp := db.Model().DataClass("Employee")
	const goroutines, calls, shapes = 8, 200, 40
	filters := make([]fourd.Selection, shapes)
	for i := range filters {
		ids := make([]string, i+1) // "ID IN [1, 2, …]": one SQL text per list length
		for j := range ids {
			ids[j] = fmt.Sprint(j + 1)
		}
		filters[i] = fourd.Selection{DataClass: emp, Filter: query(t, "ID IN ["+strings.Join(ids, ", ")+"]")}
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*calls)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				sel := filters[(g*7+i)%shapes]
				if _, err := db.Rows(ctx, sel); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n == 0 {
			t.Errorf("first failure: %v", err)
		}
		n++
	}
	if n > 0 {
		t.Fatalf("%d of %d calls failed", n, goroutines*calls)
	}
}
