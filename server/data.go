package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/rest"
)

// Data defaults.
const (
	DefaultCacheSize     = 209715200 // bytes: the seed's $info example
	DefaultFlushInterval = time.Minute
	DefaultDemoCompanies = 1000
	DefaultDemoEmployees = 100000
	ModelFile            = "model.json"
	DatabaseFile         = "data.sqlite"
	// DemoPendingFile marks a demo import that has not finished: written
	// before the import starts, removed once it has committed its last row.
	// A data directory holding it has a partial demo, which the server
	// never serves (see openData).
	DemoPendingFile = "demo-import.pending"
)

// The states of the data while the server runs: the first demo import
// must end before the data is served, all or nothing.
const (
	dataReady     int32 = iota // served
	dataImporting              // the demo import runs: data requests answer 503 with Retry-After
	dataFailed                 // the demo import stopped before its end: data requests answer 503
)

// openData opens the datastore of the data directory: the model in
// model.json and the SQLite database beside it. Without a model file there
// is no datastore and the data resources answer 404, unless Demo asks for
// the demo model, which is written and then filled with generated data.
// It returns whether the demo data must be generated.
func (s *Server) openData() (fillDemo bool, err error) {
	modelPath := filepath.Join(s.DataDir, ModelFile)
	u, backend, err := s.datastoreURL()
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile(modelPath)
	pendingPath := filepath.Join(s.DataDir, DemoPendingFile)
	pending := fileExists(pendingPath)
	switch {
	case pending && !s.Demo:
		return false, fmt.Errorf("%s: the demo import in this data directory did not finish (%s); run fourd serve --demo to import it again from the start, or remove the directory", s.DataDir, DemoPendingFile)
	case pending:
		// An interrupted import (a Ctrl-C, a crash) left part of the demo:
		// it is never served; the import starts again from an empty database.
		s.Logger.Warn("the previous demo import did not finish: importing it again from the start", "dir", s.DataDir)
		if backend.path == nil {
			return false, fmt.Errorf("%s: the demo import did not finish, and the %s datastore cannot be emptied by fourd: empty it, remove %s, and start again", s.DataDir, u.Scheme, DemoPendingFile)
		}
		dbPath := backend.path(u)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(dbPath + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, fmt.Errorf("remove the partial demo: %w", err)
			}
		}
		if err := os.Remove(modelPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("remove the partial demo: %w", err)
		}
		err = fs.ErrNotExist
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) && s.Demo:
		if backend.demo == nil || backend.demoModel == nil {
			return false, fmt.Errorf("--demo: the %s datastore cannot generate the demo data", u.Scheme)
		}
		if backend.path != nil {
			if _, err := os.Stat(backend.path(u)); err == nil {
				return false, fmt.Errorf("--demo: %s has a database but no %s; remove it or give it a model", s.DataDir, ModelFile)
			}
		}
		// The mark goes first: from here until the import's end, a stop
		// leaves a directory that the next start recognises as partial.
		if err := os.WriteFile(pendingPath, []byte("a demo import started here and has not finished\n"), 0o640); err != nil {
			return false, fmt.Errorf("mark the demo import: %w", err)
		}
		m := backend.demoModel()
		if data, err = json.MarshalIndent(m, "", "  "); err != nil {
			return false, fmt.Errorf("demo model: %w", err)
		}
		if err := os.WriteFile(modelPath, append(data, '\n'), 0o640); err != nil {
			return false, fmt.Errorf("write the demo model: %w", err)
		}
		s.Logger.Info("created the demo model", "file", modelPath)
		fillDemo = true
		s.dataState.Store(dataImporting) // before anything listens
	case errors.Is(err, fs.ErrNotExist) && backend.storedModel != nil:
		// Another node's model, as it last opened the shared datastore.
		if data, err = backend.storedModel(u); err != nil {
			return false, fmt.Errorf("read the model from %s: %w", u.Redacted(), err)
		}
		if data == nil {
			s.Logger.Info("no model in the data directory nor in the datastore: the REST data API is off (fourd serve --demo creates a demo model)", "file", modelPath, "datastore", u.Redacted())
			return false, nil
		}
		s.Logger.Info("no model in the data directory: serving the model stored in the datastore", "datastore", u.Redacted())
	case errors.Is(err, fs.ErrNotExist):
		s.Logger.Info("no model in the data directory: the REST data API is off (fourd serve --demo creates a demo model)", "file", modelPath)
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read the model: %w", err)
	}
	m, err := fourd.ParseModel(data)
	if err != nil {
		return false, fmt.Errorf("%s: %w", modelPath, err)
	}
	where := u.Redacted()
	if backend.path != nil {
		where = backend.path(u)
	}
	ds, err := backend.open(u, m)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", where, err)
	}
	s.Data, s.data = ds, ds
	s.demo = backend.demo
	return fillDemo, nil
}

// closeData closes the datastore Open opened, if it has a Close method.
func (s *Server) closeData() error {
	s.closeUsers()
	if c, ok := s.data.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// startDataProcesses starts the permanent processes of the data: the
// cache manager, the flusher and the indexer, then the jobs the datastore
// needs now (missing indexes, the demo data).
func (s *Server) startDataProcesses(fillDemo bool) error {
	if err := s.startTicking("Cache manager", fourd.TypeCacheManager, s.SweepInterval, func(p *fourd.Process) {
		if ids, err := s.EntitySets.Expire(p, s.Now()); err != nil {
			s.Logger.Warn("expire entity sets", "err", err)
		} else if len(ids) > 0 {
			s.Logger.Debug("entity sets expired", "count", len(ids))
		}
	}); err != nil {
		return err
	}
	if s.data == nil {
		return nil
	}
	if _, ok := s.data.(fourd.Flusher); ok {
		if err := s.startFlusher(); err != nil {
			return err
		}
	}
	if indexer, ok := s.data.(fourd.Indexer); ok {
		if err := s.startIndexer(); err != nil {
			return err
		}
		for _, ix := range indexer.MissingIndexes() {
			select {
			case s.indexJobs <- indexJob{dataClass: ix.DataClass, attribute: ix.Attribute}:
			default:
				s.Logger.Warn("too many indexes to build at start-up; build the rest with fourd index", "index", ix.DataClass+"."+ix.Attribute)
			}
		}
	}
	if fillDemo {
		if _, err := s.startJob("Demo data import", fourd.TypeOtherInternalProcess, fourd.ProgressImport, "", func(p *fourd.Process, pi *fourd.ProgressIndicator) error {
			s.importProgress.Store(pi)
			start := time.Now()
			err := s.demo(p, s.data, s.DemoCompanies, s.DemoEmployees, pi)
			if err == nil {
				err = os.Remove(filepath.Join(s.DataDir, DemoPendingFile))
			}
			if err != nil {
				s.dataState.Store(dataFailed)
				s.Logger.Warn("the demo import did not finish: its data is not served; restart fourd serve --demo to import it again", "err", err)
				return err
			}
			s.dataState.Store(dataReady)
			s.Logger.Info("demo data ready", "companies", s.DemoCompanies, "employees", s.DemoEmployees, "took", time.Since(start).Round(time.Millisecond))
			return nil
		}); err != nil {
			s.dataState.Store(dataFailed)
			return err
		}
	}
	return nil
}

// DataReady returns nil when the data may be served, and otherwise the
// answer of a data request: while the first demo import runs, 503 (errCode
// 9030) with its progress and a Retry-After from its pace; after an import
// that did not finish, 503 without one. The REST handler asks it before
// each data request, so that nobody reads a partial demo.
func (s *Server) DataReady() error {
	switch s.dataState.Load() {
	case dataImporting:
		pi := s.importProgress.Load()
		if pi == nil {
			return rest.RetryAfter(fourd.Errorf(fourd.EUNAVAILABLE, fourd.ErrCodeImporting, "the demo data import is starting: retry in a moment"), time.Second)
		}
		done, total := pi.Done(), pi.Total()
		wait := time.Second
		if elapsed := time.Since(pi.Info().Started); done > 0 && total > done {
			wait = time.Duration(float64(elapsed) * float64(total-done) / float64(done))
		}
		wait = min(max(wait, time.Second), time.Minute)
		return rest.RetryAfter(fourd.Errorf(fourd.EUNAVAILABLE, fourd.ErrCodeImporting,
			"the demo data is being imported (%d of %d rows, %d%%): the data is served once all of it is in; retry later", done, total, pi.Info().Percent), wait)
	case dataFailed:
		return fourd.Errorf(fourd.EUNAVAILABLE, fourd.ErrCodeImporting, "the demo data import did not finish: its data is not served; restart fourd serve --demo to import it again")
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// startJob runs fn as a new interruptible process of type typ, with a
// progress indicator that $info reports while it runs. sessionID is the
// session that asked for it, or "".
func (s *Server) startJob(name string, typ fourd.ProcessType, userInfo, sessionID string, fn func(*fourd.Process, *fourd.ProgressIndicator) error) (*fourd.Process, error) {
	return s.Processes.Start(fourd.ProcessSpec{Name: name, Type: typ, SessionID: sessionID, Abortable: true},
		func(p *fourd.Process) error {
			// Listed in $info once the work calls Begin with its title and total.
			pi := s.Progress.Prepare(userInfo, true, p, sessionID)
			defer pi.Stop()
			err := fn(p, pi)
			switch {
			case err == nil:
			case errors.Is(err, context.Canceled):
				s.Logger.Warn("job interrupted", "job", name, "process", p.ID(), "cause", p.Cause())
			default:
				s.Logger.Error("job failed", "job", name, "process", p.ID(), "err", err)
			}
			return err
		})
}

// indexJob asks the indexer to build one index.
type indexJob struct {
	dataClass, attribute string
	done                 chan error // nil: nobody waits
}

// startIndexer starts the Indexing process: it builds, one at a time, the
// indexes it is asked for, each in a process of its own (type Indexing
// process, interruptible) with an indexProgressIndicator.
func (s *Server) startIndexer() error {
	s.internal.Add(1)
	_, err := s.Processes.Start(fourd.ProcessSpec{Name: "Indexer", Type: fourd.TypeIndexingProcess}, func(p *fourd.Process) error {
		defer s.internal.Done()
		for {
			done := p.Wait(fourd.StateWaitingForInternalFlag)
			var job indexJob
			select {
			case <-s.stop:
				done()
				return nil
			case <-p.Done():
				done()
				return p.Err()
			case job = <-s.indexJobs:
			}
			done()
			err := s.runIndexJob(job)
			if job.done != nil {
				job.done <- err
			}
		}
	})
	if err != nil {
		s.internal.Done()
	}
	return err
}

func (s *Server) runIndexJob(job indexJob) error {
	indexer, ok := s.data.(fourd.Indexer)
	if !ok {
		return errNoIndexer
	}
	dc := s.data.Model().DataClass(job.dataClass)
	if dc == nil || dc.Attribute(job.attribute) == nil {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownAttribute, "no attribute %s.%s", job.dataClass, job.attribute)
	}
	name := "Indexing " + job.dataClass + "." + job.attribute
	p, err := s.startJob(name, fourd.TypeIndexingProcess, fourd.ProgressIndex, "", func(p *fourd.Process, pi *fourd.ProgressIndicator) error {
		return indexer.BuildIndex(p, dc, job.attribute, pi)
	})
	if err != nil {
		return err
	}
	return s.waitJob(p)
}

// waitJob waits for a job's process to end; if the server stops first, the
// job is aborted, so that shutdown never waits for a long build.
func (s *Server) waitJob(p *fourd.Process) error {
	select {
	case <-p.Ended():
	case <-s.stop:
		p.Abort(fourd.ErrServerStopping)
		<-p.Ended()
	}
	return p.Result()
}

// BuildIndex builds (or rebuilds) the index of dataClass.attribute in an
// Indexing process and waits for it; ctx stops the wait, not the build
// (abort the process for that).
func (s *Server) BuildIndex(ctx context.Context, dataClass, attribute string) error {
	if s.data == nil {
		return errNoData
	}
	if _, ok := s.data.(fourd.Indexer); !ok {
		return errNoIndexer
	}
	done := make(chan error, 1)
	return ask(ctx, s.indexJobs, indexJob{dataClass: dataClass, attribute: attribute, done: done}, done)
}

// ask hands req to a permanent process over ch and waits for its reply,
// or for ctx.
func ask[T any](ctx context.Context, ch chan<- T, req T, reply <-chan error) error {
	select {
	case ch <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

var (
	errNoData    = fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server has no datastore (no model.json in its data directory)")
	errNoIndexer = fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "this datastore builds no indexes")
)

// startFlusher starts the DB4D Flush cache process: every FlushInterval,
// and whenever Flush asks, it writes the datastore's cache to disk (a WAL
// checkpoint for SQLite) in an interruptible process of its own with a
// flushProgressIndicator.
func (s *Server) startFlusher() error {
	s.internal.Add(1)
	_, err := s.Processes.Start(fourd.ProcessSpec{Name: "Cache flusher", Type: fourd.TypeDB4DFlushCache}, func(p *fourd.Process) error {
		defer s.internal.Done()
		t := time.NewTicker(s.FlushInterval)
		defer t.Stop()
		for {
			done := p.Wait(fourd.StateDelayed)
			var reply chan error
			select {
			case <-s.stop:
				done()
				return nil
			case <-p.Done():
				done()
				return p.Err()
			case <-t.C:
			case reply = <-s.flushRequests:
			}
			done()
			err := s.runFlush()
			if reply != nil {
				reply <- err
			}
		}
	})
	if err != nil {
		s.internal.Done()
	}
	return err
}

func (s *Server) runFlush() error {
	p, err := s.startJob("Flushing the cache", fourd.TypeDB4DFlushCache, fourd.ProgressFlush, "", func(p *fourd.Process, pi *fourd.ProgressIndicator) error {
		return s.data.(fourd.Flusher).Flush(p, pi)
	})
	if err != nil {
		return err
	}
	return s.waitJob(p)
}

// Flush asks the flusher to write the cache to disk now and waits for it.
func (s *Server) Flush(ctx context.Context) error {
	if s.data == nil {
		return errNoData
	}
	if _, ok := s.data.(fourd.Flusher); !ok {
		return nil // nothing held in memory to write
	}
	reply := make(chan error, 1)
	return ask(ctx, s.flushRequests, reply, reply)
}
