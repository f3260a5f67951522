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

// paramSpec is one $-parameter of 4D's REST API, as 4D spells it. refused
// is empty for a parameter fourd implements; otherwise it says why fourd
// refuses it (the request answers 400 with that reason, never ignoring
// the parameter).
type paramSpec struct {
	name    string
	refused string
}

// parameters is the one table of the $-parameters fourd knows: every
// parameter of 4D's REST documentation, by lower-case name (clients vary
// the case: $atOnce, $atonce). docs/rest.md lists the same table for users.
// A $-parameter not in it answers 400 naming it.
var parameters = func() map[string]paramSpec {
	m := map[string]paramSpec{}
	for _, p := range []paramSpec{
		{name: "$filter"},
		{name: "$params"},
		{name: "$orderby"},
		{name: "$top"},
		{name: "$limit"},
		{name: "$skip"},
		{name: "$attributes"},
		{name: "$method"},
		{name: "$timeout"},
		{name: "$savedfilter"},
		{name: "$savedorderby"},
		{name: "$logicOperator"},
		{name: "$operator"},
		{name: "$otherCollection"},
		{name: "$compute"},
		{name: "$distinct"},
		{name: "$atomic"},
		{name: "$atOnce"},
		{name: "$expand"},
		{name: "$clean"},
		{name: "$queryplan"},
		{name: "$querypath"},
		{name: "$asArray"},
		{name: "$subOrderby"},
		{name: "$lock"},
		{name: "$match"}, // fourd: the filter of $activity and $process/abort (package activityfilter)
		{name: "$format", refused: "fourd answers in 4D's standard JSON only; the looker format is not implemented"},
		{name: "$imageformat", refused: "fourd has no picture attributes"},
		{name: "$version", refused: "fourd has no picture attributes, whose versions $version names"},
		{name: "$binary", refused: "fourd has no BLOB or picture attributes"},
	} {
		m[strings.ToLower(p.name)] = p
	}
	return m
}()

// checkParams refuses a request whose query string has a $-parameter that
// fourd does not know, or knows but does not implement: 400 naming it. A
// known parameter written in another case ($orderBy) is renamed to 4D's
// spelling in r.URL, so that handlers read one name.
func checkParams(r *http.Request) error {
	if !strings.Contains(r.URL.RawQuery, "$") && !strings.Contains(r.URL.RawQuery, "%24") {
		return nil
	}
	q := r.URL.Query()
	renamed := false
	for name, vs := range q {
		if !strings.HasPrefix(name, "$") {
			continue
		}
		spec, ok := parameters[strings.ToLower(name)]
		switch {
		case !ok:
			return badParam("unknown parameter %q: fourd answers every 4D REST parameter or refuses it, and this is none of them (docs/rest.md lists them)", name)
		case spec.refused != "":
			return badParam("%s: %s", spec.name, spec.refused)
		case name != spec.name:
			delete(q, name)
			q[spec.name] = append(q[spec.name], vs...)
			renamed = true
		}
	}
	if renamed {
		r.URL.RawQuery = q.Encode()
	}
	return nil
}
