package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/redis"
)

// BenchmarkRequestState measures the store calls of a request's hot path,
// Redis against memory: a session's lookup and touch (every request), and
// the Get of an entity set of 1,000 sorted rows that this node has
// decoded (a page of a set). See docs/performance.md.
func BenchmarkRequestState(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	db := redistest.Open(b)
	rows := make([]fourd.RowID, 1000)
	for i := range rows {
		rows[i] = fourd.RowID(999 - i)
	}
	for _, backend := range []struct {
		name     string
		sessions fourd.SessionStore
		sets     fourd.EntitySetStore
	}{
		{"InMemory", inmem.NewSessionStore(), inmem.NewEntitySetStore(1 << 30)},
		{"Redis", redis.NewSessionStore(db), redis.NewEntitySetStore(db, 1<<30)},
	} {
		s := fourd.NewSession(fourd.SessionREST, now, time.Hour)
		if err := backend.sessions.Create(ctx, s); err != nil {
			b.Fatal(err)
		}
		es := &fourd.EntitySet{ID: fourd.NewID(), DataClass: "Note", Rows: backend.sets.NewRowSet(rows, true),
			SessionID: s.ID, Created: now, Refreshed: now, Timeout: time.Hour}
		if err := backend.sets.Put(ctx, es); err != nil {
			b.Fatal(err)
		}
		b.Run(backend.name+"/SessionAndTouch", func(b *testing.B) {
			for b.Loop() {
				got, err := backend.sessions.Session(ctx, s.ID)
				if err != nil {
					b.Fatal(err)
				}
				if err := backend.sessions.Touch(ctx, got.ID, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(backend.name+"/EntitySetGet", func(b *testing.B) {
			for b.Loop() {
				got, err := backend.sets.Get(ctx, es.ID, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				got.Rows.Page(500, 20)
			}
		})
	}
}
