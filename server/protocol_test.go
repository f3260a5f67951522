package server_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

// TestProtocolRefusals checks that the requests net/http refuses itself,
// before fourd's handlers run, are answered in the __ERROR envelope.
func TestProtocolRefusals(t *testing.T) {
	srv := MustOpenServer(t, func(s *server.Server) { s.MaxHeaderBytes = 4096 })
	addr := strings.TrimPrefix(srv.URL(), "http://")
	for _, tc := range []struct {
		name    string
		request string
		status  int
		errCode int
	}{
		{"ErrBadRequestLine", "GARBAGE\r\n\r\n", http.StatusBadRequest, fourd.ErrCodeBadParameter},
		{"ErrSpaceInTarget", "GET /rest/Employee?$filter=ID = 1 HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusBadRequest, fourd.ErrCodeBadParameter},
		{"ErrNoHost", "GET /rest/$catalog HTTP/1.1\r\n\r\n", http.StatusBadRequest, fourd.ErrCodeBadParameter},
		{"ErrHeadersTooLarge", "GET /rest/$catalog HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8192) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge, fourd.ErrCodeTooLarge},
		{"ErrTransferEncoding", "POST /rest/$catalog HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", http.StatusNotImplemented, fourd.ErrCodeBadParameter},
		{"ErrVersion", "GET /rest/$catalog HTTP/7.0\r\nHost: x\r\n\r\n", http.StatusHTTPVersionNotSupported, fourd.ErrCodeBadParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := conn.SetDeadline(time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(conn, tc.request); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			var env rest.ErrorEnvelope
			if resp.StatusCode != tc.status || json.Unmarshal(body, &env) != nil || len(env.Errors) != 1 || env.Errors[0].ErrCode != tc.errCode {
				t.Fatalf("%d %s, want %d with errCode %d in the envelope", resp.StatusCode, body, tc.status, tc.errCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	// An ordinary answer passes unchanged.
	resp, err := http.Get(srv.URL() + "/rest/$catalog")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Date") == "" {
		t.Fatalf("$catalog: %d %v", resp.StatusCode, resp.Header)
	}
	http.DefaultClient.CloseIdleConnections()
}
