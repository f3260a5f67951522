package rest

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/fourd/fourd"
)

type sessionKey struct{}

// RequestSession returns the session of the request being served: the
// request's own copy, which shares nothing with the store.
func RequestSession(r *http.Request) *fourd.Session {
	s, _ := r.Context().Value(sessionKey{}).(*fourd.Session)
	return s
}

// sessionContext is a request's context with its session: the copy lives
// in the context value itself, so the request holds it with one allocation
// (context.WithValue plus a copy on the heap would take two).
type sessionContext struct {
	context.Context
	s fourd.Session
}

func (c *sessionContext) Value(key any) any {
	if _, ok := key.(sessionKey); ok {
		return &c.s
	}
	return c.Context.Value(key)
}

// withSession finds the request's session from its cookie, or creates a new
// guest REST session and sets the cookie; either way the session's idle
// lifetime starts again.
func (h *Handler) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := &sessionContext{Context: r.Context()}
		if err := h.session(w, r, &ctx.s); err != nil {
			writeError(w, r, h.Logger, err)
			return
		}
		if rec := recordOf(r.Context()); rec != nil {
			rec.session = &ctx.s
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// session sets *out to the request's session (see withSession).
func (h *Handler) session(w http.ResponseWriter, r *http.Request, out *fourd.Session) error {
	ctx := r.Context()
	now := h.Now()
	if c, err := r.Cookie(h.CookieName()); err == nil && fourd.ValidID(c.Value) {
		s, err := h.Sessions.Session(ctx, strings.ToUpper(c.Value))
		*out = s
		if err == nil && !h.AllowAddressChange && s.IPAddress != clientIP(r) {
			// A cookie replayed from another address is not honoured (4D's
			// sessionIPAddressValidation): the request gets a session of its own.
			h.Logger.Warn("session cookie from another address ignored", "session", s.ID, "address", clientIP(r), "session address", s.IPAddress)
			err = fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownSession, "session from another address")
		}
		if err == nil {
			if h.followUser(ctx, out) {
				err = fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownSession, "session ended")
			} else if err = h.Sessions.Touch(ctx, s.ID, now); err == nil {
				return nil
			}
			// ENOTFOUND from Touch: the session ended meanwhile (a
			// logout, a drop); the request goes on as a new guest.
		}
		if fourd.ErrorCode(err) != fourd.ENOTFOUND {
			return err
		}
	}
	*out = fourd.NewSession(fourd.SessionREST, now, h.IdleTimeout)
	s := out
	s.IPAddress = clientIP(r)
	s.UserAgent = r.UserAgent()
	s.Node = h.Registry.Node()
	if isLogin(r) {
		// A login never needs a guest slot: the session is stored only
		// once the login succeeds (h.login), counted as a logged-in one.
		return nil
	}
	if err := h.checkNewSession(ctx, s.IPAddress, true); err != nil {
		return err
	}
	if err := h.Sessions.Create(ctx, *s); err != nil {
		return err
	}
	h.setCookie(w, r, s)
	return nil
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

// followUser applies the users directory's changes to a session logged in
// against it (fourd.Session.DirectoryUser), at each of its requests: if its
// user was removed (or removed and added again: another ID), the session
// ends, with its processes, and the request goes on as a new guest; if the
// user's privileges changed, the session gets the new ones now. 4D re-reads
// a session's privileges the same way, per request. It reports whether the
// session ended. The users file is read again only when it has changed
// (userfile.Store compares its stamp), so the cost is a stat and a lookup.
func (h *Handler) followUser(ctx context.Context, s *fourd.Session) (ended bool) {
	if h.Users == nil || !s.DirectoryUser {
		return false
	}
	u, err := h.Users.User(ctx, s.UserName)
	switch {
	case fourd.ErrorCode(err) == fourd.ENOTFOUND || err == nil && u.ID != s.UserID:
		h.Logger.Info("session ended: its user is no longer in the users directory", "session", s.ID, "user", s.UserName)
		h.endSession(ctx, s.ID)
		return true
	case err != nil:
		// A users file that no longer parses (a hand edit in progress)
		// changes nothing: the session keeps what it had.
		h.Logger.Warn("users directory unreadable: sessions keep their privileges", "err", err)
		return false
	}
	if p := h.privilegesOf(u); !slices.Equal(p, s.Privileges) {
		h.Logger.Info("session privileges changed with its user's", "session", s.ID, "user", u.Name, "privileges", p)
		next, err := h.Sessions.Update(ctx, s.ID, func(cur fourd.Session) (fourd.Session, error) {
			cur.Privileges = p
			return cur, nil
		})
		switch {
		case fourd.ErrorCode(err) == fourd.ENOTFOUND:
			return true // ended meanwhile (a logout, a drop, expiry)
		case err != nil:
			// The store could not be written: the session keeps what it
			// had, and the next request tries again.
			h.Logger.Warn("session privileges not updated", "session", s.ID, "err", err)
			return false
		}
		*s = next
	}
	return false
}

// endSession ends a session for good: its processes, its entity sets.
func (h *Handler) endSession(ctx context.Context, id string) {
	if _, _, err := fourd.EndSession(ctx, h.Sessions, h.Processes, h.entitySets(), h.Locks, id, fourd.ErrSessionEnded); err != nil && fourd.ErrorCode(err) != fourd.ENOTFOUND {
		h.Logger.Warn("end session", "session", id, "err", err)
	}
}

// setCookie sends the session cookie: 4DSID_<AppName>=<ID>; Path=/;
// HttpOnly; SameSite=Strict, and Secure under TLS. It replaces a session
// cookie set earlier in the same answer (a guest session made for a login
// request, which the login then replaces): the answer carries one, the
// right one, since clients that read the first would stay guests.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, s *fourd.Session) {
	prefix := h.CookieName() + "="
	hdr := w.Header()
	if old := hdr.Values("Set-Cookie"); len(old) > 0 {
		kept := old[:0:0]
		for _, c := range old {
			if !strings.HasPrefix(c, prefix) {
				kept = append(kept, c)
			}
		}
		hdr["Set-Cookie"] = kept
	}
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
