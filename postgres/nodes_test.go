package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/postgres"
	"github.com/fourd/fourd/storetest"
)

// TestTwoNodes opens two datastores on one schema, as two fourd nodes
// would, and has them write the same entities at once.
func TestTwoNodes(t *testing.T) {
	ctx := context.Background()

	t.Run("MigrateAtOnce", func(t *testing.T) {
		u := MustSchema(t)
		dbs := make([]*postgres.DB, 4)
		errs := make([]error, len(dbs))
		var wg sync.WaitGroup
		for i := range dbs {
			wg.Go(func() { dbs[i], errs[i] = postgres.Open(ctx, u, storetest.DatastoreModel(t)) })
		}
		wg.Wait()
		created := 0
		for i, db := range dbs {
			if errs[i] != nil {
				t.Fatalf("node %d: %v", i, errs[i])
			}
			defer db.Close()
			if db.Migration().Created {
				created++
			}
		}
		if created != 1 {
			t.Errorf("%d nodes created the schema, want 1 (the others found it)", created)
		}
		storetest.LoadFixture(t, dbs[0])
		if n := storetest.Count(t, dbs[3], dbs[3].Model().DataClass("Employee")); n != 10 {
			t.Errorf("another node counts %d employees, want 10", n)
		}
	})

	t.Run("SameStampOneWins", func(t *testing.T) {
		// Each round both nodes update the same entity with the stamp they
		// both read: exactly one save succeeds, the other gets 4D's stamp
		// conflict, whatever the timing.
		u := MustSchema(t)
		a := MustOpenURL(t, u, storetest.DatastoreModel(t))
		b := MustOpenURL(t, u, storetest.DatastoreModel(t))
		storetest.LoadFixture(t, a)
		emp := a.Model().DataClass("Employee")
		const rounds = 20
		for round := range rounds {
			e, err := a.Entity(ctx, emp, "1", nil)
			if err != nil {
				t.Fatal(err)
			}
			results := make([]error, 2)
			var wg sync.WaitGroup
			for i, db := range []*postgres.DB{a, b} {
				wg.Go(func() {
					res, err := db.Save(ctx, db.Model().DataClass("Employee"), []fourd.EntitySave{{Key: "1", Stamp: e.Stamp, Update: true, Values: map[string]any{"salary": float64(round*10 + i)}}}, false)
					if err == nil {
						err = res[0].Err
					}
					results[i] = err
				})
			}
			wg.Wait()
			won := 0
			for _, err := range results {
				var fe *fourd.Error
				switch {
				case err == nil:
					won++
				case errors.As(err, &fe) && fe.ErrCode == fourd.ErrCodeStampMismatch:
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d saves with stamp %d succeeded, want 1 (results %v)", round, won, e.Stamp, results)
			}
		}
		e, err := b.Entity(ctx, b.Model().DataClass("Employee"), "1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if e.Stamp != 1+rounds {
			t.Errorf("stamp %d after %d rounds, want %d", e.Stamp, rounds, 1+rounds)
		}
	})

	t.Run("NoLostUpdate", func(t *testing.T) {
		// Workers on both nodes add 1 to the salaries of the same few
		// employees, reading and retrying on conflict: every increment
		// that succeeded is in the data, and the global stamp counts
		// every save of both nodes.
		u := MustSchema(t)
		a := MustOpenURL(t, u, storetest.DatastoreModel(t))
		b := MustOpenURL(t, u, storetest.DatastoreModel(t))
		storetest.LoadFixture(t, a)
		emp := a.Model().DataClass("Employee")
		keys := []string{"1", "2", "3"}
		start := map[string]float64{}
		for _, k := range keys {
			e, err := a.Entity(ctx, emp, k, nil)
			if err != nil {
				t.Fatal(err)
			}
			start[k] = e.Values["salary"].(float64)
		}
		stamp0, _ := a.GlobalStamp(ctx)
		const workers, each = 4, 15
		var mu sync.Mutex
		added := map[string]int{}
		conflicts := 0
		var wg sync.WaitGroup
		errs := make(chan error, 2*workers)
		for _, db := range []*postgres.DB{a, b} {
			emp := db.Model().DataClass("Employee")
			for w := range workers {
				wg.Go(func() {
					for i := range each {
						k := keys[(w+i)%len(keys)]
						for {
							e, err := db.Entity(ctx, emp, k, []string{"salary"})
							if err != nil {
								errs <- err
								return
							}
							res, err := db.Save(ctx, emp, []fourd.EntitySave{{Key: k, Stamp: e.Stamp, Update: true, Values: map[string]any{"salary": e.Values["salary"].(float64) + 1}}}, false)
							if err == nil {
								err = res[0].Err
							}
							var fe *fourd.Error
							if errors.As(err, &fe) && fe.ErrCode == fourd.ErrCodeStampMismatch {
								mu.Lock()
								conflicts++
								mu.Unlock()
								continue
							}
							if err != nil {
								errs <- err
								return
							}
							mu.Lock()
							added[k]++
							mu.Unlock()
							break
						}
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		total := 0
		for _, k := range keys {
			e, err := b.Entity(ctx, b.Model().DataClass("Employee"), k, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := e.Values["salary"].(float64), start[k]+float64(added[k]); got != want {
				t.Errorf("employee %s: salary %v, want %v (%d increments saved): an update was lost", k, got, want, added[k])
			}
			if e.Stamp != 1+int64(added[k]) {
				t.Errorf("employee %s: stamp %d, want %d", k, e.Stamp, 1+added[k])
			}
			total += added[k]
		}
		if total != 2*workers*each {
			t.Errorf("%d increments saved, want %d", total, 2*workers*each)
		}
		if s, _ := b.GlobalStamp(ctx); s != stamp0+int64(total) {
			t.Errorf("global stamp %d, want %d", s, stamp0+int64(total))
		}
		t.Logf("%d saves, %d stamp conflicts detected and retried", total, conflicts)
	})
}

// TestNULInFilter compares text with constants that hold the NUL
// character, which PostgreSQL's text cannot: no stored value holds one
// (Save refuses it), so each comparison has its answer without sending
// the constant.
func TestNULInFilter(t *testing.T) {
	db := MustOpenDB(t, storetest.DatastoreModel(t))
	storetest.LoadFixture(t, db)
	emp := db.Model().DataClass("Employee")
	for _, tc := range []struct {
		filter string
		want   int
	}{
		{"lastName = :1", 0},
		{"lastName # :1", 9},
		{"lastName < :1", 9},  // "smith\x00x" sorts just after "smith", the last name of all
		{"lastName >= :1", 0}, // so nothing sorts after it
		{"lastName IN :2", 2},
		{"lastName = :3", 0}, // a wildcard pattern holding NUL
		{"lastName % :1", 0},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			q := storetest.Query(t, tc.filter, "smith\x00x", []any{"a\x00", "Smith"}, "sm\x00@")
			_, n, err := db.Page(context.Background(), fourd.Selection{DataClass: emp, Filter: q}, 0, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.want {
				t.Errorf("%d entities, want %d", n, tc.want)
			}
		})
	}
}
