package rest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
