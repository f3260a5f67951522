package sqlite_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/sqlite"
)

func TestDemoModelRoundTrips(t *testing.T) {
	data, err := json.Marshal(sqlite.DemoModel())
	if err != nil {
		t.Fatal(err)
	}
	m, err := fourd.ParseModel(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.DataClasses, sqlite.DemoModel().DataClasses) {
		t.Errorf("the model changed through JSON: %s", data)
	}
}

func TestGenerateDemo(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, sqlite.DemoModel())
	pi := fourd.NewProgress().Prepare(fourd.ProgressImport, true, nil, "")
	defer pi.Stop()
	if err := sqlite.GenerateDemo(ctx, db, 50, 2_000, pi); err != nil {
		t.Fatal(err)
	}
	if pi.Done() != 2_050 || pi.Total() != 2_050 {
		t.Errorf("progress %d of %d, want 2050 of 2050", pi.Done(), pi.Total())
	}
	m := db.Model()
	emp, comp := m.DataClass("Employee"), m.DataClass("Company")
	if n := count(t, db, comp); n != 50 {
		t.Errorf("%d companies", n)
	}
	if n := count(t, db, emp); n != 2_000 {
		t.Errorf("%d employees", n)
	}
	if keys, err := keysOf(t, db, fourd.Selection{DataClass: comp, Filter: query(t, "name = Acme")}); err != nil || len(keys) != 1 {
		t.Errorf("Acme: %v, %v", keys, err)
	}
	for _, f := range []string{"employer = null", "employer.name = null", "salary < 25000", "salary > 250000",
		"birthDate < 1955-01-01", "birthDate > 2005-12-31", "firstName = null", "lastName = null"} {
		if keys, err := keysOf(t, db, fourd.Selection{DataClass: emp, Filter: query(t, f)}); err != nil || len(keys) != 0 {
			t.Errorf("%s: %d employees, %v", f, len(keys), err)
		}
	}
	avg, err := db.Compute(ctx, fourd.Selection{DataClass: emp}, "salary", fourd.AggregateAverage)
	if err != nil || avg.(float64) < 45000 || avg.(float64) > 75000 {
		t.Errorf("average salary %v, %v", avg, err)
	}
	if s, _ := db.GlobalStamp(ctx); s != 2_050 {
		t.Errorf("global stamp %d", s)
	}

	// The same seed gives the same data.
	again := MustOpenDB(t, sqlite.DemoModel())
	if err := sqlite.GenerateDemo(ctx, again, 50, 2_000, nil); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"1", "777", "2000"} {
		a, err1 := db.Entity(ctx, emp, key, nil)
		b, err2 := again.Entity(ctx, again.Model().DataClass("Employee"), key, nil)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(a.Values, b.Values) {
			t.Errorf("employee %s differs: %v / %v (%v, %v)", key, a, b, err1, err2)
		}
	}
}

func TestGenerateDemoStopsWhenAborted(t *testing.T) {
	db := MustOpenDB(t, sqlite.DemoModel())
	p := fourd.ProcessSpec{Name: "demo", Abortable: true}.New(1, 1, time.Now(), nil)
	p.Abort(fourd.ErrAborted)
	err := sqlite.GenerateDemo(p, db, 10, 100_000, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if n := count(t, db, db.Model().DataClass("Employee")); n != 0 {
		t.Errorf("%d employees after an abort before the first batch", n)
	}
}

func TestGenerateDemoNeedsTheDemoModel(t *testing.T) {
	db := MustOpenDB(t, editedModel(t, `{"name": "salary", "type": "number", "indexed": true}`, `{"name": "salary", "type": "long"}`))
	if err := sqlite.GenerateDemo(context.Background(), db, 1, 1, nil); err == nil {
		t.Fatal("generated into a model that differs")
	}
}
