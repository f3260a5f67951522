package rest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/sqlite"
)

// blockingStore holds every Save in flight until told to go on, once
// armed.
type blockingStore struct {
	fourd.Datastore
	armed   chan struct{} // closed: the next Save blocks
	entered chan struct{} // receives when a blocked Save has begun
	release chan struct{} // closed: blocked Saves go on
}

func (s *blockingStore) Save(ctx context.Context, dc *fourd.DataClass, saves []fourd.EntitySave, atomic bool) ([]fourd.SaveResult, error) {
	select {
	case <-s.armed:
		s.entered <- struct{}{}
		<-s.release
	default:
	}
	return s.Datastore.Save(ctx, dc, saves, atomic)
}

// TestLockGate checks that an update holds the lock gate from its lock
// check to the end of its write, so that a $lock waits for it: no session
// is granted a lock on an entity that another one is still changing.
func TestLockGate(t *testing.T) {
	m, err := fourd.ParseModel([]byte(`{"dataClasses":[{"name":"Employee","primaryKey":"ID","attributes":[{"name":"ID","type":"long"},{"name":"salary","type":"number"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "data.sqlite"), m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &blockingStore{Datastore: db, armed: make(chan struct{}), entered: make(chan struct{}, 1), release: make(chan struct{})}
	procs := inmem.NewProcessTable()
	t.Cleanup(func() { _ = procs.Close(context.Background()) })
	h := &Handler{Processes: procs, Registry: inmem.NewProcessRegistry("n1", procs), Sessions: inmem.NewSessionStore(), Data: store, EntitySets: inmem.NewEntitySetStore(1 << 20),
		Locks: inmem.NewLockTable(), Logger: slog.New(slog.DiscardHandler)}
	h.Init()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar}
	}
	do := func(c *http.Client, method, path, body string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := c.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	a, b := client(), client()
	if status := do(a, http.MethodPost, "/rest/Employee?$method=update", `{"salary":1}`); status != http.StatusOK {
		t.Fatalf("create: %d", status)
	}
	close(store.armed)
	updated := make(chan int, 1)
	go func() {
		updated <- do(a, http.MethodPost, "/rest/Employee?$method=update", `{"__KEY":"1","__STAMP":1,"salary":2}`)
	}()
	<-store.entered
	// The update passed its lock check and is writing: no lock may be granted now.
	if h.lockGate.TryLock() {
		h.lockGate.Unlock()
		t.Error("the lock gate is free while a checked update writes")
	}
	locked := make(chan int, 1)
	go func() { locked <- do(b, http.MethodGet, "/rest/Employee(1)?$lock=true", "") }()
	close(store.release)
	if status := <-updated; status != http.StatusOK {
		t.Errorf("update: %d", status)
	}
	if status := <-locked; status != http.StatusOK {
		t.Errorf("lock after the update: %d", status)
	}
}
