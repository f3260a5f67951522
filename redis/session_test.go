package redis_test

import (
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
