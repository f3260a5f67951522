package rest

import (
	"net/http"

	"github.com/fourd/fourd"
)

// getInfo serves GET (and POST, as 4D's own samples send it) /rest/$info:
// the cache and its entity sets, the progress indicators, the user sessions
// and the caller's privileges.
func (h *Handler) getInfo(w http.ResponseWriter, r *http.Request) error {
	if h.EntitySets == nil {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server keeps no entity sets")
	}
	info, err := fourd.BuildInfo(r.Context(), h.EntitySets, h.Progress, h.Sessions, RequestSession(r))
	if err != nil {
		return err
	}
	buf := getBuffer()
	defer putBuffer(buf)
	*buf = info.AppendJSON((*buf)[:0])
	writeJSON(w, http.StatusOK, *buf)
	return nil
}
