package rest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// param returns a query parameter's value with one pair of enclosing double
// quotes removed: 4D clients may quote any value ($filter="...").
func param(q url.Values, name string) (string, bool) {
	vs, ok := q[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	v := strings.TrimSpace(vs[0])
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return v, true
}

// writeJSON writes a JSON body that is already encoded: no lock of any
// store is held while it is written. A failed write means the client went
// away; there is nobody left to tell, so it is not reported.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Encoding buffers are pooled: a snapshot of a busy server is megabytes of
// JSON, which would otherwise be allocated, and faulted in, on every call.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// maxPooledBuffer is the largest buffer kept for reuse (a snapshot of about
// 30,000 processes and sessions); larger ones are left to the GC.
const maxPooledBuffer = 32 << 20

func getBuffer() *[]byte { return buffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooledBuffer {
		buffers.Put(b)
	}
}
