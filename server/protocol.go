package server

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strconv"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/rest"
)

// net/http answers a request it cannot read (a malformed request line,
// headers past MaxHeaderBytes, an unknown transfer encoding, an HTTP
// version it does not speak) itself, before any handler runs, in plain
// text:
//
//	HTTP/1.1 431 Request Header Fields Too Large\r\n
//	Content-Type: text/plain; charset=utf-8\r\n
//	Connection: close\r\n\r\n
//	431 Request Header Fields Too Large
//
// envelopeConn recognises that exact shape in a single Write (net/http
// writes it so, and closes the connection after it) and writes the same
// status in 4D's __ERROR envelope instead. A response of fourd's own
// handlers never has that shape (they carry a Date header and JSON); a
// refusal of another shape, should net/http change it, passes unchanged.
type envelopeConn struct {
	net.Conn
}

// plainRefusalHeaders is what follows the status line of net/http's own
// refusals.
const plainRefusalHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c envelopeConn) Write(b []byte) (int, error) {
	if out, ok := envelopeRefusal(b); ok {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// CloseWrite lets net/http half-close the connection after a refusal, so
// that the client reads the answer before the connection goes.
func (c envelopeConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// envelopeRefusal rewrites one of net/http's plain-text refusals; ok is
// false for anything else.
func envelopeRefusal(b []byte) (out []byte, ok bool) {
	const proto = "HTTP/1.1 "
	if !bytes.HasPrefix(b, []byte(proto)) {
		return nil, false
	}
	statusLine, text, found := bytes.Cut(b[len(proto):], []byte(plainRefusalHeaders))
	if !found || bytes.ContainsAny(statusLine, "\r\n") || len(statusLine) < 3 {
		return nil, false
	}
	status, err := strconv.Atoi(string(statusLine[:3]))
	if err != nil || status < 400 || status > 599 {
		return nil, false
	}
	errCode := fourd.ErrCodeBadParameter
	if status == http.StatusRequestHeaderFieldsTooLarge {
		errCode = fourd.ErrCodeTooLarge
	}
	body, err := json.Marshal(rest.ErrorEnvelope{Errors: []rest.ErrorItem{{
		Message:            "the HTTP request cannot be read: " + string(text),
		ComponentSignature: fourd.ComponentServer,
		ErrCode:            errCode,
	}}})
	if err != nil {
		return nil, false
	}
	out = append(out, proto...)
	out = append(out, statusLine...)
	out = append(out, "\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	out = append(out, "\r\n\r\n"...)
	return append(out, body...), true
}
