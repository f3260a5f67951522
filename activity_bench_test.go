package fourd_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

// BenchmarkProcessActivity measures a snapshot of 10,000 processes, each in
// its own REST session, and 10,000 sessions: the Go API (ProcessActivity),
// the JSON encoding of its result, and both. Each reports allocs/object:
// allocations per listed process or session.
func BenchmarkProcessActivity(b *testing.B) {
	const n = 10000
	tab := inmem.NewProcessTable()
	reg := inmem.NewProcessRegistry("n1", tab)
	store := inmem.NewSessionStore()
	ctx := context.Background()
	now := time.Now()
	var procs []*fourd.Process
	for i := 0; i < n; i++ {
		s := fourd.NewSession(fourd.SessionREST, now, time.Hour)
		s.IPAddress, s.UserAgent = "127.0.0.1", "bench/1.0"
		if err := store.Create(ctx, s); err != nil {
			b.Fatal(err)
		}
		p, err := tab.Track(fourd.ProcessSpec{Name: "GET /rest/Employee", Type: fourd.TypeWebServerProcess,
			SessionID: s.ID, Visible: true, URL: "/rest/Employee?$top=20", Abortable: true})
		if err != nil {
			b.Fatal(err)
		}
		procs = append(procs, p)
	}
	b.Cleanup(func() {
		for _, p := range procs {
			p.End(nil)
		}
		_ = tab.Close(ctx)
	})
	objects := float64(2 * n)
	snapshot := func(b *testing.B) *fourd.Activity {
		a, err := fourd.ProcessActivity(ctx, reg, store, "", fourd.ProcessesAndSessions)
		if err != nil || len(a.Processes) != n || len(a.Sessions) != n {
			b.Fatalf("snapshot: %v", err)
		}
		return a
	}
	reportAllocsPerObject := func(b *testing.B, run func()) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			run()
		}
		b.StopTimer()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N)/objects, "allocs/object")
	}
	b.Run("GoAPI", func(b *testing.B) {
		b.ReportAllocs()
		reportAllocsPerObject(b, func() { snapshot(b) })
	})
	b.Run("JSON", func(b *testing.B) {
		a := snapshot(b)
		b.ReportAllocs()
		var size int
		reportAllocsPerObject(b, func() {
			out, _ := a.MarshalJSON()
			size = len(out)
		})
		b.SetBytes(int64(size))
	})
	b.Run("JSONReusedBuffer", func(b *testing.B) {
		// As the REST handler encodes: into a pooled buffer, so that a
		// snapshot does not allocate (and fault in) a new 10 MB each time.
		a := snapshot(b)
		b.ReportAllocs()
		buf := a.AppendJSON(nil)
		b.SetBytes(int64(len(buf)))
		reportAllocsPerObject(b, func() { buf = a.AppendJSON(buf[:0]) })
	})
	b.Run("GoAPIAndJSON", func(b *testing.B) {
		b.ReportAllocs()
		reportAllocsPerObject(b, func() {
			out, _ := snapshot(b).MarshalJSON()
			_ = out
		})
	})
}
