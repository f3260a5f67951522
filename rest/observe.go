package rest

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/fourd/fourd"
)

// Observer is told of what the REST handler does, as it happens: the
// events that metrics count. Its methods are called on request paths, so
// they must be cheap and safe for concurrent use. Every argument holds a
// value from a small fixed set (no IDs, no URLs), so that it can be a
// metric label.
type Observer interface {
	// Request is called once a request has been answered: kind is its
	// resource kind (see ResourceKind), status the HTTP status sent.
	Request(kind string, status int, d time.Duration)
	// Login is called for each login attempt with its outcome.
	Login(outcome LoginOutcome)
	// Refused is called when a quota refuses a request; quota is one of
	// the Quota* names.
	Refused(quota string)
}

// LoginOutcome is what became of a login attempt.
type LoginOutcome string

// The outcomes of a login attempt.
const (
	LoginSucceeded LoginOutcome = "succeeded" // the credentials were right
	LoginFailed    LoginOutcome = "failed"    // wrong user name or password
	LoginThrottled LoginOutcome = "throttled" // refused by the failed-login quotas before the password was checked
)

// The quotas Observer.Refused names.
const (
	QuotaSessions   = "sessions"    // --max-sessions, --max-guest-sessions, --max-guest-sessions-per-address (402)
	QuotaEntitySets = "entity_sets" // --max-entity-sets (429)
	QuotaLogins     = "logins"      // the failed-login quotas (429)
)

// resourceKinds are the kinds ResourceKind answers besides "dataclass"
// and "other".
var resourceKinds = map[string]string{
	"$activity": "$activity", "$info": "$info", "$catalog": "$catalog", "$entityset": "$entityset",
	"$singleton": "$singleton", "$directory": "$directory", "$process": "$process", "$session": "$session",
	"$index": "$index", "$flush": "$flush", "$lock": "$lock",
}

// ResourceKind names the kind of resource a request path asks for, from a
// small fixed set: the first element after /rest/ when it is one of
// fourd's $ resources ("$activity", "$info", "$catalog", …), "dataclass"
// for a dataclass (its entities, sets and functions), and "other" for
// anything else. It is the "kind" label of the request metrics.
func ResourceKind(path string) string {
	rest, ok := strings.CutPrefix(path, "/rest/")
	if !ok {
		return "other"
	}
	first, _, _ := strings.Cut(rest, "/")
	if first == "" {
		return "other"
	}
	if first[0] != '$' {
		if i := strings.IndexAny(first, "(["); i >= 0 {
			first = first[:i]
		}
		if first == "" {
			return "other"
		}
		return "dataclass"
	}
	if k, ok := resourceKinds[first]; ok {
		return k
	}
	return "other"
}

// requestRecord is what the inner layers tell the outer one about a
// request: its session and its process, for the request log line.
type requestRecord struct {
	session *fourd.Session
	proc    *fourd.Process
}

type recordKey struct{}

// recordOf returns the request's record, or nil when the request is served
// without withObserve (handler tests that call inner layers).
func recordOf(ctx context.Context) *requestRecord {
	rec, _ := ctx.Value(recordKey{}).(*requestRecord)
	return rec
}

// observedWriter notes the status and the size of an answer.
type observedWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *observedWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *observedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *observedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withObserve is the outermost layer: once a request has been answered it
// tells the Observer and, unless LogRequests is false, writes one
// structured log line at Info: method, path, status, bytes, duration,
// session, user, process ID and node.
func (h *Handler) withObserve(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logging := h.LogRequests && h.Logger.Enabled(r.Context(), slog.LevelInfo)
		if h.Observer == nil && !logging {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		ow := &observedWriter{ResponseWriter: w}
		var rec requestRecord
		next.ServeHTTP(ow, r.WithContext(context.WithValue(r.Context(), recordKey{}, &rec)))
		d := time.Since(start)
		status := ow.status
		if status == 0 {
			// Nothing was written: the client went away before an answer
			// (see cancellation); net/http would have sent 200.
			status = 499
		}
		if h.Observer != nil {
			h.Observer.Request(ResourceKind(r.URL.Path), status, d)
		}
		if !logging {
			return
		}
		sessionID, user := "", ""
		if rec.session != nil {
			sessionID, user = rec.session.ID, rec.session.UserName
		}
		var procID int64
		if rec.proc != nil {
			procID = rec.proc.ID()
		}
		h.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int64("bytes", ow.bytes),
			slog.Duration("duration", d),
			slog.String("session", sessionID),
			slog.String("user", user),
			slog.Int64("process", procID),
			slog.String("node", h.Registry.Node()),
		)
	})
}

// observeLogin tells the Observer of a login attempt.
func (h *Handler) observeLogin(o LoginOutcome) {
	if h.Observer != nil {
		h.Observer.Login(o)
		if o == LoginThrottled {
			h.Observer.Refused(QuotaLogins)
		}
	}
}

// observeRefused tells the Observer of a quota refusal.
func (h *Handler) observeRefused(quota string) {
	if h.Observer != nil {
		h.Observer.Refused(quota)
	}
}

// setPhase records what the request's process is doing (Process activity's
// phase and rowsDone, fourd extensions).
func setPhase(ctx context.Context, ph fourd.Phase, rows int) {
	if p := fourd.CurrentProcess(ctx); p != nil {
		p.SetPhase(ph)
		p.SetRows(rows)
	}
}
