package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/postgres"
	"github.com/fourd/fourd/storetest"
)

func mustModel(tb testing.TB, text string) *fourd.Model {
	tb.Helper()
	m, err := fourd.ParseModel([]byte(text))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

const (
	modelV1 = `{"dataClasses": [{"name": "Item", "primaryKey": "ID", "attributes": [
		{"name": "ID", "type": "long"}, {"name": "name", "type": "string"}, {"name": "old", "type": "number"}]}]}`
	modelV2 = `{"dataClasses": [{"name": "Item", "primaryKey": "ID", "attributes": [
		{"name": "ID", "type": "long"}, {"name": "name", "type": "string", "indexed": true}, {"name": "size", "type": "long", "indexed": true}]},
		{"name": "Box", "primaryKey": "code", "attributes": [{"name": "code", "type": "string"}]}]}`
	modelBadType = `{"dataClasses": [{"name": "Item", "primaryKey": "ID", "attributes": [
		{"name": "ID", "type": "long"}, {"name": "name", "type": "number"}]}]}`
)

// TestMigrate opens a schema with a model, then with a changed one: new
// tables and columns are added, removed ones kept with their data, the
// indexes of populated tables left to BuildIndex, a changed type refused.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	u := MustSchema(t)
	db1, err := postgres.Open(ctx, u, mustModel(t, modelV1))
	if err != nil {
		t.Fatal(err)
	}
	if !db1.Migration().Created {
		t.Errorf("migration %+v: want Created", db1.Migration())
	}
	item := db1.Model().DataClass("Item")
	storetest.MustCreate(t, db1, item, map[string]any{"name": "a", "old": 1.5}, map[string]any{"name": "b"})
	db1.Close()

	db2 := MustOpenURL(t, u, mustModel(t, modelV2))
	rep := db2.Migration()
	if rep.Created || !slices.Equal(rep.AddedClasses, []string{"Box"}) || !slices.Equal(rep.AddedAttrs, []string{"Item.size"}) || !slices.Equal(rep.KeptAttrs, []string{"Item.old"}) {
		t.Errorf("migration %+v", rep)
	}
	want := []fourd.IndexRef{{DataClass: "Item", Attribute: "name"}, {DataClass: "Item", Attribute: "size"}}
	if got := db2.MissingIndexes(); !slices.Equal(got, want) {
		t.Errorf("missing indexes %v, want %v", got, want)
	}
	item = db2.Model().DataClass("Item")
	e, err := db2.Entity(ctx, item, "1", nil)
	if err != nil || e.Values["name"] != "a" || e.Values["size"] != nil {
		t.Errorf("entity 1 after migration: %+v, %v", e, err)
	}
	pi := &fourd.ProgressIndicator{}
	if err := db2.BuildIndex(ctx, item, "name", pi); err != nil {
		t.Fatal(err)
	}
	if pi.Done() != pi.Total() {
		t.Errorf("progress %d of %d after the build", pi.Done(), pi.Total())
	}
	if got := db2.MissingIndexes(); !slices.Equal(got, want[1:]) {
		t.Errorf("missing indexes %v after building name, want %v", got, want[1:])
	}
	var valid bool
	if err := db2.Pool().QueryRow(ctx, `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'Item.name'`, db2.Schema()).Scan(&valid); err != nil || !valid {
		t.Errorf("index Item.name: valid %v, %v", valid, err)
	}
	t.Run("ErrNotIndexed", func(t *testing.T) {
		err := db2.BuildIndex(ctx, item, "ID", nil)
		storetest.WantError(t, err, fourd.EINVALID, fourd.ErrCodeBadParameter)
	})
	t.Run("ErrAbortedBuild", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := db2.BuildIndex(cctx, item, "size", nil); err == nil {
			t.Fatal("a cancelled build succeeded")
		}
		if got := db2.MissingIndexes(); !slices.Equal(got, want[1:]) {
			t.Errorf("missing indexes %v after a cancelled build, want %v", got, want[1:])
		}
	})
	t.Run("ErrTypeChanged", func(t *testing.T) {
		_, err := postgres.Open(ctx, u, mustModel(t, modelBadType))
		if err == nil || !strings.Contains(err.Error(), "Item.name: the type changed from string to number") {
			t.Errorf("got %v", err)
		}
	})
}

// TestFlush checkpoints as a role that may, and reports its one step.
func TestFlush(t *testing.T) {
	db := MustOpenDB(t, storetest.DatastoreModel(t))
	pi := &fourd.ProgressIndicator{}
	if err := db.Flush(context.Background(), pi); err != nil {
		t.Fatal(err)
	}
	if pi.Done() != 1 || pi.Total() != 1 {
		t.Errorf("progress %d of %d", pi.Done(), pi.Total())
	}
}
