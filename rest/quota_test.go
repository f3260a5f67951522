package rest_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

func withQuotas(q rest.Quotas) func(*server.Server) {
	return func(s *server.Server) { s.Quotas = &q }
}

func TestSessionQuotas(t *testing.T) {
	t.Run("ErrMaxSessions", func(t *testing.T) {
		// The stored-procedure session counts: 3 leaves room for 2 clients.
		srv := MustOpenServer(t, withQuotas(rest.Quotas{MaxSessions: 3}))
		for i := 0; i < 2; i++ {
			if status, body := get(t, servertest.NewHTTPClient(t), srv.URL(), "/rest/$catalog"); status != http.StatusOK {
				t.Fatalf("client %d: %d %s", i, status, body)
			}
		}
		status, body := get(t, servertest.NewHTTPClient(t), srv.URL(), "/rest/$catalog")
		if status != http.StatusPaymentRequired || errCodeOf(t, body) != fourd.ErrCodeSessionLimit {
			t.Fatalf("third client: %d %s, want 402 errCode %d", status, body, fourd.ErrCodeSessionLimit)
		}
	})
	t.Run("ErrMaxGuestSessionsButLoginStillWorks", func(t *testing.T) {
		srv := MustOpenServer(t, withQuotas(rest.Quotas{MaxGuestSessions: 1}),
			servertest.WithUser(t, "alice", adminPassword, fourd.PrivilegeWebAdmin))
		first := servertest.NewHTTPClient(t)
		get(t, first, srv.URL(), "/rest/$catalog")
		status, body := get(t, servertest.NewHTTPClient(t), srv.URL(), "/rest/$catalog")
		if status != http.StatusPaymentRequired {
			t.Fatalf("second guest: %d %s, want 402", status, body)
		}
		if status, result := login(t, first, srv, "alice", adminPassword, ""); status != http.StatusOK || result != "true" {
			t.Fatalf("login in the existing guest session: %d %s", status, result)
		}
		if status, body := get(t, servertest.NewHTTPClient(t), srv.URL(), "/rest/$catalog"); status != http.StatusOK {
			t.Fatalf("a guest once the first logged in: %d %s", status, body)
		}
	})
}

func TestEntitySetQuota(t *testing.T) {
	srv, c := mustOpenFixture(t, withQuotas(rest.Quotas{MaxEntitySetsPerSession: 2}))
	u := srv.URL()
	first := makeSet(t, c, u, "Employee", "$timeout", "300")
	makeSet(t, c, u, "Employee", "$timeout", "600")
	req, _ := http.NewRequest(http.MethodGet, u+"/rest/Employee?$method=entityset", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || retry < 290 || retry > 300 {
		t.Fatalf("third set: status %d, Retry-After %q; want 429 and about 300 s (the first set's expiry)", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	other := servertest.NewHTTPClient(t)
	makeSet(t, other, u, "Employee") // another session has its own quota
	get(t, c, u, "/rest/Employee/$entityset/"+first, "$method", "release")
	makeSet(t, c, u, "Employee")
}

func TestLoginQuota(t *testing.T) {
	clock := servertest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	srv := MustOpenServer(t, servertest.WithClock(clock), servertest.WithQuietTicks(),
		withQuotas(rest.Quotas{MaxLoginFailuresPerUser: 3, MaxLoginFailuresPerAddress: 5, LoginWindow: time.Minute}),
		servertest.WithUser(t, "alice", adminPassword, fourd.PrivilegeWebAdmin),
		servertest.WithUser(t, "bob", bobPassword))
	c := servertest.NewHTTPClient(t)
	for i := 0; i < 3; i++ {
		if status, _ := login(t, c, srv, "alice", "wrong-password", ""); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i, status)
		}
	}
	status, body := send(t, c, http.MethodPost, srv.URL()+"/rest/$catalog/authentify", `[{"name":"alice","password":"`+adminPassword+`"}]`)
	if status != http.StatusTooManyRequests || errCodeOf(t, body) != fourd.ErrCodeQuota {
		t.Fatalf("fourth attempt, right password: %d %s, want 429: the password is not even checked", status, body)
	}
	if status, result := login(t, c, srv, "bob", bobPassword, ""); status != http.StatusOK || result != "true" {
		t.Fatalf("another user from the same address: %d %s", status, result)
	}
	for i := 0; i < 2; i++ {
		login(t, c, srv, "bob", "wrong-password", "")
	}
	if status, body := send(t, c, http.MethodPost, srv.URL()+"/rest/$catalog/authentify", `[{"name":"carol","password":"whatever-1"}]`); status != http.StatusTooManyRequests {
		t.Fatalf("sixth failure from one address: %d %s, want 429", status, body)
	}
	clock.Advance(61 * time.Second)
	if status, result := login(t, c, srv, "alice", adminPassword, ""); status != http.StatusOK || result != "true" {
		t.Fatalf("after the window: %d %s", status, result)
	}
}

// TestLoginQuotaFoldsUserNames checks that the login limiter folds user
// names by the users directory's own rule (fourd.FoldUserName): "ſam"
// (U+017F LATIN SMALL LETTER LONG S), "SAM" and "sam" are one user, so
// their failures fall in one bucket.
func TestLoginQuotaFoldsUserNames(t *testing.T) {
	clock := servertest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	srv := MustOpenServer(t, servertest.WithClock(clock), servertest.WithQuietTicks(),
		withQuotas(rest.Quotas{MaxLoginFailuresPerUser: 3, MaxLoginFailuresPerAddress: 50, LoginWindow: time.Minute}),
		servertest.WithUser(t, "sam", bobPassword))
	c := servertest.NewHTTPClient(t)
	for i, name := range []string{"sam", "SAM", "\u017Fam"} {
		if status, _ := login(t, c, srv, name, "wrong-password", ""); status != http.StatusUnauthorized {
			t.Fatalf("failure %d as %q: status %d, want 401", i, name, status)
		}
	}
	status, body := send(t, c, http.MethodPost, srv.URL()+"/rest/$catalog/authentify", `[{"name":"Sam","password":"`+bobPassword+`"}]`)
	if status != http.StatusTooManyRequests || errCodeOf(t, body) != fourd.ErrCodeQuota {
		t.Fatalf("fourth attempt as Sam: %d %s, want 429: three failures of one user under three spellings", status, body)
	}
}
