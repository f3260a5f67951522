package rest

import (
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

// codeForStatus is the reverse table, for the client.
func codeForStatus(status int) string {
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

// writeError writes err in the __ERROR envelope. An error that is not a
// *fourd.Error is internal: it is logged with the process ID of the request,
// and the client sees only a generic message naming that ID.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
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
