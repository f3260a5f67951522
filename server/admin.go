package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// DefaultAdminAddr is fourd serve's --admin-addr. A Server made by New
// has no admin listener until AdminAddr is set.
const DefaultAdminAddr = "127.0.0.1:8090"

// adminMux serves the admin listener: health, metrics and pprof. None of
// it goes through the REST handler: a probe or a scrape creates no session
// and no process.
func (s *Server) adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := s.Ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", s.Metrics.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// ReadyTimeout bounds each check of Ready.
const ReadyTimeout = 2 * time.Second

// Ready reports whether the server can serve requests: it has opened, it
// is not stopping, its datastore answers (when it has one) and its session
// store answers. The error says which is not so.
func (s *Server) Ready(ctx context.Context) error {
	if !s.ready.Load() {
		if s.stopping.Load() {
			return errors.New("the server is stopping")
		}
		return errors.New("the server is starting")
	}
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	if s.Data != nil {
		if _, err := s.Data.GlobalStamp(ctx); err != nil {
			return fmt.Errorf("the datastore does not answer: %w", err)
		}
	}
	if _, err := s.Sessions.Count(ctx, ""); err != nil {
		return fmt.Errorf("the session store does not answer: %w", err)
	}
	return nil
}

// AdminURL returns the admin listener's base URL, or "" when it is off.
func (s *Server) AdminURL() string {
	if s.adminLn == nil {
		return ""
	}
	return "http://" + s.adminLn.Addr().String()
}

// listenAdmin opens the admin listener when AdminAddr is set.
func (s *Server) listenAdmin() error {
	if s.AdminAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.AdminAddr)
	if err != nil {
		return fmt.Errorf("admin listener on %s: %w", s.AdminAddr, err)
	}
	if !isLoopback(ln.Addr()) {
		s.Logger.Warn("the admin listener (metrics, pprof) is reachable beyond loopback: keep it behind a firewall",
			"admin_addr", ln.Addr().String())
	}
	s.adminLn = ln
	s.adminServer = &http.Server{
		Handler:           s.adminMux(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return nil
}

// startAdmin serves the admin listener until the main process shuts it
// down. It is not a 4D process: probes and scrapes are not the server's
// work, and must not show in Process activity.
func (s *Server) startAdmin() error {
	if s.adminServer == nil {
		return nil
	}
	s.internal.Add(1)
	go func() {
		defer s.internal.Done()
		if err := s.adminServer.Serve(s.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("admin listener stopped", "err", err)
		}
	}()
	return nil
}
