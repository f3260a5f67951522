package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/postgres"
	"github.com/fourd/fourd/storetest"
)

func TestGenerateDemo(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, postgres.DemoModel())
	pi := fourd.NewProgress().Prepare(fourd.ProgressImport, true, nil, "")
	defer pi.Stop()
	if err := postgres.GenerateDemo(ctx, db, 50, 12_000, pi); err != nil {
		t.Fatal(err)
	}
	if pi.Done() != 12_050 || pi.Total() != 12_050 {
		t.Errorf("progress %d of %d, want 12050 of 12050", pi.Done(), pi.Total())
	}
	m := db.Model()
	emp, comp := m.DataClass("Employee"), m.DataClass("Company")
	if n := storetest.Count(t, db, comp); n != 50 {
		t.Errorf("%d companies", n)
	}
	if n := storetest.Count(t, db, emp); n != 12_000 {
		t.Errorf("%d employees", n)
	}
	if s, _ := db.GlobalStamp(ctx); s != 12_050 {
		t.Errorf("global stamp %d, want 12050", s)
	}
	if keys, err := storetest.Keys(t, db, fourd.Selection{DataClass: comp, Filter: storetest.Query(t, "name = Acme")}); err != nil || len(keys) != 1 || keys[0] != "1" {
		t.Errorf("Acme: %v, %v", keys, err)
	}
	for _, f := range []string{"employer = null", "employer.name = null", "salary < 25000", "salary > 250000",
		"birthDate < 1955-01-01", "birthDate > 2005-12-31", "firstName = null", "lastName = null"} {
		if _, n, err := db.Page(ctx, fourd.Selection{DataClass: emp, Filter: storetest.Query(t, f)}, 0, 0, nil); err != nil || n != 0 {
			t.Errorf("%s: %d employees, %v", f, n, err)
		}
	}
	// Generated keys come after the demo's.
	e := storetest.MustCreate(t, db, emp, map[string]any{"lastName": "After"})[0]
	if e.Key != "12001" {
		t.Errorf("key %s after the demo, want 12001", e.Key)
	}
	if err := postgres.GenerateDemo(ctx, db, 1, 1, nil); err == nil || !strings.Contains(err.Error(), "already holds entities") {
		t.Errorf("a second demo into the same tables: %v", err)
	}
}
