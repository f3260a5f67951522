package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/redis"
	"github.com/fourd/fourd/server"
)

// roundTrips is a go-redis hook that counts the round trips to Redis: a
// command or a pipeline (a MULTI/EXEC transaction included) is one.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// redisCPU returns the CPU time (user and system) the Redis server has
// used, from INFO cpu: with a private Redis, what the benchmark cost it.
func redisCPU(tb testing.TB, db *redis.DB) time.Duration {
	info, err := db.Client.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatal(err)
			}
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// withRedisStores gives a server the Redis stores that --shared would,
// on a DB of its own whose round trips rt counts.
func withRedisStores(tb testing.TB, rt *roundTrips) func(*server.Server) {
	return withRedisDB(redistest.Open(tb), rt)
}

func withRedisDB(db *redis.DB, rt *roundTrips) func(*server.Server) {
	db.Client.AddHook(rt)
	return func(s *server.Server) {
		sessions := redis.NewSessionStore(db)
		sessions.Now = s.Now
		s.Sessions = sessions
		sets := redis.NewEntitySetStore(db, s.CacheSize)
		sets.Now = s.Now
		s.EntitySets = sets
		s.Logins = redis.NewLoginLimiter(db)
	}
}

// requestFixture is a server with 1,000 notes, a client session and an
// entity set of them, for the per-request cost of the shared state.
type requestFixture struct {
	srv    *server.Server
	client *http.Client
	cookie *http.Cookie
	setID  string
}

func newRequestFixture(tb testing.TB, opts ...func(*server.Server)) *requestFixture {
	tb.Helper()
	srv := servertest.MustOpenServer(tb, append([]func(*server.Server){servertest.WithModel(tb, storeTestModel)}, opts...)...)
	saves := make([]fourd.EntitySave, 1000)
	for i := range saves {
		saves[i] = fourd.EntitySave{Values: map[string]any{"text": fmt.Sprintf("note %d", i)}}
	}
	if res, err := srv.Data.Save(context.Background(), srv.Data.Model().DataClass("Note"), saves, true); err != nil || res[0].Err != nil {
		tb.Fatalf("save: %v %v", err, res)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 8, DialContext: (&net.Dialer{}).DialContext}
	tb.Cleanup(tr.CloseIdleConnections)
	f := &requestFixture{srv: srv, client: &http.Client{Transport: tr}}
	resp, err := f.client.Get(srv.URL() + "/rest/Note?$filter=ID%3E0&$method=entityset&$top=0")
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var made struct {
		Set string `json:"__ENTITYSET"`
	}
	if err := json.Unmarshal(body, &made); err != nil || made.Set == "" {
		tb.Fatalf("make a set: %v %s", err, body)
	}
	f.setID = made.Set[strings.LastIndex(made.Set, "/")+1:]
	for _, c := range resp.Cookies() {
		if c.Name == "4DSID_"+srv.AppName {
			f.cookie = c
		}
	}
	if f.cookie == nil {
		tb.Fatal("no session cookie")
	}
	return f
}

// get answers GET path with the fixture's session, checking for 200.
func (f *requestFixture) get(tb testing.TB, path string) {
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL()+path, nil)
	req.AddCookie(f.cookie)
	resp, err := f.client.Do(req)
	if err != nil {
		tb.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
}

// The two requests measured: an entity by key, and a page of 20 of a set.
func byKeyPath(i int) string { return fmt.Sprintf("/rest/Note(%d)", 1+i%1000) }
func (f *requestFixture) setPagePath(i int) string {
	return fmt.Sprintf("/rest/Note/$entityset/%s?$skip=%d&$top=20", f.setID, (i*20)%980)
}

// TestSharedRoundTrips counts the round trips to Redis of a session's
// requests on a node whose shared state is in Redis: at most 2 for an
// entity by key or a page of a set (the hot path).
func TestSharedRoundTrips(t *testing.T) {
	rt := &roundTrips{}
	clock := servertest.NewClock(time.Now())
	// Quiet ticks: the timers' sweeps are not requests.
	f := newRequestFixture(t, servertest.WithClock(clock), servertest.WithQuietTicks(), withRedisStores(t, rt))
	for _, tc := range []struct {
		name string
		path func(int) string
	}{{"ByKey", byKeyPath}, {"SetPage", f.setPagePath}} {
		t.Run(tc.name, func(t *testing.T) {
			f.get(t, tc.path(0)) // the set decoded on this node
			const n = 50
			before := rt.n.Load()
			for i := range n {
				clock.Advance(time.Millisecond)
				f.get(t, tc.path(i))
			}
			per := float64(rt.n.Load()-before) / n
			t.Logf("%s: %.2f round trips to Redis per request", tc.name, per)
			if per > 2 {
				t.Fatalf("%s: %.2f round trips to Redis per request, want at most 2", tc.name, per)
			}
		})
	}
}

// BenchmarkSharedRequest measures what keeping the shared state in Redis
// adds to a request, against the in-memory stores, on one node through
// real HTTP on loopback: an entity by key and a page of 20 of a set of
// 1,000, each with its session. rt/op is the round trips to Redis per
// request; cpu-ns/op the CPU time of the test process (client and server)
// per request, and redis-cpu-ns/op that of the Redis server (exact only
// when no one else uses it: run it on a private one, see
// docs/performance.md). On a shared, loaded machine the CPU times are
// steadier than ns/op.
func BenchmarkSharedRequest(b *testing.B) {
	rt := &roundTrips{}
	db := redistest.Open(b)
	for _, backend := range []struct {
		name string
		opts []func(*server.Server)
	}{{"InMemory", nil}, {"Redis", []func(*server.Server){withRedisDB(db, rt)}}} {
		f := newRequestFixture(b, append(backend.opts, servertest.WithQuietTicks())...)
		for _, tc := range []struct {
			name string
			path func(int) string
		}{{"ByKey", byKeyPath}, {"SetPage", f.setPagePath}} {
			b.Run(backend.name+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				rcpu0 := redisCPU(b, db)
				before, cpu0 := rt.n.Load(), cpuTime(b)
				i := 0
				for b.Loop() {
					f.get(b, tc.path(i))
					i++
				}
				rts, cpu := rt.n.Load()-before, cpuTime(b)-cpu0
				b.ReportMetric(float64(rts)/float64(b.N), "rt/op")
				b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(redisCPU(b, db)-rcpu0)/float64(b.N), "redis-cpu-ns/op")
			})
		}
	}
}
