package rest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
)

// TestLoginNeedsNoGuestSlot checks that guests filling every guest slot
// cannot lock anyone out of logging in, and that failed logins take no
// session.
func TestLoginNeedsNoGuestSlot(t *testing.T) {
	srv := mustOpenWithUsers(t, withQuotas(rest.Quotas{MaxGuestSessions: 1}))
	get(t, servertest.NewHTTPClient(t), srv.URL(), "/rest/$catalog") // the one guest slot
	if status, body := get(t, servertest.NewHTTPClient(t), srv.URL(), "/rest/$catalog"); status != http.StatusPaymentRequired {
		t.Fatalf("a second guest: %d %s, want 402", status, body)
	}
	sessions := func() int {
		n, err := srv.Sessions.Count(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		return n.Total
	}
	before := sessions()
	t.Run("ErrWrongPasswordTakesNoSession", func(t *testing.T) {
		if status, result := login(t, servertest.NewHTTPClient(t), srv, "alice", "wrong-password", ""); status != http.StatusUnauthorized || result != "false" {
			t.Fatalf("wrong password: %d %s", status, result)
		}
		if got := sessions(); got != before {
			t.Fatalf("%d sessions after a failed login, want %d", got, before)
		}
	})
	t.Run("OKDirectoryLogin", func(t *testing.T) {
		c := servertest.NewHTTPClient(t)
		if status, result := login(t, c, srv, "alice", adminPassword, ""); status != http.StatusOK || result != "true" {
			t.Fatalf("login with every guest slot taken: %d %s", status, result)
		}
		if status, body := get(t, c, srv.URL(), "/rest/$info"); status != http.StatusOK {
			t.Fatalf("the logged-in session: %d %s", status, body)
		}
	})
	t.Run("OKAuthentify", func(t *testing.T) {
		c := servertest.NewHTTPClient(t)
		status, body := send(t, c, http.MethodPost, srv.URL()+"/rest/$catalog/authentify", `[{"name":"bob","password":"`+bobPassword+`"}]`)
		if status != http.StatusOK || string(body) != `{"result":true}` {
			t.Fatalf("authentify with every guest slot taken: %d %s", status, body)
		}
		if jarSessionID(t, c, srv) == "" {
			t.Fatal("no session cookie after authentify")
		}
	})
}

// TestGuestSessionsPerAddress checks that one client address cannot take
// every guest slot.
func TestGuestSessionsPerAddress(t *testing.T) {
	srv := MustOpenServer(t, withQuotas(rest.Quotas{MaxGuestSessionsPerAddress: 2}))
	for i := 0; i < 2; i++ {
		if status, body := get(t, servertest.NewHTTPClient(t), srv.URL(), "/rest/$catalog"); status != http.StatusOK {
			t.Fatalf("guest %d: %d %s", i, status, body)
		}
	}
	status, body := get(t, servertest.NewHTTPClient(t), srv.URL(), "/rest/$catalog")
	if status != http.StatusPaymentRequired || errCodeOf(t, body) != fourd.ErrCodeSessionLimit {
		t.Fatalf("a third guest from 127.0.0.1: %d %s, want 402", status, body)
	}
	resp, err := clientFrom(t, "127.0.0.2").Get(srv.URL() + "/rest/$catalog")
	if err != nil {
		t.Skipf("cannot connect from 127.0.0.2 on this system: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a guest from another address: %d, want 200", resp.StatusCode)
	}
}

// TestLoginLockoutByAddress checks that failed logins from elsewhere do
// not lock a user out of its usual address.
func TestLoginLockoutByAddress(t *testing.T) {
	clock := servertest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	srv := mustOpenWithUsers(t, servertest.WithClock(clock), servertest.WithQuietTicks(),
		withQuotas(rest.Quotas{MaxLoginFailuresPerUser: 3, MaxLoginFailuresPerAddress: 50, MaxLoginFailuresElsewhere: 5, LoginWindow: time.Minute}))
	usual := clientFrom(t, "127.0.0.1")
	loginFrom := func(c *http.Client, password string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/rest/$directory/login", nil)
		req.Header.Set("username-4D", "alice")
		req.Header.Set("password-4D", password)
		resp, err := c.Do(req)
		if err != nil {
			t.Skipf("cannot connect from another loopback address on this system: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := loginFrom(usual, adminPassword); status != http.StatusOK {
		t.Fatalf("first login from the usual address: %d", status)
	}
	t.Run("ErrAttackerLockedPerAddress", func(t *testing.T) {
		attacker := clientFrom(t, "127.0.0.2")
		for i := 0; i < 3; i++ {
			if status := loginFrom(attacker, "wrong-password"); status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d, want 401", i, status)
			}
		}
		if status := loginFrom(attacker, adminPassword); status != http.StatusTooManyRequests {
			t.Fatalf("the attacker's address after 3 failures: %d, want 429", status)
		}
	})
	t.Run("ErrSpreadAttackSlowed", func(t *testing.T) {
		for i := 3; i <= 5; i++ {
			loginFrom(clientFrom(t, fmt.Sprintf("127.0.0.%d", i)), "wrong-password")
		}
		if status := loginFrom(clientFrom(t, "127.0.0.9"), adminPassword); status != http.StatusTooManyRequests {
			t.Fatalf("a new address after 5 failures from elsewhere: %d, want 429", status)
		}
	})
	t.Run("OKUsualAddress", func(t *testing.T) {
		if status := loginFrom(usual, adminPassword); status != http.StatusOK {
			t.Fatalf("the user from its usual address, right password, during the attack: %d, want 200", status)
		}
	})
}

// BenchmarkNewSession measures a request that opens a new guest session,
// with 1 to 100,000 sessions already held: the quota checks read counters,
// so the cost stays flat.
func BenchmarkNewSession(b *testing.B) {
	for _, n := range []int{1, 1000, 10000, 100000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			srv := servertest.MustOpenServer(b, withQuotas(rest.Quotas{MaxSessions: 1 << 30, MaxGuestSessions: 1 << 30}))
			now := srv.Now()
			for i := 0; i < n; i++ {
				s := fourd.NewSession(fourd.SessionREST, now, time.Hour)
				s.IPAddress = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
				if err := srv.Sessions.Create(b.Context(), s); err != nil {
					b.Fatal(err)
				}
			}
			h := srv.Handler()
			req := httptest.NewRequest(http.MethodGet, "/rest/$catalog", nil)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
