package server

import (
	"context"
	"strconv"

	"github.com/fourd/fourd"
)

// ProcessActivity is 4D's Process activity on this server: see
// fourd.ProcessActivity. It returns (nil, nil) for an unknown session.
func (s *Server) ProcessActivity(ctx context.Context, sessionID string, opts fourd.ActivityOptions) (*fourd.Activity, error) {
	return fourd.ProcessActivity(ctx, s.Processes, s.Sessions, sessionID, opts)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
