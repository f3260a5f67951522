package rest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/server"
)

// TestOrderByTerms checks that a sort has a bounded number of terms, with
// a clear error, and that sorts through N->1 relations (now joins) keep
// their order, nulls first.
func TestOrderByTerms(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	terms := func(n int, term string) string {
		list := make([]string, n)
		for i := range list {
			list[i] = term
		}
		return strings.Join(list, ",")
	}
	for _, tc := range []struct {
		name, param, value string
	}{
		{"ErrTooManyTerms", "$orderby", terms(fourd.MaxOrderByTerms+1, "employer.name")},
		{"ErrTwoThousandPlainTerms", "$orderby", terms(2000, "lastName")},
		{"ErrTooManyTermsInFilter", "$filter", "ID>0 order by " + terms(fourd.MaxOrderByTerms+1, "lastName")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, c, u, "/rest/Employee", tc.param, tc.value)
			if status != http.StatusBadRequest || errCodeOf(t, body) != fourd.ErrCodeBadFilter {
				t.Fatalf("%d %.300s, want 400 errCode %d", status, body, fourd.ErrCodeBadFilter)
			}
		})
	}
	t.Run("OKRelationSort", func(t *testing.T) {
		col := getCollection(t, c, u, "/rest/Employee", "$orderby", terms(fourd.MaxOrderByTerms-1, "employer.name")+",lastName desc")
		// Eve has no employer (null first); Acme: Martin, O'Neil; acme labs: Alvarez; Globex: martin.
		want := []string{"Zola", "O'Neil", "Martin", "Alvarez", "martin"}
		for i, e := range col.Entities {
			if e["lastName"] != want[i] {
				t.Fatalf("entity %d is %v, want %s (order %v)", i, e["lastName"], want[i], want)
			}
		}
	})
}

// TestQueryTimeout checks that a read past its time budget is cancelled
// and answers 503 with 4D's "program interrupted", and that a lookup by key
// has the budget too.
func TestQueryTimeout(t *testing.T) {
	srv, c := mustOpenFixture(t, func(s *server.Server) { s.QueryTimeout = time.Nanosecond })
	for _, path := range []string{"/rest/Employee", "/rest/Employee(1)"} {
		status, body := get(t, c, srv.URL(), path, "$orderby", "employer.name")
		if status != http.StatusServiceUnavailable || errCodeOf(t, body) != fourd.ErrCodeInterrupted {
			t.Fatalf("GET %s past its time budget: %d %s, want 503 errCode %d", path, status, body, fourd.ErrCodeInterrupted)
		}
	}
}
