package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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

// TestGenerateDemoAborted cancels an import once its first batch is in:
// the COPY running is cancelled on the server, GenerateDemo returns the
// context's error, and only whole batches are left.
func TestGenerateDemoAborted(t *testing.T) {
	db := MustOpenDB(t, postgres.DemoModel())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pi := fourd.NewProgress().Prepare(fourd.ProgressImport, true, nil, "")
	defer pi.Stop()
	go func() {
		for pi.Done() == 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	err := postgres.GenerateDemo(ctx, db, 10, 200_000, pi)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	n := storetest.Count(t, db, db.Model().DataClass("Employee"))
	if n >= 200_000 || n%10_000 != 0 {
		t.Errorf("%d employees after the abort: want whole batches of 10,000, fewer than 200,000", n)
	}
	if s, _ := db.GlobalStamp(context.Background()); s != int64(10+n) {
		t.Errorf("global stamp %d, want %d: the batches committed", s, 10+n)
	}
}
