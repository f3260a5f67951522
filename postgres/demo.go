package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/demodata"
	"github.com/jackc/pgx/v5"
)

// DemoModel returns the demo model, the same as the sqlite package's.
func DemoModel() *fourd.Model { return demodata.Model() }

// demoBatch is the most rows GenerateDemo copies per transaction: large
// enough that a COPY's setup costs little, small enough that progress
// moves and an abort is seen quickly. A small import uses batches of a
// tenth of a table (at least demoMinBatch), so that its progress moves
// too (as the sqlite package's).
const (
	demoBatch    = 10_000
	demoMinBatch = 500
)

func demoBatchOf(rows int) int { return min(demoBatch, max(demoMinBatch, rows/10)) }

// checkpoint honours, between two batches, an abort of ctx and, when ctx is
// a process (a *fourd.Process), its pause and delay requests.
func checkpoint(ctx context.Context) error {
	if p, ok := ctx.(interface{ Checkpoint() error }); ok {
		return p.Checkpoint()
	}
	return ctx.Err()
}

// GenerateDemo adds companies companies and employees employees of the
// demo data (package internal/demodata: the same entities as the sqlite
// package generates) to db, whose model must be DemoModel's and whose
// demo tables must be empty: the demo fills a new database, it is not
// added to one in use.
//
// Rows go in with COPY, in batches of 10,000 rows (a tenth of a small
// table), one transaction each
// (with the global stamp bumped by the batch's rows, and the key counter
// moved past the keys used); progress (which may be nil) counts rows. ctx
// is checked between batches and cancels the running COPY on the server
// (pgx sends the cancel request), so an aborted process stops within one
// batch; a process's pause is honoured between batches. The batches
// already committed stay: the server keeps the whole import
// all-or-nothing (server.Server's Demo).
func GenerateDemo(ctx context.Context, db *DB, companies, employees int, progress *fourd.ProgressIndicator) error {
	ct, et, err := demoTables(db)
	if err != nil {
		return err
	}
	if companies < 0 || employees < 0 {
		return errors.New("demo: negative size")
	}
	if employees > 0 && companies == 0 {
		return errors.New("demo: employees need at least one company")
	}
	for _, t := range []*table{ct, et} {
		var some bool
		if err := db.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+t.name+")").Scan(&some); err != nil {
			return fmt.Errorf("demo: %w", ctxErr(ctx, err))
		}
		if some {
			return fmt.Errorf("demo: %s already holds entities: the demo data goes into an empty database", t.dc.Name)
		}
	}
	if progress != nil {
		progress.Begin(fmt.Sprintf("Generating demo data: %d companies, %d employees", companies, employees), int64(companies+employees))
	}
	g := demodata.New()
	now := db.Now().UnixMilli()
	// Keys are given, 1 to n: the key counter is moved past them in the
	// same transaction as each batch.
	copyRows := func(t *table, cols []string, from, n int, row func(key int64) []any) error {
		rows := make([][]any, 0, n)
		for i := range n {
			rows = append(rows, row(int64(from+i+1)))
		}
		return db.writeRetry(ctx, func(tx pgx.Tx) error {
			got, err := tx.CopyFrom(ctx, pgx.Identifier{db.schema, t.dc.Name}, cols, pgx.CopyFromRows(rows))
			if err != nil {
				return err
			}
			if got != int64(n) {
				return fmt.Errorf("COPY wrote %d rows of %d", got, n)
			}
			if err := usedKey(ctx, tx, t, int64(from+n)); err != nil {
				return err
			}
			return bumpStamp(ctx, tx, int64(n))
		})
	}
	batch := demoBatchOf(companies)
	for done := 0; done < companies; done += batch {
		if err := checkpoint(ctx); err != nil {
			return err
		}
		n := min(batch, companies-done)
		err := copyRows(ct, []string{"ID", "name", "city", "country", "revenues", "__stamp", "__timestamp"}, done, n, func(key int64) []any {
			c := g.Company()
			return []any{key, c.Name, c.City, c.Country, c.Revenues, int64(1), now}
		})
		if err != nil {
			return fmt.Errorf("demo companies: %w", err)
		}
		if progress != nil {
			progress.Add(int64(n))
		}
	}
	if employees > 0 {
		g.Employees(companies)
	}
	batch = demoBatchOf(employees)
	for done := 0; done < employees; done += batch {
		if err := checkpoint(ctx); err != nil {
			return err
		}
		n := min(batch, employees-done)
		err := copyRows(et, []string{"ID", "firstName", "lastName", "salary", "birthDate", "employer", "__stamp", "__timestamp"}, done, n, func(key int64) []any {
			e := g.Employee()
			return []any{key, e.FirstName, e.LastName, e.Salary, e.BirthDate, int64(e.Employer + 1), int64(1), now}
		})
		if err != nil {
			return fmt.Errorf("demo employees: %w", err)
		}
		if progress != nil {
			progress.Add(int64(n))
		}
	}
	// Statistics for the planner, now that the tables are full.
	for _, t := range []*table{ct, et} {
		if _, err := db.pool.Exec(ctx, "ANALYZE "+t.name); err != nil {
			return fmt.Errorf("demo: analyze: %w", ctxErr(ctx, err))
		}
	}
	return nil
}

// demoTables checks that db's model has the demo dataclasses and returns
// their tables.
func demoTables(db *DB) (company, employee *table, err error) {
	want := DemoModel()
	for _, wdc := range want.DataClasses {
		dc := db.model.DataClass(wdc.Name)
		if dc == nil {
			return nil, nil, fmt.Errorf("demo: the model has no dataclass %s (use postgres.DemoModel)", wdc.Name)
		}
		for _, wa := range wdc.Attributes {
			a := dc.Attribute(wa.Name)
			if a == nil || a.Kind != wa.Kind || a.Type != wa.Type || a.RelatedDataClass != wa.RelatedDataClass {
				return nil, nil, fmt.Errorf("demo: %s.%s is missing or differs from the demo model's", wdc.Name, wa.Name)
			}
		}
	}
	return db.tables[db.model.DataClass("Company")], db.tables[db.model.DataClass("Employee")], nil
}
