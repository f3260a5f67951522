package rest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/fourd/fourd"
)

// statuses maps each fourd error code to its HTTP status: the one table,
// following docs/decisions.md (4D uses 401 for refusals, never 403).
var statuses = map[string]int{
	fourd.EINVALID:      http.StatusBadRequest,
	fourd.EUNAUTHORIZED: http.StatusUnauthorized,
	fourd.ESESSIONLIMIT: http.StatusPaymentRequired,
	fourd.ENOTFOUND:     http.StatusNotFound,
	fourd.EMETHOD:       http.StatusMethodNotAllowed,
	fourd.ECONFLICT:     http.StatusConflict,
	fourd.EABORTED:      http.StatusConflict,
	fourd.EQUOTA:        http.StatusTooManyRequests,
	fourd.EUNAVAILABLE:  http.StatusServiceUnavailable,
	fourd.EINTERNAL:     http.StatusInternalServerError,
}

// StatusCode returns the HTTP status for err's fourd error code.
func StatusCode(err error) int {
	if s, ok := statuses[fourd.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// codeForStatus is the reverse table, for the client. Where two codes
// share a status (409), the envelope's errCode tells them apart: see
// decodeError.
func codeForStatus(status int) string {
	if status == http.StatusConflict {
		return fourd.ECONFLICT
	}
	for code, s := range statuses {
		if s == status {
			return code
		}
	}
	return fourd.EINTERNAL
}

// ErrorItem is one element of the 4D __ERROR envelope.
type ErrorItem struct {
	Message            string `json:"message"`
	ComponentSignature string `json:"componentSignature"`
	ErrCode            int    `json:"errCode"`
}

// ErrorEnvelope is 4D's error body: the most specific error first.
type ErrorEnvelope struct {
	Errors []ErrorItem `json:"__ERROR"`
}

// envelopeItems returns the __ERROR items of a client error: the error
// itself, then the more general ones it lists in Also.
func envelopeItems(err error) []ErrorItem {
	var fe *fourd.Error
	if !errors.As(err, &fe) {
		return nil
	}
	items := []ErrorItem{item(fe)}
	for _, also := range fe.Also {
		items = append(items, item(also))
	}
	return items
}

// appendErrorItems appends err's __ERROR array.
func appendErrorItems(b []byte, err error) []byte {
	enc, merr := json.Marshal(envelopeItems(err))
	if merr != nil {
		return append(b, "[]"...)
	}
	return append(b, enc...)
}

func item(fe *fourd.Error) ErrorItem {
	it := ErrorItem{Message: fe.Message, ComponentSignature: fe.Component, ErrCode: fe.ErrCode}
	if it.ComponentSignature == "" {
		it.ComponentSignature = fourd.ComponentServer
	}
	return it
}

// WriteError writes err in the __ERROR envelope, as the REST handler
// does: for the server's other routes, so that they answer alike.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	writeError(w, r, logger, err)
}

// writeError writes err in the __ERROR envelope. An error that is not a
// *fourd.Error is internal: it is logged with the process ID of the request,
// and the client sees only a generic message naming that ID.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	err, gone := cancellation(r.Context(), err)
	if gone {
		// The connection's context ended: the client went away, most
		// likely, and then this answer goes nowhere and nothing is logged.
		// It is written all the same: were the client still there, an
		// unwritten answer would reach it as a 200 with an empty body.
		err = fourd.Errorf(fourd.EUNAVAILABLE, fourd.ErrCodeInterrupted, "the request was interrupted: its connection was closed")
	}
	status := StatusCode(err)
	items := envelopeItems(err)
	if fourd.ErrorCode(err) == fourd.EINTERNAL || len(items) == 0 {
		status = http.StatusInternalServerError
		ref := ""
		if p := fourd.CurrentProcess(r.Context()); p != nil {
			ref = " (process ID " + strconv.FormatInt(p.ID(), 10) + ")"
		}
		logger.Error("internal error", "method", r.Method, "path", r.URL.Path, "ref", ref, "err", err)
		items = []ErrorItem{{Message: "internal error" + ref + ": see the server log", ComponentSignature: fourd.ComponentServer, ErrCode: fourd.ErrCodeInternal}}
	}
	body, merr := json.Marshal(ErrorEnvelope{Errors: items})
	if merr != nil { // cannot happen: strings and ints only
		body = []byte(`{"__ERROR":[]}`)
	}
	if locked, ok := lockedBody(err); ok {
		body = locked // 4D's __STATUS for a locked entity, with the envelope
	}
	setRetryAfter(w, err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// cancellation maps an error that comes from the request's cancelled
// context to what the client should see, by the context's cause
// (context.Cause, or the process's own Cause):
//
//   - the process was aborted (ABORT PROCESS BY ID, the admin console) or
//     its session ended (dropped, expired, logged out): 4D's error 1006,
//     "program interrupted", status 409;
//   - the server is stopping: 503, errCode 9006;
//   - a cause that is a *fourd.Error (a budget or quota that cancels the
//     work): that error;
//   - anything else, the client closing its connection: gone is true;
//     nothing is logged, and the 503 written goes nowhere.
//
// An error the handler chose itself (a *fourd.Error that is not internal)
// is kept even if the context ended meanwhile, and so is any error while
// the context is live.
func cancellation(ctx context.Context, err error) (_ error, gone bool) {
	if ctx.Err() == nil {
		return err, false
	}
	if code := fourd.ErrorCode(err); code != "" && code != fourd.EINTERNAL {
		return err, false
	}
	var cause error
	if p := fourd.CurrentProcess(ctx); p != nil {
		cause = p.Cause()
	}
	if cause == nil || errors.Is(cause, context.Canceled) && !errors.Is(context.Cause(ctx), context.Canceled) {
		// The process goes on; a context under it ended (a time budget).
		cause = context.Cause(ctx)
	}
	var fe *fourd.Error
	switch {
	case errors.Is(cause, fourd.ErrAborted), errors.Is(cause, fourd.ErrSessionEnded):
		e := fourd.Errorf(fourd.EABORTED, fourd.ErrCodeInterrupted, "the request was interrupted: its process was aborted (%v)", cause)
		e.Component = fourd.ComponentDB
		return e, false
	case errors.Is(cause, fourd.ErrServerStopping):
		return fourd.Errorf(fourd.EUNAVAILABLE, fourd.ErrCodeShuttingDown, "the server is stopping: the request was interrupted"), false
	case errors.As(cause, &fe):
		return fe, false
	}
	return err, true
}
