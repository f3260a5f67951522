package rest

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/fourd/fourd"
)

type sessionKey struct{}

// RequestSession returns the session of the request being served.
func RequestSession(r *http.Request) *fourd.Session {
	s, _ := r.Context().Value(sessionKey{}).(*fourd.Session)
	return s
}

// withSession finds the request's session from its cookie, or creates a new
// guest REST session and sets the cookie; either way the session's idle
// lifetime starts again.
func (h *Handler) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := h.session(w, r)
		if err != nil {
			writeError(w, r, h.Logger, err)
			return
		}
		if rec := recordOf(r.Context()); rec != nil {
			rec.session = s
		}
		next.ServeHTTP(w, r.WithContext(contextWithSession(r, s)))
	})
}

func (h *Handler) session(w http.ResponseWriter, r *http.Request) (*fourd.Session, error) {
	ctx := r.Context()
	now := h.Now()
	if c, err := r.Cookie(h.CookieName()); err == nil && fourd.ValidID(c.Value) {
		s, err := h.Sessions.Session(ctx, strings.ToUpper(c.Value))
		if err == nil && !h.AllowAddressChange && s.IPAddress != clientIP(r) {
			// A cookie replayed from another address is not honoured (4D's
			// sessionIPAddressValidation): the request gets a session of its own.
			h.Logger.Warn("session cookie from another address ignored", "session", s.ID, "address", clientIP(r), "session address", s.IPAddress)
			err = fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownSession, "session from another address")
		}
		if err == nil {
			return s, h.Sessions.Touch(ctx, s, now)
		}
		if fourd.ErrorCode(err) != fourd.ENOTFOUND {
			return nil, err
		}
	}
	s := fourd.NewSession(fourd.SessionREST, now, h.IdleTimeout)
	s.IPAddress = clientIP(r)
	s.UserAgent = r.UserAgent()
	if isLogin(r) {
		// A login never needs a guest slot: the session is stored only
		// once the login succeeds (h.login), counted as a logged-in one.
		return s, nil
	}
	if err := h.checkNewSession(ctx, s.IPAddress, true); err != nil {
		return nil, err
	}
	if err := h.Sessions.Create(ctx, s); err != nil {
		return nil, err
	}
	h.setCookie(w, r, s)
	return s, nil
}

// isLogin reports whether r is a login request: $directory/login or
// $catalog/authentify.
func isLogin(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	return p == "/rest/$directory/login" || p == "/rest/$catalog/authentify"
}

// setCookie sends the session cookie: 4DSID_<AppName>=<ID>; Path=/;
// HttpOnly; SameSite=Strict, and Secure under TLS.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, s *fourd.Session) {
	http.SetCookie(w, &http.Cookie{
		Name:     h.CookieName(),
		Value:    s.ID,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
		Secure:   r.TLS != nil,
	})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func contextWithSession(r *http.Request, s *fourd.Session) context.Context {
	return context.WithValue(r.Context(), sessionKey{}, s)
}
