package rest

import (
	"context"
	"net/http"

	"github.com/fourd/fourd"
)

// Controlled admin access: when the server has users or a roles.json,
// $info, $activity and the admin actions need the admin privilege
// (WebAdmin, or a role that includes it). Refusals are 401 in the __ERROR
// envelope, as 4D answers. Beyond 4D, a logged-in user without the admin
// privilege may call $activity and sees only its own session and its
// processes, the rule PostgreSQL, MySQL and MongoDB follow.

// accessControl reports whether access is controlled.
func (h *Handler) accessControl() bool { return h.Roles != nil || h.usersOn() }

// AccessControl reports whether the handler controls access now: it has a
// roles.json, or a users directory that exists or has existed while it
// served.
func (h *Handler) AccessControl() bool { return h.accessControl() }

// FollowUser applies the users directory's changes to a session that
// logged in against it, as its next request would (see followUser), and
// reports whether the session ended. The server calls it for every logged
// in session when the users file changes, so that a removed user's
// sessions end even without a request.
func (h *Handler) FollowUser(ctx context.Context, s *fourd.Session) (ended bool) {
	return h.followUser(ctx, s)
}

// UsersPresence is implemented by a fourd.UserStore whose file may appear
// while the server runs (*userfile.Store): the handler controls access
// once Present has reported true. A UserStore without it is present.
type UsersPresence interface {
	// Present reports whether the users directory exists now.
	Present() bool
}

// usersOn reports whether the handler has a users directory that exists,
// or existed at some point while it served: access control, once on,
// stays on until the server restarts, even if the file goes away (then
// nobody can log in), so that deleting the file never opens the server.
func (h *Handler) usersOn() bool {
	if h.Users == nil {
		return false
	}
	if h.usersSeen.Load() {
		return true
	}
	if p, ok := h.Users.(UsersPresence); ok && !p.Present() {
		return false
	}
	h.usersSeen.Store(true)
	return true
}

// isAdmin reports whether the request's session holds the admin privilege.
func isAdmin(r *http.Request) bool {
	s := RequestSession(r)
	return s != nil && s.HasPrivilege(fourd.PrivilegeWebAdmin)
}

func errAdminOnly(what string) error {
	return fourd.Errorf(fourd.EUNAUTHORIZED, fourd.ErrCodeAdminOnly, "%s needs the %s privilege: log in as an administrator ($directory/login or $catalog/authentify)", what, fourd.PrivilegeWebAdmin)
}

// adminOnly wraps a handler of an admin resource.
func (h *Handler) adminOnly(what string, f handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if h.accessControl() && !isAdmin(r) {
			return errAdminOnly(what)
		}
		return f(w, r)
	}
}

// activityScope returns the session ID a $activity request may see: any
// (the requested one) for an administrator or without access control, its
// own for a logged-in user, none for a guest.
func (h *Handler) activityScope(r *http.Request, requested string) (string, error) {
	if !h.accessControl() || isAdmin(r) {
		return requested, nil
	}
	s := RequestSession(r)
	if s == nil || s.IsGuest() && s.UserName == "" {
		return "", errAdminOnly("$activity")
	}
	if requested != "" && requested != s.ID {
		return "", errNotYours
	}
	return s.ID, nil
}

// errNotYours makes a non-administrator's request for another session
// answer null, as for an unknown session: it cannot tell them apart.
var errNotYours = fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownSession, "no such session")
