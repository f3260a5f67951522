package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/fourd/fourd"
)

// Login: 4D's legacy POST /rest/$directory/login (credentials in the
// username-4D and password-4D headers, lifetime in session-4D-length
// minutes), POST /rest/$directory/logout, and POST /rest/$catalog/authentify,
// a datastore function that fourd ships and a Go program may replace by
// registering its own (Functions.DataStore("authentify", fn)).
//
// A login gives the session a new ID (the cookie changes: an ID known
// before the login is worth nothing after it), sets its user name, user ID
// and privileges, and its idle lifetime (at least 60 minutes, as in 4D).

// login turns s into its successor, logged in as user; directory says the
// user is one of the users directory's (fourd.Session.DirectoryUser).
func (h *Handler) login(ctx context.Context, w http.ResponseWriter, r *http.Request, s *fourd.Session, user *fourd.User, privileges []string, lifetime time.Duration, directory bool) (*fourd.Session, error) {
	if s == nil {
		return nil, errors.New("login without a session")
	}
	if lifetime <= 0 {
		lifetime = h.IdleTimeout
	}
	if lifetime < time.Hour {
		lifetime = time.Hour // 4D: "values below 60 are raised to 60"
	}
	now := h.Now()
	successor := func(cur fourd.Session) (fourd.Session, error) {
		next := cur.Successor(now)
		next.UserID, next.UserName, next.DirectoryUser = user.ID, user.Name, directory
		next.Privileges = privileges
		next.IdleTimeout = lifetime
		return next, nil
	}
	next, err := h.Sessions.Replace(ctx, s.ID, successor)
	if fourd.ErrorCode(err) == fourd.ENOTFOUND && isLogin(r) {
		// A login that came without a session (see Handler.session): its
		// session is stored now, as a logged-in one.
		next, _ = successor(*s)
		if err = h.checkNewSession(ctx, next.IPAddress, next.CountsAsGuest()); err == nil {
			err = h.Sessions.Create(ctx, next)
		}
	}
	if err != nil {
		return nil, err
	}
	if h.Locks != nil {
		h.Locks.MoveSession(ctx, s.ID, next.ID) // its locks follow the session
	}
	if sets := h.entitySets(); sets != nil {
		// Its entity sets follow it too: they count against its quota, it
		// may release them, and they end with it.
		if _, err := sets.MoveSession(ctx, s.ID, next.ID); err != nil {
			return nil, err
		}
	}
	h.setCookie(w, r, &next)
	if rec := recordOf(ctx); rec != nil {
		rec.session = &next
	}
	return &next, nil
}

// privilegesOf expands a user's privileges and roles with roles.json, or
// takes them as they are when there is no roles.json.
func (h *Handler) privilegesOf(u *fourd.User) []string {
	if h.Roles == nil {
		return u.Privileges
	}
	return h.Roles.Expand(u.Privileges, u.Privileges)
}

var errNoUsers = fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server has no users directory (fourd users add creates one)")

// postDirectoryLogin serves POST /rest/$directory/login: {"result":true}
// with a new session cookie, or {"result":false} (status 401) for wrong
// credentials.
func (h *Handler) postDirectoryLogin(w http.ResponseWriter, r *http.Request) error {
	if !h.usersOn() {
		return errNoUsers
	}
	name, password := r.Header.Get("username-4D"), r.Header.Get("password-4D")
	lifetime := time.Duration(0)
	if v := r.Header.Get("session-4D-length"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return badParam("session-4D-length=%q: a number of minutes", v)
		}
		lifetime = time.Duration(n) * time.Minute
	}
	user, err := h.authenticate(r, name, password)
	if fourd.ErrorCode(err) == fourd.EUNAUTHORIZED {
		writeJSON(w, http.StatusUnauthorized, []byte(`{"result":false}`))
		return nil
	} else if err != nil {
		return err
	}
	if _, err := h.login(r.Context(), w, r, RequestSession(r), user, h.privilegesOf(user), lifetime, true); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []byte(`{"result":true}`))
	return nil
}

// postDirectoryLogout serves POST (and GET, as the v18 page shows it)
// /rest/$directory/logout. 4D's documentation says only that it "logs out
// the current user"; fourd ends the session, as the OWASP session
// management guidance asks of a logout: fourd.EndSession removes it,
// aborts its other processes and releases its entity sets, and the cookie
// is cleared. The session ID is worth nothing afterwards; the client's next
// request starts a new guest session. The answer is {"result":true}.
func (h *Handler) postDirectoryLogout(w http.ResponseWriter, r *http.Request) error {
	if s := RequestSession(r); s != nil {
		// The logout's own process is one of the session's: finish the
		// work whatever its context says once it is aborted.
		ctx := context.WithoutCancel(r.Context())
		if _, _, err := fourd.EndSession(ctx, h.Sessions, h.Processes, h.entitySets(), h.Locks, s.ID, fourd.ErrSessionEnded); err != nil && fourd.ErrorCode(err) != fourd.ENOTFOUND {
			return err
		}
		http.SetCookie(w, &http.Cookie{Name: h.CookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	}
	writeJSON(w, http.StatusOK, []byte(`{"result":true}`))
	return nil
}

// authentify is fourd's default $catalog/authentify: it checks
// [{"name":…,"password":…}] against the users directory and logs the
// session in. It answers true or false, as 4D's examples do.
func (h *Handler) authentify(ctx context.Context, call *Call) (any, error) {
	if !h.usersOn() {
		return nil, errNoUsers
	}
	// Clients send the user name as "name" (4D's own example) or as
	// "username"; both are read, and a request with two different names
	// is refused rather than guessed.
	var cred struct {
		Name     string `json:"name"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if len(call.Raw) != 1 || json.Unmarshal(call.Raw[0], &cred) != nil || cred.Name == "" && cred.Username == "" {
		return nil, badParam(`authentify takes one argument: [{"name":"alice","password":"…"}] (or "username")`)
	}
	if cred.Name == "" {
		cred.Name = cred.Username
	} else if cred.Username != "" && cred.Username != cred.Name {
		return nil, badParam("authentify: name %q and username %q differ; send one of them", cred.Name, cred.Username)
	}
	user, err := h.authenticate(call.r, cred.Name, cred.Password)
	if fourd.ErrorCode(err) == fourd.EUNAUTHORIZED {
		return false, nil
	} else if err != nil {
		return nil, err
	}
	if err := call.login(user, h.privilegesOf(user), 0, true); err != nil {
		return nil, err
	}
	return true, nil
}
