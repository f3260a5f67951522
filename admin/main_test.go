package admin_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: the
// servers, clients and the browser's connection must all be closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
