package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/demodata"
)

// DemoModel returns the demo model: Company (ID, name, city, country,
// revenues, staff) and Employee (ID, firstName, lastName, salary,
// birthDate, employer), with Company.name, Employee.lastName and
// Employee.salary indexed. docs/model.md shows it as model.json.
func DemoModel() *fourd.Model { return demodata.Model() }

// demoBatch is the most rows GenerateDemo inserts per transaction: large
// enough that commits cost little, small enough that progress moves and an
// abort is seen quickly. A small import uses batches of a tenth of a table
// (at least demoMinBatch), so that its progress moves too.
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

// GenerateDemo adds companies companies and employees employees of
// generated, realistic data to db, whose model must be DemoModel's (or
// have its dataclasses and attributes): real given names, family names and
// cities with their countries; company names made of two parts, the first
// company being "Acme"; revenues and salaries in log-normal distributions
// (salaries between 25,000 and 250,000, around 55,000); birth dates from
// 1955 to 2005; every employee works for a company, a few large ones and
// many small ones. The data is the same on every run (a fixed seed).
//
// Rows are inserted in batches of one transaction each (10,000 rows, or a
// tenth of a small table) through prepared statements; progress (which may
// be nil) counts rows, and ctx is checked between batches (and interrupts
// the one running), so an aborted process stops within one batch; a
// process's pause is honoured between batches. The batches already
// committed stay: the server keeps the whole import all-or-nothing
// (server.Server's Demo).
func GenerateDemo(ctx context.Context, db *DB, companies, employees int, progress *fourd.ProgressIndicator) error {
	ct, et, err := demoTables(db)
	if err != nil {
		return err
	}
	if companies < 0 || employees < 0 {
		return errors.New("demo: negative size")
	}
	if progress != nil {
		progress.Begin(fmt.Sprintf("Generating demo data: %d companies, %d employees", companies, employees), int64(companies+employees))
	}
	g := demodata.New()
	now := db.Now().UnixMilli()

	keys := make([]int64, 0, companies)
	batch := demoBatchOf(companies)
	for done := 0; done < companies; done += batch {
		if err := checkpoint(ctx); err != nil {
			return err
		}
		n := min(batch, companies-done)
		err := db.write(ctx, func(tx *sql.Tx) error {
			stmt, err := tx.PrepareContext(ctx, `INSERT INTO `+ct.name+` ("name", "city", "country", "revenues", `+colTimestamp+`) VALUES (?, ?, ?, ?, ?) RETURNING "ID"`)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for range n {
				c := g.Company()
				var key int64
				if err := stmt.QueryRowContext(ctx, c.Name, c.City, c.Country, c.Revenues, now).Scan(&key); err != nil {
					return err
				}
				keys = append(keys, key)
			}
			return bumpStamp(ctx, tx, int64(n))
		})
		if err != nil {
			return fmt.Errorf("demo companies: %w", err)
		}
		if progress != nil {
			progress.Add(int64(n))
		}
	}
	if employees > 0 && len(keys) == 0 {
		if keys, err = existingKeys(ctx, db, ct); err != nil {
			return err
		}
		if len(keys) == 0 {
			return errors.New("demo: employees need at least one company")
		}
	}
	if employees > 0 {
		g.Employees(len(keys))
	}
	batch = demoBatchOf(employees)
	for done := 0; done < employees; done += batch {
		if err := checkpoint(ctx); err != nil {
			return err
		}
		n := min(batch, employees-done)
		err := db.write(ctx, func(tx *sql.Tx) error {
			stmt, err := tx.PrepareContext(ctx, `INSERT INTO `+et.name+` ("firstName", "lastName", "salary", "birthDate", "employer", `+colTimestamp+`) VALUES (?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for range n {
				e := g.Employee()
				if _, err := stmt.ExecContext(ctx, e.FirstName, e.LastName, e.Salary, e.BirthDate.Format(dateLayout), keys[e.Employer], now); err != nil {
					return err
				}
			}
			return bumpStamp(ctx, tx, int64(n))
		})
		if err != nil {
			return fmt.Errorf("demo employees: %w", err)
		}
		if progress != nil {
			progress.Add(int64(n))
		}
	}
	// Statistics for the planner, now that the tables are full: without
	// them SQLite guesses which index of a filter is the selective one.
	if _, err := db.writer.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("demo: analyze: %w", ctxErr(ctx, err))
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
			return nil, nil, fmt.Errorf("demo: the model has no dataclass %s (use sqlite.DemoModel)", wdc.Name)
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

func existingKeys(ctx context.Context, db *DB, t *table) ([]int64, error) {
	var keys []int64
	err := db.query(ctx, func(tx querier) error {
		rows, err := queryRows(ctx, tx, "SELECT "+t.rowCol+" FROM "+t.name, nil)
		for _, r := range rows {
			keys = append(keys, int64(r))
		}
		return err
	})
	return keys, err
}
