package rest

import (
	"context"
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
		// A class function's process is named after it: "Employee.raise".
		name := r.Method + " " + r.URL.Path
		fn := h.resolveFunction(r)
		if fn != nil {
			name = fn.def.String()
		}
		p, err := h.Processes.Track(fourd.ProcessSpec{
			Name:      name,
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
		var ctx context.Context = p
		if fn != nil {
			ctx = context.WithValue(ctx, funcTargetKey{}, fn)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
