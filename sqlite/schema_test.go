package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/sqlite"
	"github.com/fourd/fourd/storetest"
)

// parseModel builds a model from JSON, replacing the test model's text with
// the edits given as pairs (old, new).
func editedModel(tb testing.TB, edits ...string) *fourd.Model {
	tb.Helper()
	text := storetest.DatastoreModelJSON
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			tb.Fatalf("the test model has no %q", edits[i])
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	m, err := fourd.ParseModel([]byte(text))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data.sqlite")
	db, err := sqlite.Open(path, testModel(t))
	if err != nil {
		t.Fatal(err)
	}
	if mig := db.Migration(); !mig.Created || len(mig.AddedClasses) != 4 || len(db.MissingIndexes()) != 0 {
		t.Errorf("new database: %+v, missing %v", mig, db.MissingIndexes())
	}
	mustCreate(t, db, db.Model().DataClass("Employee"), map[string]any{"lastName": "Kept", "salary": 1.0})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	t.Run("AddAttributeKeepsData", func(t *testing.T) {
		m := editedModel(t, `{"name": "active", "type": "bool"},`,
			`{"name": "active", "type": "bool"}, {"name": "nickname", "type": "string", "indexed": true},`)
		db := mustOpenPath(t, path, m)
		mig := db.Migration()
		if mig.Created || !slices.Equal(mig.AddedAttrs, []string{"Employee.nickname"}) {
			t.Errorf("migration %+v", mig)
		}
		if got := db.MissingIndexes(); !slices.Equal(got, []sqlite.IndexRef{{DataClass: "Employee", Attribute: "nickname"}}) {
			t.Errorf("missing indexes %v", got)
		}
		emp := m.DataClass("Employee")
		e, err := db.Entity(ctx, emp, "1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if e.Values["lastName"] != "Kept" || e.Values["nickname"] != nil {
			t.Errorf("values %v", e.Values)
		}
		res, err := db.Save(ctx, emp, []fourd.EntitySave{{Key: "1", Stamp: 1, Update: true, Values: map[string]any{"nickname": "K"}}}, false)
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res[0].Err)
		}
		if err := db.BuildIndex(ctx, emp, "nickname", nil); err != nil {
			t.Fatal(err)
		}
		if got := db.MissingIndexes(); len(got) != 0 {
			t.Errorf("missing after build: %v", got)
		}
	})
	t.Run("RemovedAttributeAndClassAreKept", func(t *testing.T) {
		m := editedModel(t, `{"name": "badge", "type": "uuid"},`, ``,
			`,
    {"name": "Device", "primaryKey": "ID", "attributes": [
      {"name": "ID", "type": "uuid"},
      {"name": "name", "type": "string"},
      {"name": "owner", "kind": "relatedEntity", "relatedDataClass": "Tag"}
    ]}`, ``)
		db := mustOpenPath(t, path, m)
		mig := db.Migration()
		if !slices.Equal(mig.KeptAttrs, []string{"Employee.badge", "Employee.nickname"}) || !slices.Equal(mig.KeptClasses, []string{"Device"}) {
			t.Errorf("migration %+v", mig)
		}
		if !slices.Equal(mig.DroppedIndexes, []string{"Employee.nickname"}) {
			t.Errorf("dropped indexes %v", mig.DroppedIndexes)
		}
		if _, err := db.Entity(ctx, m.DataClass("Employee"), "1", nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("RemovedAttributeComesBackWithItsData", func(t *testing.T) {
		m := editedModel(t, `{"name": "active", "type": "bool"},`,
			`{"name": "active", "type": "bool"}, {"name": "nickname", "type": "string"},`)
		db := mustOpenPath(t, path, m)
		e, err := db.Entity(ctx, m.DataClass("Employee"), "1", []string{"nickname"})
		if err != nil || e.Values["nickname"] != "K" {
			t.Fatalf("got %v, %v", e, err)
		}
	})
	t.Run("ErrTypeChanged", func(t *testing.T) {
		m := editedModel(t, `{"name": "salary", "type": "number", "indexed": true}`, `{"name": "salary", "type": "string"}`)
		_, err := sqlite.Open(path, m)
		if err == nil || !strings.Contains(err.Error(), "Employee.salary") || !strings.Contains(err.Error(), "number to string") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrRemovedAttributeBackWithAnotherType", func(t *testing.T) {
		m := editedModel(t, `{"name": "active", "type": "bool"},`,
			`{"name": "active", "type": "bool"}, {"name": "nickname", "type": "date"},`)
		_, err := sqlite.Open(path, m)
		if err == nil || !strings.Contains(err.Error(), "Employee.nickname") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrPrimaryKeyChanged", func(t *testing.T) {
		m := editedModel(t, `{"name": "Tag", "primaryKey": "code"`, `{"name": "Tag", "primaryKey": "label"`)
		_, err := sqlite.Open(path, m)
		if err == nil || !strings.Contains(err.Error(), "Tag") || !strings.Contains(err.Error(), "primary key") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("LongToLong64IsTheSame", func(t *testing.T) {
		m := editedModel(t, `{"name": "rank", "type": "long64"}`, `{"name": "rank", "type": "long"}`)
		mustOpenPath(t, path, m)
	})
}

func TestOpenRefusesNames(t *testing.T) {
	tests := []struct{ name, edit, with, want string }{
		{"ErrReservedAttribute", `{"name": "label", "type": "string"}`, `{"name": "__stamp", "type": "string"}`, "Tag.__stamp"},
		{"ErrAttributesDifferingInCase", `{"name": "label", "type": "string"}`, `{"name": "label", "type": "string"}, {"name": "Label", "type": "string"}`, "label and Label"},
		{"ErrReservedClass", `{"name": "Tag", "primaryKey"`, `{"name": "sqlite_Tag", "primaryKey"`, "sqlite_Tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := editedModel(t, tt.edit, tt.with, `"relatedDataClass": "Tag"`, `"relatedDataClass": "Company"`)
			_, err := sqlite.Open(filepath.Join(t.TempDir(), "x.sqlite"), m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestBuildIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data.sqlite")
	db := mustOpenPath(t, path, sqlite.DemoModel())
	if err := sqlite.GenerateDemo(ctx, db, 10, 12_000, nil); err != nil {
		t.Fatal(err)
	}
	emp := db.Model().DataClass("Employee")
	t.Run("ProgressReachesTotal", func(t *testing.T) {
		pi := fourd.NewProgress().Prepare(fourd.ProgressIndex, true, nil, "")
		defer pi.Stop()
		if err := db.BuildIndex(ctx, emp, "lastName", pi); err != nil {
			t.Fatal(err)
		}
		if pi.Total() != 120_000 || pi.Done() != pi.Total() {
			t.Errorf("done %d of %d, want 120000 (10 units per row) of 120000", pi.Done(), pi.Total())
		}
		if info := pi.Info(); info.Percent != 100 || info.Title != "Indexing Employee.lastName" {
			t.Errorf("info %+v", info)
		}
	})
	t.Run("CancelStops", func(t *testing.T) {
		p := fourd.ProcessSpec{Name: "Indexing", Type: fourd.TypeIndexingProcess, Abortable: true}.New(1, 1, time.Now(), nil)
		p.Abort(fourd.ErrAborted)
		pi := fourd.NewProgress().Prepare(fourd.ProgressIndex, true, p, "")
		defer pi.Stop()
		err := db.BuildIndex(p, emp, "salary", pi)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if pi.Done() >= pi.Total() && pi.Total() > 0 {
			t.Errorf("done %d of %d after a cancel", pi.Done(), pi.Total())
		}
	})
	t.Run("ErrNotIndexed", func(t *testing.T) {
		err := db.BuildIndex(ctx, emp, "firstName", nil)
		wantError(t, err, fourd.EINVALID, fourd.ErrCodeBadParameter)
	})
	t.Run("ErrUnknownAttribute", func(t *testing.T) {
		err := db.BuildIndex(ctx, emp, "nope", nil)
		wantError(t, err, fourd.EINVALID, fourd.ErrCodeUnknownAttribute)
	})
}

// TestCancel checks that a query stops when its context is cancelled: a
// process aborted while its query runs gets context.Canceled.
func TestCancel(t *testing.T) {
	db := MustOpenFixture(t)
	emp := db.Model().DataClass("Employee")
	t.Run("LongQueryStops", func(t *testing.T) {
		p := fourd.ProcessSpec{Name: "query", Abortable: true}.New(1, 1, time.Now(), nil)
		started := make(chan struct{})
		done := make(chan error, 1)
		go func() { done <- sqlite.LongQuery(p, db, started) }()
		<-started
		p.Abort(fourd.ErrAborted)
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
	t.Run("CancelledBeforeEveryMethod", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		sel := fourd.Selection{DataClass: emp, Filter: query(t, "salary > 0")}
		errs := map[string]error{}
		_, errs["Rows"] = db.Rows(ctx, sel)
		_, _, errs["Page"] = db.Page(ctx, sel, 0, 10, nil)
		_, errs["Load"] = db.Load(ctx, emp, []fourd.RowID{1}, nil)
		_, errs["Entity"] = db.Entity(ctx, emp, "1", nil)
		_, errs["Sort"] = db.Sort(ctx, emp, []fourd.RowID{1, 2}, nil)
		_, errs["Save"] = db.Save(ctx, emp, []fourd.EntitySave{{Values: map[string]any{"lastName": "x"}}}, false)
		_, errs["Delete"] = db.Delete(ctx, emp, []fourd.RowID{1})
		_, errs["Compute"] = db.Compute(ctx, sel, "salary", fourd.AggregateSum)
		_, errs["Distinct"] = db.Distinct(ctx, sel, "salary", 0)
		_, errs["GlobalStamp"] = db.GlobalStamp(ctx)
		errs["Flush"] = db.Flush(ctx, nil)
		for name, err := range errs {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: got %v, want context.Canceled", name, err)
			}
		}
		if n := count(t, db, emp); n != 10 {
			t.Errorf("%d employees, want 10: nothing written", n)
		}
	})
}

func TestFlush(t *testing.T) {
	db := MustOpenFixture(t)
	pi := fourd.NewProgress().Prepare(fourd.ProgressFlush, true, nil, "")
	defer pi.Stop()
	if err := db.Flush(context.Background(), pi); err != nil {
		t.Fatal(err)
	}
	if pi.Total() == 0 || pi.Done() != pi.Total() {
		t.Errorf("done %d of %d frames", pi.Done(), pi.Total())
	}
	// Nothing new: nothing to copy.
	if err := db.Flush(context.Background(), pi); err != nil {
		t.Fatal(err)
	}
	if pi.Done() != pi.Total() {
		t.Errorf("done %d of %d frames", pi.Done(), pi.Total())
	}
}

// TestInjection sends SQL through every place user text reaches the
// datastore and checks that nothing changed.
func TestInjection(t *testing.T) {
	db := MustOpenFixture(t)
	ctx := context.Background()
	m := db.Model()
	emp, comp := m.DataClass("Employee"), m.DataClass("Company")
	before := [2]int{count(t, db, emp), count(t, db, comp)}
	check := func(t *testing.T) {
		t.Helper()
		if after := [2]int{count(t, db, emp), count(t, db, comp)}; after != before {
			t.Fatalf("counts %v, were %v", after, before)
		}
	}
	t.Run("FilterValue", func(t *testing.T) {
		for _, f := range []string{
			`lastName = "x'); DROP TABLE Employee; --"`,
			`lastName = 'x"; DELETE FROM Employee; --'`,
			`employer.name = "'; DELETE FROM Company; --@"`,
			`lastName IN ["a'); DROP TABLE Employee; --", "b"]`,
			`lastName begin "%'--"`,
			`lastName % "x'); DROP TABLE Employee; --"`,
			`info.x = "1'); DROP TABLE Employee; --"`,
		} {
			keys, err := keysOf(t, db, fourd.Selection{DataClass: emp, Filter: query(t, f)})
			if err != nil || len(keys) != 0 {
				t.Errorf("%s: %v, %v", f, keys, err)
			}
		}
		check(t)
	})
	t.Run("AttributeName", func(t *testing.T) {
		q := query(t, "lastName = x")
		q.Expr.(*fourdComparison).Path[0].Name = `name" = 1; DROP TABLE "Employee`
		_, err := db.Rows(ctx, fourd.Selection{DataClass: emp, Filter: q})
		wantError(t, err, fourd.EINVALID, fourd.ErrCodeUnknownAttribute)
		_, _, err = db.Page(ctx, fourd.Selection{DataClass: emp}, 0, 1, []string{"name;DROP TABLE Employee"})
		wantError(t, err, fourd.EINVALID, fourd.ErrCodeUnknownAttribute)
		_, err = db.Compute(ctx, fourd.Selection{DataClass: emp}, `salary) FROM Employee; DELETE FROM Employee; --`, fourd.AggregateSum)
		wantError(t, err, fourd.EINVALID, fourd.ErrCodeUnknownAttribute)
		check(t)
	})
	t.Run("PropertyName", func(t *testing.T) {
		q := query(t, "info.x = 1")
		q.Expr.(*fourdComparison).Path[1].Name = `x') = 1 OR 1=1; --`
		_, err := db.Rows(ctx, fourd.Selection{DataClass: emp, Filter: q})
		wantError(t, err, fourd.EINVALID, fourd.ErrCodeBadFilter)
		check(t)
	})
	t.Run("OrderBy", func(t *testing.T) {
		ob := orderBy("lastName; DELETE FROM Employee")
		_, err := db.Rows(ctx, fourd.Selection{DataClass: emp, OrderBy: ob})
		wantError(t, err, fourd.EINVALID, fourd.ErrCodeUnknownAttribute)
		_, err = db.Sort(ctx, emp, []fourd.RowID{1, 2}, ob)
		wantError(t, err, fourd.EINVALID, fourd.ErrCodeUnknownAttribute)
		check(t)
	})
	t.Run("Key", func(t *testing.T) {
		for _, k := range []string{"1 OR 1=1", "1; DELETE FROM Employee", "0x1"} {
			_, err := db.Entity(ctx, emp, k, nil)
			wantError(t, err, fourd.ENOTFOUND, fourd.ErrCodeUnknownEntity)
		}
		_, err := db.Entity(ctx, m.DataClass("Tag"), "' OR 1=1 --", nil)
		wantError(t, err, fourd.ENOTFOUND, fourd.ErrCodeUnknownEntity)
		res, err := db.Save(ctx, emp, []fourd.EntitySave{{Key: "1 OR 1=1", Stamp: 1, Update: true, Values: map[string]any{"lastName": "x"}}}, false)
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, res[0].Err, fourd.ENOTFOUND, fourd.ErrCodeUnknownEntity)
		check(t)
	})
	t.Run("SavedTextIsData", func(t *testing.T) {
		evil := `Robert'); DROP TABLE Employee; --`
		e := mustCreate(t, db, emp, map[string]any{"lastName": evil})[0]
		got, err := db.Entity(ctx, emp, e.Key, []string{"lastName"})
		if err != nil || got.Values["lastName"] != evil {
			t.Fatalf("got %v, %v", got, err)
		}
		before[0]++
		check(t)
	})
}

func TestPragmas(t *testing.T) {
	db := MustOpenDB(t, testModel(t))
	ctx := context.Background()
	tests := []struct{ name, reader, writer string }{
		{"journal_mode", "wal", "wal"},
		{"synchronous", "2", "1"}, // the readers never write: only the writer's setting matters
		{"foreign_keys", "0", "0"},
		{"busy_timeout", "5000", "5000"},
		{"temp_store", "2", "2"},
		{"query_only", "1", "0"},
		{"cache_size", "-16384", "-65536"},
		{"mmap_size", "268435456", "268435456"},
	}
	for _, tt := range tests {
		r, w, err := sqlite.Pragma(ctx, db, tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if r != tt.reader || w != tt.writer {
			t.Errorf("%s: reader %s, writer %s; want %s, %s", tt.name, r, w, tt.reader, tt.writer)
		}
	}
}
