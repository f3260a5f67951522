package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/server"
)

// runServe runs the server until SIGINT or SIGTERM, then shuts it down
// within --shutdown-timeout. A second signal during shutdown kills the
// program at once.
func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	idleDefault, err := envDuration("FOURD_SESSION_TIMEOUT", fourd.DefaultIdleTimeout)
	if err != nil {
		return err
	}
	shutdownDefault, err := envDuration("FOURD_SHUTDOWN_TIMEOUT", server.DefaultShutdownTimeout)
	if err != nil {
		return err
	}
	fs := newFlagSet("serve", stderr)
	addr := fs.String("addr", env("FOURD_ADDR", server.DefaultAddr), "TCP address to listen on (env FOURD_ADDR)")
	data := fs.String("data", env("FOURD_DATA", "./fourd-data"), "data directory, created if missing (env FOURD_DATA)")
	appName := fs.String("app-name", env("FOURD_APP_NAME", server.DefaultAppName), "application name; the session cookie is 4DSID_<app-name> (env FOURD_APP_NAME)")
	idle := fs.Duration("session-timeout", idleDefault, "idle lifetime of REST sessions, at least 1m (env FOURD_SESSION_TIMEOUT)")
	shutdown := fs.Duration("shutdown-timeout", shutdownDefault, "how long shutdown may take (env FOURD_SHUTDOWN_TIMEOUT)")
	logLevel := fs.String("log-level", env("FOURD_LOG_LEVEL", "info"), "debug, info, warn or error (env FOURD_LOG_LEVEL)")
	logFormat := fs.String("log-format", env("FOURD_LOG_FORMAT", "text"), "text or json (env FOURD_LOG_FORMAT)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}

	srv := server.New()
	srv.Addr = *addr
	srv.DataDir = *data
	srv.AppName = *appName
	srv.IdleTimeout = *idle
	srv.ShutdownTimeout = *shutdown
	srv.Logger = logger
	if err := srv.Open(); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	<-ctx.Done()
	stop() // a second signal now ends the program
	logger.Info("shutting down", "timeout", srv.ShutdownTimeout)
	return srv.Close()
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// envDuration reads a duration default from the environment.
func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := env(name, "")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, &exitError{code: 2, msg: fmt.Sprintf("%s=%q: not a duration (examples: 90s, 60m, 2h)", name, v)}
	}
	return d, nil
}
