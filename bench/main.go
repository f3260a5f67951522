// Command bench runs fourd and PocketBase side by side on the same data and
// prints requests per second, p50 and p99 for the four requests of issue 14:
// a filtered sorted page of 20, one entity by key, a plain page of 20 and
// the creation of one entity, at 16 and 64 clients, with each server's CPU
// time per request (from /proc on Linux), which a shared machine disturbs
// far less than the rates.
//
//	cd bench && go run . [-duration 3s] [-reps 2] [-clients 16,64] [-requests filtered,key,plain,create]
//
// It is a module of its own so that PocketBase never enters fourd's go.mod.
// It builds fourd from the parent directory (the working tree) and
// PocketBase (./pbserver) from its Go module, starts fourd with --demo in a
// temporary directory, copies fourd's rows into PocketBase, checks that
// both answer the same rows in the same order, then drives both with one
// closed-loop load generator on loopback, interleaved cell by cell: for
// each repetition, each request and each client count, fourd, PocketBase
// and (for lists) PocketBase with skipTotal=1 are run one after the other,
// in an order that alternates between repetitions. The figure kept is the
// median of the repetitions.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	duration := flag.Duration("duration", 3*time.Second, "how long each cell runs")
	maxReq := flag.Int("max-requests", 500_000, "most requests in one cell")
	reps := flag.Int("reps", 2, "repetitions; the median is kept")
	clientsFlag := flag.String("clients", "16,64", "client counts")
	keep := flag.String("work", "", "work directory (default: a temporary one, removed)")
	only := flag.String("requests", "filtered,key,plain,create", "the rows to run, by short name")
	flag.Parse()
	var rqs []request
	for _, s := range strings.Split(*only, ",") {
		i := slices.IndexFunc(requests, func(r request) bool { return r.short == s })
		if i < 0 {
			log.Fatalf("bench: unknown request %q in -requests (filtered, key, plain, create)", s)
		}
		rqs = append(rqs, requests[i])
	}
	var clients []int
	for _, s := range strings.Split(*clientsFlag, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			log.Fatalf("bench: bad -clients %q", *clientsFlag)
		}
		clients = append(clients, n)
	}
	if err := run(*duration, *maxReq, *reps, clients, rqs, *keep); err != nil {
		log.Fatal(err)
	}
}

// target is one server under test.
type target struct {
	name string
	base string // http://127.0.0.1:port
	// skipTotal asks PocketBase not to count (lists only).
	skipTotal bool
	fourd     bool
	pid       int // the server's process, for its CPU time
	// jars are the clients' cookie jars, kept from cell to cell, so that
	// client i keeps its fourd session as a browser would.
	jars []http.CookieJar
}

// jar returns client i's cookie jar.
func (t *target) jar(i int) http.CookieJar {
	for len(t.jars) <= i {
		j, _ := cookiejar.New(nil)
		t.jars = append(t.jars, j)
	}
	return t.jars[i]
}

// request is one row kind of the table.
type request struct {
	name  string
	short string // its name in -requests
	list  bool   // PocketBase skipTotal applies
	// make returns the HTTP request for client worker's i-th call.
	make func(t *target, r *rand.Rand) (*http.Request, error)
}

const filterPB = "salary>50000 && lastName~'B%'"

var requests = []request{
	{name: "filtered sorted page of 20: `salary>50000 AND lastName begin 'B'`, by lastName", short: "filtered", list: true,
		make: func(t *target, _ *rand.Rand) (*http.Request, error) {
			if t.fourd {
				return get(t.base + "/rest/Employee?" + url.Values{"$filter": {"salary>50000 AND lastName begin 'B'"}, "$orderby": {"lastName"}, "$top": {"20"}}.Encode())
			}
			return get(t.base + "/api/collections/Employee/records?" + pbList(t, url.Values{"filter": {filterPB}, "sort": {"lastName"}, "perPage": {"20"}}))
		}},
	{name: "one entity by key", short: "key",
		make: func(t *target, r *rand.Rand) (*http.Request, error) {
			k := 1 + r.Int64N(100_000)
			if t.fourd {
				return get(fmt.Sprintf("%s/rest/Employee(%d)", t.base, k))
			}
			return get(fmt.Sprintf("%s/api/collections/Employee/records/%015d", t.base, k))
		}},
	{name: "plain page of 20", short: "plain", list: true,
		make: func(t *target, _ *rand.Rand) (*http.Request, error) {
			if t.fourd {
				return get(t.base + "/rest/Employee?$top=20")
			}
			return get(t.base + "/api/collections/Employee/records?" + pbList(t, url.Values{"perPage": {"20"}}))
		}},
	{name: "create one entity", short: "create",
		make: func(t *target, r *rand.Rand) (*http.Request, error) {
			salary := 20000 + r.IntN(1000) // never matches the filter, sorts apart
			var body string
			var u string
			if t.fourd {
				u = t.base + "/rest/Employee?$method=update"
				body = fmt.Sprintf(`{"firstName":"Bench","lastName":"Zz","salary":%d,"birthDate":"2000-01-02","employer":{"__KEY":1}}`, salary)
			} else {
				u = t.base + "/api/collections/Employee/records"
				body = fmt.Sprintf(`{"firstName":"Bench","lastName":"Zz","salary":%d,"birthDate":"2000-01-02 00:00:00.000Z","employer":"000000000000001"}`, salary)
			}
			req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
			return req, err
		}},
}

func get(u string) (*http.Request, error) { return http.NewRequest(http.MethodGet, u, nil) }

func pbList(t *target, v url.Values) string {
	if t.skipTotal {
		v.Set("skipTotal", "1")
	}
	return v.Encode()
}

func run(duration time.Duration, maxReq, reps int, clients []int, rqs []request, work string) error {
	if work == "" {
		dir, err := os.MkdirTemp("", "fourd-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	log.Printf("building fourd (parent directory) and PocketBase (./pbserver)")
	fourdBin, pbBin := filepath.Join(work, "fourd"), filepath.Join(work, "pbserver")
	if err := goBuild("..", fourdBin, "./cmd/fourd"); err != nil {
		return err
	}
	if err := goBuild(".", pbBin, "./pbserver"); err != nil {
		return err
	}

	fdAddr, pbAddr := freeAddr(), freeAddr()
	fdData := filepath.Join(work, "fourd-data")
	log.Printf("starting fourd --demo (1,000 companies, 100,000 employees)")
	fd, err := start(ctx, filepath.Join(work, "fourd.log"), fourdBin, "serve", "--demo", "--data", fdData, "--addr", fdAddr, "--log-level", "warn")
	if err != nil {
		return err
	}
	defer stop(fd)
	fdT := &target{name: "fourd", base: "http://" + fdAddr, fourd: true, pid: fd.cmd.Process.Pid}
	if err := waitFourdDemo(fdT); err != nil {
		return err
	}
	log.Printf("starting PocketBase, copying fourd's rows")
	pb, err := start(ctx, filepath.Join(work, "pbserver.log"), pbBin, "-dir", filepath.Join(work, "pb_data"), "-http", pbAddr, "-seed", filepath.Join(fdData, "data.sqlite"))
	if err != nil {
		return err
	}
	defer stop(pb)
	pbT := &target{name: "PocketBase", base: "http://" + pbAddr, pid: pb.cmd.Process.Pid}
	pbS := &target{name: "PocketBase skipTotal=1", base: "http://" + pbAddr, skipTotal: true, pid: pb.cmd.Process.Pid}
	if err := waitHTTP(pbT.base+"/api/health", 2*time.Minute); err != nil {
		return fmt.Errorf("pocketbase: %w (see %s)", err, filepath.Join(work, "pbserver.log"))
	}
	if err := checkSame(fdT, pbT, pbS); err != nil {
		return err
	}
	log.Printf("both servers answer the same rows in the same order")

	type key struct {
		req, clients int
		target       string
	}
	results := map[key][]result{}
	for rep := range reps {
		for ri, rq := range rqs {
			for _, n := range clients {
				ts := []*target{fdT, pbT}
				if rq.list {
					ts = append(ts, pbS)
				}
				if rep%2 == 1 {
					slices.Reverse(ts)
				}
				for _, t := range ts {
					res, err := load(t, rq, n, duration, maxReq)
					if err != nil {
						// A server that fails a cell gets no figure for it;
						// the others still run.
						log.Printf("rep %d  %s, %s, %d clients: FAILED: %v", rep+1, t.name, rq.name, n, err)
						res = result{failed: true}
					}
					log.Printf("rep %d  %-22s %-40.40s %3d clients: %8.0f req/s  p50 %v  p99 %v  cpu/req %v", rep+1, t.name, rq.name, n, res.rate, res.p50, res.p99, res.cpu)
					k := key{ri, n, t.name}
					results[k] = append(results[k], res)
				}
			}
		}
	}

	fmt.Printf("\nRequests per second (median of %d repetitions of %v), p50 / p99 in ms.\n\n", reps, duration)
	fmt.Println("| request | clients | fourd | PocketBase | PocketBase, `skipTotal=1` | fourd ÷ best PocketBase | fourd p50 / p99 | best PocketBase p50 / p99 | server CPU µs per request: fourd / best PocketBase |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for ri, rq := range rqs {
		for i, n := range clients {
			name := rq.name
			if i > 0 {
				name = "same"
			}
			f := median(results[key{ri, n, fdT.name}])
			p := median(results[key{ri, n, pbT.name}])
			best := p
			skip := "—"
			if rq.list {
				s := median(results[key{ri, n, pbS.name}])
				skip = s.String()
				if best.failed || !s.failed && s.rate > best.rate {
					best = s
				}
			}
			mark := "—"
			if !f.failed && !best.failed {
				ratio := f.rate / best.rate
				mark = fmt.Sprintf("%.2f", ratio)
				if ratio < 2 {
					mark = "**" + mark + "**"
				}
			}
			fmt.Printf("| %s | %d | %s | %s | %s | %s | %s | %s | %s / %s |\n", name, n, f, p, skip, mark, f.latency(), best.latency(), f.cpuString(), best.cpuString())
		}
	}
	return nil
}

// String formats the rate in requests per second, with a decimal below 10.
func (r result) String() string {
	switch {
	case r.failed:
		return "failed"
	case r.rate < 10:
		return fmt.Sprintf("%.1f", r.rate)
	}
	return fmt.Sprintf("%.0f", r.rate)
}

// latency formats p50 / p99 in milliseconds.
func (r result) latency() string {
	if r.failed {
		return "—"
	}
	return ms(r.p50) + " / " + ms(r.p99)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }

// result is one cell's measure.
type result struct {
	rate     float64
	p50, p99 time.Duration
	// cpu is the server's CPU time (user + system, from /proc) per request
	// answered during the whole cell, warm-up included; 0 where /proc
	// cannot be read. On a shared machine it moves far less than the rate.
	cpu    time.Duration
	failed bool // some request was not answered 200/201
}

// cpuTime returns the CPU time process pid has used, user and system, or
// 0 if /proc cannot tell (not Linux).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses: utime
	// and stime are the 12th and 13th, in clock ticks of 1/100 s (USER_HZ).
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(u+st) * 10 * time.Millisecond
}

// cpuString formats the CPU time per request in microseconds.
func (r result) cpuString() string {
	if r.failed || r.cpu == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f", float64(r.cpu)/1e3)
}

// median returns the result of median rate; for an even count, the mean of
// the two middle ones. A cell that failed once has no median.
func median(rs []result) result {
	for _, r := range rs {
		if r.failed {
			return r
		}
	}
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int {
		switch {
		case a.rate < b.rate:
			return -1
		case a.rate > b.rate:
			return 1
		}
		return 0
	})
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	a, b := s[len(s)/2-1], s[len(s)/2]
	return result{rate: (a.rate + b.rate) / 2, p50: (a.p50 + b.p50) / 2, p99: (a.p99 + b.p99) / 2, cpu: (a.cpu + b.cpu) / 2}
}

// load runs one closed-loop cell: n clients, each sending its next request
// as soon as the previous answer is read, for d (after a warm-up of a fifth
// of d) or until maxReq requests were answered. Every client has its own
// cookie jar, so fourd sees n sessions, as it would see n browsers. The
// rate is the number of answers received after the warm-up divided by the
// time from the warm-up to the last answer: a request started before the
// end is waited for and counted, so that a server slower than the cell
// still gets a figure. Any answer
// other than 200/201 fails the cell.
func load(t *target, rq request, n int, d time.Duration, maxReq int) (result, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n, DisableCompression: true}
	defer tr.CloseIdleConnections()
	var (
		mu       sync.Mutex
		lat      []time.Duration
		firstErr error
		wg       sync.WaitGroup
	)
	warm := time.Now().Add(d / 5)
	end := warm.Add(d)
	var count, total int64
	t.jar(n - 1)
	cpu0 := cpuTime(t.pid)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: tr, Jar: t.jars[w], Timeout: 2 * time.Minute}
			r := rand.New(rand.NewPCG(uint64(w), 14))
			mine := make([]time.Duration, 0, 4096)
			for {
				now := time.Now()
				if now.After(end) {
					break
				}
				req, err := rq.make(t, r)
				if err == nil {
					err = do(c, req)
				}
				took := time.Since(now)
				if err == nil {
					mu.Lock()
					total++
					mu.Unlock()
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				if now.Add(took).After(warm) {
					mine = append(mine, took)
					mu.Lock()
					count++
					stop := count >= int64(maxReq)
					mu.Unlock()
					if stop {
						break
					}
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return result{}, firstErr
	}
	if len(lat) == 0 {
		return result{}, errors.New("no request answered")
	}
	// Every client has finished its last request: the requests answered
	// after the warm-up were answered in this time.
	elapsed := time.Since(warm)
	var cpu time.Duration
	if cpu0 > 0 && total > 0 {
		cpu = (cpuTime(t.pid) - cpu0) / time.Duration(total)
	}
	slices.Sort(lat)
	return result{
		rate: float64(len(lat)) / elapsed.Seconds(),
		p50:  lat[len(lat)/2],
		p99:  lat[len(lat)*99/100],
		cpu:  cpu,
	}, nil
}

func do(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL, resp.Status, b)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// checkSame compares what both servers answer to the three reads: the
// same keys in the same order, and the same count.
func checkSame(fd, pb, pbs *target) error {
	type row struct {
		key      int64
		lastName string
		salary   float64
	}
	fetch := func(t *target, rq request) (rows []row, count int64, err error) {
		req, err := rq.make(t, rand.New(rand.NewPCG(7, 7)))
		if err != nil {
			return nil, 0, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, 0, fmt.Errorf("%s: %s %s", req.URL, resp.Status, b)
		}
		var v struct {
			Count      int64 `json:"__COUNT"`
			TotalItems int64 `json:"totalItems"`
			Entities   []struct {
				Key      string          `json:"__KEY"`
				ID       json.RawMessage `json:"id"` // PocketBase's string, fourd's "ID" number
				LastName string          `json:"lastName"`
				Salary   float64         `json:"salary"`
			} `json:"__ENTITIES"`
			Items    json.RawMessage `json:"items"`
			Key      string          `json:"__KEY"`
			ID       json.RawMessage `json:"id"`
			LastName string          `json:"lastName"`
			Salary   float64         `json:"salary"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, 0, err
		}
		if v.Items != nil {
			if err := json.Unmarshal(v.Items, &v.Entities); err != nil {
				return nil, 0, err
			}
		}
		if v.Key != "" || v.ID != nil {
			v.Entities = append(v.Entities, struct {
				Key      string          `json:"__KEY"`
				ID       json.RawMessage `json:"id"`
				LastName string          `json:"lastName"`
				Salary   float64         `json:"salary"`
			}{v.Key, v.ID, v.LastName, v.Salary})
		}
		for _, e := range v.Entities {
			id := strings.Trim(string(e.ID), `"`)
			if e.Key != "" {
				id = e.Key
			}
			k, err := strconv.ParseInt(id, 10, 64)
			if err != nil {
				return nil, 0, fmt.Errorf("key %q: %w", id, err)
			}
			rows = append(rows, row{k, e.LastName, e.Salary})
		}
		return rows, v.Count + v.TotalItems, nil
	}
	for _, rq := range requests[:3] {
		a, ca, err := fetch(fd, rq)
		if err != nil {
			return fmt.Errorf("fourd: %w", err)
		}
		b, cb, err := fetch(pb, rq)
		if err != nil {
			return fmt.Errorf("pocketbase: %w", err)
		}
		if len(a) == 0 || !slices.Equal(a, b) || ca != cb {
			return fmt.Errorf("%s: fourd answers %v (count %d), PocketBase %v (count %d)", rq.name, a, ca, b, cb)
		}
		if rq.list {
			c, _, err := fetch(pbs, rq)
			if err != nil {
				return fmt.Errorf("pocketbase: %w", err)
			}
			if !slices.Equal(a, c) {
				return fmt.Errorf("%s: fourd answers %v, PocketBase with skipTotal %v", rq.name, a, c)
			}
		}
	}
	return nil
}

func goBuild(dir, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s in %s: %w", pkg, dir, err)
	}
	return nil
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func start(ctx context.Context, logFile, bin string, args ...string) (*server, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(done) }()
	return &server{cmd, done}, nil
}

// server is a started server process.
type server struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited
}

// stop interrupts s and waits for it to exit, killing it after 10 s.
func stop(s *server) {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func waitHTTP(u string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %v", u, within)
}

// waitFourdDemo waits until fourd's demo data is all there.
func waitFourdDemo(t *target) error {
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(t.base + "/rest/Employee?$top=0")
		if err == nil {
			var v struct {
				Count int64 `json:"__COUNT"`
			}
			json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&v)
			resp.Body.Close()
			if v.Count == 100_000 {
				return nil
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	return errors.New("fourd's demo data not ready after 3m")
}
