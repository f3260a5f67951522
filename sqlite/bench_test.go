package sqlite_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
	"github.com/fourd/fourd/sqlite"
)

// The benchmarks share one demo database of 1,000 companies and 100,000
// employees, generated once per run of the test binary.
const (
	benchCompanies = 1_000
	benchEmployees = 100_000
)

var bench struct {
	once sync.Once
	dir  string
	db   *sqlite.DB
	err  error
}

func benchDB(b *testing.B) *sqlite.DB {
	b.Helper()
	bench.once.Do(func() {
		if bench.dir, bench.err = os.MkdirTemp("", "fourd-sqlite-bench-"); bench.err != nil {
			return
		}
		if bench.db, bench.err = sqlite.Open(filepath.Join(bench.dir, "data.sqlite"), sqlite.DemoModel()); bench.err != nil {
			return
		}
		bench.err = sqlite.GenerateDemo(context.Background(), bench.db, benchCompanies, benchEmployees, nil)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.db
}

// cleanupBenchData closes and removes the shared database (TestMain).
func cleanupBenchData() {
	if bench.db != nil {
		bench.db.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
}

// BenchmarkPage20 is the page of the first example: a filter
// through an index and a relation, sorted, 20 entities with their count.
func BenchmarkPage20(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	q, err := filter.Parse(`"salary>50000 AND employer.name=Acme@"`)
	if err != nil {
		b.Fatal(err)
	}
	ob, _ := filter.ParseOrderBy("lastName")
	sel := fourd.Selection{DataClass: db.Model().DataClass("Employee"), Filter: q, OrderBy: ob}
	for b.Loop() {
		es, n, err := db.Page(ctx, sel, 0, 20, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(es) != min(20, n) || n == 0 {
			b.Fatalf("%d entities of %d", len(es), n)
		}
	}
}

// BenchmarkPage20Unfiltered pages through the whole table sorted by an
// indexed attribute, far from the start.
func BenchmarkPage20Unfiltered(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	ob, _ := filter.ParseOrderBy("lastName")
	sel := fourd.Selection{DataClass: db.Model().DataClass("Employee"), OrderBy: ob}
	for b.Loop() {
		if _, _, err := db.Page(ctx, sel, 50_000, 20, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEntityByKey(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	r := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		if _, err := db.Entity(ctx, emp, strconv.Itoa(1+r.IntN(benchEmployees)), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRows measures what creating an entity set costs the datastore:
// the row IDs of a whole table, of a filter, and of a sorted filter.
func BenchmarkRows(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	q, _ := filter.Parse("salary > 50000")
	ob, _ := filter.ParseOrderBy("lastName")
	for _, bb := range []struct {
		name string
		sel  fourd.Selection
	}{
		{"All", fourd.Selection{DataClass: emp}},
		{"Filter", fourd.Selection{DataClass: emp, Filter: q}},
		{"FilterSorted", fourd.Selection{DataClass: emp, Filter: q, OrderBy: ob}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				rows, err := db.Rows(ctx, bb.sel)
				if err != nil {
					b.Fatal(err)
				}
				n = len(rows)
			}
			b.ReportMetric(float64(n), "rows")
		})
	}
}

// BenchmarkLoad reads entities by row ID in a given order, as paging
// through an entity set does: a page of 20, and 100,000 in random order.
func BenchmarkLoad(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	perm := rand.New(rand.NewPCG(3, 4)).Perm(benchEmployees)
	rows := make([]fourd.RowID, len(perm))
	for i, p := range perm {
		rows[i] = fourd.RowID(p + 1)
	}
	for _, n := range []int{20, benchEmployees} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				es, err := db.Load(ctx, emp, rows[:n], nil)
				if err != nil || es[n-1] == nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSort sorts an entity set of 100,000 rows again.
func BenchmarkSort(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	rows, err := db.Rows(ctx, fourd.Selection{DataClass: emp})
	if err != nil {
		b.Fatal(err)
	}
	ob, _ := filter.ParseOrderBy("lastName, salary desc")
	for b.Loop() {
		if _, err := db.Sort(ctx, emp, rows, ob); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildIndex rebuilds the index of Employee.lastName (100,000
// rows).
func BenchmarkBuildIndex(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	for b.Loop() {
		if err := db.BuildIndex(ctx, emp, "lastName", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerateDemo creates the default demo data (1,000 companies,
// 100,000 employees) in a new database.
func BenchmarkGenerateDemo(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		db, err := sqlite.Open(filepath.Join(b.TempDir(), "demo.sqlite"), sqlite.DemoModel())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := sqlite.GenerateDemo(ctx, db, benchCompanies, benchEmployees, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}
