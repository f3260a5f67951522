package rest

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
	"github.com/fourd/fourd/inmem"
)

// Handler serves the 4D REST API under /rest/.
//
// Set the exported fields, then call Init (NewHandler does both). A Handler
// is safe for concurrent use.
type Handler struct {
	Processes fourd.ProcessTable // required: this node's processes, where requests run
	// Registry is the cluster's processes (a single node's with inmem):
	// $activity lists them, the admin actions reach them, and new sessions
	// are marked with its node name. Required.
	Registry fourd.ProcessRegistry
	Sessions fourd.SessionStore // required
	// Data serves the dataclass resources; without it they answer 404.
	Data fourd.Datastore
	// EntitySets keeps entity sets; required with Data.
	EntitySets fourd.EntitySetStore
	// Progress lists the progress indicators $info reports; may be nil.
	Progress *fourd.Progress
	// Jobs runs index builds and flushes for $index and $flush; may be nil.
	Jobs Jobs
	// Users is the users directory that logins check; nil: no login. When
	// it implements UsersPresence, access control switches on as soon as
	// the directory appears (fourd users add on a running server).
	Users fourd.UserStore
	// Roles is roles.json, which expands a user's roles and privileges;
	// nil: privileges are taken as they are.
	Roles *access.Roles
	// Admin carries out the admin actions ($process/abort, …); nil: they
	// answer 404.
	Admin AdminActions
	// DataReady, when set, is asked before each data request (a dataclass,
	// an entity, an entity set): an error is the answer. The server refuses
	// data during its first demo import with it (503, Retry-After).
	DataReady func() error
	// Policy is roles.json compiled against the model: the permissions of
	// data requests. nil: everything is allowed.
	Policy *access.Policy

	// AllowAddressChange lets a session's cookie be used from another
	// client address than the one that opened it (mobile clients switching
	// networks). By default such a cookie is not honoured.
	AllowAddressChange bool
	// Quotas bounds sessions, entity sets and login attempts; nil means
	// DefaultQuotas. Fields at 0 turn a quota off.
	Quotas *Quotas
	// Logins counts failed logins for the login quotas; nil: Init makes
	// an in-memory one (inmem.LoginLimiter), which counts for this node
	// only. A cluster shares one (redis.LoginLimiter).
	Logins fourd.LoginLimiter
	// Limits bounds what one request may cost (answer and body sizes);
	// nil means DefaultLimits. Fields at 0 turn a limit off.
	Limits *Limits

	// Functions are the class functions clients may call; nil: only
	// fourd's own $catalog/authentify.
	Functions *Functions
	// Locks keeps the entity locks of $lock and of functions; nil: $lock
	// answers 404.
	Locks fourd.LockTable

	bodies bodyBudget // request bodies in flight

	// lockGate orders lock grants after writes: an update or deletion
	// holds it shared from its lock check to the end of its write, $lock
	// and Call.Lock hold it alone to take a lock. Writes do not wait for one
	// another; a lock waits for the writes in flight.
	lockGate sync.RWMutex

	usersSeen atomic.Bool // the users directory has existed: access control is on
	// AppName names the session cookie: 4DSID_<AppName>.
	AppName string
	// QueryTimeout is the time budget of a data request that reads
	// (DefaultQueryTimeout when 0; negative: none): past it, its work is
	// cancelled and it answers 503, errCode 1006.
	QueryTimeout time.Duration
	// MaxQueries caps the selections served at once, all sessions
	// together, and MaxQueriesPerSession those of one session; more wait
	// their turn, session by session (see admission.go). A session with
	// MaxQueuedPerSession requests waiting gets 429. 0 means the default,
	// negative no limit.
	MaxQueries           int
	MaxQueriesPerSession int
	MaxQueuedPerSession  int
	queries              queries

	// BodyTimeout is how long a client has to send a request's whole
	// body (DefaultBodyTimeout when 0; negative: no limit). Past it, the
	// body read fails and the request answers 400.
	BodyTimeout time.Duration
	// IdleTimeout is a new REST session's idle lifetime (default
	// fourd.DefaultIdleTimeout).
	IdleTimeout time.Duration
	// Now is the clock for sessions; time.Now by default.
	Now func() time.Time
	// Logger receives internal errors and, with LogRequests, one line per
	// request; slog.Default() by default.
	Logger *slog.Logger
	// LogRequests writes one structured line per request at Info (see
	// withObserve); NewHandler sets it, fourd serve --log-requests=false
	// clears it.
	LogRequests bool
	// Observer is told of requests, logins and quota refusals, for
	// metrics; may be nil.
	Observer Observer

	setKey  [32]byte // signs entity-set IDs (see newSetID)
	mux     *http.ServeMux
	handler http.Handler // mux behind sessions and process tracking
}

// NewHandler returns an initialised Handler over a process table and a
// session store.
func NewHandler(procs fourd.ProcessTable, sessions fourd.SessionStore, appName string) *Handler {
	h := &Handler{Processes: procs, Sessions: sessions, AppName: appName, LogRequests: true}
	h.Init()
	return h
}

// Init sets defaults and builds the routes.
func (h *Handler) Init() {
	if h.AppName == "" {
		h.AppName = "fourd"
	}
	if h.IdleTimeout <= 0 {
		h.IdleTimeout = fourd.DefaultIdleTimeout
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.BodyTimeout == 0 {
		h.BodyTimeout = DefaultBodyTimeout
	}
	if h.QueryTimeout == 0 {
		h.QueryTimeout = DefaultQueryTimeout
	}
	h.queries.max = orDefault(h.MaxQueries, DefaultMaxQueries)
	h.queries.perSession = orDefault(h.MaxQueriesPerSession, DefaultMaxQueriesPerSession)
	h.queries.maxQueued = orDefault(h.MaxQueuedPerSession, DefaultMaxQueuedPerSession)
	if h.Logger == nil {
		h.Logger = slog.Default()
	}
	h.mux = http.NewServeMux()
	_, _ = rand.Read(h.setKey[:]) // crypto/rand.Read never fails (Go 1.24+)
	if h.Progress == nil {
		h.Progress = fourd.NewProgress()
	}
	q := DefaultQuotas
	if h.Quotas != nil {
		q = *h.Quotas // a copy: the caller's settings stay as they are
	}
	if q.LoginWindow <= 0 {
		q.LoginWindow = time.Minute
	}
	if q.KnownAddressLifetime <= 0 {
		q.KnownAddressLifetime = DefaultQuotas.KnownAddressLifetime
	}
	h.Quotas = &q
	if h.Logins == nil {
		h.Logins = inmem.NewLoginLimiter()
	}
	lim := DefaultLimits
	if h.Limits != nil {
		lim = *h.Limits
	}
	h.Limits = &lim
	h.route("/rest/$activity", http.MethodGet, h.getActivity)
	h.route("/rest/$info", "GET,POST", h.adminOnly("$info", h.getInfo))
	h.route("/rest/$cluster", http.MethodGet, h.adminOnly("$cluster", h.getCluster))
	h.route("/rest/$catalog", http.MethodGet, h.getCatalog)
	h.mux.Handle("/rest/$catalog/", h.adapt(h.getCatalogEntry))
	h.route("/rest/$entityset/$release", http.MethodPost, h.postRelease)
	h.mux.Handle("/rest/$singleton/", h.adapt(h.serveSingleton))
	h.route("/rest/$directory/login", http.MethodPost, h.postDirectoryLogin)
	h.route("/rest/$directory/logout", "GET,POST", h.postDirectoryLogout)
	h.adminRoutes()
	h.route("/rest/$index", http.MethodPost, h.adminOnly("$index", h.postIndex))
	h.route("/rest/$flush", http.MethodPost, h.adminOnly("$flush", h.postFlush))
	h.mux.Handle("/rest/", h.adapt(h.serveData))
	h.mux.Handle("/", h.adapt(func(w http.ResponseWriter, r *http.Request) error {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "unknown REST resource %q", r.URL.Path)
	}))
	h.handler = h.withObserve(h.withCleanRequest(h.withSession(h.withForceLogin(h.withBodyLimits(h.withProcess(h.mux))))))
}

// CookieName returns the session cookie's name: 4DSID_<AppName>.
func (h *Handler) CookieName() string { return "4DSID_" + h.AppName }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.handler.ServeHTTP(w, r)
}

// handlerFunc is the shape of every resource handler: it writes a success
// response itself and returns any error for the adapter to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (h *Handler) adapt(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := checkParams(r)
		if err == nil {
			err = f(w, r)
		}
		if err != nil {
			writeError(w, r, h.Logger, err)
		}
	})
}

// route registers f for path and methods (comma-separated; GET brings
// HEAD); other methods get 405 in the envelope, with an Allow header.
func (h *Handler) route(path, methods string, f handlerFunc) {
	allowed := map[string]bool{}
	var allow []string
	for _, m := range strings.Split(methods, ",") {
		allowed[m] = true
		allow = append(allow, m)
		if m == http.MethodGet {
			allowed[http.MethodHead] = true
			allow = append(allow, http.MethodHead)
		}
	}
	allowHeader := strings.Join(allow, ", ")
	h.mux.Handle(path, h.adapt(func(w http.ResponseWriter, r *http.Request) error {
		if !allowed[r.Method] {
			w.Header().Set("Allow", allowHeader)
			return fourd.Errorf(fourd.EMETHOD, fourd.ErrCodeMethodNotAllowed, "%s is not allowed on %s; use %s", r.Method, path, strings.ReplaceAll(methods, ",", " or "))
		}
		return f(w, r)
	}))
}

// orDefault returns v, def when v is 0, and 0 (no limit) when v is
// negative.
func orDefault(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}
