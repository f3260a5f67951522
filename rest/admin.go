package rest

// adminRoutes registers the admin actions ($-resources that act on
// processes, sessions and entity sets). Each is admin-only.
func (h *Handler) adminRoutes() {}
