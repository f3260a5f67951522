// Command pbserver is PocketBase serving fourd's demo layout, for the
// side-by-side benchmark in the parent package: collections Company (name,
// city, country, revenues) and Employee (firstName, lastName, salary,
// birthDate, employer → Company), indexes on Company.name,
// Employee.lastName, Employee.salary and Employee.employer, as fourd has
// them, and API rules open to anyone (fourd's demo has no roles.json).
//
//	pbserver -dir DIR -http 127.0.0.1:PORT -seed FOURD-DATA.sqlite
//
// On its first start in DIR it creates the collections and copies every
// row of fourd's SQLite file into them, keeping fourd's keys: record IDs
// are fourd's IDs zero-padded to PocketBase's 15 characters, so that both
// servers sort ties the same way.
package main

import (
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

func main() {
	dir := flag.String("dir", "", "PocketBase data directory")
	addr := flag.String("http", "127.0.0.1:8090", "address to listen on")
	seed := flag.String("seed", "", "fourd data.sqlite to copy the rows from, on the first start")
	flag.Parse()
	if *dir == "" {
		log.Fatal("pbserver: -dir is required")
	}
	// PocketBase's default query timeout (30 s) cuts its counts at 64
	// clients on 2 cores: allow 10 minutes, so that it answers.
	app := pocketbase.NewWithConfig(pocketbase.Config{DefaultDataDir: *dir, HideStartBanner: true, DefaultQueryTimeout: 10 * time.Minute})
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		e.InstallerFunc = nil // no browser, no superuser prompt
		if _, err := e.App.FindCollectionByNameOrId("Employee"); err == nil {
			return e.Next()
		}
		if err := createCollections(e.App); err != nil {
			return fmt.Errorf("collections: %w", err)
		}
		if *seed != "" {
			if err := copyRows(e.App, *seed); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		return e.Next()
	})
	os.Args = []string{os.Args[0], "serve", "--http=" + *addr, "--dir=" + *dir}
	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}

// ID is fourd's key n as a PocketBase record ID.
func ID(n int64) string { return fmt.Sprintf("%015d", n) }

func createCollections(app core.App) error {
	open := types.Pointer("")
	company := core.NewBaseCollection("Company")
	company.ListRule, company.ViewRule, company.CreateRule, company.UpdateRule, company.DeleteRule = open, open, open, open, open
	company.Fields.Add(
		&core.TextField{Name: "name"},
		&core.TextField{Name: "city"},
		&core.TextField{Name: "country"},
		&core.NumberField{Name: "revenues"},
	)
	company.AddIndex("idx_Company_name", false, "`name`", "")
	if err := app.Save(company); err != nil {
		return err
	}
	employee := core.NewBaseCollection("Employee")
	employee.ListRule, employee.ViewRule, employee.CreateRule, employee.UpdateRule, employee.DeleteRule = open, open, open, open, open
	employee.Fields.Add(
		&core.TextField{Name: "firstName"},
		&core.TextField{Name: "lastName"},
		&core.NumberField{Name: "salary"},
		&core.DateField{Name: "birthDate"},
		&core.RelationField{Name: "employer", CollectionId: company.Id, MaxSelect: 1},
	)
	employee.AddIndex("idx_Employee_lastName", false, "`lastName`", "")
	employee.AddIndex("idx_Employee_salary", false, "`salary`", "")
	employee.AddIndex("idx_Employee_employer", false, "`employer`", "")
	return app.Save(employee)
}

// copyRows copies fourd's companies and employees into the collections,
// in one transaction, in fourd's key order.
func copyRows(app core.App, path string) error {
	src, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer src.Close()
	dst, ok := app.NonconcurrentDB().(*dbx.DB)
	if !ok {
		return errors.New("unexpected PocketBase DB type")
	}
	tx, err := dst.DB().Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := copyTable(src, tx,
		`SELECT "ID", coalesce("name",''), coalesce("city",''), coalesce("country",''), coalesce("revenues",0) FROM "Company" ORDER BY "ID"`,
		"INSERT INTO `Company` (`id`, `name`, `city`, `country`, `revenues`) VALUES (?, ?, ?, ?, ?)", 4); err != nil {
		return fmt.Errorf("companies: %w", err)
	}
	if err := copyTable(src, tx,
		`SELECT "ID", coalesce("firstName",''), coalesce("lastName",''), coalesce("salary",0), coalesce("birthDate",''), coalesce("employer",0) FROM "Employee" ORDER BY "ID"`,
		"INSERT INTO `Employee` (`id`, `firstName`, `lastName`, `salary`, `birthDate`, `employer`) VALUES (?, ?, ?, ?, ?, ?)", 5); err != nil {
		return fmt.Errorf("employees: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = dst.DB().Exec("ANALYZE")
	return err
}

// copyTable copies the rows of query (a key then n values) with insert,
// turning the key and a last integer column named employer into record
// IDs and dates into PocketBase's date format.
func copyTable(src *sql.DB, tx *sql.Tx, query, insert string, n int) error {
	rows, err := src.Query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	stmt, err := tx.Prepare(insert)
	if err != nil {
		return err
	}
	defer stmt.Close()
	employee := strings.Contains(insert, "`employer`")
	vals := make([]any, n+1)
	ptrs := make([]any, n+1)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		args := make([]any, n+1)
		copy(args, vals)
		args[0] = ID(vals[0].(int64))
		if employee {
			if d, ok := vals[4].(string); ok && d != "" {
				args[4] = d + " 00:00:00.000Z"
			}
			args[5] = ID(vals[5].(int64))
		}
		if _, err := stmt.Exec(args...); err != nil {
			return err
		}
	}
	return rows.Err()
}
