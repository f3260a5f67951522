package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fourd/fourd/rest"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/server"
)

// runServe runs the server until SIGINT or SIGTERM, then shuts it down
// within --shutdown-timeout (see awaitShutdown for further signals).
func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	idleDefault, err := envDuration("FOURD_SESSION_TIMEOUT", fourd.DefaultIdleTimeout)
	if err != nil {
		return err
	}
	shutdownDefault, err := envDuration("FOURD_SHUTDOWN_TIMEOUT", server.DefaultShutdownTimeout)
	if err != nil {
		return err
	}
	cacheDefault, err := envInt("FOURD_CACHE_SIZE", server.DefaultCacheSize)
	if err != nil {
		return err
	}
	fs := newFlagSet("serve", stderr)
	addr := fs.String("addr", env("FOURD_ADDR", server.DefaultAddr), "TCP address to listen on (env FOURD_ADDR)")
	adminAddr := fs.String("admin-addr", envOr("FOURD_ADMIN_ADDR", server.DefaultAdminAddr), "TCP address of the admin listener: /livez, /readyz, /metrics, /debug/pprof/; empty turns it off (env FOURD_ADMIN_ADDR)")
	logRequests := fs.Bool("log-requests", true, "log one structured line per REST request at info level")
	data := fs.String("data", env("FOURD_DATA", "./fourd-data"), "data directory, created if missing (env FOURD_DATA)")
	datastore := fs.String("datastore", env("FOURD_DATASTORE", ""), "URL of the datastore: sqlite:///path/file.sqlite or postgres://user@host:5432/database; empty for data.sqlite in the data directory (env FOURD_DATASTORE; schemes: "+strings.Join(server.DatastoreSchemes(), ", ")+")")
	shared := fs.String("shared", env("FOURD_SHARED", ""), "URL of the state the nodes of a cluster share: redis://host:port/db[?prefix=name] keeps sessions, entity sets and login limits in Redis; empty for a single node (env FOURD_SHARED)")
	node := fs.String("node", env("FOURD_NODE", server.DefaultNode()), "this node's name among the nodes of a cluster, shown with its processes and sessions: 1 to 64 letters, digits, '.', '_' or '-' (env FOURD_NODE; default: the host name)")
	appName := fs.String("app-name", env("FOURD_APP_NAME", server.DefaultAppName), "application name; the session cookie is 4DSID_<app-name> (env FOURD_APP_NAME)")
	idle := fs.Duration("session-timeout", idleDefault, "idle lifetime of REST sessions, at least 1m (env FOURD_SESSION_TIMEOUT)")
	shutdown := fs.Duration("shutdown-timeout", shutdownDefault, "how long shutdown may take (env FOURD_SHUTDOWN_TIMEOUT)")
	demo := fs.Bool("demo", false, "in an empty data directory, create the demo model and fill it with generated data")
	demoSize := fs.String("demo-size", env("FOURD_DEMO_SIZE", "1000,100000"), "with --demo: companies,employees (env FOURD_DEMO_SIZE)")
	cacheSize := fs.Int64("cache-size", cacheDefault, "entity-set cache size in bytes (env FOURD_CACHE_SIZE)")
	q := rest.DefaultQuotas
	fs.IntVar(&q.MaxSessions, "max-sessions", q.MaxSessions, "most live sessions; more answer 402 (0: no limit)")
	fs.IntVar(&q.MaxGuestSessions, "max-guest-sessions", q.MaxGuestSessions, "most live guest sessions; more answer 402 (0: no limit)")
	fs.IntVar(&q.MaxEntitySetsPerSession, "max-entity-sets", q.MaxEntitySetsPerSession, "most entity sets one session holds; more answer 429 (0: no limit)")
	fs.IntVar(&q.MaxGuestSessionsPerAddress, "max-guest-sessions-per-address", q.MaxGuestSessionsPerAddress, "most live guest sessions from one client address; more answer 402 (0: no limit)")
	fs.IntVar(&q.MaxLoginFailuresPerUser, "max-login-failures", q.MaxLoginFailuresPerUser, "failed logins a user name may have from one client address per minute before 429 (0: no limit)")
	fs.IntVar(&q.MaxLoginFailuresElsewhere, "max-login-failures-elsewhere", q.MaxLoginFailuresElsewhere, "failed logins a user name may have per minute from the addresses it has not logged in from in 30 days, before 429 (0: no limit)")
	fs.IntVar(&q.MaxLoginFailuresPerAddress, "max-login-failures-per-address", q.MaxLoginFailuresPerAddress, "failed logins a client address may have per minute before 429 (0: no limit)")
	lim := rest.DefaultLimits
	fs.IntVar(&lim.MaxAnswerEntities, "max-answer-entities", lim.MaxAnswerEntities, "most entities one answer holds, related ones included; more answer 400 (0: no limit)")
	fs.IntVar(&lim.MaxAnswerBytes, "max-answer-size", lim.MaxAnswerBytes, "largest answer in bytes; larger ones answer 400 (0: no limit)")
	fs.Int64Var(&lim.MaxBodyBytes, "max-body-size", lim.MaxBodyBytes, "largest request body in bytes; larger ones answer 400 (0: no limit)")
	fs.Int64Var(&lim.MaxBodyBytesInFlight, "max-body-size-in-flight", lim.MaxBodyBytesInFlight, "most bytes of request bodies held at once, all requests together; past it, 503 with Retry-After (0: no limit)")
	fs.DurationVar(&lim.MaxEntitySetTimeout, "max-entity-set-timeout", lim.MaxEntitySetTimeout, "longest $timeout a client may give an entity set; longer ones answer 400 (0: no limit)")
	queryTimeout := fs.Duration("query-timeout", rest.DefaultQueryTimeout, "time budget of a data request that reads; past it, 503 errCode 1006 (0: none)")
	maxQueries := fs.Int("max-queries", 0, "selections served at once, all sessions together; more wait their turn (0: the datastore's readers less one)")
	maxQueriesPerSession := fs.Int("max-queries-per-session", rest.DefaultMaxQueriesPerSession, "selections of one session served at once; more wait their turn (0: no limit)")
	bodyTimeout := fs.Duration("body-timeout", rest.DefaultBodyTimeout, "how long a client has to send a request body; slower ones answer 400 (0: no limit)")
	fs.IntVar(&lim.MaxPageSize, "max-page-size", lim.MaxPageSize, "largest $top a client may ask for; larger ones answer 400 (0: no limit)")
	fs.IntVar(&lim.MaxDistinct, "max-distinct", lim.MaxDistinct, "most values of a $distinct answer; more answer 400 (0: no limit)")
	headerTimeout := fs.Duration("header-timeout", server.DefaultHeaderTimeout, "how long a client has to send a request's headers before its connection is closed")
	connIdle := fs.Duration("conn-idle-timeout", server.DefaultConnIdleTimeout, "how long an idle keep-alive connection is kept open")
	maxHeader := fs.Int("max-header-size", server.DefaultMaxHeaderBytes, "largest request line and headers in bytes; larger ones get 431 and the connection is closed")
	trustedProxy := fs.String("trusted-proxy", env("FOURD_TRUSTED_PROXY", ""), "comma-separated CIDR prefixes of load balancers whose X-Forwarded-For names the client (env FOURD_TRUSTED_PROXY); empty: trust none")
	allowAddressChange := fs.Bool("allow-session-address-change", false, "honour a session cookie sent from another client address than the one that opened the session")
	logLevel := fs.String("log-level", env("FOURD_LOG_LEVEL", "info"), "debug, info, warn or error (env FOURD_LOG_LEVEL)")
	logFormat := fs.String("log-format", env("FOURD_LOG_FORMAT", "text"), "text or json (env FOURD_LOG_FORMAT)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}

	if err := fourd.CheckNodeName(*node); err != nil {
		return &exitError{code: 2, msg: "--node: " + err.Error()}
	}
	companies, employees, err := parseDemoSize(*demoSize)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"max-sessions", q.MaxSessions}, {"max-guest-sessions", q.MaxGuestSessions}, {"max-entity-sets", q.MaxEntitySetsPerSession},
		{"max-login-failures", q.MaxLoginFailuresPerUser}, {"max-login-failures-per-address", q.MaxLoginFailuresPerAddress}} {
		if f.v < 0 {
			return &exitError{code: 2, msg: fmt.Sprintf("--%s %d: give 0 (no limit) or a positive number", f.name, f.v)}
		}
	}

	srv := server.New()
	srv.Demo = *demo
	srv.DemoCompanies, srv.DemoEmployees = companies, employees
	srv.CacheSize = *cacheSize
	srv.Quotas = &q
	srv.Limits = &lim
	srv.QueryTimeout = *queryTimeout
	if *queryTimeout == 0 {
		srv.QueryTimeout = -1 // the flag's 0 means none
	}
	srv.MaxQueries = *maxQueries
	srv.MaxQueriesPerSession = *maxQueriesPerSession
	if *maxQueriesPerSession == 0 {
		srv.MaxQueriesPerSession = -1
	}
	srv.HeaderTimeout, srv.ConnIdleTimeout, srv.MaxHeaderBytes = *headerTimeout, *connIdle, *maxHeader
	srv.BodyTimeout = *bodyTimeout
	if *bodyTimeout == 0 {
		srv.BodyTimeout = -1 // the flag's 0 means no limit
	}
	srv.AllowAddressChange = *allowAddressChange
	if srv.TrustedProxies, err = server.ParseTrustedProxies(*trustedProxy); err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	srv.Addr = *addr
	srv.AdminAddr = *adminAddr
	srv.LogRequests = *logRequests
	srv.DataDir = *data
	srv.Datastore = *datastore
	srv.Shared = *shared
	srv.AppName = *appName
	srv.Node = *node
	srv.IdleTimeout = *idle
	srv.ShutdownTimeout = *shutdown
	srv.Logger = logger
	// Signals are caught from before Open: a Ctrl-C during start-up is a
	// shutdown request too, not a kill.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := srv.Open(); err != nil {
		return err
	}
	return awaitShutdown(ctx, sigs, srv.Close, srv.ShutdownTimeout, logger, time.Now)
}

// signalGrace is how long after the first shutdown signal another one is
// the same request: a terminal's Ctrl-C and timeout(1) signal the whole
// process group, and process managers often send TERM to each process they
// know, so two signals arrive together for one request.
const signalGrace = 2 * time.Second

// awaitShutdown waits for SIGINT or SIGTERM (or ctx's end), then shuts the
// server down with closeFn. While it shuts down, a signal within
// signalGrace of the first is the same request (logged); a signal after
// that (a second Ctrl-C, a third signal) ends the program at once, without
// waiting for the clean shutdown: exit status 1.
func awaitShutdown(ctx context.Context, sigs <-chan os.Signal, closeFn func() error, timeout time.Duration, logger *slog.Logger, now func() time.Time) error {
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "timeout", timeout)
	case sig := <-sigs:
		logger.Info("shutting down", "signal", sig.String(), "timeout", timeout)
	}
	first := now()
	closed := make(chan error, 1)
	go func() { closed <- closeFn() }()
	for {
		select {
		case err := <-closed:
			return err
		case sig := <-sigs:
			if now().Sub(first) < signalGrace {
				logger.Info("another signal within the grace period: the same shutdown request", "signal", sig.String(), "grace", signalGrace)
				continue
			}
			logger.Warn("another signal during shutdown: stopping now, without a clean shutdown", "signal", sig.String())
			return &exitError{code: 1, msg: "stopped by another signal before the shutdown was complete"}
		}
	}
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

// parseDemoSize reads "companies,employees", both numbers given: a lone
// number would leave the reader to guess which one it is.
func parseDemoSize(s string) (companies, employees int, err error) {
	c, e, ok := strings.Cut(s, ",")
	companies, err1 := strconv.Atoi(strings.TrimSpace(c))
	employees, err2 := strconv.Atoi(strings.TrimSpace(e))
	if !ok || err1 != nil || err2 != nil || companies < 1 || employees < 0 {
		return 0, 0, fmt.Errorf("--demo-size %q: give companies,employees (at least 1 company), as in 1000,100000", s)
	}
	return companies, employees, nil
}

// envInt reads an integer default from the environment.
func envInt(name string, def int64) (int64, error) {
	v := env(name, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, &exitError{code: 2, msg: fmt.Sprintf("%s=%q: not a whole number", name, v)}
	}
	return n, nil
}

// envOr is env, except that a variable set to "" gives "" (it turns off
// what it configures, as FOURD_ADMIN_ADDR= does).
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
