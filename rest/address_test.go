package rest_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

// clientFrom returns an HTTP client whose connections come from the
// loopback address local (Linux routes all of 127.0.0.0/8 to lo).
func clientFrom(t *testing.T, local string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func TestCookieFromAnotherAddress(t *testing.T) {
	for _, tc := range []struct {
		name  string
		allow bool
	}{{"ErrRefusedByDefault", false}, {"OKWhenAllowed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := MustOpenServer(t, func(s *server.Server) { s.AllowAddressChange = tc.allow })
			first := servertest.NewHTTPClient(t)
			get(t, first, srv.URL(), "/rest/$catalog")
			id := jarSessionID(t, first, srv)
			other := clientFrom(t, "127.0.0.2")
			req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/rest/$catalog", nil)
			req.AddCookie(&http.Cookie{Name: "4DSID_" + srv.AppName, Value: id})
			resp, err := other.Do(req)
			if err != nil {
				t.Skipf("cannot connect from 127.0.0.2 on this system: %v", err)
			}
			resp.Body.Close()
			var newID string
			for _, ck := range resp.Cookies() {
				newID = ck.Value
			}
			switch {
			case !tc.allow && (newID == "" || newID == id):
				t.Fatalf("the cookie of %s was honoured from another address", id)
			case tc.allow && newID != "":
				t.Fatalf("a new session %s although address changes are allowed", newID)
			}
			if srv.SessionInfo(id) == nil {
				t.Fatal("the original session was lost")
			}
		})
	}
}
