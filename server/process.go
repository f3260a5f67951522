package server

import (
	"context"
	"time"

	"github.com/fourd/fourd"
)

// NewProcess starts body as a new process of type "Other user process" (4)
// in the stored-procedure session, like 4D's New process on the server, and
// returns at once. The process ends when body returns; body should pass p
// as the context of its work and call p.Checkpoint in long loops, so that
// it can be aborted, paused and delayed.
func (s *Server) NewProcess(name string, body func(p *fourd.Process) error) (*fourd.Process, error) {
	return s.startUserProcess(name, fourd.TypeOtherUserProcess, body)
}

// ExecuteOnServer starts body as a stored procedure: a process of type
// "Execute on server process" (1) in the stored-procedure session, like 4D's
// Execute on server.
func (s *Server) ExecuteOnServer(name string, body func(p *fourd.Process) error) (*fourd.Process, error) {
	return s.startUserProcess(name, fourd.TypeExecuteOnServerProcess, body)
}

func (s *Server) startUserProcess(name string, typ fourd.ProcessType, body func(*fourd.Process) error) (*fourd.Process, error) {
	if body == nil {
		return nil, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "a process needs a function to run")
	}
	return s.Processes.Start(fourd.ProcessSpec{
		Name:      name,
		Type:      typ,
		SessionID: s.storedProcedure.ID,
		Visible:   true,
		Abortable: true,
	}, body)
}

// CallWorker posts msg to the named worker, creating it or restarting its
// process as needed (4D's CALL WORKER). Messages to one worker run one at a
// time, in order, on a process of type "Worker process" (5) that waits for
// the next message between them.
func (s *Server) CallWorker(name string, msg func(p *fourd.Process) error) error {
	return s.Workers.Call(name, msg)
}

// KillWorker empties the named worker's mailbox and ends its process after
// its current message (4D's KILL WORKER).
func (s *Server) KillWorker(name string) error {
	return s.Workers.Kill(name)
}

// controllable returns the process of this node with that number if it
// may be aborted, paused or delayed.
func (s *Server) controllable(p *fourd.Process, what string, number int) (*fourd.Process, error) {
	if p == nil {
		return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownProcess, "no process %d", number)
	}
	if !p.Abortable() {
		return nil, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter,
			"process %d (%s, %s) is a permanent internal process and cannot be %s", p.Number(), p.Name(), p.Type(), what)
	}
	return p, nil
}

// DelayProcess makes the process sleep for d at its next checkpoint (4D's
// DELAY PROCESS); a new call replaces the remaining time, d <= 0 cancels.
func (s *Server) DelayProcess(number int, d time.Duration) error {
	p, err := s.controllable(s.Processes.Process(number), "delayed", number)
	if err != nil {
		return err
	}
	p.Delay(d)
	return nil
}

// PauseProcess pauses the process at its next checkpoint until
// ResumeProcess (4D's PAUSE PROCESS).
func (s *Server) PauseProcess(number int) error {
	p, err := s.controllable(s.Processes.Process(number), "paused", number)
	if err != nil {
		return err
	}
	p.Pause()
	return nil
}

// ResumeProcess resumes a paused or delayed process (4D's RESUME PROCESS).
func (s *Server) ResumeProcess(number int) error {
	p, err := s.controllable(s.Processes.Process(number), "resumed", number)
	if err != nil {
		return err
	}
	p.Resume()
	return nil
}

// PauseProcessByID is PauseProcess for the process with that unique ID,
// on whichever node of the cluster runs it (Registry): unlike a number, an
// ID is never reused, so it cannot hit a process that started after the
// caller looked.
func (s *Server) PauseProcessByID(id int64) error {
	return s.Registry.Control(context.Background(), id, fourd.ProcessPause)
}

// ResumeProcessByID is ResumeProcess for the process with that unique ID,
// on whichever node runs it.
func (s *Server) ResumeProcessByID(id int64) error {
	return s.Registry.Control(context.Background(), id, fourd.ProcessResume)
}

// AbortProcessByID aborts the process with that unique ID (4D's ABORT
// PROCESS BY ID), on whichever node of the cluster runs it: its context is
// cancelled, so the work under it stops, and it ends with state Aborted.
// It does not wait; <-p.Ended() does. A node that does not answer within
// the registry's bounded wait makes it fail with EUNAVAILABLE.
func (s *Server) AbortProcessByID(id int64) error {
	return s.Registry.Control(context.Background(), id, fourd.ProcessAbort)
}

// ProcessInfo returns 4D's Process info object for a process number of
// this node, or nil for a number that is not a live process.
func (s *Server) ProcessInfo(number int) *fourd.ProcessInfo {
	p := s.Processes.Process(number)
	if p == nil {
		return nil
	}
	info := p.Info()
	info.Node = s.Node
	return &info
}
