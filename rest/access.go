package rest

import (
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
func (h *Handler) accessControl() bool { return h.Users != nil || h.Roles != nil }

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
	if s == nil || s.IsGuest() && s.UserName() == "" {
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
