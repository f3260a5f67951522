package inmem_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

// BenchmarkSessionLookupTouch measures what each request with a session
// cookie costs the session store: Session (a copy of the stored session)
// then Touch, with 1 or 100,000 sessions held, for a guest and for a
// logged-in session (whose privileges the copy carries), from one
// goroutine and from GOMAXPROCS goroutines each on its own session. See
// docs/performance.md.
func BenchmarkSessionLookupTouch(b *testing.B) {
	for _, tc := range []struct {
		held     int
		loggedIn bool
	}{{1, false}, {100000, false}, {100000, true}} {
		kind := "Guest"
		if tc.loggedIn {
			kind = "LoggedIn"
		}
		ctx := context.Background()
		st := inmem.NewSessionStore()
		now := time.Now()
		var ids []string
		for range tc.held {
			s := fourd.NewSession(fourd.SessionREST, now, time.Hour)
			if tc.loggedIn {
				s = benchLogin(s)
			}
			if err := st.Create(ctx, s); err != nil {
				b.Fatal(err)
			}
			ids = append(ids, s.ID)
		}
		b.Run(fmt.Sprintf("sessions=%d/%s/Serial", tc.held, kind), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			i := 0
			for b.Loop() {
				s, err := st.Session(ctx, ids[i%len(ids)])
				if err != nil {
					b.Fatal(err)
				}
				if err := benchTouch(ctx, st, s, now.Add(time.Duration(i))); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
		b.Run(fmt.Sprintf("sessions=%d/%s/Parallel", tc.held, kind), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			b.RunParallel(func(pb *testing.PB) {
				id := ids[len(ids)/2]
				if tc.held > 1 {
					id = ids[int(time.Now().UnixNano())%len(ids)]
				}
				i := 0
				for pb.Next() {
					s, err := st.Session(ctx, id)
					if err != nil {
						b.Error(err)
						return
					}
					if err := benchTouch(ctx, st, s, now.Add(time.Duration(i))); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
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

// benchLogin and benchTouch are the two lines that differ from the
// benchmark's version before sessions became values (docs/performance.md).
func benchLogin(s fourd.Session) fourd.Session {
	s.UserID, s.UserName = fourd.NewID(), "alice"
	s.Privileges = []string{"sales", fourd.PrivilegeWebAdmin}
	return s
}

func benchTouch(ctx context.Context, st *inmem.SessionStore, s fourd.Session, now time.Time) error {
	return st.Touch(ctx, s.ID, now)
}
