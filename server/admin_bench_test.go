package server_test

import (
	"context"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

// BenchmarkScrape measures what Prometheus scraping costs a busy server,
// with 1,000 guest sessions and 100 extra processes live:
//
//   - "Scrape": one GET /metrics on the admin listener (ns per scrape);
//   - "REST": the REST request rate (GET /rest/$catalog, 4 clients per
//     core, through real HTTP on loopback) with no scrape;
//   - "RESTScrapedEverySecond": the same while a scraper reads /metrics
//     once a second, as a Prometheus server would (more often than the
//     usual 15 s).
//
// Compare the ns/op of the two REST runs, and their cpu-ns/op: the CPU
// time the whole test process (clients, server and scraper) spent per
// request, which other programs on a shared machine disturb less than the
// wall-clock rate. See docs/performance.md.
func BenchmarkScrape(b *testing.B) {
	srv := servertest.MustOpenServer(b, func(s *server.Server) { s.AdminAddr = "127.0.0.1:0" })
	for range 1000 {
		s := fourd.NewSession(fourd.SessionREST, time.Now(), time.Hour)
		if err := srv.Sessions.Create(context.Background(), s); err != nil {
			b.Fatal(err)
		}
	}
	for range 100 {
		p, err := srv.NewProcess("idle", func(p *fourd.Process) error {
			<-p.Done()
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { p.Abort(nil); <-p.Ended() })
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	get := func(b *testing.B, u string, cookie *http.Cookie) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("GET %s: status %d", u, resp.StatusCode)
		}
	}
	b.Run("Scrape", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b, srv.AdminURL()+"/metrics", nil)
		}
	})
	// One session for every REST client, so that the benchmark measures
	// requests, not session creation.
	s := fourd.NewSession(fourd.SessionREST, time.Now(), time.Hour)
	s.IPAddress = "127.0.0.1"
	if err := srv.Sessions.Create(context.Background(), s); err != nil {
		b.Fatal(err)
	}
	cookie := &http.Cookie{Name: "4DSID_" + srv.AppName, Value: s.ID}
	for _, scraped := range []bool{false, true} {
		name := "REST"
		if scraped {
			name = "RESTScrapedEverySecond"
		}
		b.Run(name, func(b *testing.B) {
			if scraped {
				stop, done := make(chan struct{}), make(chan struct{})
				go func() {
					defer close(done)
					t := time.NewTicker(time.Second)
					defer t.Stop()
					for {
						get(b, srv.AdminURL()+"/metrics", nil)
						select {
						case <-stop:
							return
						case <-t.C:
						}
					}
				}()
				defer func() { close(stop); <-done }()
			}
			b.SetParallelism(4)
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					get(b, srv.URL()+"/rest/$catalog", cookie)
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
