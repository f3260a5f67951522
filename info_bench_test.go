package fourd_test

import (
	"context"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

// BenchmarkInfo measures $info on a server holding 10,000 entity sets and
// 10,000 REST sessions (each set made by one of them), with two progress
// indicators running: BuildInfo alone (the Go API), the JSON encoding of
// its result into a reused buffer (as the REST handler encodes, into a
// pooled buffer), into a new 64 KiB buffer that grows (the handler's pool
// when it is empty) and into a new one (MarshalJSON), and both. The target for the whole
// answer is 10 ms; GET /rest/$info through HTTP with the same load is
// BenchmarkRESTInfo in package rest.
//
//	go test -run=XXX -bench=BenchmarkInfo -benchmem .
func BenchmarkInfo(b *testing.B) {
	const n = 10000
	ctx := context.Background()
	sets, progress, sessions, caller := infoLoad(b, n)
	build := func(b *testing.B) *fourd.Info {
		info, err := fourd.BuildInfo(ctx, sets, progress, sessions, caller)
		if err != nil || len(info.EntitySets) != n || len(info.Sessions) != n {
			b.Fatalf("BuildInfo: %v", err)
		}
		return info
	}
	b.Run("BuildInfo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			build(b)
		}
	})
	b.Run("JSONReusedBuffer", func(b *testing.B) {
		info := build(b)
		buf := info.AppendJSON(nil)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			buf = info.AppendJSON(buf[:0])
		}
	})
	b.Run("JSONGrowing64KiB", func(b *testing.B) {
		// What the REST handler does when its buffer pool is empty: append
		// to a new 64 KiB buffer (rest's pool's New), which grows.
		info := build(b)
		b.SetBytes(int64(len(info.AppendJSON(nil))))
		b.ReportAllocs()
		for b.Loop() {
			_ = info.AppendJSON(make([]byte, 0, 64<<10))
		}
	})
	b.Run("JSON", func(b *testing.B) {
		info := build(b)
		b.ReportAllocs()
		var size int
		for b.Loop() {
			out, _ := info.MarshalJSON()
			size = len(out)
		}
		b.SetBytes(int64(size))
	})
	b.Run("BuildInfoAndJSON", func(b *testing.B) {
		// As GET /rest/$info does: build, then encode into a reused buffer.
		buf := build(b).AppendJSON(nil)
		b.ReportAllocs()
		for b.Loop() {
			buf = build(b).AppendJSON(buf[:0])
		}
	})
}

// infoLoad returns an entity-set store holding n small sets (20 to 2,000
// rows, half of them sorted), a registry with two progress indicators, and
// a session store with n REST sessions, the first of which is returned as
// the caller; set i was made by session i.
func infoLoad(b *testing.B, n int) (*inmem.EntitySetStore, *fourd.Progress, *inmem.SessionStore, *fourd.Session) {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	sessions := inmem.NewSessionStore()
	sets := inmem.NewEntitySetStore(209715200)
	var rowSets []fourd.RowSet
	for _, size := range []int{20, 150, 2000} {
		rows := make([]fourd.RowID, size)
		for i := range rows {
			rows[i] = fourd.RowID(1 + 7*i)
		}
		rowSets = append(rowSets, inmem.NewRowSet(rows, false), inmem.NewRowSet(rows, true))
	}
	var caller *fourd.Session
	for i := 0; i < n; i++ {
		s := fourd.NewSession(fourd.SessionREST, now, time.Hour)
		s.IPAddress, s.UserAgent = "127.0.0.1", "bench/1.0"
		if err := sessions.Create(ctx, s); err != nil {
			b.Fatal(err)
		}
		if caller == nil {
			caller = &s
		}
		es := &fourd.EntitySet{ID: fourd.NewID(), DataClass: "Employee", Rows: rowSets[i%len(rowSets)], SessionID: s.ID,
			Created: now, Refreshed: now, Timeout: fourd.DefaultEntitySetTimeout}
		if err := sets.Put(ctx, es); err != nil {
			b.Fatal(err)
		}
	}
	if sets.Len() != n {
		b.Fatalf("%d sets held, want %d", sets.Len(), n)
	}
	progress := fourd.NewProgress()
	ix := progress.Start(fourd.ProgressIndex, "Indexing Employee.lastName", 100000, true, nil, "")
	ix.Set(41000)
	fl := progress.Start(fourd.ProgressFlush, "Flushing the cache", 5000, false, nil, caller.ID)
	fl.Set(1200)
	b.Cleanup(func() { ix.Stop(); fl.Stop() })
	return sets, progress, sessions, caller
}
