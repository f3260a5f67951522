package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
	"github.com/fourd/fourd/sqlite"
)

// The data benchmarks serve the demo database of 1,000 companies and
// 100,000 employees through a real server (server.Open on 127.0.0.1:0),
// with real HTTP on loopback (keep-alive, 8 client goroutines on 2 cores,
// as BenchmarkRESTTracking) unless they say otherwise. Each request carries
// the cookie of one REST session made beforehand, so that no request makes
// a session of its own.
const (
	benchCompanies = 1_000
	benchEmployees = 100_000

	// The page of 20: a filter through an index and a relation,
	// sorted.
	benchPageFilter = `"salary>50000 AND employer.name=Acme@"`
	benchPageOrder  = "lastName"
)

// benchServer is a server of the demo data and what a client needs to
// call it.
type benchServer struct {
	srv     *server.Server
	handler *rest.Handler
	cookie  *http.Cookie
	client  *http.Client
}

// openDemoServer generates the demo data of 100,000 employees into
// b.TempDir() (about a second; before the timer starts) and opens a server
// on it, closed when b ends.
func openDemoServer(b *testing.B) *benchServer {
	b.Helper()
	dir := b.TempDir()
	m := sqlite.DemoModel()
	model, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, server.ModelFile), model, 0o640); err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(dir, server.DatabaseFile), m)
	if err != nil {
		b.Fatal(err)
	}
	if err := sqlite.GenerateDemo(context.Background(), db, benchCompanies, benchEmployees, nil); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	srv := servertest.MustOpenServer(b, func(s *server.Server) { s.DataDir = dir })
	return newBenchServer(b, srv)
}

// newBenchServer makes a REST session on srv and a client with its cookie.
func newBenchServer(b *testing.B, srv *server.Server) *benchServer {
	b.Helper()
	h, ok := srv.Handler().(*rest.Handler)
	if !ok {
		b.Fatalf("the server's handler is a %T", srv.Handler())
	}
	s := fourd.NewSession(fourd.SessionREST, time.Now(), time.Hour)
	// The address the requests come from: a cookie from another address
	// would not be honoured, and every request would make a new session.
	s.IPAddress = "127.0.0.1"
	if err := srv.Sessions.Create(context.Background(), s); err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	return &benchServer{srv: srv, handler: h, cookie: &http.Cookie{Name: h.CookieName(), Value: s.ID}, client: &http.Client{Transport: tr}}
}

// benchQuery builds a query string from name, value pairs; names are kept as
// they are ($filter), values are escaped.
func benchQuery(pairs ...string) string {
	var sb strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(pairs[i] + "=" + url.QueryEscape(pairs[i+1]))
	}
	return sb.String()
}

// get sends GET path through HTTP with the session's cookie and returns the
// body; any status but 200 is an error.
func (bs *benchServer) get(path string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, bs.srv.URL()+path, nil)
	if err != nil {
		return nil, err
	}
	req.AddCookie(bs.cookie)
	resp, err := bs.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	return body, bs.sameSession(resp)
}

// discard sends GET path through HTTP and drops the body: what the timed
// loops do.
func (bs *benchServer) discard(path string) error {
	req, err := http.NewRequest(http.MethodGet, bs.srv.URL()+path, nil)
	if err != nil {
		return err
	}
	req.AddCookie(bs.cookie)
	resp, err := bs.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return bs.sameSession(resp)
}

// sameSession fails a request that was not served in the benchmark's
// session: the server sent a new cookie, so each request would measure the
// making of a session too.
func (bs *benchServer) sameSession(resp *http.Response) error {
	if len(resp.Cookies()) > 0 {
		return fmt.Errorf("%s %s: the server set a new session cookie (%s): the benchmark's session was not honoured", resp.Request.Method, resp.Request.URL.Path, resp.Header.Get("Set-Cookie"))
	}
	return nil
}

// benchCollection is what the benchmarks read of a collection answer.
type benchCollection struct {
	EntitySet string `json:"__ENTITYSET"`
	Count     int    `json:"__COUNT"`
	Sent      int    `json:"__SENT"`
	Entities  []struct {
		Key string `json:"__KEY"`
	} `json:"__ENTITIES"`
}

func (bs *benchServer) collection(b *testing.B, path string) benchCollection {
	b.Helper()
	body, err := bs.get(path)
	if err != nil {
		b.Fatal(err)
	}
	var c benchCollection
	if err := json.Unmarshal(body, &c); err != nil {
		b.Fatalf("GET %s: %v", path, err)
	}
	return c
}

func (c benchCollection) keys() []string {
	var out []string
	for _, e := range c.Entities {
		out = append(out, e.Key)
	}
	return out
}

// benchSetID returns the ID at the end of an __ENTITYSET URI.
func benchSetID(b *testing.B, uri string) string {
	b.Helper()
	i := strings.LastIndexByte(uri, '/')
	if i < 0 || !fourd.ValidID(uri[i+1:]) {
		b.Fatalf("__ENTITYSET %q is not a set's URI", uri)
	}
	return uri[i+1:]
}

// benchParallel runs get from 8 client goroutines (4 per core on 2 cores) and
// reports the rate in req/s beside ns/op.
func benchParallel(b *testing.B, get func(r *rand.Rand) error) {
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	var seed atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(seed.Add(1), 42))
		for pb.Next() {
			if err := get(r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkRESTPage20 serves the page of 20 on the demo data,
// GET /rest/Employee?$filter="salary>50000 AND employer.name=Acme@"&$orderby="lastName"&$top=20:
// through HTTP on loopback from 8 clients (HTTP), and in-process, the
// server's handler called with an httptest.ResponseRecorder and no socket,
// one request at a time (InProcess) and from 8 goroutines
// (InProcessParallel).
//
//	go test -run=XXX -bench=RESTPage20 -benchmem ./rest
func BenchmarkRESTPage20(b *testing.B) {
	bs := openDemoServer(b)
	path := "/rest/Employee?" + benchQuery("$filter", benchPageFilter, "$orderby", benchPageOrder, "$top", "20")
	// The demo has 14 matches: the page holds all of them.
	if c := bs.collection(b, path); c.Count == 0 || c.Sent != min(20, c.Count) {
		b.Fatalf("%d entities sent of %d", c.Sent, c.Count)
	}
	b.Run("HTTP", func(b *testing.B) {
		benchParallel(b, func(*rand.Rand) error { return bs.discard(path) })
	})
	inProcess := func() error {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		// The session was opened over loopback: send its cookie from
		// there, or the address check refuses it and every request
		// opens a new guest session (402 after the per-address quota).
		req.RemoteAddr = "127.0.0.1:1234"
		req.AddCookie(bs.cookie)
		rec := httptest.NewRecorder()
		bs.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return fmt.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		return nil
	}
	b.Run("InProcess", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := inProcess(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
	b.Run("InProcessParallel", func(b *testing.B) {
		benchParallel(b, func(*rand.Rand) error { return inProcess() })
	})
}

// BenchmarkRESTEntityByKey serves one employee by key, a random one of the
// 100,000, GET /rest/Employee(<key>), through HTTP from 8 clients.
//
//	go test -run=XXX -bench=RESTEntityByKey -benchmem ./rest
func BenchmarkRESTEntityByKey(b *testing.B) {
	bs := openDemoServer(b)
	if _, err := bs.get("/rest/Employee(100000)"); err != nil {
		b.Fatal(err)
	}
	b.Run("HTTP", func(b *testing.B) {
		benchParallel(b, func(r *rand.Rand) error {
			return bs.discard("/rest/Employee(" + strconv.Itoa(1+r.IntN(benchEmployees)) + ")")
		})
	})
}

// BenchmarkRESTNewEntitySet creates entity sets of the 100,000 employees
// through HTTP, one request at a time, GET /rest/Employee?…&$method=entityset&$top=0:
// the whole table and salary>50000 (58,492 entities) unsorted, and both
// sorted by lastName. Each set is released after it is timed (untimed), so
// that the cache never fills. It reports the bytes per entity of the set's
// rows (targets: at most 0.5 unsorted, 4.5 sorted) and of the whole set
// with its bookkeeping, as the cache weighs it.
//
//	go test -run=XXX -bench=RESTNewEntitySet -benchmem ./rest
func BenchmarkRESTNewEntitySet(b *testing.B) {
	bs := openDemoServer(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		params []string
	}{
		{"All", nil},
		{"Filter", []string{"$filter", `"salary>50000"`}},
		{"FilterSorted", []string{"$filter", `"salary>50000"`, "$orderby", "lastName"}},
		{"AllSorted", []string{"$orderby", "lastName"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			path := "/rest/Employee?" + benchQuery(append(slices.Clone(bc.params), "$method", "entityset", "$top", "0")...)
			var rowBytes, setBytes float64
			var entities int
			b.ReportAllocs()
			for b.Loop() {
				body, err := bs.get(path)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				var c benchCollection
				if err := json.Unmarshal(body, &c); err != nil {
					b.Fatal(err)
				}
				id := benchSetID(b, c.EntitySet)
				es, err := bs.srv.EntitySets.Get(ctx, id, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				entities = es.Rows.Len()
				rowBytes = float64(es.Rows.Bytes()) / float64(entities)
				setBytes = float64(es.Bytes()) / float64(entities)
				if err := bs.discard("/rest/Employee/$entityset/" + id + "?$method=release"); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			if n := servertest.EntitySets(b, bs.srv); n != 0 {
				b.Fatalf("%d sets left in the cache", n)
			}
			b.ReportMetric(rowBytes, "bytes/entity")
			b.ReportMetric(setBytes, "set-bytes/entity")
			b.ReportMetric(float64(entities), "entities")
		})
	}
}

// BenchmarkRESTSetPaging pages through a sorted entity set, salary>50000
// ordered by lastName (58,492 entities), with
// GET /rest/Employee/$entityset/{id}?$skip=K&$top=20, against the same page
// from a plain query,
// GET /rest/Employee?$filter="salary>50000"&$orderby="lastName"&$skip=K&$top=20,
// at the start, the middle and the end, through HTTP from 8 clients. The
// target is a set's page at 90 % of the plain query's rate or more: each
// Query benchmark reports the ratio rate(set) / rate(query) = ns/op(query)
// / ns/op(set), against the Set benchmark just before it.
//
//	go test -run=XXX -bench=RESTSetPaging -benchmem ./rest
func BenchmarkRESTSetPaging(b *testing.B) {
	bs := openDemoServer(b)
	sel := []string{"$filter", `"salary>50000"`, "$orderby", "lastName"}
	made := bs.collection(b, "/rest/Employee?"+benchQuery(append(slices.Clone(sel), "$method", "entityset", "$top", "0")...))
	id, n := benchSetID(b, made.EntitySet), made.Count
	for _, at := range []struct {
		name string
		skip int
	}{{"Start", 0}, {"Middle", n / 2}, {"End", n - 20}} {
		page := benchQuery("$skip", strconv.Itoa(at.skip), "$top", "20")
		setPath := "/rest/Employee/$entityset/" + id + "?" + page
		queryPath := "/rest/Employee?" + benchQuery(sel...) + "&" + page
		fromSet, fromQuery := bs.collection(b, setPath), bs.collection(b, queryPath)
		if fromSet.Sent != 20 || fromQuery.Sent != 20 {
			b.Fatalf("%s: %d entities from the set, %d from the query", at.name, fromSet.Sent, fromQuery.Sent)
		}
		if !slices.Equal(fromSet.keys(), fromQuery.keys()) {
			// Equal last names may come in another order; the work is the same.
			b.Logf("%s: the set and the query order equal last names differently", at.name)
		}
		var nsSet float64
		b.Run(at.name+"/Set", func(b *testing.B) {
			benchParallel(b, func(*rand.Rand) error { return bs.discard(setPath) })
			nsSet = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
		b.Run(at.name+"/Query", func(b *testing.B) {
			benchParallel(b, func(*rand.Rand) error { return bs.discard(queryPath) })
			if nsSet > 0 {
				nsQuery := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(nsQuery/nsSet, "set-rate/query-rate")
			}
		})
	}
}

// BenchmarkRESTInfo serves GET /rest/$info through HTTP on a server (with
// no datastore: $info needs none) whose cache holds 10,000 small entity
// sets and whose session store holds 10,000 REST sessions besides the
// caller's, set i made by session i: one client at a time (Serial, the
// latency the 10 ms target is about) and 8 (Parallel).
//
//	go test -run=XXX -bench=RESTInfo -benchmem ./rest
func BenchmarkRESTInfo(b *testing.B) {
	const n = 10000
	srv := servertest.MustOpenServer(b)
	bs := newBenchServer(b, srv)
	ctx := context.Background()
	now := time.Now()
	var rowSets []fourd.RowSet
	for _, size := range []int{20, 150, 2000} {
		rows := make([]fourd.RowID, size)
		for i := range rows {
			rows[i] = fourd.RowID(1 + 7*i)
		}
		rowSets = append(rowSets, inmem.NewRowSet(rows, false), inmem.NewRowSet(rows, true))
	}
	for i := 0; i < n; i++ {
		s := fourd.NewSession(fourd.SessionREST, now, time.Hour)
		s.IPAddress, s.UserAgent = "127.0.0.1", "bench/1.0"
		if err := srv.Sessions.Create(ctx, s); err != nil {
			b.Fatal(err)
		}
		if err := srv.EntitySets.Put(ctx, &fourd.EntitySet{ID: fourd.NewID(), DataClass: "Employee", Rows: rowSets[i%len(rowSets)],
			SessionID: s.ID, Created: now, Refreshed: now, Timeout: fourd.DefaultEntitySetTimeout}); err != nil {
			b.Fatal(err)
		}
	}
	body, err := bs.get("/rest/$info")
	if err != nil {
		b.Fatal(err)
	}
	var info struct {
		EntitySetCount int               `json:"entitySetCount"`
		SessionInfo    []json.RawMessage `json:"sessionInfo"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		b.Fatal(err)
	}
	if info.EntitySetCount != n || len(info.SessionInfo) != n+1 {
		b.Fatalf("$info lists %d sets and %d sessions", info.EntitySetCount, len(info.SessionInfo))
	}
	b.Run("Serial", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := bs.discard("/rest/$info"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		benchParallel(b, func(*rand.Rand) error { return bs.discard("/rest/$info") })
	})
}
