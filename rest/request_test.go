package rest_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/fourd/fourd"
)

// rawRequest sends a request line as it is (no client cleans it) and
// returns the status and the body.
func rawRequest(t *testing.T, addr, method, target string) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", method, target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, []byte(b.String())
}

func TestMalformedRequests(t *testing.T) {
	srv, c := mustOpenFixture(t)
	addr := strings.TrimPrefix(srv.URL(), "http://")
	for _, tc := range []struct {
		name, method, target string
		status, errCode      int
	}{
		{"ErrBadPercentEncoding", "GET", "/rest/Employee?$filter=salary%3E99000%zz", http.StatusBadRequest, fourd.ErrCodeBadParameter},
		{"ErrBadPercentEncodingName", "GET", "/rest/Employee?%zz=1", http.StatusBadRequest, fourd.ErrCodeBadParameter},
		{"ErrSemicolon", "GET", "/rest/Employee?$filter=salary>99000;$top=1", http.StatusBadRequest, fourd.ErrCodeBadParameter},
		{"ErrDoubleSlash", "GET", "/rest//Employee", http.StatusBadRequest, fourd.ErrCodeBadParameter},
		{"ErrDotDot", "POST", "/rest/Employee/../Company?$method=delete&$filter=ID>0", http.StatusBadRequest, fourd.ErrCodeBadParameter},
		{"ErrDot", "GET", "/rest/./Employee", http.StatusBadRequest, fourd.ErrCodeBadParameter},
		{"ErrRestRoot", "GET", "/rest", http.StatusNotFound, fourd.ErrCodeUnknownResource},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := rawRequest(t, addr, tc.method, tc.target)
			if status != tc.status || errCodeOf(t, body) != tc.errCode {
				t.Fatalf("%d %s, want %d with errCode %d", status, body, tc.status, tc.errCode)
			}
		})
	}
	if n := getCollection(t, c, srv.URL(), "/rest/Company").Count; n != 3 {
		t.Fatalf("%d companies after the malformed requests, want 3", n)
	}
}
