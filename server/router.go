package server

import (
	"net/http"
	"strings"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/rest"
)

// routes is the public listener's outer router. Only what is under /rest
// goes through the REST handler, which gives every request a session and
// a process; the console's assets (and a 404 for any other path) are
// served without either, so that loading a page creates no session and
// shows no process in Process activity.
//
// /rest is matched by prefix before the ServeMux, not registered on it:
// the ServeMux would answer an unclean path such as /rest//$info with a
// redirect, where the REST handler answers 400 in the __ERROR envelope
// (see rest's withCleanRequest).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	if s.console != nil {
		mux.Handle("/console/", s.console)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rest.WriteError(w, r, s.Logger, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource,
			"nothing at %q: the REST API is under /rest/", r.URL.Path))
	})
	restHandler := s.handler
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/rest" || strings.HasPrefix(p, "/rest/") {
			restHandler.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
