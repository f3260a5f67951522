package server

import (
	"context"
	"strings"

	"github.com/fourd/fourd"
)

// SessionInfo returns 4D's Session info object for a session ID, or nil for
// an unknown or expired session.
func (s *Server) SessionInfo(id string) *fourd.SessionInfo {
	if !fourd.ValidID(id) {
		return nil
	}
	sess, err := s.Sessions.Session(context.Background(), strings.ToUpper(id))
	if err != nil {
		return nil
	}
	info := sess.Info()
	return &info
}

// DropSession ends a session as fourd.EndSession does: it is removed, its
// processes are aborted, its entity sets and locks released; the client's next
// request starts a new guest session. An unknown ID returns ENOTFOUND. The
// stored-procedure session cannot be dropped.
func (s *Server) DropSession(ctx context.Context, id string) error {
	id = strings.ToUpper(id)
	if id == s.storedProcedure.ID {
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "the stored-procedure session cannot be dropped")
	}
	_, _, err := fourd.EndSession(ctx, s.Sessions, s.Processes, s.EntitySets, s.Locks, id, fourd.ErrSessionEnded)
	return err
}

// ReleaseEntitySet releases any entity set, whichever session made it (the
// admin action); ENOTFOUND (errCode 1802) for an unknown set.
func (s *Server) ReleaseEntitySet(ctx context.Context, id string) error {
	return fourd.ReleaseEntitySet(ctx, s.EntitySets, id, "")
}
