package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/sqlite"
)

// waitFor polls cond until it holds; the test's own timeout bounds it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after a minute", what)
		}
	}
}

// TestGroupCommitAcknowledgesAfterCommit queues saves of several callers
// behind a blocked commit, so that the writer commits them together, and
// checks that none returns before its group's COMMIT, that each returns
// with its own outcome (a stamp conflict, a failed atomic save, a
// validation and an abandoned save change nothing, and do not undo the
// others), and that every save acknowledged is visible to readers when its
// caller gets the answer.
func TestGroupCommitAcknowledgesAfterCommit(t *testing.T) {
	db := MustOpenDB(t, sqlite.DemoModel())
	ctx := context.Background()
	co, emp := db.Model().DataClass("Company"), db.Model().DataClass("Employee")
	company := mustCreate(t, db, co, map[string]any{"name": "Acme"})[0]
	old := mustCreate(t, db, emp, map[string]any{"lastName": "Old"})[0]
	stamp0, err := db.GlobalStamp(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		groups   []int // the size of each transaction committed
		returned atomic.Int32
		entered  = make(chan struct{})
		release  = make(chan struct{})
	)
	sqlite.SetBeforeCommit(db, func(n int) {
		mu.Lock()
		groups = append(groups, n)
		first := len(groups) == 1
		mu.Unlock()
		if first {
			close(entered)
			<-release
			return
		}
		// A save acknowledged before this COMMIT would have returned by
		// now: give it time to show.
		for i := 0; i < 100 && returned.Load() == 0; i++ {
			time.Sleep(time.Millisecond)
		}
		if n := returned.Load(); n != 0 {
			t.Errorf("%d saves returned before the COMMIT of their transaction", n)
		}
	})

	// visible reports an acknowledged creation that readers cannot see.
	visible := func(name string, res []fourd.SaveResult) {
		for _, r := range res {
			if r.Err != nil || r.Entity == nil {
				continue
			}
			e, err := db.Entity(ctx, emp, r.Entity.Key, nil)
			if err != nil || e == nil {
				t.Errorf("%s: acknowledged entity %s is not committed (err %v)", name, r.Entity.Key, err)
			}
		}
	}
	type outcome struct {
		res []fourd.SaveResult
		err error
	}
	var wg sync.WaitGroup
	save := func(name string, saves []fourd.EntitySave, atomicSave, validate bool) *outcome {
		o := new(outcome)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if validate {
				o.res, o.err = db.Validate(ctx, emp, saves, atomicSave)
			} else {
				o.res, o.err = db.Save(ctx, emp, saves, atomicSave)
			}
			if name != "first" {
				returned.Add(1)
			}
			if !validate && !atomicSave {
				visible(name, o.res)
			}
		}()
		return o
	}
	create := func(last string) fourd.EntitySave {
		return fourd.EntitySave{Values: map[string]any{"lastName": last, "employer": company.Key}}
	}

	// The first save holds the writer in its COMMIT while the others queue.
	first := save("first", []fourd.EntitySave{create("First")}, false, false)
	<-entered
	var creates []*outcome
	for i := range 5 {
		name := fmt.Sprintf("G%d", i)
		creates = append(creates, save(name, []fourd.EntitySave{create(name)}, false, false))
	}
	conflict := save("conflict", []fourd.EntitySave{{Update: true, Key: old.Key, Stamp: old.Stamp + 5,
		Values: map[string]any{"lastName": "Changed"}}}, false, false)
	failedAtomic := save("atomic", []fourd.EntitySave{create("AtomicOK"),
		{Values: map[string]any{"lastName": "AtomicBad", "salary": "not a number"}}}, true, false)
	validated := save("validate", []fourd.EntitySave{create("Validated")}, false, true)
	abortCtx, abort := context.WithCancel(ctx)
	aborted := make(chan error, 1)
	go func() {
		_, err := db.Save(abortCtx, emp, []fourd.EntitySave{create("Aborted")}, false)
		aborted <- err
	}()
	waitFor(t, "9 queued saves", func() bool { return sqlite.PendingWrites(db) == 9 })
	abort()
	if err := <-aborted; !errors.Is(err, context.Canceled) {
		t.Errorf("a save aborted while queued returned %v; want context.Canceled", err)
	}
	close(release)
	wg.Wait()

	if !slices.Contains(groups, 8) {
		t.Fatalf("transactions committed %v writes; want one of the 8 queued saves together", groups)
	}
	for _, o := range append(creates, first) {
		if o.err != nil || o.res[0].Err != nil {
			t.Errorf("create: %v, %v", o.err, o.res[0].Err)
		}
	}
	if conflict.err != nil || fourd.ErrorCode(conflict.res[0].Err) != fourd.ECONFLICT {
		t.Errorf("stale update: %v, %v; want a stamp conflict", conflict.err, conflict.res[0].Err)
	}
	if failedAtomic.err != nil || failedAtomic.res[1].Err == nil {
		t.Errorf("atomic save with a bad value: %v, %v; want the second entity refused", failedAtomic.err, failedAtomic.res)
	}
	if validated.err != nil || validated.res[0].Err != nil {
		t.Errorf("validation: %v, %v", validated.err, validated.res[0].Err)
	}

	es, n, err := db.Page(ctx, fourd.Selection{DataClass: emp}, 0, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Values["lastName"].(string))
		if e.Key == old.Key && e.Stamp != old.Stamp {
			t.Errorf("the entity of the stale update changed: stamp %d, was %d", e.Stamp, old.Stamp)
		}
	}
	slices.Sort(names)
	want := []string{"First", "G0", "G1", "G2", "G3", "G4", "Old"}
	if n != len(want) || !slices.Equal(names, want) {
		t.Errorf("employees %v (count %d); want %v", names, n, want)
	}
	stamp, err := db.GlobalStamp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stamp-stamp0 != 6 {
		t.Errorf("the global stamp moved by %d; want 6 (the six creations kept)", stamp-stamp0)
	}
}
