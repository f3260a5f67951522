package inmem_test

import (
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/storetest"
)

func TestLoginLimiter(t *testing.T) {
	storetest.TestLoginLimiter(t, func(*testing.T) fourd.LoginLimiter { return inmem.NewLoginLimiter() })
}
