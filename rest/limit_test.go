package rest_test

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

// withLimits sets the server's request limits.
func withLimits(l rest.Limits) func(*server.Server) {
	return func(s *server.Server) { s.Limits = &l }
}

// TestAnswerLimits checks that an answer that would cost too much is
// refused with 400 and errCode 9017, never sent truncated.
func TestAnswerLimits(t *testing.T) {
	t.Run("ErrNestedProjection", func(t *testing.T) {
		// 10 companies of 100 employees: employer.staff.employer.staff
		// multiplies a page of 100 employees by 100 twice, a million
		// entities (about 100 MB of JSON) at the default limits.
		srv := MustOpenServer(t, servertest.WithDemo(10, 1000))
		servertest.WaitForDemo(t, srv)
		c := servertest.NewHTTPClient(t)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		status, body := get(t, c, srv.URL(), "/rest/Employee", "$top", "100", "$attributes", "employer.staff.employer.staff.ID")
		runtime.ReadMemStats(&after)
		if status != http.StatusBadRequest || errCodeOf(t, body) != fourd.ErrCodeTooLarge {
			t.Fatalf("%d %.300s, want 400 with errCode %d", status, body, fourd.ErrCodeTooLarge)
		}
		// The entity limit (100,000) stops the answer at about 10 MB of
		// JSON; what the server allocated for it stays within a bound.
		const bound = 64 << 20
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("the refused request allocated %d MiB", alloc>>20)
		if alloc > bound {
			t.Errorf("the refused request allocated %d MiB, more than %d MiB", alloc>>20, bound>>20)
		}
		// A request within the limits is answered.
		col := getCollection(t, c, srv.URL(), "/rest/Employee", "$top", "2", "$attributes", "employer.staff.ID")
		if col.Sent != 2 {
			t.Fatalf("__SENT %d, want 2", col.Sent)
		}
	})
	t.Run("ErrEntitiesBeforeLoad", func(t *testing.T) {
		// 3 companies, then the 4 employees of the first two: past 6.
		srv, c := mustOpenFixture(t, withLimits(rest.Limits{MaxAnswerEntities: 6}))
		status, body := get(t, c, srv.URL(), "/rest/Company", "$attributes", "name,staff.lastName")
		if status != http.StatusBadRequest || errCodeOf(t, body) != fourd.ErrCodeTooLarge {
			t.Fatalf("%d %s, want 400 with errCode %d", status, body, fourd.ErrCodeTooLarge)
		}
		col := getCollection(t, c, srv.URL(), "/rest/Company", "$top", "1", "$attributes", "name,staff.lastName")
		if col.Sent != 1 {
			t.Fatalf("__SENT %d, want 1", col.Sent)
		}
	})
	t.Run("ErrEntitiesWritten", func(t *testing.T) {
		// Each employee shows its company: 5 + 4 entities written, but
		// only 5 + 3 loaded.
		srv, c := mustOpenFixture(t, withLimits(rest.Limits{MaxAnswerEntities: 8}))
		status, body := get(t, c, srv.URL(), "/rest/Employee", "$attributes", "lastName,employer.name")
		if status != http.StatusBadRequest || errCodeOf(t, body) != fourd.ErrCodeTooLarge {
			t.Fatalf("%d %s, want 400 with errCode %d", status, body, fourd.ErrCodeTooLarge)
		}
	})
	t.Run("ErrBytes", func(t *testing.T) {
		srv, c := mustOpenFixture(t, withLimits(rest.Limits{MaxAnswerBytes: 600}))
		status, body := get(t, c, srv.URL(), "/rest/Employee")
		if status != http.StatusBadRequest || errCodeOf(t, body) != fourd.ErrCodeTooLarge {
			t.Fatalf("%d %s, want 400 with errCode %d", status, body, fourd.ErrCodeTooLarge)
		}
		status, body = get(t, c, srv.URL(), "/rest/Employee(1)", "$attributes", "lastName")
		if status != http.StatusOK {
			t.Fatalf("a small answer: %d %s", status, body)
		}
	})
}

func TestEntitySetTimeoutLimit(t *testing.T) {
	srv, c := mustOpenFixture(t)
	for _, v := range []string{"86401", "9223372037", "99999999999999999999999"} {
		status, body := get(t, c, srv.URL(), "/rest/Employee", "$method", "entityset", "$timeout", v)
		if status != http.StatusBadRequest || errCodeOf(t, body) != fourd.ErrCodeBadParameter {
			t.Fatalf("$timeout=%s: %d %s, want 400", v, status, body)
		}
		if !strings.Contains(string(body), "at most 86400 seconds") {
			t.Fatalf("$timeout=%s: %s does not name the limit", v, body)
		}
	}
	set := makeSet(t, c, srv.URL(), "Employee", "$timeout", "86400")
	es := findSet(getInfo(t, c, srv.URL()), set)
	if es == nil {
		t.Fatal("the set is not listed")
	}
	refreshed, err1 := time.Parse(time.RFC3339, es.Refreshed)
	expires, err2 := time.Parse(time.RFC3339, es.Expires)
	if err1 != nil || err2 != nil || expires.Sub(refreshed) != 24*time.Hour {
		t.Fatalf("set with $timeout=86400: refreshed %s, expires %s", es.Refreshed, es.Expires)
	}
}

func TestPageSizeLimit(t *testing.T) {
	srv, c := mustOpenFixture(t, withLimits(rest.Limits{MaxPageSize: 3, MaxDistinct: 2}))
	for _, name := range []string{"$top", "$limit"} {
		status, body := get(t, c, srv.URL(), "/rest/Employee", name, "4")
		if status != http.StatusBadRequest || !strings.Contains(string(body), name+"=4: at most 3 entities per page") {
			t.Fatalf("%s=4: %d %s, want 400 naming the limit", name, status, body)
		}
	}
	if col := getCollection(t, c, srv.URL(), "/rest/Employee", "$top", "3"); col.Sent != 3 {
		t.Fatalf("$top=3: __SENT %d", col.Sent)
	}
	if col := getCollection(t, c, srv.URL(), "/rest/Employee"); col.Sent != 3 || col.Count != 5 {
		t.Fatalf("the default page: __SENT %d of %d, want 3 of 5", col.Sent, col.Count)
	}
	status, body := get(t, c, srv.URL(), "/rest/Employee/lastName", "$distinct", "true")
	if status != http.StatusBadRequest || !strings.Contains(string(body), "--max-distinct") {
		t.Fatalf("$distinct past the limit: %d %s, want 400", status, body)
	}
}
