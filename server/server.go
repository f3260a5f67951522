package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
	"github.com/fourd/fourd/admin"
	"github.com/fourd/fourd/metrics"
	"github.com/fourd/fourd/rest"
)

// Defaults.
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultAppName         = "fourd"
	DefaultSweepInterval   = time.Second
	DefaultSampleInterval  = time.Second
	DefaultShutdownTimeout = 10 * time.Second
	// DefaultHeaderTimeout is how long a client has to send a request's
	// headers; DefaultConnIdleTimeout how long a keep-alive connection
	// waits for the next request; DefaultMaxHeaderBytes bounds the request
	// line and headers (net/http's default).
	DefaultHeaderTimeout   = 10 * time.Second
	DefaultConnIdleTimeout = 2 * time.Minute
	DefaultMaxHeaderBytes  = http.DefaultMaxHeaderBytes
)

// Server is a fourd server. Set the exported fields after New and before
// Open.
type Server struct {
	// Addr is the TCP address to listen on; "127.0.0.1:0" picks a free port.
	Addr string
	// AdminAddr is the TCP address of the admin listener (/livez, /readyz,
	// /metrics, /debug/pprof/); "" (New's default) means none. fourd serve
	// sets DefaultAdminAddr.
	AdminAddr string
	// LogRequests writes one structured line per REST request at Info
	// (true by New).
	LogRequests bool
	// DataDir is the data directory, created if missing.
	DataDir string
	// AppName names the session cookie 4DSID_<AppName>.
	AppName string
	// Node names this server among the nodes of a cluster (fourd serve
	// --node): every process and session of Process activity carries it.
	// New sets the host name (see DefaultNode); fourd.CheckNodeName says
	// what is allowed.
	Node string
	// IdleTimeout is the idle lifetime of REST sessions.
	IdleTimeout time.Duration
	// SweepInterval is how often the timer process looks for expired sessions.
	SweepInterval time.Duration
	// SampleInterval is the CPU-usage window of the monitor process.
	SampleInterval time.Duration
	// ShutdownTimeout bounds Close: requests still running then are cut,
	// processes still running are left behind (and logged).
	ShutdownTimeout time.Duration
	// Now is the clock of sessions and creation dates; time.Now by default.
	// Tests inject their own.
	Now func() time.Time
	// Logger receives the server's structured logs.
	Logger *slog.Logger

	// CacheSize bounds the entity-set cache, in bytes.
	CacheSize int64
	// FlushInterval is how often the flusher writes the cache to disk.
	FlushInterval time.Duration
	// Demo creates the demo model in a data directory that has no model,
	// and fills it with DemoCompanies companies and DemoEmployees employees.
	Demo          bool
	DemoCompanies int
	DemoEmployees int

	// The stores, each a root interface. Open makes in memory (inmem)
	// those left nil, with the clock Now (store.go is the one place that
	// chooses backends); a caller may set its own before Open.
	Processes fourd.ProcessTable
	// Registry is the cluster's processes: Process activity, the admin
	// actions and the process IDs go through it. Open makes the single
	// node's (inmem) when nil and makes an in-memory Processes take its IDs
	// from it.
	Registry   fourd.ProcessRegistry
	Sessions   fourd.SessionStore
	EntitySets fourd.EntitySetStore
	// Workers are the workers of CALL WORKER; made by Open for the
	// in-memory process table, and required with any other.
	Workers  fourd.Workers
	Progress *fourd.Progress
	// Logins counts failed logins for the login quotas.
	Logins fourd.LoginLimiter
	// Locks holds the entity locks of $lock and of class functions.
	Locks fourd.LockTable
	// Shared is the URL of the state a cluster's nodes share:
	// redis://host:port/db[?prefix=name] keeps the sessions, the entity
	// sets and the login limits in Redis (see package redis), so that any
	// node serves any session, a set made through one node pages through
	// any other, and the login quotas count for the whole cluster. A
	// node's shutdown then leaves the sessions to the others. "" (the
	// default): a single node, everything in memory.
	Shared string
	// Datastore is the URL of the datastore: "" (the default) for the
	// SQLite database DatabaseFile in DataDir, sqlite:///path/file.sqlite
	// for another file, postgres://user@host:5432/database for PostgreSQL
	// (package postgres). DatastoreSchemes lists the schemes known.
	Datastore string
	// Data is the datastore, opened by Open from Datastore and the model
	// in the data directory; nil when the directory has no model.
	Data fourd.Datastore
	// Users is the users directory (users.json in the data directory) and
	// Roles is roles.json, each nil when absent. Open reads them.
	Users fourd.UserStore
	Roles *access.Roles
	// AllowAddressChange lets a session cookie be used from another client
	// address than the one that opened the session.
	AllowAddressChange bool
	// TrustedProxies are the load balancers (CIDR prefixes) whose
	// X-Forwarded-For header names the client: a request whose peer is one
	// of them is served as coming from the client the header names (see
	// proxy.go). Empty: the peer is the client, whatever the headers say.
	TrustedProxies []netip.Prefix
	// Quotas bounds sessions, entity sets and login attempts;
	// rest.DefaultQuotas when nil.
	Quotas *rest.Quotas
	// QueryTimeout is the time budget of a data request that reads
	// (rest.DefaultQueryTimeout when 0, none when negative). MaxQueries
	// caps the selections served at once (0: the cores less one, so that
	// a lookup by key always finds a core and a reader), and
	// MaxQueriesPerSession those of one session (0: the default); see
	// rest.Handler.
	QueryTimeout         time.Duration
	MaxQueries           int
	MaxQueriesPerSession int
	// HeaderTimeout, ConnIdleTimeout and MaxHeaderBytes bound a
	// connection before fourd sees a request: the time to send the
	// headers, the idle time between requests, the size of the headers.
	// A client past one of them has its connection closed (431 for the
	// headers' size). Defaults: DefaultHeaderTimeout and so on, when 0.
	HeaderTimeout   time.Duration
	ConnIdleTimeout time.Duration
	MaxHeaderBytes  int
	// BodyTimeout is how long a client has to send a request's body;
	// rest.DefaultBodyTimeout when 0, no limit when negative.
	BodyTimeout time.Duration
	// Limits bounds what one request may cost (answer and body sizes);
	// rest.DefaultLimits when nil.
	Limits *rest.Limits
	// Metrics are the server's Prometheus metrics, served on the admin
	// listener; Open makes them when nil.
	Metrics *metrics.Metrics
	// Functions are the class functions REST clients may call (made by
	// New; register on it before or after Open). A datastore function
	// "authentify" replaces fourd's own login function. Open checks the
	// dataclass functions against the model.
	Functions *rest.Functions

	data            fourd.Datastore                                                           // what Open opened: Data may be wrapped after
	ownUsers        io.Closer                                                                 // the users directory Open opened on the datastore, closed with it
	closeShared     func() error                                                              // closes the connection to Shared (closeStores)
	agree           func(ctx context.Context, name, value string, alone bool) (string, error) // the cluster's settings (Shared), or nil
	sharedSessions  bool                                                                      // Sessions is the cluster's (Shared): shutdown leaves them
	demo            func(ctx context.Context, ds fourd.Datastore, companies, employees int, progress *fourd.ProgressIndicator) error
	policy          *access.Policy
	indexJobs       chan indexJob
	flushRequests   chan chan error
	storedProcedure fourd.Session
	handler         *rest.Handler
	httpServer      *http.Server
	ln              net.Listener
	adminServer     *http.Server
	adminLn         net.Listener
	console         http.Handler
	ready           atomic.Bool // Open has finished and Close has not begun
	stopping        atomic.Bool
	mainProc        *fourd.Process
	stop            chan struct{} // closed by Close: tells the main process to shut down
	stopped         chan struct{} // closed when the main process has shut everything down
	internal        sync.WaitGroup
	closeOnce       sync.Once
	closeErr        error
	opened          bool

	dataState      atomic.Int32                            // dataReady, dataImporting or dataFailed
	importProgress atomic.Pointer[fourd.ProgressIndicator] // the demo import's, while it runs

	watchMu  sync.Mutex // WatchUsers's state:
	accessOn bool       // access control was on at the last look
	usersSig string     // the users at the last look (usersSignature)
}

// New returns a server with the defaults set.
func New() *Server {
	return &Server{
		Addr:            DefaultAddr,
		AppName:         DefaultAppName,
		Node:            DefaultNode(),
		IdleTimeout:     fourd.DefaultIdleTimeout,
		SweepInterval:   DefaultSweepInterval,
		SampleInterval:  DefaultSampleInterval,
		ShutdownTimeout: DefaultShutdownTimeout,
		Now:             time.Now,
		Logger:          slog.Default(),
		LogRequests:     true,
		CacheSize:       DefaultCacheSize,
		FlushInterval:   DefaultFlushInterval,
		DemoCompanies:   DefaultDemoCompanies,
		DemoEmployees:   DefaultDemoEmployees,
		Progress:        fourd.NewProgress(),
		Functions:       rest.NewFunctions(),
		console:         admin.Handler(),
	}
}

var appNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

func (s *Server) validate() error {
	if !appNamePattern.MatchString(s.AppName) {
		return fmt.Errorf("app name %q: use 1 to 64 letters, digits, '_', '.' or '-' (it names the cookie 4DSID_<app-name>)", s.AppName)
	}
	if err := fourd.CheckNodeName(s.Node); err != nil {
		return err
	}
	if s.Registry != nil && s.Registry.Node() != s.Node {
		return fmt.Errorf("node name %q: the process registry is node %q's", s.Node, s.Registry.Node())
	}
	if s.DataDir == "" {
		return errors.New("data directory: not set")
	}
	if s.IdleTimeout < time.Minute {
		return fmt.Errorf("session idle timeout %s: must be at least 1m", s.IdleTimeout)
	}
	if s.CacheSize < 1<<20 {
		return fmt.Errorf("cache size %d: must be at least 1 MiB (1048576)", s.CacheSize)
	}
	if _, _, err := s.datastoreURL(); err != nil {
		return err
	}
	if _, _, err := s.sharedBackendOf(); err != nil {
		return err
	}
	if s.Demo && (s.DemoCompanies < 1 || s.DemoEmployees < 0) {
		return fmt.Errorf("demo size: at least 1 company and 0 employees, not %d and %d", s.DemoCompanies, s.DemoEmployees)
	}
	for name, d := range map[string]time.Duration{"sweep interval": s.SweepInterval, "sample interval": s.SampleInterval, "shutdown timeout": s.ShutdownTimeout, "flush interval": s.FlushInterval} {
		if d <= 0 {
			return fmt.Errorf("%s %s: must be positive", name, d)
		}
	}
	return nil
}

// Open validates the configuration, creates the data directory, starts
// listening and starts the internal processes. On error nothing is left
// running.
func (s *Server) Open() (err error) {
	if s.opened {
		return errors.New("server: Open called twice")
	}
	if err := s.validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(s.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := s.openStores(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.closeStores()
		}
	}()
	s.stop = make(chan struct{})
	s.stopped = make(chan struct{})
	s.indexJobs = make(chan indexJob, 256)
	s.flushRequests = make(chan chan error)
	if err := s.openAccess(); err != nil {
		return err
	}
	if err := s.agreeRoles(); err != nil {
		s.closeUsers()
		return err
	}
	fillDemo, err := s.openData()
	if err != nil {
		s.closeUsers()
		return err
	}
	if s.Roles != nil {
		var model *fourd.Model
		if s.Data != nil {
			model = s.Data.Model()
		}
		if s.policy, err = s.Roles.Compile(model); err != nil {
			s.closeData()
			return fmt.Errorf("%s: %w", filepath.Join(s.DataDir, RolesFile), err)
		}
	}
	defer func() {
		if err != nil {
			s.closeData()
		}
	}()
	if s.Functions == nil {
		s.Functions = rest.NewFunctions()
	}
	if s.Demo && s.Data != nil {
		registerDemoFunctions(s.Functions, s.Data.Model())
	}
	var model *fourd.Model
	if s.Data != nil {
		model = s.Data.Model()
	}
	if err := s.Functions.Check(model); err != nil {
		return err
	}

	if s.Metrics == nil {
		src := metrics.Sources{Processes: s.Processes, Sessions: s.Sessions, Progress: s.Progress}
		if st, ok := s.EntitySets.(metrics.EntitySetStats); ok {
			src.EntitySets = st
		}
		s.Metrics = metrics.New(src)
	}

	s.storedProcedure = newStoredProcedureSession(s.Now())
	s.storedProcedure.Node = s.Node
	if err := s.Sessions.Create(context.Background(), s.storedProcedure); err != nil {
		return fmt.Errorf("stored-procedure session: %w", err)
	}
	if err := s.openWorkers(); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Addr, err)
	}
	s.ln = ln
	defer func() {
		if err != nil {
			ln.Close()
			ctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
			defer cancel()
			_ = s.Processes.Close(ctx)
		}
	}()
	if err := s.listenAdmin(); err != nil {
		return err
	}
	defer func() {
		if err != nil && s.adminLn != nil {
			s.adminLn.Close()
		}
	}()
	if !isLoopback(ln.Addr()) && !s.AccessControl() {
		s.Logger.Warn("listening beyond loopback with no access control: anyone who reaches this address can read $activity",
			"addr", ln.Addr().String())
	}

	s.handler = &rest.Handler{
		Processes:            s.Processes,
		Registry:             s.Registry,
		Sessions:             s.Sessions,
		Data:                 s.Data,
		EntitySets:           s.EntitySets,
		Progress:             s.Progress,
		Jobs:                 s,
		Admin:                s,
		Users:                s.Users,
		Roles:                s.Roles,
		Policy:               s.policy,
		Quotas:               s.Quotas,
		Logins:               s.Logins,
		Limits:               s.Limits,
		BodyTimeout:          s.BodyTimeout,
		QueryTimeout:         s.QueryTimeout,
		MaxQueries:           s.maxQueries(),
		MaxQueriesPerSession: s.MaxQueriesPerSession,
		Functions:            s.Functions,
		Locks:                s.Locks,
		DataReady:            s.DataReady,

		AllowAddressChange: s.AllowAddressChange,
		AppName:            s.AppName,
		IdleTimeout:        s.IdleTimeout,
		Now:                s.Now,
		Logger:             s.Logger,
		LogRequests:        s.LogRequests,
		Observer:           s.Metrics,
	}
	s.handler.Init()
	s.logAccess(context.Background())
	s.httpServer = &http.Server{
		Handler:           withClientAddress(s.TrustedProxies, s.routes()),
		ReadHeaderTimeout: cmp.Or(s.HeaderTimeout, DefaultHeaderTimeout),
		IdleTimeout:       cmp.Or(s.ConnIdleTimeout, DefaultConnIdleTimeout),
		MaxHeaderBytes:    cmp.Or(s.MaxHeaderBytes, DefaultMaxHeaderBytes),
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}

	if s.mainProc, err = s.Processes.Start(fourd.ProcessSpec{Name: "Main process", Type: fourd.TypeMainProcess}, s.runMain); err != nil {
		return err
	}
	for _, start := range []func() error{s.startListener, s.startTimer, s.startMonitor, func() error { return s.startDataProcesses(fillDemo) }, s.startAdmin} {
		if err := start(); err != nil {
			close(s.stop)
			<-s.stopped
			return err
		}
	}
	s.opened = true
	s.ready.Store(true)
	s.Logger.Info("fourd serving", "url", s.URL(), "admin", s.AdminURL(), "data", s.DataDir, "app", s.AppName, "node", s.Node)
	return nil
}

// URL returns the server's base URL, e.g. "http://127.0.0.1:8080".
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Handler returns the REST handler, for tests that drive it without a socket.
func (s *Server) Handler() http.Handler { return s.handler }

// StoredProcedureSession returns the one session of the processes started
// through the Go API, as it was created (it never changes).
func (s *Server) StoredProcedureSession() fourd.Session { return s.storedProcedure }

// Close shuts the server down within ShutdownTimeout: it stops accepting
// connections, lets running requests finish, ends every process and closes
// every session. It is idempotent.
func (s *Server) Close() error {
	if !s.opened {
		return nil
	}
	s.closeOnce.Do(func() {
		s.stopping.Store(true)
		s.ready.Store(false)
		close(s.stop)
		<-s.stopped
		ctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
		defer cancel()
		if err := s.Processes.Close(ctx); err != nil {
			s.closeErr = fmt.Errorf("processes still running after %s: %d", s.ShutdownTimeout, s.Processes.Len())
			s.Logger.Error("shutdown incomplete", "err", s.closeErr)
		}
		if err := s.closeData(); err != nil {
			s.closeErr = errors.Join(s.closeErr, fmt.Errorf("close the datastore: %w", err))
		}
		if err := s.closeStores(); err != nil {
			s.closeErr = errors.Join(s.closeErr, fmt.Errorf("close the shared state: %w", err))
		}
		s.Logger.Info("fourd stopped")
	})
	return s.closeErr
}

// runMain is the main process: it waits for Close, then shuts down in
// order: the HTTP server (running requests may finish), the internal
// processes, then every session and the processes left in them.
func (s *Server) runMain(p *fourd.Process) error {
	defer close(s.stopped)
	done := p.Wait(fourd.StateWaitingForInternalFlag)
	<-s.stop
	done()

	ctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
	defer cancel()
	var errs []error
	if s.httpServer != nil {
		if err := s.httpServer.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			_ = s.httpServer.Close()
		}
	}
	if s.adminServer != nil {
		if err := s.adminServer.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("admin listener shutdown: %w", err))
			_ = s.adminServer.Close()
		}
	}
	s.internal.Wait()
	s.closeSessions(ctx)
	if err := errors.Join(errs...); err != nil {
		s.Logger.Warn("shutdown", "err", err)
		return err
	}
	return nil
}

// closeSessions ends every session's processes and removes the sessions.
// Sessions shared by a cluster (Shared) live on: other nodes serve them,
// and only this node's stored-procedure session ends (the processes of
// this node end with its process table).
func (s *Server) closeSessions(ctx context.Context) {
	if s.sharedSessions {
		_, _, _ = fourd.EndSession(ctx, s.Sessions, s.Processes, s.EntitySets, s.Locks, s.storedProcedure.ID, fourd.ErrServerStopping)
		return
	}
	list, err := s.Sessions.Sessions(ctx)
	if err != nil {
		s.Logger.Warn("list sessions at shutdown", "err", err)
		return
	}
	for _, info := range list {
		_, _, _ = fourd.EndSession(ctx, s.Sessions, s.Processes, s.EntitySets, s.Locks, info.ID, fourd.ErrServerStopping)
	}
}

func newStoredProcedureSession(now time.Time) fourd.Session {
	sp := fourd.NewSession(fourd.SessionStoredProcedure, now, 0)
	sp.MachineName, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		sp.SystemUserName = u.Username
	}
	sp.HostType = hostType()
	sp.IPAddress = "localhost"
	return sp
}

// DefaultNode returns the default node name: the host name, or its first
// label when the whole name is not a valid node name (too long), or
// "fourd" when neither is.
func DefaultNode() string {
	host, err := os.Hostname()
	if err != nil {
		return "fourd"
	}
	for _, name := range []string{host, strings.Split(host, ".")[0]} {
		if fourd.CheckNodeName(name) == nil {
			return name
		}
	}
	return "fourd"
}

// hostType names the server's OS as 4D does ("mac", "windows"), and by its
// Go name otherwise ("linux", ...).
func hostType() string {
	switch runtime.GOOS {
	case "darwin":
		return "mac"
	default:
		return runtime.GOOS
	}
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// maxQueries returns MaxQueries, or by default the cores less one (and
// the datastore's readers less one): expensive queries never take every
// core nor every reader, so that lookups by key, which are not queued,
// always find both.
func (s *Server) maxQueries() int {
	if s.MaxQueries != 0 {
		return s.MaxQueries
	}
	readers, ok := s.data.(interface{ Readers() int }) // a datastore with a read pool (sqlite)
	if !ok {
		return s.MaxQueries
	}
	return max(1, min(runtime.GOMAXPROCS(0)-1, readers.Readers()-1))
}
