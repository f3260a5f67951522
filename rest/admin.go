package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/fourd/fourd"
)

// Admin actions: $-resources that act on processes and sessions, each
// admin-only (401, errCode 9013, under access control):
//
//	POST /rest/$process/abort   {"ID": 123456}         ABORT PROCESS BY ID
//	POST /rest/$process/pause   {"number": 12}         PAUSE PROCESS (or {"ID": 123456})
//	POST /rest/$process/resume  {"number": 12}         RESUME PROCESS (or {"ID": 123456})
//	POST /rest/$session/drop    {"sessionID": "…"}     end a session
//	POST /rest/$process/abort?$match=<filter>          abort every process the filter selects
//
// Each answers {"ok":true}; an unknown process or session 404 (errCode
// 9004 or 9005); a permanent internal process 400. Releasing entity sets
// is POST /rest/$entityset/$release, open to every session that knows the
// sets' IDs.

// AdminActions is what the admin actions call; *server.Server implements
// it.
type AdminActions interface {
	// AbortProcessByID aborts the process with that unique ID.
	AbortProcessByID(id int64) error
	// PauseProcess pauses the process with that number.
	PauseProcess(number int) error
	// ResumeProcess resumes the process with that number.
	ResumeProcess(number int) error
	// PauseProcessByID pauses the process with that unique ID.
	PauseProcessByID(id int64) error
	// ResumeProcessByID resumes the process with that unique ID.
	ResumeProcessByID(id int64) error
	// DropSession ends a session as fourd.EndSession does: it is
	// removed, its processes aborted and its entity sets released.
	DropSession(ctx context.Context, id string) error
}

// adminRoutes registers the admin actions ($-resources that act on
// processes, sessions and entity sets). Each is admin-only.
func (h *Handler) adminRoutes() {
	h.route("/rest/$process/abort", http.MethodPost, h.adminOnly("$process/abort", h.postProcessAbort))
	h.route("/rest/$process/pause", http.MethodPost, h.adminOnly("$process/pause", h.postProcessPause))
	h.route("/rest/$process/resume", http.MethodPost, h.adminOnly("$process/resume", h.postProcessResume))
	h.route("/rest/$session/drop", http.MethodPost, h.adminOnly("$session/drop", h.postSessionDrop))
}

func (h *Handler) admin() (AdminActions, error) {
	if h.Admin == nil {
		return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server has no admin actions")
	}
	return h.Admin, nil
}

// readAdminBody decodes the JSON object of an admin action into v.
func readAdminBody(r *http.Request, v any, example string) error {
	body, err := readSmallBody(r, 1<<16, "an admin action")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badParam("the body must be a JSON object, as in %s: %v", example, err)
	}
	return nil
}

func writeOK(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, []byte(`{"ok":true}`))
}

// postProcessAbort serves POST /rest/$process/abort {"ID": <unique ID>}.
func (h *Handler) postProcessAbort(w http.ResponseWriter, r *http.Request) error {
	a, err := h.admin()
	if err != nil {
		return err
	}
	if _, ok := r.URL.Query()["$match"]; ok {
		return h.abortMatching(w, r, a)
	}
	var in struct {
		ID *int64 `json:"ID"`
	}
	const example = `{"ID": 123456}`
	if err := readAdminBody(r, &in, example); err != nil {
		return err
	}
	if in.ID == nil {
		return badParam("give the process's unique ID, as in %s", example)
	}
	if err := a.AbortProcessByID(*in.ID); err != nil {
		return err
	}
	writeOK(w)
	return nil
}

// processRef reads {"number": N} or {"ID": N}: a process named by its
// number (4D's PAUSE PROCESS takes one) or by its unique ID, which is never
// reused (what fourd's CLI sends).
func processRef(r *http.Request) (number *int, id *int64, err error) {
	var in struct {
		Number *int   `json:"number"`
		ID     *int64 `json:"ID"`
	}
	const example = `{"number": 12} or {"ID": 123456}`
	if err := readAdminBody(r, &in, example); err != nil {
		return nil, nil, err
	}
	if (in.Number == nil) == (in.ID == nil) {
		return nil, nil, badParam("give the process number or its unique ID, as in %s", example)
	}
	return in.Number, in.ID, nil
}

// postProcessPause serves POST /rest/$process/pause {"number": N} or {"ID": N}.
func (h *Handler) postProcessPause(w http.ResponseWriter, r *http.Request) error {
	return h.processAction(w, r, AdminActions.PauseProcess, AdminActions.PauseProcessByID)
}

// postProcessResume serves POST /rest/$process/resume {"number": N} or {"ID": N}.
func (h *Handler) postProcessResume(w http.ResponseWriter, r *http.Request) error {
	return h.processAction(w, r, AdminActions.ResumeProcess, AdminActions.ResumeProcessByID)
}

func (h *Handler) processAction(w http.ResponseWriter, r *http.Request, byNumber func(AdminActions, int) error, byID func(AdminActions, int64) error) error {
	a, err := h.admin()
	if err != nil {
		return err
	}
	n, id, err := processRef(r)
	if err != nil {
		return err
	}
	if n != nil {
		err = byNumber(a, *n)
	} else {
		err = byID(a, *id)
	}
	if err != nil {
		return err
	}
	writeOK(w)
	return nil
}

// postSessionDrop serves POST /rest/$session/drop {"sessionID": "…"}: the
// session is deleted, its processes are aborted and its entity sets
// released; its next request starts a new guest session.
func (h *Handler) postSessionDrop(w http.ResponseWriter, r *http.Request) error {
	a, err := h.admin()
	if err != nil {
		return err
	}
	var in struct {
		SessionID string `json:"sessionID"`
	}
	const example = `{"sessionID": "4C51204DD8184B65AC7D79F09A077F24"}`
	if err := readAdminBody(r, &in, example); err != nil {
		return err
	}
	id := strings.ToUpper(strings.TrimSpace(in.SessionID))
	if id == "" {
		return badParam("give the session ID, as in %s", example)
	}
	// Dropping one's own session aborts this very request's process:
	// finish the work whatever its context says.
	ctx := context.WithoutCancel(r.Context())
	if err := a.DropSession(ctx, id); err != nil {
		if fourd.ErrorCode(err) == fourd.ENOTFOUND {
			return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownSession, "no session %q", id)
		}
		return err
	}
	writeOK(w)
	return nil
}

// abortMatching serves POST /rest/$process/abort?$match=<filter>: it
// aborts every abortable process the filter selects (the permanent
// internal processes, and the request's own process, are never aborted)
// and answers {"ok":true,"aborted":[IDs]}. An empty filter is refused: it
// would abort every request of every client.
func (h *Handler) abortMatching(w http.ResponseWriter, r *http.Request, a AdminActions) error {
	f, err := readMatch(r.URL.Query(), fourd.ProcessesOnly)
	if err != nil {
		return err
	}
	if f == nil {
		return badParam("$match: give a filter; an empty one would abort every process")
	}
	act, err := fourd.ProcessActivity(r.Context(), h.Registry, h.Sessions, "", fourd.ProcessesAndSessions)
	if err != nil {
		return err
	}
	self := fourd.CurrentProcess(r.Context())
	now := time.Now()
	aborted := []int64{}
	for i := range act.Processes {
		p := &act.Processes[i]
		if self != nil && p.ID == self.ID() || !f.MatchProcess(p, p.Node, now) {
			continue
		}
		if err := a.AbortProcessByID(p.ID); err != nil {
			switch fourd.ErrorCode(err) {
			case fourd.ENOTFOUND, fourd.EINVALID:
				continue // it ended meanwhile, or is a permanent internal process
			}
			return err
		}
		aborted = append(aborted, p.ID)
	}
	body, _ := json.Marshal(struct {
		OK      bool    `json:"ok"`
		Aborted []int64 `json:"aborted"`
	}{true, aborted})
	writeJSON(w, http.StatusOK, body)
	return nil
}
