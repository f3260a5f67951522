package rest

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/fourd/fourd/activityfilter"

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
	match, err := readMatch(q, opts)
	if err != nil {
		return err
	}
	fetch := opts
	if match != nil && opts == fourd.ProcessesOnly {
		fetch = fourd.ProcessesAndSessions // the user and idle time of a process are its session's
	}
	a, err := fourd.ProcessActivity(r.Context(), h.Registry, h.Sessions, sessionID, fetch)
	if err != nil {
		return err
	}
	if a == nil {
		writeJSON(w, http.StatusOK, []byte("null"))
		return nil
	}
	if match != nil {
		applyMatch(a, match, opts, time.Now())
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

// readMatch reads $match, fourd's filter of $activity and of the admin
// actions (package activityfilter): for sessions with options=2, for
// processes otherwise. nil when absent or empty.
func readMatch(q url.Values, opts fourd.ActivityOptions) (*activityfilter.Filter, error) {
	v, ok := param(q, "$match")
	if !ok {
		return nil, nil
	}
	subject := activityfilter.Processes
	if opts == fourd.SessionsOnly {
		subject = activityfilter.Sessions
	}
	f, err := activityfilter.Parse(v, subject)
	if err != nil {
		return nil, badParam("$match: %v", err)
	}
	if f.Empty() {
		return nil, nil
	}
	return f, nil
}

// applyMatch keeps what the filter selects: the sessions with options=2;
// otherwise the processes, and with options=0 the sessions of the
// processes kept. With options=1 the sessions fetched for the filter are
// dropped again.
func applyMatch(a *fourd.Activity, f *activityfilter.Filter, opts fourd.ActivityOptions, now time.Time) {
	if opts == fourd.SessionsOnly {
		a.Keep(nil, func(s *fourd.SessionInfo) bool { return f.MatchSession(s, s.Node, now) })
		return
	}
	used := map[string]bool{}
	keepProcess := func(p *fourd.ProcessInfo) bool {
		if !f.MatchProcess(p, p.Node, now) {
			return false
		}
		used[p.SessionID] = true
		return true
	}
	if opts == fourd.ProcessesOnly {
		a.Keep(keepProcess, func(*fourd.SessionInfo) bool { return false })
		a.Sessions = nil
		return
	}
	a.Keep(keepProcess, func(s *fourd.SessionInfo) bool { return used[s.ID] })
}
