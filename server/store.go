package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/postgres"
	"github.com/fourd/fourd/redis"
	"github.com/fourd/fourd/sqlite"
)

// This file is the one place that chooses the server's backends. Each
// store is named by a URL; adding a backend (postgres://, redis://) means
// adding an entry to datastoreBackends (or its session, entity-set or
// process-registry counterpart, sharedBackends for the state a cluster
// shares) and writing its package, nothing else:
// the rest of the server and the REST handlers see only the root
// interfaces.

// datastoreBackend opens the datastores of one URL scheme.
type datastoreBackend struct {
	// open opens the datastore the URL names, serving model m.
	open func(u *url.URL, m *fourd.Model) (fourd.Datastore, error)
	// demo fills a new, empty datastore with generated demo data (fourd
	// serve --demo); nil when the backend cannot.
	demo func(ctx context.Context, ds fourd.Datastore, companies, employees int, progress *fourd.ProgressIndicator) error
	// demoModel returns the model of the demo data; nil when demo is.
	demoModel func() *fourd.Model
	// storedModel returns the model.json a datastore shared by several
	// nodes holds (the one the last node opened it with), or nil; used when
	// the data directory has no model, so that a second node serves the
	// same data. nil when the backend keeps no model.
	storedModel func(u *url.URL) ([]byte, error)
	// users opens the users directory kept in the same database, so that
	// the nodes sharing the data share the users; nil when the backend
	// keeps none (users.json in the data directory is used).
	users func(u *url.URL) (interface {
		fourd.UserStore
		io.Closer
	}, error)
	// path returns the file the URL names, if the datastore is one file
	// (so that --demo can refuse a database without a model); "" if not.
	path func(u *url.URL) string
}

// datastoreBackends are the datastores fourd can serve from, by URL
// scheme.
var datastoreBackends = map[string]datastoreBackend{
	"sqlite": {
		open: func(u *url.URL, m *fourd.Model) (fourd.Datastore, error) { return sqlite.Open(sqlitePath(u), m) },
		demo: func(ctx context.Context, ds fourd.Datastore, companies, employees int, pi *fourd.ProgressIndicator) error {
			return sqlite.GenerateDemo(ctx, ds.(*sqlite.DB), companies, employees, pi)
		},
		demoModel: sqlite.DemoModel,
		path:      sqlitePath,
	},
	// postgres://user@host:5432/database?search_path=schema: the data of
	// several nodes in one PostgreSQL database (package postgres).
	"postgres":   postgresBackend,
	"postgresql": postgresBackend,
}

var postgresBackend = datastoreBackend{
	open: func(u *url.URL, m *fourd.Model) (fourd.Datastore, error) {
		return postgres.Open(context.Background(), u.String(), m)
	},
	demo: func(ctx context.Context, ds fourd.Datastore, companies, employees int, pi *fourd.ProgressIndicator) error {
		return postgres.GenerateDemo(ctx, ds.(*postgres.DB), companies, employees, pi)
	},
	demoModel: postgres.DemoModel,
	storedModel: func(u *url.URL) ([]byte, error) {
		return postgres.StoredModel(context.Background(), u.String())
	},
	users: func(u *url.URL) (interface {
		fourd.UserStore
		io.Closer
	}, error) {
		return postgres.OpenUserStore(context.Background(), u.String())
	},
}

// sqlitePath is the file of a sqlite URL: sqlite:///abs/path or
// sqlite:relative/path.
func sqlitePath(u *url.URL) string {
	if u.Opaque != "" {
		return filepath.FromSlash(u.Opaque)
	}
	return filepath.FromSlash(u.Path)
}

// DatastoreSchemes returns the URL schemes Datastore accepts, sorted.
func DatastoreSchemes() []string {
	var out []string
	for k := range datastoreBackends {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// datastoreURL parses the Datastore URL; "" is the SQLite database
// DatabaseFile in the data directory.
func (s *Server) datastoreURL() (*url.URL, datastoreBackend, error) {
	raw := s.Datastore
	if raw == "" {
		return &url.URL{Scheme: "sqlite", Path: filepath.ToSlash(filepath.Join(s.DataDir, DatabaseFile))}, datastoreBackends["sqlite"], nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, datastoreBackend{}, fmt.Errorf("datastore %q: not a URL: %w", raw, err)
	}
	b, ok := datastoreBackends[strings.ToLower(u.Scheme)]
	if !ok {
		return nil, datastoreBackend{}, fmt.Errorf("datastore %q: unknown scheme %q (known: %s)", raw, u.Scheme, strings.Join(DatastoreSchemes(), ", "))
	}
	if b.path != nil && b.path(u) == "" {
		return nil, datastoreBackend{}, fmt.Errorf("datastore %q: no file path (write sqlite:///absolute/path or sqlite:relative/path)", raw)
	}
	return u, b, nil
}

// sharedBackend opens the state a cluster's nodes share (Shared).
type sharedBackend struct {
	// open connects to the URL and returns the shared stores.
	open func(ctx context.Context, rawURL string, s *Server) (sharedStores, error)
}

// sharedStores are the stores a shared backend serves; a nil one stays
// this node's own, in memory.
type sharedStores struct {
	sessions   fourd.SessionStore
	entitySets fourd.EntitySetStore
	logins     fourd.LoginLimiter
	// registry joins the cluster's process registry as the node named
	// node whose processes are in table; close takes it out again.
	registry func(node string, table fourd.ProcessTable) (reg fourd.ProcessRegistry, close func() error, err error)
	// agree records value as the cluster's setting name, or returns the
	// value the cluster holds (see redis.DB.AgreeSetting).
	agree func(ctx context.Context, name, value string, alone bool) (string, error)
	close func() error
}

// sharedBackends are the backends of the shared state, by URL scheme.
var sharedBackends = map[string]sharedBackend{
	"redis":  {open: openRedis},
	"rediss": {open: openRedis},
}

// openRedis shares sessions, entity sets and login limits through Redis.
func openRedis(ctx context.Context, rawURL string, s *Server) (sharedStores, error) {
	db, err := redis.Open(ctx, rawURL)
	if err != nil {
		return sharedStores{}, err
	}
	sessions := redis.NewSessionStore(db)
	sessions.Now = s.Now
	sets := redis.NewEntitySetStore(db, s.CacheSize)
	sets.Now = s.Now
	registry := func(node string, table fourd.ProcessTable) (fourd.ProcessRegistry, func() error, error) {
		reg := redis.NewProcessRegistry(db, node, table)
		reg.Logger = s.Logger
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := reg.Open(ctx); err != nil {
			return nil, nil, err
		}
		return reg, reg.Close, nil
	}
	return sharedStores{sessions: sessions, entitySets: sets, logins: redis.NewLoginLimiter(db), registry: registry, agree: db.AgreeSetting, close: db.Close}, nil
}

// sharedSchemes returns the URL schemes Shared accepts, sorted.
func sharedSchemes() []string {
	var out []string
	for k := range sharedBackends {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sharedBackendOf returns the backend of the Shared URL; ok is false when
// Shared is "" (a single node).
func (s *Server) sharedBackendOf() (b sharedBackend, ok bool, err error) {
	if s.Shared == "" {
		return sharedBackend{}, false, nil
	}
	u, err := url.Parse(s.Shared)
	if err != nil {
		return sharedBackend{}, false, fmt.Errorf("shared state: not a URL: %w", err)
	}
	b, ok = sharedBackends[strings.ToLower(u.Scheme)]
	if !ok {
		return sharedBackend{}, false, fmt.Errorf("shared state %q: unknown scheme %q (known: %s)", u.Redacted(), u.Scheme, strings.Join(sharedSchemes(), ", "))
	}
	return b, true, nil
}

// openStores makes the stores that were not set before Open: with Shared,
// those its backend shares (sessions, entity sets, login limits) from there;
// the others (the process table and its registry, workers, locks), and
// all of them without Shared, of one node in memory. A store
// set by the caller is used as it is, with its own clock.
func (s *Server) openStores() error {
	var shared sharedStores
	if b, ok, err := s.sharedBackendOf(); err != nil {
		return err
	} else if ok {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		shared, err = b.open(ctx, s.Shared, s)
		if err != nil {
			return fmt.Errorf("shared state: %w", err)
		}
		s.closeShared = shared.close
		s.agree = shared.agree
		if s.Sessions == nil && shared.sessions != nil {
			s.Sessions = shared.sessions
			s.sharedSessions = true
		}
		if s.EntitySets == nil {
			s.EntitySets = shared.entitySets
		}
		if s.Logins == nil {
			s.Logins = shared.logins
		}
	}
	if s.Processes == nil {
		t := inmem.NewProcessTable()
		t.Now = s.Now
		s.Processes = t
	}
	if s.Registry == nil && shared.registry != nil {
		reg, closeReg, err := shared.registry(s.Node, s.Processes)
		if err != nil {
			s.closeStores()
			return fmt.Errorf("shared state: %w", err)
		}
		s.Registry = reg
		closeDB := s.closeShared
		s.closeShared = func() error { return errors.Join(closeReg(), closeDB()) }
	}
	if s.Registry == nil {
		s.Registry = inmem.NewProcessRegistry(s.Node, s.Processes)
	}
	if t, ok := s.Processes.(*inmem.ProcessTable); ok && t.IDs == nil {
		t.IDs = s.Registry
	}
	if s.Sessions == nil {
		st := inmem.NewSessionStore()
		st.Now = s.Now
		s.Sessions = st
	}
	if s.EntitySets == nil {
		st := inmem.NewEntitySetStore(s.CacheSize)
		st.Now = s.Now
		s.EntitySets = st
	}
	if s.Logins == nil {
		s.Logins = inmem.NewLoginLimiter()
	}
	if s.Locks == nil {
		s.Locks = inmem.NewLockTable()
	}
	return nil
}

// closeStores closes the connection to the shared state, if any.
func (s *Server) closeStores() error {
	if s.closeShared == nil {
		return nil
	}
	err := s.closeShared()
	s.closeShared = nil
	return err
}

// openWorkers makes the workers of the in-memory process table once the
// stored-procedure session exists.
func (s *Server) openWorkers() error {
	if s.Workers != nil {
		return nil
	}
	t, ok := s.Processes.(*inmem.ProcessTable)
	if !ok {
		return fmt.Errorf("workers: set Server.Workers for a process table of type %T", s.Processes)
	}
	w := inmem.NewWorkers(t, s.storedProcedure.ID)
	w.Logger = s.Logger
	s.Workers = w
	return nil
}
