package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
	"github.com/fourd/fourd/storetest"
)

// BenchmarkSelection measures what turning a selection into SQL costs,
// without running it: checking it against the model (package query) and
// compiling the checked tree. The filters are those of the Page20
// benchmarks, a filter through a 1->N relation with an IN list, and a sort
// of ten terms through a relation.
func BenchmarkSelection(b *testing.B) {
	m := storetest.DatastoreModel(b)
	db, err := Open(filepath.Join(b.TempDir(), "bench.sqlite"), m)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for _, tc := range []struct{ name, dc, filter, orderBy string }{
		{"Page20", "Employee", `salary>50000 AND employer.name=Acme@`, "lastName"},
		{"Page20Begin", "Employee", `salary>50000 AND lastName begin S`, "lastName"},
		{"ToMany", "Company", `staff.lastName # smith OR staff.salary IN [1, 2, 3, 4] OR NOT(name = null)`, ""},
		{"RelationSort", "Employee", "", strings.TrimSuffix(strings.Repeat("employer.name, ", 10), ", ")},
	} {
		sel := fourd.Selection{DataClass: m.DataClass(tc.dc)}
		if tc.filter != "" {
			if sel.Filter, err = filter.Parse(tc.filter); err != nil {
				b.Fatal(err)
			}
		}
		if tc.orderBy != "" {
			if sel.OrderBy, err = filter.ParseOrderBy(tc.orderBy); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.selection(sel); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
