package rest

import (
	"errors"
	"net/http"

	"github.com/fourd/fourd"
)

// withProcess runs the request as a process of its session, named after
// its method and path, for as long as it is handled.
func (h *Handler) withProcess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessionID := ""
		if s := RequestSession(r); s != nil {
			sessionID = s.ID
		}
		p, err := h.Processes.Track(fourd.ProcessSpec{
			Name:      r.Method + " " + r.URL.Path,
			Type:      fourd.TypeWebServerProcess,
			SessionID: sessionID,
			Visible:   true,
			URL:       r.RequestURI,
			Abortable: true,
			Parent:    r.Context(),
		})
		if err != nil {
			writeError(w, r, h.Logger, err)
			return
		}
		defer func() {
			if v := recover(); v != nil {
				p.End(errors.New("request panicked"))
				panic(v) // net/http logs it and closes the connection
			}
			p.End(nil)
		}()
		next.ServeHTTP(w, r.WithContext(p))
	})
}
