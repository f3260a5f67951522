//go:build linux

package cpu

import (
	"syscall"
	"time"
	"unsafe"
)

func gettid() int { return syscall.Gettid() }

// threadClockID returns the CPU clock of thread tid, as the kernel encodes
// it (MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)); it can be read from any
// thread of the process.
func threadClockID(tid int) (int32, bool) {
	return int32(^uint32(tid)<<3 | 6), true
}

func threadCPUTime(clockID int32) (time.Duration, bool) {
	var ts syscall.Timespec
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, uintptr(clockID), uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
