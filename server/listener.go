package server

import (
	"errors"
	"net"
	"net/http"

	"github.com/fourd/fourd"
)

// startListener starts the HTTP Listener process: it accepts connections
// and serves them with net/http until the main process shuts the HTTP
// server down. While it waits for a connection it shows state "Waiting for
// input output".
func (s *Server) startListener() error {
	s.internal.Add(1)
	_, err := s.Processes.Start(fourd.ProcessSpec{Name: "HTTP Listener", Type: fourd.TypeHTTPListener},
		func(p *fourd.Process) error {
			defer s.internal.Done()
			err := s.httpServer.Serve(&processListener{Listener: s.ln, proc: p})
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			s.Logger.Error("HTTP listener stopped", "err", err)
			return err
		})
	if err != nil {
		s.internal.Done()
	}
	return err
}

// processListener shows its process waiting for I/O while it accepts, and
// gives net/http connections whose own refusals carry the __ERROR
// envelope (envelopeConn).
type processListener struct {
	net.Listener
	proc *fourd.Process
}

func (l *processListener) Accept() (net.Conn, error) {
	done := l.proc.Wait(fourd.StateWaitingForInputOutput)
	defer done()
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return envelopeConn{c}, nil
}
