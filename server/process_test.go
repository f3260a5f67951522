package server_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

// startBlocked starts a user process with start that waits until its
// context is done, and returns once it runs.
func startBlocked(t *testing.T, start func(string, func(*fourd.Process) error) (*fourd.Process, error), name string) *fourd.Process {
	t.Helper()
	running := make(chan struct{})
	p, err := start(name, func(p *fourd.Process) error {
		close(running)
		<-p.Done()
		return p.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	servertest.Receive(t, name+" start", running)
	t.Cleanup(func() { p.Abort(nil); <-p.Ended() })
	return p
}

func TestNewProcess(t *testing.T) {
	clock := servertest.NewClock(servertest.T0)
	srv := MustOpenServer(t, servertest.WithClock(clock))
	spID := srv.StoredProcedureSession().ID

	for _, tt := range []struct {
		name  string
		start func(string, func(*fourd.Process) error) (*fourd.Process, error)
		typ   fourd.ProcessType
	}{
		{"NewProcess", srv.NewProcess, fourd.TypeOtherUserProcess},
		{"ExecuteOnServer", srv.ExecuteOnServer, fourd.TypeExecuteOnServerProcess},
	} {
		t.Run(tt.name, func(t *testing.T) {
			created := clock.Advance(time.Second)
			p := startBlocked(t, tt.start, "job "+tt.name)
			got := srv.ProcessInfo(p.Number())
			if got == nil {
				t.Fatalf("ProcessInfo(%d) = nil for a live process", p.Number())
			}
			if got.SystemID == "" {
				t.Error("systemID is empty")
			}
			if got.CPUTime < 0 || got.CPUUsage < 0 || got.CPUUsage > 1 {
				t.Errorf("cpuTime %v, cpuUsage %v: want cpuTime >= 0 and 0 <= cpuUsage <= 1", got.CPUTime, got.CPUUsage)
			}
			want := fourd.ProcessInfo{
				Number:           p.Number(),
				Name:             "job " + tt.name,
				SessionID:        spID,
				ID:               p.ID(),
				Visible:          true,
				Type:             tt.typ,
				State:            fourd.StateExecuting,
				CreationDateTime: created,
				Preemptive:       true,
				SystemID:         got.SystemID,
				CPUUsage:         got.CPUUsage,
				CPUTime:          got.CPUTime,
				Node:             srv.Node,
			}
			if *got != want {
				t.Errorf("ProcessInfo(%d) =\n%+v\nwant\n%+v", p.Number(), *got, want)
			}
			if got.SystemID != p.SystemID() {
				t.Errorf("systemID %q, process says %q", got.SystemID, p.SystemID())
			}
		})
	}
	t.Run("NullForUnknownNumber", func(t *testing.T) {
		for _, n := range []int{0, -1, 1000} {
			if got := srv.ProcessInfo(n); got != nil {
				t.Errorf("ProcessInfo(%d) = %+v, want nil", n, got)
			}
		}
	})
	t.Run("ErrNoBody", func(t *testing.T) {
		if _, err := srv.NewProcess("nothing", nil); fourd.ErrorCode(err) != fourd.EINVALID {
			t.Errorf("NewProcess with no body: %v, want code %q", err, fourd.EINVALID)
		}
	})
	t.Run("ErrUnknownProcess", func(t *testing.T) {
		for name, err := range map[string]error{
			"AbortProcessByID": srv.AbortProcessByID(1 << 40),
			"PauseProcess":     srv.PauseProcess(1000),
			"DelayProcess":     srv.DelayProcess(1000, time.Second),
			"ResumeProcess":    srv.ResumeProcess(1000),
		} {
			if code := fourd.ErrorCode(err); code != fourd.ENOTFOUND {
				t.Errorf("%s: %v (code %q), want code %q", name, err, code, fourd.ENOTFOUND)
			}
		}
	})
}

func TestAbortProcessByID(t *testing.T) {
	srv := MustOpenServer(t)
	for _, tt := range []struct {
		name string
		wait func(p *fourd.Process)
	}{
		{"OKDone", func(p *fourd.Process) { <-p.Done() }},
		{"OKSelect", func(p *fourd.Process) {
			never := make(chan struct{})
			select {
			case <-p.Done():
			case <-never:
			}
		}},
		{"OKDerivedContext", func(p *fourd.Process) {
			ctx, cancel := context.WithTimeout(p, time.Hour)
			defer cancel()
			<-ctx.Done()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			running := make(chan struct{})
			stopped := make(chan struct{})
			p, err := srv.NewProcess("abort me", func(p *fourd.Process) error {
				close(running)
				tt.wait(p)
				close(stopped)
				return p.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			servertest.Receive(t, "process start", running)
			number, id := p.Number(), p.ID()
			ended := p.Ended() // asked before the end: see TestProcessEnded_WhileEnding

			if err := srv.AbortProcessByID(id); err != nil {
				t.Fatalf("AbortProcessByID(%d): %v", id, err)
			}
			servertest.Receive(t, "the work to stop", stopped)
			servertest.Receive(t, "the process to end", ended)
			if p.State() != fourd.StateAborted {
				t.Errorf("final state = %v, want Aborted", p.State())
			}
			if p.Cause() != fourd.ErrAborted {
				t.Errorf("cause = %v, want %v", p.Cause(), fourd.ErrAborted)
			}
			if !errors.Is(p.Result(), context.Canceled) {
				t.Errorf("result = %v, want context.Canceled", p.Result())
			}
			if got := srv.Processes.ProcessByID(id); got != nil {
				t.Errorf("process %d still in the table", id)
			}
			if got := srv.ProcessInfo(number); got != nil && got.ID == id {
				t.Errorf("ProcessInfo(%d) still shows the aborted process", number)
			}
			if err := srv.AbortProcessByID(id); fourd.ErrorCode(err) != fourd.ENOTFOUND {
				t.Errorf("second AbortProcessByID: %v, want code %q", err, fourd.ENOTFOUND)
			}
		})
	}
}

// checkpointer starts a process that, each time it is told, passes one
// checkpoint and reports what Checkpoint returned.
type checkpointer struct {
	p    *fourd.Process
	step chan struct{}
	past chan error
}

func startCheckpointer(t *testing.T, srv *server.Server) *checkpointer {
	t.Helper()
	c := &checkpointer{step: make(chan struct{}), past: make(chan error)}
	running := make(chan struct{})
	p, err := srv.NewProcess("checkpointer", func(p *fourd.Process) error {
		close(running)
		for {
			select {
			case <-c.step:
			case <-p.Done():
				return p.Err()
			}
			err := p.Checkpoint()
			select {
			case c.past <- err:
			case <-p.Done():
				return p.Err()
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	servertest.Receive(t, "process start", running)
	c.p = p
	t.Cleanup(func() { p.Abort(nil); <-p.Ended() })
	return c
}

func (c *checkpointer) state(srv *server.Server) fourd.ProcessState {
	info := srv.ProcessInfo(c.p.Number())
	if info == nil || info.ID != c.p.ID() {
		return fourd.StateDoesNotExist
	}
	return info.State
}

func TestPauseProcess(t *testing.T) {
	srv := MustOpenServer(t)
	c := startCheckpointer(t, srv)
	n := c.p.Number()

	if err := srv.PauseProcess(n); err != nil {
		t.Fatal(err)
	}
	if got := c.state(srv); got != fourd.StateExecuting {
		t.Fatalf("state before the checkpoint = %v, want Executing (a pause is honoured at the next checkpoint)", got)
	}
	c.step <- struct{}{}
	servertest.Eventually(t, "Paused", func() bool { return c.state(srv) == fourd.StatePaused })
	select {
	case err := <-c.past:
		t.Fatalf("Checkpoint returned %v while paused", err)
	default:
	}

	if err := srv.ResumeProcess(n); err != nil {
		t.Fatal(err)
	}
	if err := servertest.Receive(t, "Checkpoint after Resume", c.past); err != nil {
		t.Fatalf("Checkpoint after Resume: %v", err)
	}
	if got := c.state(srv); got != fourd.StateExecuting {
		t.Errorf("state after Resume = %v, want Executing", got)
	}

	t.Run("ErrAbortedWhilePaused", func(t *testing.T) {
		if err := srv.PauseProcess(n); err != nil {
			t.Fatal(err)
		}
		c.step <- struct{}{}
		servertest.Eventually(t, "Paused", func() bool { return c.state(srv) == fourd.StatePaused })
		if err := srv.AbortProcessByID(c.p.ID()); err != nil {
			t.Fatal(err)
		}
		// The process may end before it reports; either way it ends.
		select {
		case err := <-c.past:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Checkpoint of an aborted paused process: %v, want context.Canceled", err)
			}
		case <-c.p.Ended():
		}
		servertest.Receive(t, "the process to end", c.p.Ended())
		if c.p.Cause() != fourd.ErrAborted {
			t.Errorf("cause = %v, want %v", c.p.Cause(), fourd.ErrAborted)
		}
	})
}

func TestDelayProcess(t *testing.T) {
	srv := MustOpenServer(t)
	c := startCheckpointer(t, srv)
	n := c.p.Number()

	if err := srv.DelayProcess(n, time.Hour); err != nil {
		t.Fatal(err)
	}
	c.step <- struct{}{}
	servertest.Eventually(t, "Delayed", func() bool { return c.state(srv) == fourd.StateDelayed })
	select {
	case err := <-c.past:
		t.Fatalf("Checkpoint returned %v during a delay of an hour", err)
	default:
	}
	// A new delay replaces the remaining time; this one runs out by itself.
	if err := srv.DelayProcess(n, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := servertest.Receive(t, "Checkpoint after the delay", c.past); err != nil {
		t.Fatalf("Checkpoint after the delay: %v", err)
	}
	if got := c.state(srv); got != fourd.StateExecuting {
		t.Errorf("state after the delay = %v, want Executing", got)
	}

	t.Run("OKResumeEndsDelay", func(t *testing.T) {
		if err := srv.DelayProcess(n, time.Hour); err != nil {
			t.Fatal(err)
		}
		c.step <- struct{}{}
		servertest.Eventually(t, "Delayed", func() bool { return c.state(srv) == fourd.StateDelayed })
		if err := srv.ResumeProcess(n); err != nil {
			t.Fatal(err)
		}
		if err := servertest.Receive(t, "Checkpoint after Resume", c.past); err != nil {
			t.Fatalf("Checkpoint after Resume: %v", err)
		}
	})
}

func TestCallWorker(t *testing.T) {
	srv := MustOpenServer(t)
	spID := srv.StoredProcedureSession().ID

	const n = 100
	var mu sync.Mutex
	var order []int
	var ids []int64
	last := make(chan struct{})
	for i := 0; i < n; i++ {
		err := srv.CallWorker("w", func(p *fourd.Process) error {
			mu.Lock()
			order = append(order, i)
			ids = append(ids, p.ID())
			mu.Unlock()
			if i == n-1 {
				close(last)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("CallWorker #%d: %v", i, err)
		}
	}
	servertest.Receive(t, "the last message", last)

	t.Run("OKInOrderOnOneProcess", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		if len(order) != n {
			t.Fatalf("%d messages ran, want %d", len(order), n)
		}
		for i := range order {
			if order[i] != i {
				t.Fatalf("message #%d ran in position %d; order %v", order[i], i, order)
			}
			if ids[i] != ids[0] {
				t.Fatalf("message #%d ran on process ID %d, message #0 on %d", i, ids[i], ids[0])
			}
		}
	})

	p := srv.Workers.Process("w")
	if p == nil {
		t.Fatal("worker has no process after its messages")
	}
	first := p.ID()
	t.Run("OKWaitsBetweenMessages", func(t *testing.T) {
		if p.ID() != ids[0] {
			t.Fatalf("worker process ID %d, messages ran on %d", p.ID(), ids[0])
		}
		servertest.Eventually(t, "waiting for internal flag", func() bool {
			info := srv.ProcessInfo(p.Number())
			return info != nil && info.ID == first && info.State == fourd.StateWaitingForInternalFlag
		})
		info := srv.ProcessInfo(p.Number())
		if info.Type != fourd.TypeWorkerProcess || info.Name != "w" || info.SessionID != spID || !info.Visible {
			t.Errorf("worker process = type %v name %q session %q visible %v; want Worker process \"w\" in %s, visible",
				info.Type, info.Name, info.SessionID, info.Visible, spID)
		}
	})

	// runOne posts a message and returns the ID of the process that ran it.
	runOne := func(t *testing.T) int64 {
		t.Helper()
		got := make(chan int64, 1)
		if err := srv.CallWorker("w", func(p *fourd.Process) error { got <- p.ID(); return nil }); err != nil {
			t.Fatal(err)
		}
		return servertest.Receive(t, "the message to run", got)
	}

	t.Run("OKKillThenRestart", func(t *testing.T) {
		ended := p.Ended() // asked before the end: see TestProcessEnded_WhileEnding
		if err := srv.KillWorker("w"); err != nil {
			t.Fatal(err)
		}
		servertest.Receive(t, "the killed worker to end", ended)
		if srv.Processes.ProcessByID(first) != nil {
			t.Error("killed worker still in the table")
		}
		id := runOne(t)
		if id == first {
			t.Fatalf("message after KillWorker ran on the killed process %d", id)
		}
		if q := srv.Workers.Process("w"); q == nil || q.ID() != id {
			t.Errorf("worker's process is %v, message ran on %d", q, id)
		}
	})

	t.Run("OKAbortThenRestart", func(t *testing.T) {
		q := srv.Workers.Process("w")
		if q == nil {
			t.Fatal("worker has no process")
		}
		ended := q.Ended() // asked before the end: see TestProcessEnded_WhileEnding
		if err := srv.AbortProcessByID(q.ID()); err != nil {
			t.Fatal(err)
		}
		servertest.Receive(t, "the aborted worker to end", ended)
		if srv.Processes.ProcessByID(q.ID()) != nil {
			t.Error("aborted worker still in the table")
		}
		if q.Cause() != fourd.ErrAborted {
			t.Errorf("cause = %v, want %v", q.Cause(), fourd.ErrAborted)
		}
		id := runOne(t)
		if id == q.ID() {
			t.Fatalf("message after abort ran on the aborted process %d", id)
		}
	})

	t.Run("ErrUnknownWorker", func(t *testing.T) {
		if err := srv.KillWorker("nobody"); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Errorf("KillWorker(unknown): %v, want code %q", err, fourd.ENOTFOUND)
		}
	})
	t.Run("ErrNoName", func(t *testing.T) {
		if err := srv.CallWorker("", func(*fourd.Process) error { return nil }); fourd.ErrorCode(err) != fourd.EINVALID {
			t.Errorf("CallWorker(\"\"): %v, want code %q", err, fourd.EINVALID)
		}
	})
}

func TestCallWorker_ManyWorkers(t *testing.T) {
	srv := MustOpenServer(t)
	const workers, msgs = 8, 20
	var wg sync.WaitGroup
	results := make([][]int, workers)
	var mu sync.Mutex
	wg.Add(workers * msgs)
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < msgs; i++ {
				err := srv.CallWorker(fmt.Sprintf("w%d", w), func(*fourd.Process) error {
					mu.Lock()
					results[w] = append(results[w], i)
					mu.Unlock()
					wg.Done()
					return nil
				})
				if err != nil {
					t.Error(err)
					wg.Done()
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	servertest.Receive(t, "every message", done)
	for w, got := range results {
		for i := range got {
			if got[i] != i {
				t.Fatalf("worker w%d ran messages in order %v", w, got)
			}
		}
	}
}

// TestProcessEnded_WhileEnding checks that a channel from Ended, asked for
// at any time, is closed only once the process has really ended: state
// Aborted, out of the table.
func TestProcessEnded_WhileEnding(t *testing.T) {
	srv := MustOpenServer(t)
	for i := 0; i < 2000; i++ {
		returned := make(chan struct{})
		p, err := srv.NewProcess("short", func(*fourd.Process) error { close(returned); return nil })
		if err != nil {
			t.Fatal(err)
		}
		servertest.Receive(t, "the body to return", returned)
		servertest.Receive(t, "the process to end", p.Ended())
		if p.State() != fourd.StateAborted || srv.Processes.ProcessByID(p.ID()) != nil {
			t.Fatalf("run %d: after <-Ended(), state %v, in table %v; want Aborted, gone",
				i, p.State(), srv.Processes.ProcessByID(p.ID()) != nil)
		}
	}
}
