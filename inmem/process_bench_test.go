package inmem_test

import (
	"strconv"
	"testing"

	"github.com/fourd/fourd"
)

// BenchmarkTrack measures tracking one request as a process: register it
// (number, ID, creation time, thread), run it (a request that does not wait
// on its context), and unregister it. Parallel runs it from every core.
func BenchmarkTrack(b *testing.B) {
	spec := fourd.ProcessSpec{Name: "GET /rest/Employee", Type: fourd.TypeWebServerProcess,
		SessionID: "3C81A8D7AFE64C2E9CCFFCDC35DC52F5", Visible: true, URL: "/rest/Employee", Abortable: true}
	b.Run("Serial", func(b *testing.B) {
		tab := MustOpenTable(b)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			p, err := tab.Track(spec)
			if err != nil {
				b.Fatal(err)
			}
			p.End(nil)
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		tab := MustOpenTable(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p, err := tab.Track(spec)
				if err != nil {
					b.Error(err)
					return
				}
				p.End(nil)
			}
		})
	})
	b.Run("WithBackground1000", func(b *testing.B) {
		// The same with 1,000 other processes live, as on a busy server.
		tab := MustOpenTable(b)
		for i := 0; i < 1000; i++ {
			p := mustTrack(b, tab, spec)
			b.Cleanup(func() { p.End(nil) })
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			p, _ := tab.Track(spec)
			p.End(nil)
		}
	})
}

// BenchmarkProcessByID measures finding a process by ID ($process/abort,
// AbortProcessByID) with 1 to 100,000 live processes: the cost must stay
// flat, since the table keeps an index by ID rather than scanning slots.
func BenchmarkProcessByID(b *testing.B) {
	for _, n := range []int{1, 100, 10_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			tab := MustOpenTable(b)
			ps := make([]*fourd.Process, n)
			for i := range ps {
				ps[i] = mustTrack(b, tab, fourd.ProcessSpec{SessionID: "S"})
			}
			b.Cleanup(func() {
				for _, p := range ps {
					p.End(nil)
				}
			})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := ps[(i*7919)%n] // spread over the table
				if tab.ProcessByID(p.ID()) != p {
					b.Fatal("wrong process")
				}
			}
		})
	}
}
