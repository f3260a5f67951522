package rest

import (
	"net/http"
	"strings"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
)

// Permissions of roles.json on data requests, with 4D's rules (the Policy
// applies them): reading a dataclass needs its read permission, and the
// attributes a session may not read are left out of every answer; a
// creation needs create on each attribute given, an update needs update
// (and read) on each, a deletion drop. Without roles.json everything is
// allowed. In forceLogin mode a guest may only make the descriptive
// requests: $catalog, $catalog/$all, $catalog/{dataClass}, and log in.

// effective returns the request's session's privileges as the policy
// counts them.
func (h *Handler) effective(r *http.Request) access.PrivilegeSet {
	s := RequestSession(r)
	if s == nil {
		return access.PrivilegeSet{}
	}
	return h.Policy.Set(s.Privileges)
}

func errPermission(action access.Action, what string) error {
	return fourd.Errorf(fourd.EUNAUTHORIZED, fourd.ErrCodePermission, "no permission to %s %s", action, what)
}

// allow refuses the request unless its session may do action on dc (and
// attribute, when not "").
func (h *Handler) allow(r *http.Request, action access.Action, dc *fourd.DataClass, attribute string) error {
	if h.Policy == nil {
		return nil
	}
	if !h.Policy.Allowed(h.effective(r), action, dc.Name, attribute) {
		what := dc.Name
		if attribute != "" {
			what += "." + attribute
		}
		return errPermission(action, what)
	}
	return nil
}

// readable returns p without the attributes the session may not read, at
// every level; a relation to a dataclass it may not read is left out too.
func (h *Handler) readable(r *http.Request, p *projection) *projection {
	if h.Policy == nil || p == nil {
		return p
	}
	return h.readableWith(h.effective(r), p)
}

func (h *Handler) readableWith(eff access.PrivilegeSet, p *projection) *projection {
	allowed := map[*fourd.Attribute]bool{}
	for _, a := range h.Policy.Readable(eff, p.dc) {
		allowed[a] = true
	}
	out := *p
	out.attrs = nil
	out.nested = nil
	for _, a := range p.attrs {
		if !allowed[a] {
			continue
		}
		if a.Kind != fourd.KindStorage && !h.Policy.Allowed(eff, access.ActionRead, a.RelatedDataClass, "") {
			continue
		}
		out.attrs = append(out.attrs, a)
		if child := p.nested[a.Name]; child != nil {
			if out.nested == nil {
				out.nested = map[string]*projection{}
			}
			out.nested[a.Name] = h.readableWith(eff, child)
		}
	}
	return &out
}

// checkSaves refuses saves the session may not make: create or update on
// each attribute given, and read too for an update.
func (h *Handler) checkSaves(r *http.Request, dc *fourd.DataClass, saves []fourd.EntitySave) error {
	if h.Policy == nil {
		return nil
	}
	for _, s := range saves {
		action := access.ActionCreate
		if s.Update {
			action = access.ActionUpdate
		}
		if err := h.allow(r, action, dc, ""); err != nil {
			return err
		}
		for name := range s.Values {
			if err := h.allow(r, action, dc, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// loggedIn reports whether the session has logged in (or been given
// privileges): not a guest in forceLogin's sense.
func loggedIn(s *fourd.Session) bool {
	return s != nil && (s.UserName != "" || !s.IsGuest())
}

// guestAllowed lists what a guest may request in forceLogin mode.
func guestAllowed(r *http.Request) bool {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/rest/$catalog", p == "/rest/$catalog/$all", p == "/rest/$catalog/authentify",
		p == "/rest/$directory/login", p == "/rest/$directory/logout":
		return true
	case strings.HasPrefix(p, "/rest/$catalog/") && r.Method != http.MethodPost:
		return true // $catalog/{dataClass}
	}
	return false
}

// withForceLogin refuses a guest everything but the descriptive requests
// when roles.json sets forceLogin.
func (h *Handler) withForceLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.Roles != nil && h.Roles.ForceLogin() && !loggedIn(RequestSession(r)) && !guestAllowed(r) {
			writeError(w, r, h.Logger, fourd.Errorf(fourd.EUNAUTHORIZED, fourd.ErrCodePermission,
				"this server requires a login (forceLogin): call $catalog/authentify or $directory/login first"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
