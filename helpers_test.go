package fourd_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
	os.Exit(0)
}

func fmtSscan(s string, n *int) (int, error) {
	if _, err := fmt.Sscanf(s, "%d", n); err != nil {
		return 0, err
	}
	if fmt.Sprint(*n) != s {
		return 0, fmt.Errorf("not a number: %q", s)
	}
	return 1, nil
}
