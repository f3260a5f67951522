package rest

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fourd/fourd"
)

// Request bodies are bounded one by one (MaxBodyBytes) and all together
// (MaxBodyBytesInFlight): every byte read from a body is counted against
// the in-flight budget until its request ends, so that many large bodies
// at once cannot run the server out of memory. A body whose declared
// length does not fit in what is left is refused before a byte of it is
// read; one sent without a length is refused when the budget runs out.

// bodyRetryAfter is what a client refused for lack of budget is told to
// wait: bodies in flight are read and done with in about that time.
const bodyRetryAfter = time.Second

// bodyBudget counts the bytes of request bodies held in flight.
type bodyBudget struct {
	used atomic.Int64
	peak atomic.Int64 // the most used has been
}

// take counts n more bytes, or reports false (counting nothing) when they
// would pass max.
func (b *bodyBudget) take(n, max int64) bool {
	for {
		used := b.used.Load()
		if max > 0 && used+n > max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			for p := b.peak.Load(); used+n > p && !b.peak.CompareAndSwap(p, used+n); p = b.peak.Load() {
			}
			return true
		}
	}
}

// fits reports whether n more bytes would fit now.
func (b *bodyBudget) fits(n, max int64) bool { return max <= 0 || b.used.Load()+n <= max }

func (b *bodyBudget) give(n int64) { b.used.Add(-n) }

func errBodyBusy(max int64) error {
	return &quotaError{
		err:        fourd.Errorf(fourd.EUNAVAILABLE, fourd.ErrCodeBusy, "the server holds %d bytes of request bodies in flight, its limit; retry shortly (limit: --max-body-size-in-flight)", max),
		retryAfter: bodyRetryAfter,
	}
}

func errBodyTooLarge(max int64) error {
	return errTooLarge("the request body is larger than %d bytes (limit: --max-body-size)", max)
}

// withBodyLimits checks a request's body before any handler reads it: its
// Content-Type (JSON, or none), its declared length against MaxBodyBytes
// and against what is left of MaxBodyBytesInFlight; then it counts the
// bytes as they are read, and gives them back when the request ends.
func (h *Handler) withBodyLimits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if err := checkContentType(r); err != nil {
			writeError(w, r, h.Logger, err)
			return
		}
		lim := h.Limits
		if lim.MaxBodyBytes > 0 && r.ContentLength > lim.MaxBodyBytes {
			writeError(w, r, h.Logger, errBodyTooLarge(lim.MaxBodyBytes))
			return
		}
		if r.ContentLength > 0 && !h.bodies.fits(r.ContentLength, lim.MaxBodyBytesInFlight) {
			writeError(w, r, h.Logger, errBodyBusy(lim.MaxBodyBytesInFlight))
			return
		}
		body := &countedBody{rc: r.Body, budget: &h.bodies, max: lim.MaxBodyBytes, inFlight: lim.MaxBodyBytesInFlight}
		defer body.giveBack()
		r.Body = body
		next.ServeHTTP(w, r)
	})
}

// checkContentType accepts a body sent as application/json (any
// parameters, or a +json type) or without a Content-Type. Anything else,
// a form or text/plain above all (what a cross-site page can send without
// asking), is refused.
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return badParam("the request body must be JSON sent as Content-Type: application/json, not %q", ct)
}

// countedBody counts the bytes read from a body against the request's and
// the server's limits. Past either, Read returns the error to answer.
type countedBody struct {
	rc       io.ReadCloser
	budget   *bodyBudget
	max      int64 // MaxBodyBytes
	inFlight int64 // MaxBodyBytesInFlight
	read     int64 // bytes read, all counted in budget
	err      error
}

func (b *countedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.max > 0 && int64(len(p)) > b.max-b.read+1 {
		p = p[:b.max-b.read+1] // one byte past the limit is enough to know
	}
	n, err := b.rc.Read(p)
	if n > 0 {
		if b.max > 0 && b.read+int64(n) > b.max {
			b.err = errBodyTooLarge(b.max)
			return 0, b.err
		}
		if !b.budget.take(int64(n), b.inFlight) {
			b.err = errBodyBusy(b.inFlight)
			return 0, b.err
		}
		b.read += int64(n)
	}
	return n, err
}

func (b *countedBody) Close() error { return b.rc.Close() }

// giveBack returns the bytes read to the budget: the request is over.
func (b *countedBody) giveBack() {
	b.budget.give(b.read)
	b.read = 0
}

// bodyError is the error to answer for a failed read of a request body:
// a limit's own error, or a 400.
func bodyError(err error) error {
	var fe *fourd.Error
	if errors.As(err, &fe) {
		return err
	}
	return badParam("read the request body: %v", err)
}

// readSmallBody reads the body of a request that takes a small JSON
// value ($release, the admin actions, $index): more than max bytes is a
// 400 (errCode 9017) naming the limit, never a body cut short.
func readSmallBody(r *http.Request, max int64, what string) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, bodyError(err)
	}
	if int64(len(body)) > max {
		return nil, errTooLarge("the body of %s is at most %d bytes", what, max)
	}
	return body, nil
}
