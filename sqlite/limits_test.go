package sqlite_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// TestFilterLimits runs the largest filters the parser accepts: they must
// compile to SQL that SQLite accepts (no internal error).
func TestFilterLimits(t *testing.T) {
	db := MustOpenFixture(t)
	emp := db.Model().DataClass("Employee")
	tests := []struct{ name, filter string }{
		{"AndChain", strings.Repeat("salary > 1 AND ", filter.MaxConditions-1) + "salary > 1"},
		{"ExceptChain", strings.Repeat("salary > 1 EXCEPT ", filter.MaxConditions-1) + "salary > 1"},
		{"OrChainOfRelations", strings.Repeat("employer.name = x OR ", filter.MaxConditions-1) + "employer.name = x"},
		{"DeepNot", strings.Repeat("NOT(", filter.MaxDepth-1) + "salary > 1" + strings.Repeat(")", filter.MaxDepth-1)},
		{"LongINList", "ID IN [" + strings.Repeat("1,", 30_000) + "1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := filter.Parse(tt.filter)
			if err != nil {
				t.Skipf("the parser refuses it: %v", err)
			}
			if _, err := db.Rows(context.Background(), fourd.Selection{DataClass: emp, Filter: q}); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("HugeINPlaceholder", func(t *testing.T) {
		list := make([]any, 100_000)
		for i := range list {
			list[i] = float64(i)
		}
		if _, err := db.Rows(context.Background(), fourd.Selection{DataClass: emp, Filter: query(t, "ID IN :1", list)}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestFilterValueTooLongForLike(t *testing.T) {
	db := MustOpenFixture(t)
	emp := db.Model().DataClass("Employee")
	long := strings.Repeat("x", 60_000)
	for _, f := range []string{"lastName = :1", "lastName begin :1"} {
		_, err := db.Rows(context.Background(), fourd.Selection{DataClass: emp, Filter: query(t, f, long+"@")})
		wantError(t, err, fourd.EINVALID, fourd.ErrCodeBadFilter)
	}
	// Without a wildcard it is a plain comparison, whatever its length.
	if _, err := db.Rows(context.Background(), fourd.Selection{DataClass: emp, Filter: query(t, "lastName = :1", long)}); err != nil {
		t.Fatal(err)
	}
}
