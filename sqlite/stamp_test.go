package sqlite_test

import (
	"context"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/sqlite"
)

// TestGlobalStampIsTheStoredOne checks that GlobalStamp, which answers from
// memory, equals the stamp stored in the database after each kind of write:
// a creation, a refused save, an atomic save rolled back, a validation, an
// update, a delete, and after the database is opened again.
func TestGlobalStampIsTheStoredOne(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/data.sqlite"
	db, err := sqlite.Open(path, sqlite.DemoModel())
	if err != nil {
		t.Fatal(err)
	}
	emp := db.Model().DataClass("Employee")
	last := int64(-1)
	check := func(step string, moved int64) {
		t.Helper()
		got, err := db.GlobalStamp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := sqlite.StoredStamp(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if got != stored {
			t.Fatalf("after %s: GlobalStamp %d, stored %d", step, got, stored)
		}
		if last >= 0 && got-last != moved {
			t.Fatalf("after %s: the stamp moved by %d, want %d", step, got-last, moved)
		}
		last = got
	}
	check("Open", 0)
	e := mustCreate(t, db, emp, map[string]any{"lastName": "A"}, map[string]any{"lastName": "B"})
	check("two creations", 2)
	if res, err := db.Save(ctx, emp, []fourd.EntitySave{{Values: map[string]any{"salary": "x"}}}, false); err != nil || res[0].Err == nil {
		t.Fatalf("bad value: %v, %v", err, res)
	}
	check("a refused save", 0)
	if _, err := db.Save(ctx, emp, []fourd.EntitySave{{Values: map[string]any{"lastName": "C"}}, {Values: map[string]any{"salary": "x"}}}, true); err != nil {
		t.Fatal(err)
	}
	check("an atomic save rolled back", 0)
	if _, err := db.Validate(ctx, emp, []fourd.EntitySave{{Values: map[string]any{"lastName": "D"}}}, false); err != nil {
		t.Fatal(err)
	}
	check("a validation", 0)
	if res, err := db.Save(ctx, emp, []fourd.EntitySave{{Update: true, Key: e[0].Key, Stamp: e[0].Stamp, Values: map[string]any{"lastName": "A2"}}}, false); err != nil || res[0].Err != nil {
		t.Fatalf("update: %v, %v", err, res)
	}
	check("an update", 1)
	if n, err := db.Delete(ctx, emp, []fourd.RowID{e[1].Row}); err != nil || n != 1 {
		t.Fatalf("delete: %d, %v", n, err)
	}
	check("a delete", 1)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = sqlite.Open(path, sqlite.DemoModel()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check("opening again", 0)
}
