// Package cpu accounts the CPU time of fourd's processes (fourd.Process's
// cpuTime and cpuUsage).
//
// Go does not account CPU time per goroutine, so fourd measures it two ways
// and says which:
//
//   - A process whose work fourd runs on a goroutine bound to its own OS
//     thread (the internal processes, and user processes up to the table's
//     bound-thread limit; see inmem.ProcessTable.MaxBoundThreads) reports
//     the thread's real CPU time, read from the kernel's per-thread CPU
//     clock (CLOCK_THREAD_CPUTIME_ID) on Linux. A bound thread runs no other
//     goroutine, so that is exactly the process's CPU time, user and system.
//     Its systemID is that thread's ID.
//   - Any other process (REST requests, which Go's scheduler moves between
//     threads, user processes past the limit, every process on a system
//     without per-thread clocks) reports the wall-clock time it has spent in
//     state Executing: an upper bound of its CPU time that excludes the time
//     it was Delayed, Paused or Waiting. Its systemID is the ID of the OS
//     thread that started it.
//
// cpuUsage is the CPU time spent during the last sampling window divided by
// the window's length (1 s by default, set by the server), clamped to 0..1;
// before its first window closes, a process reports its share since creation.
package cpu

import (
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Account is the CPU accounting of one process. Its zero value is ready
// once Start is called; it is safe for concurrent use, except Sample,
// which one sampler calls at a time.
type Account struct {
	mu        sync.Mutex
	execSince time.Time     // monotonic time it entered Executing; zero when not executing
	execTotal time.Duration // wall time spent Executing before execSince
	thread    bool          // CPU time comes from a thread clock
	bound     bool          // still bound to the thread
	clockID   int32         // the bound thread's CPU clock
	base      time.Duration // thread CPU time when bound
	threadCPU time.Duration // thread CPU time when unbound
	frozen    bool
	final     time.Duration

	// Owned by the sampler; usage is read by anyone.
	lastCPU   time.Duration
	lastAt    time.Time
	usageBits atomic.Uint64
	sampled   atomic.Bool
}

// Start begins the accounting of a process created, executing, at now.
func (c *Account) Start(now time.Time) {
	c.execSince, c.lastAt = now, now
}

// StateChanged notes a change of the process's state: the time spent
// executing is what an unbound process reports.
func (c *Account) StateChanged(wasExecuting, isExecuting bool) {
	now := time.Now()
	c.mu.Lock()
	if wasExecuting && !c.execSince.IsZero() {
		c.execTotal += now.Sub(c.execSince)
		c.execSince = time.Time{}
	}
	if isExecuting {
		c.execSince = now
	}
	c.mu.Unlock()
}

// Time returns the CPU time as of now (a time.Now reading).
func (c *Account) Time(now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeLocked(now)
}

func (c *Account) timeLocked(now time.Time) time.Duration {
	switch {
	case c.frozen:
		return c.final
	case c.bound:
		if n, ok := threadCPUTime(c.clockID); ok {
			return n - c.base
		}
		return c.threadCPU
	case c.thread:
		return c.threadCPU
	}
	t := c.execTotal
	if !c.execSince.IsZero() {
		if d := now.Sub(c.execSince); d > 0 {
			t += d
		}
	}
	return t
}

// Freeze fixes the CPU time for good, when the process ends.
func (c *Account) Freeze(executing bool) {
	c.mu.Lock()
	if !c.frozen {
		c.final = c.timeLocked(time.Now())
		c.frozen = true
	}
	c.mu.Unlock()
}

// Bind locks the calling goroutine to its thread and starts reading the
// thread's CPU clock. Where there is no per-thread clock it only notes the
// thread.
func (c *Account) Bind(systemID *atomic.Pointer[string]) {
	runtime.LockOSThread()
	tid := gettid()
	id, ok := threadClockID(tid)
	if ok {
		if base, ok2 := threadCPUTime(id); ok2 {
			c.mu.Lock()
			c.thread, c.bound, c.clockID, c.base = true, true, id, base
			c.mu.Unlock()
		}
	}
	systemID.Store(threadIDString(tid))
}

// Unbind freezes the thread CPU time and unlocks the thread. It is a no-op
// for an unbound process.
func (c *Account) Unbind() {
	c.mu.Lock()
	wasBound := c.bound
	if c.bound {
		if n, ok := threadCPUTime(c.clockID); ok {
			c.threadCPU = n - c.base
		}
		c.bound = false
	}
	c.mu.Unlock()
	if wasBound {
		runtime.UnlockOSThread()
	}
}

// NoteThread records the ID of the thread that starts an unbound process.
func (c *Account) NoteThread(systemID *atomic.Pointer[string]) {
	systemID.Store(threadIDString(gettid()))
}

// Sample closes a sampling window at now: Usage is then the CPU time
// spent since the previous Sample divided by the time between them.
func (c *Account) Sample(now time.Time) {
	cpu := c.Time(now)
	if !c.lastAt.IsZero() {
		if d := now.Sub(c.lastAt); d > 0 {
			c.usageBits.Store(math.Float64bits(Share(cpu-c.lastCPU, d)))
			c.sampled.Store(true)
		}
	}
	c.lastCPU, c.lastAt = cpu, now
}

// Usage returns the CPU usage of the last sampling window, clamped to
// 0..1, and false before the first window closes.
func (c *Account) Usage() (float64, bool) {
	if !c.sampled.Load() {
		return 0, false
	}
	return math.Float64frombits(c.usageBits.Load()), true
}

// threadIDs caches the decimal form of OS thread IDs: Go reuses a small set
// of threads, so this makes recording a process's thread free of allocation.
var threadIDs sync.Map // int -> *string

func threadIDString(tid int) *string {
	if s, ok := threadIDs.Load(tid); ok {
		return s.(*string)
	}
	s := strconv.Itoa(tid)
	v, _ := threadIDs.LoadOrStore(tid, &s)
	return v.(*string)
}

// Share returns cpu divided by the elapsed time over, clamped to 0..1 (0
// when over is not positive).
func Share(cpu, over time.Duration) float64 {
	f := float64(cpu) / float64(over)
	if over <= 0 || math.IsNaN(f) || f < 0 {
		return 0
	}
	return min(f, 1)
}
