package driverbench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3" (cgo)
	_ "modernc.org/sqlite"          // registers "sqlite" (pure Go)
)

// drivers are the database/sql driver names compared.
var drivers = []struct{ name, driver string }{
	{"modernc", "sqlite"},
	{"mattn", "sqlite3"},
}

// pragmas are the ones the sqlite package sets, so the comparison runs the
// engine as fourd configures it.
var pragmas = []string{
	"PRAGMA journal_mode=WAL",
	"PRAGMA synchronous=NORMAL",
	"PRAGMA busy_timeout=5000",
	"PRAGMA cache_size=-65536",
	"PRAGMA temp_store=MEMORY",
}

const schema = `
CREATE TABLE "Company" ("ID" INTEGER PRIMARY KEY AUTOINCREMENT, "name" TEXT COLLATE NOCASE,
	"__stamp" INTEGER NOT NULL DEFAULT 1, "__timestamp" INTEGER);
CREATE INDEX "Company.name" ON "Company"("name");
CREATE TABLE "Employee" ("ID" INTEGER PRIMARY KEY AUTOINCREMENT, "firstName" TEXT COLLATE NOCASE,
	"lastName" TEXT COLLATE NOCASE, "salary" REAL, "birthDate" TEXT, "employer" INTEGER,
	"__stamp" INTEGER NOT NULL DEFAULT 1, "__timestamp" INTEGER);
CREATE INDEX "Employee.lastName" ON "Employee"("lastName");
CREATE INDEX "Employee.salary" ON "Employee"("salary");
CREATE INDEX "Employee.employer" ON "Employee"("employer");
`

var lastNames = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
	"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
	"Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark"}

func open(tb testing.TB, driver string) *sql.DB {
	tb.Helper()
	db, err := sql.Open(driver, filepath.Join(tb.TempDir(), "bench.db"))
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	for _, p := range pragmas {
		if _, err := db.Exec(p); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := db.Exec(schema); err != nil {
		tb.Fatal(err)
	}
	return db
}

// insert fills the tables: 1,000 companies and n employees in one
// transaction, through prepared statements.
func insert(tb testing.TB, db *sql.DB, n int) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	cs, err := tx.PrepareContext(ctx, `INSERT INTO "Company" ("name", "__timestamp") VALUES (?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range 1000 {
		name := fmt.Sprintf("Company %d", i)
		if i%100 == 0 {
			name = fmt.Sprintf("Acme %d", i)
		}
		if _, err := cs.ExecContext(ctx, name, 1700000000000); err != nil {
			tb.Fatal(err)
		}
	}
	es, err := tx.PrepareContext(ctx, `INSERT INTO "Employee" ("firstName", "lastName", "salary", "birthDate", "employer", "__timestamp") VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	for range n {
		_, err := es.ExecContext(ctx, "John", lastNames[r.IntN(len(lastNames))], float64(25000+r.IntN(225000)),
			fmt.Sprintf("%d-%02d-%02d", 1955+r.IntN(50), 1+r.IntN(12), 1+r.IntN(28)), 1+r.IntN(1000), 1700000000000)
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec("ANALYZE"); err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkInsert100k(b *testing.B) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db := open(b, d.driver)
				b.StartTimer()
				insert(b, db, 100_000)
			}
		})
	}
}

const page = `SELECT "ID", "firstName", "lastName", "salary", "birthDate", "employer", "__stamp", "__timestamp"
FROM "Employee" WHERE "salary" > ? AND "employer" IN (SELECT "ID" FROM "Company" WHERE "name" LIKE ? ESCAPE '\')
ORDER BY "lastName", "ID" LIMIT 20`

func BenchmarkPage20(b *testing.B) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			db := open(b, d.driver)
			insert(b, db, 100_000)
			ctx := context.Background()
			stmt, err := db.PrepareContext(ctx, page)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				rows, err := stmt.QueryContext(ctx, 50000.0, "Acme%")
				if err != nil {
					b.Fatal(err)
				}
				n := scan(b, rows)
				if n != 20 {
					b.Fatalf("got %d rows", n)
				}
			}
		})
	}
}

func BenchmarkByKey(b *testing.B) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			db := open(b, d.driver)
			insert(b, db, 100_000)
			ctx := context.Background()
			stmt, err := db.PrepareContext(ctx, `SELECT "ID", "firstName", "lastName", "salary", "birthDate", "employer", "__stamp", "__timestamp" FROM "Employee" WHERE "ID" = ?`)
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i = i%100_000 + 1
				rows, err := stmt.QueryContext(ctx, i)
				if err != nil {
					b.Fatal(err)
				}
				if n := scan(b, rows); n != 1 {
					b.Fatalf("got %d rows", n)
				}
			}
		})
	}
}

// BenchmarkLoad100k loads 100,000 rows by rowid in a given order, as
// entity-set paging does, passing the rowids as one JSON array.
func BenchmarkLoad100k(b *testing.B) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			db := open(b, d.driver)
			insert(b, db, 100_000)
			ids := rand.New(rand.NewPCG(3, 4)).Perm(100_000)
			for i := range ids {
				ids[i]++
			}
			js, _ := json.Marshal(ids)
			ctx := context.Background()
			for b.Loop() {
				rows, err := db.QueryContext(ctx, `SELECT j."key", e."ID", e."firstName", e."lastName", e."salary", e."birthDate", e."employer", e."__stamp", e."__timestamp"
FROM json_each(?) AS j JOIN "Employee" AS e ON e."ID" = j."value"`, string(js))
				if err != nil {
					b.Fatal(err)
				}
				if n := scan9(b, rows); n != 100_000 {
					b.Fatalf("got %d rows", n)
				}
			}
		})
	}
}

func scan(tb testing.TB, rows *sql.Rows) int {
	defer rows.Close()
	n := 0
	var id, employer, stamp, ts int64
	var first, last, birth string
	var salary float64
	for rows.Next() {
		if err := rows.Scan(&id, &first, &last, &salary, &birth, &employer, &stamp, &ts); err != nil {
			tb.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}

func scan9(tb testing.TB, rows *sql.Rows) int {
	defer rows.Close()
	n := 0
	var key, id, employer, stamp, ts int64
	var first, last, birth string
	var salary float64
	for rows.Next() {
		if err := rows.Scan(&key, &id, &first, &last, &salary, &birth, &employer, &stamp, &ts); err != nil {
			tb.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkLoadMethods compares, on the pure-Go driver, three ways to load
// 100,000 rows by rowid in a given order: one JSON array read by
// json_each (what fourd does), IN lists of 10,000 parameters with the
// order restored in Go, and a temporary table filled row by row.
func BenchmarkLoadMethods(b *testing.B) {
	db := open(b, "sqlite")
	insert(b, db, 100_000)
	ids := rand.New(rand.NewPCG(3, 4)).Perm(100_000)
	for i := range ids {
		ids[i]++
	}
	ctx := context.Background()
	const cols = `e."ID", e."firstName", e."lastName", e."salary", e."birthDate", e."employer", e."__stamp", e."__timestamp"`
	b.Run("json_each", func(b *testing.B) {
		for b.Loop() {
			js, _ := json.Marshal(ids)
			rows, err := db.QueryContext(ctx, `SELECT j."key", `+cols+` FROM json_each(?) AS j CROSS JOIN "Employee" AS e ON e."ID" = j."value"`, string(js))
			if err != nil {
				b.Fatal(err)
			}
			if n := scan9(b, rows); n != len(ids) {
				b.Fatalf("got %d rows", n)
			}
		}
	})
	b.Run("in_lists", func(b *testing.B) {
		for b.Loop() {
			pos := make(map[int64]int, len(ids))
			for i, id := range ids {
				pos[int64(id)] = i
			}
			n := 0
			for start := 0; start < len(ids); start += 10_000 {
				chunk := ids[start:min(start+10_000, len(ids))]
				args := make([]any, len(chunk))
				for i, id := range chunk {
					args[i] = id
				}
				q := `SELECT ` + cols + ` FROM "Employee" AS e WHERE e."ID" IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
				rows, err := db.QueryContext(ctx, q, args...)
				if err != nil {
					b.Fatal(err)
				}
				n += scan(b, rows)
			}
			if n != len(ids) {
				b.Fatalf("got %d rows", n)
			}
		}
	})
	b.Run("temp_table", func(b *testing.B) {
		for b.Loop() {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS load ("pos" INTEGER PRIMARY KEY, "row" INTEGER); DELETE FROM load`); err != nil {
				b.Fatal(err)
			}
			st, err := tx.PrepareContext(ctx, `INSERT INTO load ("row") VALUES (?)`)
			if err != nil {
				b.Fatal(err)
			}
			for _, id := range ids {
				if _, err := st.ExecContext(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
			rows, err := tx.QueryContext(ctx, `SELECT l."pos", `+cols+` FROM load AS l CROSS JOIN "Employee" AS e ON e."ID" = l."row"`)
			if err != nil {
				b.Fatal(err)
			}
			if n := scan9(b, rows); n != len(ids) {
				b.Fatalf("got %d rows", n)
			}
			tx.Rollback()
		}
	})
}
