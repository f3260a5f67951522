package inmem_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// MustOpenTable returns a process table closed at the end of the test.
func MustOpenTable(tb testing.TB) *inmem.ProcessTable {
	tb.Helper()
	t := inmem.NewProcessTable()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := t.Close(ctx); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return t
}

func mustTrack(tb testing.TB, t *inmem.ProcessTable, spec fourd.ProcessSpec) *fourd.Process {
	tb.Helper()
	p, err := t.Track(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
