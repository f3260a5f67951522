package inmem_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

func TestLockTable(t *testing.T) {
	ctx := context.Background()
	lt := inmem.NewLockTable()
	lock := func(key, session string, process int64) error {
		_, err := lt.Lock(ctx, fourd.EntityLock{DataClass: "Employee", Key: key, Row: 7, SessionID: session, ProcessID: process})
		return err
	}
	if err := lock("1", "A", 0); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrLockedByAnother", func(t *testing.T) {
		err := lock("1", "B", 0)
		var le *fourd.LockedError
		if !errors.As(err, &le) || le.Holder.SessionID != "A" || fourd.ErrorCode(err) != fourd.ECONFLICT {
			t.Fatalf("Lock by B = %v, want a LockedError naming A", err)
		}
		if _, err := lt.Unlock(ctx, "Employee", "1", "B"); !errors.As(err, &le) {
			t.Fatalf("Unlock by B = %v, want a LockedError", err)
		}
		if got := lt.Locks(ctx, "Employee", "B"); len(got) != 1 || got[0].Row != 7 {
			t.Errorf("Locks(Employee, except B) = %+v", got)
		}
		if got := lt.Locks(ctx, "Employee", "A"); len(got) != 0 {
			t.Errorf("Locks(Employee, except A) = %+v, want none", got)
		}
	})
	t.Run("ProcessLock", func(t *testing.T) {
		if err := lock("2", "A", 42); err != nil {
			t.Fatal(err)
		}
		if err := lock("3", "A", 42); err != nil {
			t.Fatal(err)
		}
		// A session-wide lock on 3 outlives the process.
		if err := lock("3", "A", 0); err != nil {
			t.Fatal(err)
		}
		if n := lt.ReleaseProcess(ctx, 42); n != 1 {
			t.Errorf("ReleaseProcess = %d, want 1", n)
		}
		if _, ok := lt.Holder(ctx, "Employee", "3"); !ok {
			t.Error("the session-wide lock went with the process")
		}
	})
	t.Run("MoveAndRelease", func(t *testing.T) {
		if n := lt.MoveSession(ctx, "A", "A2"); n != 2 {
			t.Errorf("MoveSession = %d, want 2", n)
		}
		if got := lt.SessionLocks(ctx, "A"); len(got) != 0 {
			t.Errorf("A still holds %+v", got)
		}
		if n := lt.ReleaseSession(ctx, "A2"); n != 2 || lt.Len() != 0 {
			t.Errorf("ReleaseSession = %d, %d left; want 2, 0", n, lt.Len())
		}
	})
}
