package rest

import (
	"net/http"
	"strconv"

	"github.com/fourd/fourd"
)

// getActivity serves GET /rest/$activity?sessionID=<ID>&options=<0|1|2>:
// the result of 4D's Process activity, or null for an unknown session.
func (h *Handler) getActivity(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	opts := fourd.ProcessesAndSessions
	if v, ok := param(q, "options"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || !fourd.ActivityOptions(n).Valid() {
			return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter,
				"options must be 0 (processes and sessions), 1 (processes only) or 2 (sessions only), not %q", v)
		}
		opts = fourd.ActivityOptions(n)
	}
	sessionID, _ := param(q, "sessionID")
	sessionID, err := h.activityScope(r, sessionID)
	if err == errNotYours {
		writeJSON(w, http.StatusOK, []byte("null"))
		return nil
	} else if err != nil {
		return err
	}
	a, err := fourd.ProcessActivity(r.Context(), h.Processes, h.Sessions, sessionID, opts)
	if err != nil {
		return err
	}
	if a == nil {
		writeJSON(w, http.StatusOK, []byte("null"))
		return nil
	}
	if h.Locks != nil {
		a.AddLocks(r.Context(), h.Locks)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	*buf = a.AppendJSON((*buf)[:0])
	writeJSON(w, http.StatusOK, *buf)
	return nil
}
