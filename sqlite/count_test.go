package sqlite_test

import (
	"context"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/sqlite"
)

// TestPageCountFollowsWrites checks that a count Page answers from its
// cache is the count of the data as it is now: every kind of write
// (create, update, delete) changes the next count.
func TestPageCountFollowsWrites(t *testing.T) {
	db := MustOpenFixture(t)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	rich := fourd.Selection{DataClass: emp, Filter: query(t, "salary > 50000")}
	all := fourd.Selection{DataClass: emp}
	counts := func() (int, int) {
		t.Helper()
		_, r, err := db.Page(ctx, rich, 0, 5, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, a, err := db.Page(ctx, all, 0, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r, a
	}
	r0, a0 := counts()
	if r, a := counts(); r != r0 || a != a0 {
		t.Fatalf("counts %d, %d then %d, %d with no write", r0, a0, r, a)
	}
	if n := sqlite.CountsCached(db); n != 2 {
		t.Fatalf("%d counts cached, want 2", n)
	}

	t.Run("Create", func(t *testing.T) {
		mustCreate(t, db, emp, map[string]any{"lastName": "New", "salary": 70000})
		if r, a := counts(); r != r0+1 || a != a0+1 {
			t.Errorf("after a create: %d, %d; want %d, %d", r, a, r0+1, a0+1)
		}
	})
	t.Run("Update", func(t *testing.T) {
		es, _, err := db.Page(ctx, fourd.Selection{DataClass: emp, Filter: query(t, "lastName = New")}, 0, 1, nil)
		if err != nil || len(es) != 1 {
			t.Fatal(len(es), err)
		}
		res, err := db.Save(ctx, emp, []fourd.EntitySave{{Key: es[0].Key, Stamp: es[0].Stamp, Update: true, Values: map[string]any{"salary": 1}}}, false)
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res[0].Err)
		}
		if r, a := counts(); r != r0 || a != a0+1 {
			t.Errorf("after an update: %d, %d; want %d, %d", r, a, r0, a0+1)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		es, _, err := db.Page(ctx, rich, 0, 1, nil)
		if err != nil || len(es) != 1 {
			t.Fatal(len(es), err)
		}
		if n, err := db.Delete(ctx, emp, []fourd.RowID{es[0].Row}); n != 1 || err != nil {
			t.Fatal(n, err)
		}
		if r, a := counts(); r != r0-1 || a != a0 {
			t.Errorf("after a delete: %d, %d; want %d, %d", r, a, r0-1, a0)
		}
	})
}
