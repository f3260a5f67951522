package server_test

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

func TestParseTrustedProxies(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		got, err := server.ParseTrustedProxies(" 10.1.2.3/8, 127.0.0.1 ,::1,, fd00::/8")
		if err != nil {
			t.Fatal(err)
		}
		want := []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"),
			netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fd00::/8"),
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("OKEmpty", func(t *testing.T) {
		if got, err := server.ParseTrustedProxies(""); err != nil || len(got) != 0 {
			t.Errorf("got %v, %v; want none", got, err)
		}
	})
	for _, bad := range []string{"10.0.0.0/33", "localhost", "10.0.0.0/8,nope", "1.2.3"} {
		t.Run("ErrInvalid/"+bad, func(t *testing.T) {
			if _, err := server.ParseTrustedProxies(bad); err == nil {
				t.Errorf("%q accepted", bad)
			}
		})
	}
}

// sessionAddress sends one REST request through the server as if from a
// proxy that forwarded it for xff (nothing when ""), with cookie (if any),
// and returns the address of the session that served it and its cookie.
func sessionAddress(t *testing.T, srv *server.Server, xff string, cookie *http.Cookie) (string, *http.Cookie) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL()+"/rest/$catalog", nil)
	if err != nil {
		t.Fatal(err)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var got *http.Cookie
	for _, c := range resp.Cookies() {
		got = c
	}
	if got == nil {
		got = cookie // kept: no new cookie
	}
	act, err := srv.ProcessActivity(context.Background(), got.Value, fourd.SessionsOnly)
	if err != nil || act == nil || len(act.Sessions) != 1 {
		t.Fatalf("session %s: %v, %v", got.Value, act, err)
	}
	return act.Sessions[0].IPAddress, got
}

func TestTrustedProxy(t *testing.T) {
	t.Run("OKClientFromForwardedFor", func(t *testing.T) {
		srv := servertest.MustOpenServer(t, func(s *server.Server) {
			s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
		})
		for xff, want := range map[string]string{
			"203.0.113.7":               "203.0.113.7",
			"198.51.100.1, 203.0.113.7": "203.0.113.7", // the left entry is the client's own word
			"203.0.113.7, 10.1.1.1":     "203.0.113.7", // a second trusted proxy is skipped
			"203.0.113.7:4711":          "203.0.113.7", // with a port
			"[2001:db8::5]:80":          "2001:db8::5", // IPv6 with a port
			"garbage, 203.0.113.7":      "203.0.113.7", // what is left of the client is not read
			"10.9.9.9":                  "10.9.9.9",    // only proxies: the leftmost one read
			"not-an-address":            "127.0.0.1",   // nothing usable: the peer
			"":                          "127.0.0.1",   // no header: the peer
		} {
			if got, _ := sessionAddress(t, srv, xff, nil); got != want {
				t.Errorf("X-Forwarded-For %q: session address %q, want %q", xff, got, want)
			}
		}
	})
	t.Run("OKUntrustedPeerIgnoresHeader", func(t *testing.T) {
		srv := servertest.MustOpenServer(t, func(s *server.Server) {
			s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		})
		if got, _ := sessionAddress(t, srv, "203.0.113.7", nil); got != "127.0.0.1" {
			t.Errorf("session address %q, want the peer 127.0.0.1", got)
		}
	})
	t.Run("OKAddressCheckUsesClient", func(t *testing.T) {
		srv := servertest.MustOpenServer(t, func(s *server.Server) {
			s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		})
		_, cookie := sessionAddress(t, srv, "203.0.113.7", nil)
		if _, again := sessionAddress(t, srv, "203.0.113.7", cookie); again.Value != cookie.Value {
			t.Errorf("the same client through the proxy lost its session")
		}
		if got, other := sessionAddress(t, srv, "198.51.100.9", cookie); other.Value == cookie.Value || got != "198.51.100.9" {
			t.Errorf("a cookie sent from another client behind the proxy was honoured (session %s at %s)", other.Value, got)
		}
	})
}
