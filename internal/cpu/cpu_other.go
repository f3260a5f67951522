//go:build !linux

package cpu

import (
	"os"
	"time"
)

// Without per-thread CPU clocks, every process reports its time in state
// Executing and the process ID stands in for the thread ID.
func gettid() int { return os.Getpid() }

func threadClockID(int) (int32, bool) { return 0, false }

func threadCPUTime(int32) (time.Duration, bool) { return 0, false }
