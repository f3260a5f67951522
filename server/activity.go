package server

import (
	"context"

	"github.com/fourd/fourd"
)

// ProcessActivity is 4D's Process activity on this server's cluster (every
// node of Registry): see fourd.ProcessActivity; each session lists the
// entity locks it holds. It returns (nil, nil) for an unknown session.
func (s *Server) ProcessActivity(ctx context.Context, sessionID string, opts fourd.ActivityOptions) (*fourd.Activity, error) {
	a, err := fourd.ProcessActivity(ctx, s.Registry, s.Sessions, sessionID, opts)
	if err == nil {
		a.AddLocks(ctx, s.Locks)
	}
	return a, err
}
