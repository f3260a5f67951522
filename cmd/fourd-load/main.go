// Command fourd-load measures how lookups by key fare while expensive
// queries run: it opens a fourd server of its own on loopback (the demo
// data in a temporary directory), runs a mixed load of clients against it
// for a bounded time, and prints the latency of the lookups (p50, p99,
// max) and what became of the expensive queries.
//
//	go run ./cmd/fourd-load -duration 30s
//
// The load: -clients clients in all, each its own session. -heavy of them
// send, back to back, a page of employees sorted by ten N->1 terms
// (employer.name, employer.city, …: every row sorted through the
// relation), and one greedy client sends -greedy such requests at once,
// over and over, in a single session. The others each look up a random
// employee by key (GET /rest/Employee(k)), -think apart. Only loopback is
// used: the server listens on 127.0.0.1:0 and nothing else is contacted.
//
// -unprotected turns off what the server does against starvation (the
// query time budget and the admission limits), to compare.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fourd/fourd/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fourd-load:", err)
		os.Exit(1)
	}
}

func run() error {
	duration := flag.Duration("duration", 20*time.Second, "how long the load runs (at most 5m)")
	clients := flag.Int("clients", 200, "clients in all, each its own session")
	heavy := flag.Int("heavy", 10, "clients among them that send expensive sorts back to back")
	greedy := flag.Int("greedy", 20, "expensive sorts one extra client sends at once, in one session")
	think := flag.Duration("think", 50*time.Millisecond, "pause between two lookups of one client")
	employees := flag.Int("employees", 100000, "demo employees (1 company per 100)")
	unprotected := flag.Bool("unprotected", false, "turn off the query time budget and the admission limits")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run (server and clients) to this file")
	goroutines := flag.String("goroutines", "", "write the goroutines half-way through the run to this file")
	flag.Parse()
	if *duration <= 0 || *duration > 5*time.Minute {
		return fmt.Errorf("-duration %s: between 0 and 5m", *duration)
	}
	if *heavy >= *clients {
		return fmt.Errorf("-heavy %d: fewer than -clients %d", *heavy, *clients)
	}

	dir, err := os.MkdirTemp("", "fourd-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv := server.New()
	srv.Addr = "127.0.0.1:0"
	srv.DataDir = dir
	srv.Logger = slog.New(slog.DiscardHandler)
	srv.Demo, srv.DemoCompanies, srv.DemoEmployees = true, max(1, *employees/100), *employees
	if *unprotected {
		srv.QueryTimeout, srv.MaxQueries, srv.MaxQueriesPerSession = -1, -1, -1
	}
	if err := srv.Open(); err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(os.Stderr, "importing %d employees…\n", *employees)
	if err := waitForDemo(srv); err != nil {
		return err
	}

	tr := &http.Transport{MaxIdleConnsPerHost: *clients + *greedy, MaxConnsPerHost: 0}
	defer tr.CloseIdleConnections()
	newClient := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Transport: tr, Jar: jar, Timeout: 2 * time.Minute}
	}
	base := srv.URL()
	sort := base + "/rest/Employee?$top=20&$orderby=" + strings.Join([]string{
		"employer.name", "employer.city", "employer.country", "employer.revenues", "employer.ID",
		"employer.name%20desc", "employer.city%20desc", "employer.country%20desc", "employer.revenues%20desc", "lastName",
	}, ",")

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	if *goroutines != "" {
		time.AfterFunc(*duration/2, func() {
			if f, err := os.Create(*goroutines); err == nil {
				_ = pprof.Lookup("goroutine").WriteTo(f, 1)
				f.Close()
			}
		})
	}
	var (
		mu      sync.Mutex
		lookups []time.Duration
		errs    = map[string]int{}
		sorts   = map[int]int{}
		wg      sync.WaitGroup
	)
	record := func(m map[int]int, status int) { mu.Lock(); m[status]++; mu.Unlock() }
	fail := func(err error) {
		if ctx.Err() == nil {
			mu.Lock()
			errs[err.Error()]++
			mu.Unlock()
		}
	}
	heavyLoop := func(c *http.Client) {
		defer wg.Done()
		for ctx.Err() == nil {
			status, err := fetch(ctx, c, sort)
			if err != nil {
				fail(err)
				continue
			}
			record(sorts, status)
		}
	}
	for i := 0; i < *heavy; i++ {
		wg.Add(1)
		go heavyLoop(newClient())
	}
	greedyClient := newClient()
	if _, err := fetch(ctx, greedyClient, base+"/rest/$catalog"); err != nil { // one session for all its requests
		return err
	}
	for i := 0; i < *greedy; i++ {
		wg.Add(1)
		go heavyLoop(greedyClient)
	}
	for i := *heavy; i < *clients; i++ {
		wg.Add(1)
		go func(c *http.Client, seed uint64) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, 1))
			for ctx.Err() == nil {
				url := fmt.Sprintf("%s/rest/Employee(%d)", base, 1+rnd.IntN(*employees))
				start := time.Now()
				status, err := fetch(ctx, c, url)
				took := time.Since(start)
				switch {
				case err != nil:
					fail(err)
				case status != http.StatusOK:
					fail(fmt.Errorf("lookup: status %d", status))
				default:
					mu.Lock()
					lookups = append(lookups, took)
					mu.Unlock()
				}
				select {
				case <-ctx.Done():
				case <-time.After(*think):
				}
			}
		}(newClient(), uint64(i))
	}
	wg.Wait()

	slices.Sort(lookups)
	q := func(p float64) time.Duration {
		if len(lookups) == 0 {
			return 0
		}
		return lookups[min(len(lookups)-1, int(p*float64(len(lookups))))]
	}
	fmt.Printf("clients %d (heavy %d, greedy session %d at once), %d employees, %s, unprotected=%v\n",
		*clients, *heavy, *greedy, *employees, *duration, *unprotected)
	fmt.Printf("lookups by key: %d, p50 %s, p99 %s, max %s\n", len(lookups), q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), q(1).Round(10*time.Microsecond))
	fmt.Printf("expensive sorts by status: %v\n", sorts)
	if len(errs) > 0 {
		fmt.Printf("errors: %v\n", errs)
	}
	return nil
}

// fetch sends a GET and reads the whole answer.
func fetch(ctx context.Context, c *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// waitForDemo waits until the demo import has ended.
func waitForDemo(srv *server.Server) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		busy := false
		for _, p := range srv.Processes.Processes("") {
			if p.Name == "Demo data import" {
				busy = true
			}
		}
		if !busy {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("the demo import did not end within 5m")
}
