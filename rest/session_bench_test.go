package rest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

// BenchmarkSessionMiddleware measures the session part of every request
// with a cookie, through the handler's withSession and no socket: the
// cookie read, the store's Session and Touch, the checks between them
// (address, the users directory: none here) and the request's context,
// with 1 or 100,000 sessions held, for a guest and for a logged-in session
// with two privileges. See docs/performance.md.
func BenchmarkSessionMiddleware(b *testing.B) {
	for _, tc := range []struct {
		held     int
		loggedIn bool
	}{{1, false}, {100000, false}, {100000, true}} {
		kind := "Guest"
		if tc.loggedIn {
			kind = "LoggedIn"
		}
		b.Run(fmt.Sprintf("sessions=%d/%s", tc.held, kind), func(b *testing.B) {
			procs := inmem.NewProcessTable()
			b.Cleanup(func() { _ = procs.Close(context.Background()) })
			sessions := inmem.NewSessionStore()
			h := NewHandler(procs, sessions, "bench")
			h.Logger = slog.New(slog.DiscardHandler)
			var ids []string
			for range tc.held {
				s := fourd.NewSession(fourd.SessionREST, time.Now(), time.Hour)
				s.IPAddress = "192.0.2.1" // httptest.NewRequest's client address
				if tc.loggedIn {
					s = benchLogin(s)
				}
				if err := sessions.Create(context.Background(), s); err != nil {
					b.Fatal(err)
				}
				ids = append(ids, s.ID)
			}
			served := 0
			handler := h.withSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if RequestSession(r) != nil {
					served++
				}
			}))
			reqs := make([]*http.Request, len(ids))
			for i, id := range ids {
				reqs[i] = httptest.NewRequest(http.MethodGet, "/rest/$catalog", nil)
				reqs[i].AddCookie(&http.Cookie{Name: h.CookieName(), Value: id})
			}
			w := httptest.NewRecorder()
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			i := 0
			for b.Loop() {
				handler.ServeHTTP(w, reqs[i%len(reqs)])
				i++
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
			if n, _ := sessions.Count(context.Background(), ""); served != i || n.Total != tc.held {
				b.Fatalf("%d of %d requests served with a session, %d sessions held: a request made a new session", served, i, n.Total)
			}
		})
	}
}

// cpuTime returns the CPU time the process has used: on a shared, loaded
// machine, CPU time per operation is steadier than wall-clock time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchLogin is the line that differs from the benchmark's version before
// sessions became values (docs/performance.md).
func benchLogin(s fourd.Session) fourd.Session {
	s.UserID, s.UserName = fourd.NewID(), "alice"
	s.Privileges = []string{"sales", fourd.PrivilegeWebAdmin}
	return s
}
