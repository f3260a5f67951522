package server

import (
	"context"
	"time"

	"github.com/fourd/fourd"
)

// startTimer starts the Internal timer process: every SweepInterval it
// removes the sessions idle for their whole lifetime and ends their
// processes, and looks at the users directory (WatchUsers). Between sweeps it shows state Delayed.
func (s *Server) startTimer() error {
	return s.startTicking("Session timer", fourd.TypeInternalTimerProcess, s.SweepInterval, func(p *fourd.Process) {
		s.ExpireSessions(p)
		s.WatchUsers(p)
	})
}

// startMonitor starts the Monitor process: every SampleInterval it closes
// a CPU-usage window for every process (see package internal/cpu).
func (s *Server) startMonitor() error {
	return s.startTicking("Process monitor", fourd.TypeMonitorProcess, s.SampleInterval, func(*fourd.Process) {
		s.Processes.Sample(time.Now())
	})
}

// startTicking starts an internal process that runs tick every interval
// until the server stops.
func (s *Server) startTicking(name string, typ fourd.ProcessType, interval time.Duration, tick func(*fourd.Process)) error {
	s.internal.Add(1)
	_, err := s.Processes.Start(fourd.ProcessSpec{Name: name, Type: typ}, func(p *fourd.Process) error {
		defer s.internal.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			done := p.Wait(fourd.StateDelayed)
			select {
			case <-s.stop:
				done()
				return nil
			case <-p.Done():
				done()
				return p.Err()
			case <-t.C:
			}
			done()
			tick(p)
		}
	})
	if err != nil {
		s.internal.Done()
	}
	return err
}

// ExpireSessions removes every session idle for its whole lifetime at
// s.Now() and ends each as fourd.EndSession does: its processes are
// aborted with cause fourd.ErrSessionEnded, its entity sets and locks
// released. The
// timer process calls it every SweepInterval, with itself as ctx; tests
// call it after moving an injected clock. It returns the IDs it removed.
func (s *Server) ExpireSessions(ctx context.Context) []string {
	ids, err := s.Sessions.Expire(ctx, s.Now())
	if err != nil {
		s.Logger.Warn("expire sessions", "err", err)
		return nil
	}
	for _, id := range ids {
		// Expire removed the session already: EndSession's ENOTFOUND is expected.
		n, sets, err := fourd.EndSession(ctx, s.Sessions, s.Processes, s.EntitySets, s.Locks, id, fourd.ErrSessionEnded)
		if err != nil && fourd.ErrorCode(err) != fourd.ENOTFOUND {
			s.Logger.Warn("end expired session", "session", id, "err", err)
		}
		s.Logger.Debug("session expired", "session", id, "processes", n, "sets", sets)
	}
	return ids
}
