package server

import (
	"context"
	"strconv"

	"github.com/fourd/fourd"
)

// ProcessActivity is 4D's Process activity on this server: see
// fourd.ProcessActivity; each session lists the entity locks it holds. It returns (nil, nil) for an unknown session.
func (s *Server) ProcessActivity(ctx context.Context, sessionID string, opts fourd.ActivityOptions) (*fourd.Activity, error) {
	a, err := fourd.ProcessActivity(ctx, s.Processes, s.Sessions, sessionID, opts)
	if err == nil {
		a.AddLocks(ctx, s.Locks)
	}
	return a, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
