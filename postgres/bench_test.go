package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
	"github.com/fourd/fourd/internal/pgtest"
	"github.com/fourd/fourd/postgres"
	"github.com/fourd/fourd/sqlite"
	"github.com/fourd/fourd/storetest"
)

// The benchmarks run SQLite and PostgreSQL side by side on the same demo
// data (1,000 companies, 100,000 employees, internal/demodata), each
// generated once per benchmark that needs it: SQLite in a temporary
// directory, PostgreSQL in a schema of its own on FOURD_TEST_POSTGRES's
// server (the same machine here: every PostgreSQL figure includes a
// round trip through the loopback interface that SQLite does not pay).
const (
	benchCompanies = 1_000
	benchEmployees = 100_000
)

// benchBackends opens both datastores on the demo data.
func benchBackends(b *testing.B) map[string]fourd.Datastore {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	lite, err := sqlite.Open(filepath.Join(dir, "data.sqlite"), sqlite.DemoModel())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { lite.Close() })
	if err := sqlite.GenerateDemo(ctx, lite, benchCompanies, benchEmployees, nil); err != nil {
		b.Fatal(err)
	}
	pg := MustOpenDB(b, postgres.DemoModel())
	if err := postgres.GenerateDemo(ctx, pg, benchCompanies, benchEmployees, nil); err != nil {
		b.Fatal(err)
	}
	return map[string]fourd.Datastore{"sqlite": lite, "postgres": pg}
}

// BenchmarkDatastores measures the requests of issue 11 on SQLite and on
// PostgreSQL, one after the other, one at a time:
//
//	go test -run=XXX -bench=BenchmarkDatastores -benchmem ./postgres/
func BenchmarkDatastores(b *testing.B) {
	pgtest.URL(b)
	backends := benchBackends(b)
	ctx := context.Background()
	names := []string{"sqlite", "postgres"}
	each := func(b *testing.B, fn func(b *testing.B, ds fourd.Datastore, emp *fourd.DataClass)) {
		for _, name := range names {
			b.Run(name, func(b *testing.B) {
				ds := backends[name]
				b.ReportAllocs()
				fn(b, ds, ds.Model().DataClass("Employee"))
			})
		}
	}
	b.Run("EntityByKey", func(b *testing.B) {
		each(b, func(b *testing.B, ds fourd.Datastore, emp *fourd.DataClass) {
			r := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				if _, err := ds.Entity(ctx, emp, fmt.Sprint(1+r.IntN(benchEmployees)), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	page := func(b *testing.B, ds fourd.Datastore, emp *fourd.DataClass, text string, want int) {
		ob, _ := filter.ParseOrderBy("lastName")
		sel := fourd.Selection{DataClass: emp, Filter: storetest.Query(b, text), OrderBy: ob}
		for b.Loop() {
			es, n, err := ds.Page(ctx, sel, 0, 20, nil)
			if err != nil {
				b.Fatal(err)
			}
			if len(es) != 20 || n != want {
				b.Fatalf("%d entities of %d, want 20 of %d", len(es), n, want)
			}
		}
	}
	b.Run("Page20Begin", func(b *testing.B) {
		// The filtered sorted page of issue 14 (its count is cached after
		// the first request, on both).
		each(b, func(b *testing.B, ds fourd.Datastore, emp *fourd.DataClass) {
			page(b, ds, emp, `"salary>50000 AND lastName begin 'B'"`, 2980)
		})
	})
	b.Run("Page20BeginUncounted", func(b *testing.B) {
		// The same page with a new bound each time: the count is never
		// cached.
		each(b, func(b *testing.B, ds fourd.Datastore, emp *fourd.DataClass) {
			ob, _ := filter.ParseOrderBy("lastName")
			i := 0
			for b.Loop() {
				i++
				sel := fourd.Selection{DataClass: emp, Filter: storetest.Query(b, fmt.Sprintf(`"salary>%d AND lastName begin 'B'"`, 50000+i%1000)), OrderBy: ob}
				if es, _, err := ds.Page(ctx, sel, 0, 20, nil); err != nil || len(es) != 20 {
					b.Fatal(len(es), err)
				}
			}
		})
	})
	b.Run("Rows58k", func(b *testing.B) {
		// The entity set of salary > 50000: 58,492 row IDs.
		each(b, func(b *testing.B, ds fourd.Datastore, emp *fourd.DataClass) {
			sel := fourd.Selection{DataClass: emp, Filter: storetest.Query(b, "salary > 50000")}
			for b.Loop() {
				rows, err := ds.Rows(ctx, sel)
				if err != nil || len(rows) != 58_492 {
					b.Fatal(len(rows), err)
				}
			}
		})
	})
	b.Run("ComputeAll", func(b *testing.B) {
		// $compute=$all of salary over the whole table.
		each(b, func(b *testing.B, ds fourd.Datastore, emp *fourd.DataClass) {
			for b.Loop() {
				if _, err := ds.Compute(ctx, fourd.Selection{DataClass: emp}, "salary", fourd.AggregateAll); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("Create", func(b *testing.B) {
		each(b, func(b *testing.B, ds fourd.Datastore, emp *fourd.DataClass) {
			for b.Loop() {
				res, err := ds.Save(ctx, emp, []fourd.EntitySave{{Values: map[string]any{"lastName": "Bench", "salary": 50000.0, "employer": "7"}}}, false)
				if err != nil || res[0].Err != nil {
					b.Fatal(err, res[0].Err)
				}
			}
		})
	})
	b.Run("UpdateWithStamp", func(b *testing.B) {
		each(b, func(b *testing.B, ds fourd.Datastore, emp *fourd.DataClass) {
			e, err := ds.Entity(ctx, emp, "12", nil)
			if err != nil {
				b.Fatal(err)
			}
			stamp := e.Stamp
			for b.Loop() {
				res, err := ds.Save(ctx, emp, []fourd.EntitySave{{Key: "12", Stamp: stamp, Update: true, Values: map[string]any{"salary": float64(40000 + stamp%1000)}}}, false)
				if err != nil || res[0].Err != nil {
					b.Fatal(err, res[0].Err)
				}
				stamp = res[0].Entity.Stamp
			}
		})
	})
}

// BenchmarkWriteNodes measures the write rate of one node and of two
// nodes (two datastores, each with its pool, on one schema) writing at
// once: each of 8 writers per node updates employees of its own, with
// their stamps, so that nothing conflicts.
//
//	go test -run=XXX -bench=BenchmarkWriteNodes ./postgres/
func BenchmarkWriteNodes(b *testing.B) {
	ctx := context.Background()
	u := pgtest.MustSchema(b)
	first := MustOpenURL(b, u, postgres.DemoModel())
	if err := postgres.GenerateDemo(ctx, first, 10, 10_000, nil); err != nil {
		b.Fatal(err)
	}
	second := MustOpenURL(b, u, postgres.DemoModel())
	const writers = 8
	for _, nodes := range []int{1, 2} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			dbs := []*postgres.DB{first, second}[:nodes]
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range writers * nodes {
				db := dbs[w%nodes]
				emp := db.Model().DataClass("Employee")
				wg.Go(func() {
					key := fmt.Sprint(1 + w)
					e, err := db.Entity(ctx, emp, key, nil)
					if err != nil {
						b.Error(err)
						return
					}
					stamp := e.Stamp
					for next.Add(1) <= int64(b.N) {
						res, err := db.Save(ctx, emp, []fourd.EntitySave{{Key: key, Stamp: stamp, Update: true, Values: map[string]any{"salary": float64(30000 + stamp)}}}, false)
						if err == nil {
							err = res[0].Err
						}
						if err != nil {
							b.Error(err)
							return
						}
						stamp = res[0].Entity.Stamp
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "saves/s")
		})
	}
}

// BenchmarkTextIndex compares three ways PostgreSQL can compare text
// without case and serve it from an index, on the demo's 100,000 last
// names: an expression index on lower(x) COLLATE "C" (what package
// postgres does), the citext type with a plain index, and a
// nondeterministic ICU collation (und-u-ks-level2) with a plain index.
//
//	go test -run=XXX -bench=BenchmarkTextIndex -benchmem ./postgres/
func BenchmarkTextIndex(b *testing.B) {
	ctx := context.Background()
	u := pgtest.MustSchema(b)
	db := MustOpenURL(b, u, postgres.DemoModel())
	if err := postgres.GenerateDemo(ctx, db, 10, benchEmployees, nil); err != nil {
		b.Fatal(err)
	}
	pool := db.Pool()
	setup := []string{
		`CREATE EXTENSION IF NOT EXISTS citext`,
		`CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
		`CREATE TABLE t_lower AS SELECT "__row" AS r, "lastName" AS name FROM "Employee"`,
		`CREATE INDEX ON t_lower ((lower(name) COLLATE "C"), r)`,
		`CREATE TABLE t_citext AS SELECT "__row" AS r, "lastName"::citext AS name FROM "Employee"`,
		`CREATE INDEX ON t_citext (name, r)`,
		`CREATE TABLE t_icu AS SELECT "__row" AS r, "lastName" COLLATE ci AS name FROM "Employee"`,
		`CREATE INDEX ON t_icu (name, r)`,
		`ANALYZE t_lower`, `ANALYZE t_citext`, `ANALYZE t_icu`,
	}
	for _, q := range setup {
		if _, err := pool.Exec(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	type way struct{ equal, prefix, page string }
	ways := []struct {
		name string
		way
	}{
		{"lower", way{
			`SELECT count(*) FROM t_lower WHERE lower(name) COLLATE "C" = lower($1::text)`,
			`SELECT count(*) FROM t_lower WHERE lower(name) COLLATE "C" LIKE lower($1::text)`,
			`SELECT r, name FROM t_lower WHERE lower(name) COLLATE "C" LIKE lower($1::text) ORDER BY lower(name) COLLATE "C", r LIMIT 20`}},
		{"citext", way{
			`SELECT count(*) FROM t_citext WHERE name = $1::citext`,
			`SELECT count(*) FROM t_citext WHERE name LIKE $1::citext`,
			`SELECT r, name FROM t_citext WHERE name LIKE $1::citext ORDER BY name, r LIMIT 20`}},
		{"icu", way{
			`SELECT count(*) FROM t_icu WHERE name = $1::text COLLATE ci`,
			`SELECT count(*) FROM t_icu WHERE name >= $1::text COLLATE ci AND name < $2::text COLLATE ci`,
			`SELECT r, name FROM t_icu WHERE name >= $1::text COLLATE ci AND name < $2::text COLLATE ci ORDER BY name, r LIMIT 20`}},
	}
	for _, w := range ways {
		b.Run(w.name+"/Equal", func(b *testing.B) {
			for b.Loop() {
				var n int
				if err := pool.QueryRow(ctx, w.equal, "SMITH").Scan(&n); err != nil || n == 0 {
					b.Fatal(n, err)
				}
			}
		})
		args := []any{"bro%"}
		if w.name == "icu" {
			// LIKE is refused on a nondeterministic collation before
			// PostgreSQL 18: a prefix is a range there.
			args = []any{"bro", "brp"}
		}
		b.Run(w.name+"/Prefix", func(b *testing.B) {
			for b.Loop() {
				var n int
				if err := pool.QueryRow(ctx, w.prefix, args...).Scan(&n); err != nil || n == 0 {
					b.Fatal(n, err)
				}
			}
		})
		b.Run(w.name+"/SortedPage", func(b *testing.B) {
			for b.Loop() {
				rows, err := pool.Query(ctx, w.page, args...)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				if rows.Close(); rows.Err() != nil || n != 20 {
					b.Fatal(n, rows.Err())
				}
			}
		})
	}
	if os.Getenv("FOURD_BENCH_EXPLAIN") != "" {
		for _, w := range ways {
			for i, q := range []string{w.equal, w.prefix, w.page} {
				args := []any{"SMITH"}
				switch {
				case i > 0 && w.name == "icu":
					args = []any{"bro", "brp"}
				case i > 0:
					args = []any{"bro%"}
				}
				rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF) "+q, args...)
				if err != nil {
					b.Log(err)
					continue
				}
				for rows.Next() {
					var line string
					rows.Scan(&line)
					b.Log(w.name, ": ", line)
				}
				rows.Close()
			}
		}
	}
}
