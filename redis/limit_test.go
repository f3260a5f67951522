package redis_test

import (
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/redis"
	"github.com/fourd/fourd/storetest"
)

func TestLoginLimiter(t *testing.T) {
	t.Parallel()
	storetest.TestLoginLimiter(t, func(t *testing.T) fourd.LoginLimiter { return redis.NewLoginLimiter(redistest.Open(t)) })
}
