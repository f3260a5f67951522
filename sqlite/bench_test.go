package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/sqlite"
)

// The benchmarks share one demo database of 1,000 companies and 100,000
// employees, generated once per run of the test binary; those of a
// 1,000,000-row table share a second one of 1,000,000 employees, generated
// only when one of them runs (about 10 s).
const (
	benchCompanies   = 1_000
	benchEmployees   = 100_000
	benchEmployees1M = 1_000_000
)

// benchFixture is a demo database generated once per run of the test
// binary, in a directory of its own that cleanupBenchData removes.
type benchFixture struct {
	once sync.Once
	dir  string
	db   *sqlite.DB
	err  error
}

var bench, bench1M benchFixture

// open generates the fixture's database the first time it is called.
func (f *benchFixture) open(b *testing.B, employees int) *sqlite.DB {
	b.Helper()
	f.once.Do(func() {
		if f.dir, f.err = os.MkdirTemp("", "fourd-sqlite-bench-"); f.err != nil {
			return
		}
		if f.db, f.err = sqlite.Open(filepath.Join(f.dir, "data.sqlite"), sqlite.DemoModel()); f.err != nil {
			return
		}
		f.err = sqlite.GenerateDemo(context.Background(), f.db, benchCompanies, employees, nil)
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.db
}

// benchDB returns the demo database of 100,000 employees.
func benchDB(b *testing.B) *sqlite.DB { return bench.open(b, benchEmployees) }

// benchDB1M returns the demo database of 1,000,000 employees.
func benchDB1M(b *testing.B) *sqlite.DB { return bench1M.open(b, benchEmployees1M) }

// cleanupBenchData closes and removes the shared databases (TestMain).
func cleanupBenchData() {
	for _, f := range []*benchFixture{&bench, &bench1M} {
		if f.db != nil {
			f.db.Close()
		}
		if f.dir != "" {
			os.RemoveAll(f.dir)
		}
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

// BenchmarkPage20Begin is issue 14's filtered page: salary>50000 AND
// lastName begin 'B' sorted by lastName (2,980 of the 100,000 match), 20
// entities and the count, the same request again and again.
func BenchmarkPage20Begin(b *testing.B) {
	benchPage(b, `"salary>50000 AND lastName begin 'B'"`, "lastName", 2980)
}

// BenchmarkPage20Plain is issue 14's plain page: the first 20 employees in
// table order and the count of the whole table.
func BenchmarkPage20Plain(b *testing.B) {
	benchPage(b, "", "", 100_000)
}

func benchPage(b *testing.B, query, orderBy string, want int) {
	db := benchDB(b)
	ctx := context.Background()
	sel := fourd.Selection{DataClass: db.Model().DataClass("Employee")}
	if query != "" {
		q, err := filter.Parse(query)
		if err != nil {
			b.Fatal(err)
		}
		sel.Filter = q
	}
	if orderBy != "" {
		ob, err := filter.ParseOrderBy(orderBy)
		if err != nil {
			b.Fatal(err)
		}
		sel.OrderBy = ob
	}
	b.ReportAllocs()
	for b.Loop() {
		es, n, err := db.Page(ctx, sel, 0, 20, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(es) != 20 || n != want {
			b.Fatalf("%d entities of %d, want 20 of %d", len(es), n, want)
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

// BenchmarkNewEntitySet creates entity sets end to end, as
// $method=entityset does without its HTTP: the datastore's row IDs of a
// selection (Rows) and the compact set built from them (inmem.NewRowSet),
// on tables of 100,000 and 1,000,000 employees. "All" is the whole table
// and "Filter" salary > 50000 (about 58 %), both unsorted (a bitmap);
// "FilterSorted" and "AllSorted" are sorted by lastName (a packed array).
// It reports the set's bytes per entity (targets: at most 0.5 unsorted,
// 4.5 sorted), its entities, and the part of the time spent in NewRowSet.
//
//	go test -run=XXX -bench=NewEntitySet -benchmem ./sqlite
func BenchmarkNewEntitySet(b *testing.B) {
	ctx := context.Background()
	q, _ := filter.Parse("salary > 50000")
	ob, _ := filter.ParseOrderBy("lastName")
	for _, table := range []struct {
		rows int
		db   func(*testing.B) *sqlite.DB
	}{{benchEmployees, benchDB}, {benchEmployees1M, benchDB1M}} {
		for _, bb := range []struct {
			name   string
			filter *filter.Query
			order  filter.OrderBy
		}{
			{"All", nil, nil},
			{"Filter", q, nil},
			{"FilterSorted", q, ob},
			{"AllSorted", nil, ob},
		} {
			b.Run(fmt.Sprintf("table=%d/%s", table.rows, bb.name), func(b *testing.B) {
				db := table.db(b)
				sel := fourd.Selection{DataClass: db.Model().DataClass("Employee"), Filter: bb.filter, OrderBy: bb.order}
				sorted := len(bb.order) > 0
				var rs fourd.RowSet
				var inRowSet time.Duration
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					rows, err := db.Rows(ctx, sel)
					if err != nil {
						b.Fatal(err)
					}
					start := time.Now()
					rs = inmem.NewRowSet(rows, sorted)
					inRowSet += time.Since(start)
				}
				if rs.Len() == 0 {
					b.Fatal("empty set")
				}
				b.ReportMetric(float64(rs.Bytes())/float64(rs.Len()), "bytes/entity")
				b.ReportMetric(float64(rs.Len()), "entities")
				b.ReportMetric(float64(inRowSet.Nanoseconds())/float64(b.N), "NewRowSet-ns/op")
			})
		}
	}
}

// BenchmarkCreate is issue 14's write: one employee created by one Save,
// with a relation to check, as POST /rest/Employee?$method=update does.
func BenchmarkCreate(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	b.ReportAllocs()
	for b.Loop() {
		res, err := db.Save(ctx, emp, []fourd.EntitySave{{Values: map[string]any{
			"firstName": "Bench", "lastName": "Zz", "salary": 20000.0, "birthDate": "2000-01-02",
			"employer": map[string]any{"__KEY": "1"},
		}}}, false)
		if err != nil || res[0].Err != nil {
			b.Fatal(err, res[0].Err)
		}
	}
}

// BenchmarkCreateParallel is BenchmarkCreate from 16 goroutines at once,
// as 16 clients posting creations: the single writer commits what they
// queue meanwhile together (group commit).
func BenchmarkCreateParallel(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	var commits, writes atomic.Int64
	sqlite.SetBeforeCommit(db, func(n int) { commits.Add(1); writes.Add(int64(n)) })
	defer sqlite.SetBeforeCommit(db, nil)
	b.ReportAllocs()
	b.SetParallelism(16 / max(1, runtime.GOMAXPROCS(0)))
	defer func() { b.ReportMetric(float64(writes.Load())/float64(max(1, commits.Load())), "saves/commit") }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := db.Save(ctx, emp, []fourd.EntitySave{{Values: map[string]any{
				"firstName": "Bench", "lastName": "Zz", "salary": 20000.0, "birthDate": "2000-01-02",
				"employer": map[string]any{"__KEY": "1"},
			}}}, false)
			if err != nil || res[0].Err != nil {
				b.Error(err, res[0].Err) // not Fatal: this is not the benchmark's goroutine
				return
			}
		}
	})
}

// BenchmarkRelationSort is a page of 20 employees sorted through the N->1
// relation employer, with 1 and 10 terms: every row is sorted, so the cost
// is that of the sort keys (a join per relation path).
func BenchmarkRelationSort(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	for _, terms := range []string{
		"employer.name",
		"employer.name,employer.city,employer.country,employer.revenues,employer.ID,employer.name desc,employer.city desc,employer.country desc,employer.revenues desc,lastName",
	} {
		ob, err := filter.ParseOrderBy(terms)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("terms=%d", len(ob)), func(b *testing.B) {
			sel := fourd.Selection{DataClass: db.Model().DataClass("Employee"), OrderBy: ob}
			for b.Loop() {
				if _, _, err := db.Page(ctx, sel, 0, 20, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
