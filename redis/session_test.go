package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/redis"
	"github.com/fourd/fourd/storetest"
)

func TestSessionStore(t *testing.T) {
	t.Parallel()
	storetest.TestSessionStore(t, func(t *testing.T, now func() time.Time) fourd.SessionStore {
		st := redis.NewSessionStore(redistest.Open(t))
		st.Now = now
		return st
	})
}

// TestSessionStoreAcrossNodes runs two stores on one DB, as two nodes.
func TestSessionStoreAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := redistest.Open(t)
	t0 := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	clock := storetest.NewClock(t0)
	a, b := redis.NewSessionStore(db), redis.NewSessionStore(db)
	a.Now, b.Now = clock.Now, clock.Now
	s := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	s.IPAddress = "10.0.0.1"
	if err := a.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	t.Run("UpdateThroughOneSeenByOther", func(t *testing.T) {
		if _, err := b.Update(ctx, s.ID, func(cur fourd.Session) (fourd.Session, error) {
			cur.UserName, cur.Privileges = "sam", []string{"WebAdmin"}
			return cur, nil
		}); err != nil {
			t.Fatal(err)
		}
		got, err := a.Session(ctx, s.ID)
		if err != nil || got.UserName != "sam" || !got.HasPrivilege("WebAdmin") {
			t.Fatalf("node a reads %+v, %v after node b's update", got, err)
		}
	})
	t.Run("CountTrimmedAfterRedisExpiredHash", func(t *testing.T) {
		g := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
		g.IPAddress = "10.0.0.2"
		if err := b.Create(ctx, g); err != nil {
			t.Fatal(err)
		}
		// As if Redis's TTL had fired before any node swept the session.
		if err := db.Client.Del(ctx, "{"+db.Prefix+"}:ss:s:"+g.ID).Err(); err != nil {
			t.Fatal(err)
		}
		if n, _ := a.Count(ctx, "10.0.0.2"); n.Total != 2 || n.Guests != 1 || n.GuestsFromAddress != 1 {
			t.Fatalf("Count before the sweep = %+v; the vanished guest still counts until Expire", n)
		}
		clock.Set(t0.Add(time.Hour + fourd.TouchInterval(time.Hour)))
		ids, err := a.Expire(ctx, clock.Now())
		if err != nil || len(ids) != 2 {
			t.Fatalf("Expire = %v, %v; want both sessions", ids, err)
		}
		if n, _ := b.Count(ctx, "10.0.0.2"); n != (fourd.SessionCount{}) {
			t.Fatalf("Count after the sweep = %+v, want zero", n)
		}
	})
}
