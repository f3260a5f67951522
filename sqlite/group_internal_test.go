package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGroupCommitRunsAloneAfterBrokenTransaction puts a write that ends
// the whole transaction (as SQLite does when it interrupts an INSERT) in a
// group with others, and checks that the others are still committed,
// each in a transaction of its own, and that the breaking write reports
// its own error.
func TestGroupCommitRunsAloneAfterBrokenTransaction(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "data.sqlite"), DemoModel())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "CREATE TABLE t (x INTEGER)")
		return err
	}); err != nil {
		t.Fatal(err)
	}

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	db.beforeCommit = func(int) { once.Do(func() { close(entered); <-release }) }

	insert := func(x int, runs *atomic.Int32) func(tx *sql.Tx) error {
		return func(tx *sql.Tx) error {
			runs.Add(1)
			_, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (?)", x)
			return err
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 5)
	runs := make([]atomic.Int32, 5)
	wg.Add(1)
	go func() { defer wg.Done(); errs[0] = db.writeGroup(ctx, insert(0, &runs[0])) }()
	<-entered
	errBroke := errors.New("broke the transaction")
	for i := 1; i < 5; i++ {
		fn := insert(i, &runs[i])
		if i == 2 {
			fn = func(tx *sql.Tx) error {
				runs[2].Add(1)
				if _, err := tx.ExecContext(ctx, "ROLLBACK"); err != nil {
					return err
				}
				return errBroke
			}
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = db.writeGroup(ctx, fn) }()
		// Queued one after the other, in this order.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
			db.wq.mu.Lock()
			n := len(db.wq.pending)
			db.wq.mu.Unlock()
			if n == i {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the writes were not queued after a minute")
			}
		}
	}
	close(release)
	wg.Wait()

	for i, err := range errs {
		if want := error(nil); i == 2 {
			want = errBroke
			if !errors.Is(err, want) {
				t.Errorf("write %d: %v; want %v", i, err, want)
			}
		} else if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	// The group ran up to the write that broke it; then each ran alone.
	for i, want := range []int32{1, 2, 2, 1, 1} {
		if n := runs[i].Load(); n != want {
			t.Errorf("write %d ran %d times; want %d", i, n, want)
		}
	}
	var got []int
	rows, err := db.reader.QueryContext(ctx, "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var x int
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		got = append(got, x)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 3, 4}; len(got) != len(want) || got[0] != 0 || got[1] != 1 || got[2] != 3 || got[3] != 4 {
		t.Errorf("rows %v; want %v", got, want)
	}
}
