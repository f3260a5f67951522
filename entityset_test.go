package fourd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

func TestReleaseEntitySet(t *testing.T) {
	ctx := context.Background()
	st := inmem.NewEntitySetStore(1 << 20)
	put := func(id, session string) {
		t.Helper()
		es := &fourd.EntitySet{ID: id, DataClass: "Employee", Rows: st.NewRowSet([]fourd.RowID{1, 2}, false),
			SessionID: session, Created: time.Now(), Refreshed: time.Now(), Timeout: time.Hour}
		if err := st.Put(ctx, es); err != nil {
			t.Fatal(err)
		}
	}
	put("A1", "S1")
	put("B2", "S2")
	t.Run("ErrAnotherSessionsSet", func(t *testing.T) {
		err := fourd.ReleaseEntitySet(ctx, st, "A1", "S2")
		if fourd.ErrorCode(err) != fourd.ENOTFOUND || !strings.Contains(err.Error(), `"A1"`) {
			t.Fatalf("release of another session's set: %v, want 1802", err)
		}
		if _, err := st.Get(ctx, "A1", time.Now()); err != nil {
			t.Fatalf("the set went anyway: %v", err)
		}
	})
	t.Run("OKOwnSetAnyCase", func(t *testing.T) {
		if err := fourd.ReleaseEntitySet(ctx, st, "a1", "S1"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKAdministrator", func(t *testing.T) {
		if err := fourd.ReleaseEntitySet(ctx, st, "B2", ""); err != nil {
			t.Fatal(err)
		}
		if n := st.Len(); n != 0 {
			t.Fatalf("%d sets left", n)
		}
	})
}
