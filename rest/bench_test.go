package rest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

// BenchmarkRESTTracking measures the REST request rate through real HTTP on
// loopback with every request tracked as a process ("Tracked": the handler
// as served) against the same handler without the process layer
// ("Untracked"). Both serve GET /rest/$activity?sessionID=<own>&options=2,
// whose answer (the caller's own session) does not depend on the process
// table, so the two do exactly the same work but for the tracking. Compare
// their ns/op: the tracked rate is untracked ns/op ÷ tracked ns/op.
// "TrackedWhileSnapshotting" is Tracked while another goroutine takes
// Process activity snapshots (and encodes them) in a tight loop, with 1,000
// other processes and sessions live: snapshots must not stall requests.
// The loop takes a whole core, so compare it with
// "UntrackedWhileSnapshotting", which loses the same core but never touches
// the process table: the difference is what the table's locks cost.
func BenchmarkRESTTracking(b *testing.B) {
	procs := inmem.NewProcessTable()
	sessions := inmem.NewSessionStore()
	h := NewHandler(procs, sessions, "bench")
	h.Logger = slog.New(slog.DiscardHandler)
	b.Cleanup(func() { _ = procs.Close(context.Background()) })

	for _, tc := range []struct {
		name      string
		handler   http.Handler
		snapshots bool
	}{
		{"Tracked", h, false},
		{"Untracked", h.withSession(h.mux), false},
		{"TrackedWhileSnapshotting", h, true},
		{"UntrackedWhileSnapshotting", h.withSession(h.mux), true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.snapshots {
				stop := snapshotLoop(b, procs, sessions)
				defer stop()
			}
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			s := fourd.NewSession(fourd.SessionREST, time.Now(), time.Hour)
			s.IPAddress = "127.0.0.1" // else the cookie is not honoured (another address)
			if err := sessions.Create(context.Background(), s); err != nil {
				b.Fatal(err)
			}
			url := srv.URL + "/rest/$activity?options=2&sessionID=" + s.ID
			cookie := &http.Cookie{Name: h.CookieName(), Value: s.ID}
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			b.SetParallelism(4)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, url, nil)
					req.AddCookie(cookie)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
					if len(resp.Cookies()) > 0 {
						b.Error("a new session cookie: the benchmark's session was not honoured")
						return
					}
				}
			})
		})
	}
	if n := procs.Len(); n != 0 {
		b.Fatalf("%d processes left in the table", n)
	}
}

// snapshotLoop fills the table and store with 1,000 processes and sessions
// and takes snapshots in a loop until stop is called; stop reports how many.
func snapshotLoop(b *testing.B, procs *inmem.ProcessTable, sessions *inmem.SessionStore) (stop func()) {
	ctx := context.Background()
	var live []*fourd.Process
	for i := 0; i < 1000; i++ {
		s := fourd.NewSession(fourd.SessionREST, time.Now(), time.Hour)
		if err := sessions.Create(ctx, s); err != nil {
			b.Fatal(err)
		}
		p, err := procs.Track(fourd.ProcessSpec{Name: "GET /rest/Employee", SessionID: s.ID})
		if err != nil {
			b.Fatal(err)
		}
		live = append(live, p)
	}
	reg := inmem.NewProcessRegistry("n1", procs)
	done := make(chan struct{})
	finished := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-done:
				finished <- n
				return
			default:
			}
			a, err := fourd.ProcessActivity(ctx, reg, sessions, "", fourd.ProcessesAndSessions)
			if err != nil {
				b.Error(err)
			}
			_, _ = a.MarshalJSON()
			n++
		}
	}()
	return func() {
		close(done)
		n := <-finished
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "snapshots/s")
		for _, p := range live {
			p.End(nil)
		}
		for _, p := range live {
			_ = sessions.Delete(ctx, p.SessionID())
		}
	}
}
