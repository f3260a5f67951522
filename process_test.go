package fourd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/internal/servertest"
)

func newTable(tb testing.TB) *inmem.ProcessTable {
	tb.Helper()
	t := inmem.NewProcessTable()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := t.Close(ctx); err != nil {
			tb.Errorf("close process table: %v", err)
		}
	})
	return t
}

func track(tb testing.TB, t *inmem.ProcessTable, spec fourd.ProcessSpec) *fourd.Process {
	tb.Helper()
	p, err := t.Track(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestProcessContext(t *testing.T) {
	t.Run("AbortClosesDoneWithCause", func(t *testing.T) {
		p := track(t, newTable(t), fourd.ProcessSpec{Name: "w", Abortable: true})
		defer p.End(nil)
		done := p.Done()
		select {
		case <-done:
			t.Fatal("Done closed before abort")
		default:
		}
		if p.Err() != nil || p.Cause() != nil {
			t.Fatalf("Err, Cause = %v, %v before abort", p.Err(), p.Cause())
		}
		p.Abort(nil)
		<-done
		if !errors.Is(p.Err(), context.Canceled) || !errors.Is(p.Cause(), fourd.ErrAborted) {
			t.Fatalf("Err, Cause = %v, %v; want Canceled, ErrAborted", p.Err(), p.Cause())
		}
	})
	t.Run("AbortBeforeDoneGivesClosedChannel", func(t *testing.T) {
		p := track(t, newTable(t), fourd.ProcessSpec{})
		defer p.End(nil)
		p.Abort(nil)
		select {
		case <-p.Done():
		default:
			t.Fatal("Done not closed after abort")
		}
	})
	t.Run("ParentCancelReachesProcess", func(t *testing.T) {
		parent, cancel := context.WithCancelCause(context.Background())
		p := track(t, newTable(t), fourd.ProcessSpec{Parent: parent})
		defer p.End(nil)
		done := p.Done()
		cause := errors.New("client went away")
		cancel(cause)
		<-done
		if !errors.Is(p.Err(), context.Canceled) || !errors.Is(p.Cause(), cause) {
			t.Fatalf("Err, Cause = %v, %v", p.Err(), p.Cause())
		}
	})
	t.Run("ParentCancelSeenByErrWithoutDone", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		p := track(t, newTable(t), fourd.ProcessSpec{Parent: parent})
		defer p.End(nil)
		cancel()
		if !errors.Is(p.Err(), context.Canceled) {
			t.Fatalf("Err = %v", p.Err())
		}
		<-p.Done()
	})
	t.Run("DerivedContextCancelledByAbort", func(t *testing.T) {
		p := track(t, newTable(t), fourd.ProcessSpec{})
		defer p.End(nil)
		child, cancel := context.WithTimeout(p, time.Hour)
		defer cancel()
		if fourd.CurrentProcess(child) != p {
			t.Fatal("CurrentProcess(child) is not the process")
		}
		p.Abort(nil)
		<-child.Done()
		if !errors.Is(context.Cause(child), fourd.ErrAborted) {
			t.Fatalf("child cause = %v, want ErrAborted", context.Cause(child))
		}
	})
	t.Run("CauseIsOwnNotParents", func(t *testing.T) {
		// A request's parent context is itself cancellable; aborting the
		// process must not report the parent's (nil) cause.
		parent, cancel := context.WithCancel(context.Background())
		defer cancel()
		p := track(t, newTable(t), fourd.ProcessSpec{Parent: parent})
		defer p.End(nil)
		if context.Cause(p) != nil {
			t.Fatalf("cause %v before abort", context.Cause(p))
		}
		p.Abort(nil)
		if !errors.Is(context.Cause(p), fourd.ErrAborted) || parent.Err() != nil {
			t.Fatalf("context.Cause(p) = %v, parent.Err() = %v", context.Cause(p), parent.Err())
		}
	})
	t.Run("EndedWithoutContextReportsCanceled", func(t *testing.T) {
		p := track(t, newTable(t), fourd.ProcessSpec{})
		p.End(nil)
		if !errors.Is(p.Err(), context.Canceled) || !errors.Is(p.Cause(), context.Canceled) {
			t.Fatalf("Err, Cause = %v, %v", p.Err(), p.Cause())
		}
		<-p.Done()
	})
	t.Run("ValueDelegatesToParent", func(t *testing.T) {
		type key struct{}
		parent := context.WithValue(context.Background(), key{}, "v")
		p := track(t, newTable(t), fourd.ProcessSpec{Parent: parent})
		defer p.End(nil)
		if p.Value(key{}) != "v" {
			t.Fatal("parent value lost")
		}
		if fourd.CurrentProcess(context.Background()) != nil {
			t.Fatal("CurrentProcess of a plain context is not nil")
		}
	})
}

func TestProcessEnd(t *testing.T) {
	tab := newTable(t)
	p := track(t, tab, fourd.ProcessSpec{Name: "job"})
	if got := p.State(); got != fourd.StateExecuting {
		t.Fatalf("new process state %v", got)
	}
	ended := p.Ended()
	want := errors.New("result")
	p.End(want)
	p.End(nil) // idempotent
	<-ended
	<-p.Ended()
	if p.State() != fourd.StateAborted {
		t.Fatalf("ended state = %v, want Aborted", p.State())
	}
	if p.Result() != want {
		t.Fatalf("Result = %v", p.Result())
	}
	if p.Err() == nil {
		t.Fatal("context of an ended process is not cancelled")
	}
	if tab.Process(p.Number()) != nil || tab.ProcessByID(p.ID()) != nil {
		t.Fatal("ended process still in the table")
	}
}

func TestProcessRunRecoversPanic(t *testing.T) {
	tab := newTable(t)
	p, err := tab.Start(fourd.ProcessSpec{Name: "boom"}, func(*fourd.Process) error { panic("kaboom") })
	if err != nil {
		t.Fatal(err)
	}
	<-p.Ended()
	if p.Result() == nil || p.Result().Error() != "process panicked: kaboom" {
		t.Fatalf("Result = %v", p.Result())
	}
}

func TestCheckpoint(t *testing.T) {
	// body runs Checkpoint in a loop and reports each return.
	start := func(t *testing.T) (*fourd.Process, chan error) {
		tab := newTable(t)
		passed := make(chan error, 100)
		p, err := tab.Start(fourd.ProcessSpec{Abortable: true}, func(p *fourd.Process) error {
			for {
				err := p.Checkpoint()
				passed <- err
				if err != nil {
					return err
				}
				select {
				case <-p.Done():
				case <-time.After(time.Millisecond):
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return p, passed
	}
	t.Run("PauseBlocksUntilResume", func(t *testing.T) {
		p, passed := start(t)
		p.Pause()
		servertest.Eventually(t, "state Paused", func() bool { return p.State() == fourd.StatePaused })
		drain(passed)
		select {
		case <-passed:
			t.Fatal("checkpoint passed while paused")
		case <-time.After(30 * time.Millisecond):
		}
		p.Resume()
		if err := <-passed; err != nil {
			t.Fatal(err)
		}
		servertest.Eventually(t, "state Executing", func() bool { return p.State() == fourd.StateExecuting })
	})
	t.Run("DelayShowsDelayedThenExecuting", func(t *testing.T) {
		p, passed := start(t)
		p.Delay(time.Hour)
		servertest.Eventually(t, "state Delayed", func() bool { return p.State() == fourd.StateDelayed })
		p.Delay(0) // cancels the remaining time
		servertest.Eventually(t, "state Executing", func() bool { return p.State() == fourd.StateExecuting })
		p.Delay(20 * time.Millisecond)
		servertest.Eventually(t, "state Delayed", func() bool { return p.State() == fourd.StateDelayed })
		servertest.Eventually(t, "delay to run out", func() bool { return p.State() == fourd.StateExecuting })
		_ = passed
	})
	t.Run("DelayedProcessBecomesPaused", func(t *testing.T) {
		p, _ := start(t)
		p.Delay(time.Hour)
		servertest.Eventually(t, "state Delayed", func() bool { return p.State() == fourd.StateDelayed })
		p.Pause()
		servertest.Eventually(t, "state Paused", func() bool { return p.State() == fourd.StatePaused })
		p.Resume()
		servertest.Eventually(t, "state Executing", func() bool { return p.State() == fourd.StateExecuting })
	})
	t.Run("AbortWhilePausedEnds", func(t *testing.T) {
		p, passed := start(t)
		p.Pause()
		servertest.Eventually(t, "state Paused", func() bool { return p.State() == fourd.StatePaused })
		p.Abort(nil)
		<-p.Ended()
		var last error
		for err := range drainAll(passed) {
			last = err
		}
		if !errors.Is(last, context.Canceled) {
			t.Fatalf("last checkpoint returned %v, want context.Canceled", last)
		}
		if p.State() != fourd.StateAborted {
			t.Fatalf("state %v", p.State())
		}
	})
	t.Run("SleepReturnsEarlyOnResume", func(t *testing.T) {
		tab := newTable(t)
		slept := make(chan error, 1)
		p, err := tab.Start(fourd.ProcessSpec{}, func(p *fourd.Process) error {
			err := p.Sleep(time.Hour)
			slept <- err
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		servertest.Eventually(t, "state Delayed", func() bool { return p.State() == fourd.StateDelayed })
		p.Resume()
		if err := <-slept; err != nil {
			t.Fatal(err)
		}
	})
}

func drain(c chan error) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

func drainAll(c chan error) chan error {
	out := make(chan error, cap(c))
	for {
		select {
		case e := <-c:
			out <- e
		default:
			close(out)
			return out
		}
	}
}

func TestWaitState(t *testing.T) {
	p := track(t, newTable(t), fourd.ProcessSpec{})
	defer p.End(nil)
	done := p.Wait(fourd.StateWaitingForInputOutput)
	if p.State() != fourd.StateWaitingForInputOutput {
		t.Fatalf("state %v", p.State())
	}
	done()
	if p.State() != fourd.StateExecuting {
		t.Fatalf("state %v", p.State())
	}
}

func TestCPUTime(t *testing.T) {
	t.Run("BoundProcessReportsCPUNotWallTime", func(t *testing.T) {
		tab := newTable(t)
		release := make(chan struct{})
		p, err := tab.Start(fourd.ProcessSpec{}, func(p *fourd.Process) error {
			<-release // blocked: no CPU used, although Executing
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		cpu := p.CPUTime()
		close(release)
		<-p.Ended()
		if p.SystemID() == "" {
			t.Fatal("no systemID")
		}
		if cpu >= 100*time.Millisecond {
			t.Fatalf("a process blocked for 200ms reports %v of CPU: wall time, not CPU time", cpu)
		}
	})
	t.Run("BusyProcessAccumulatesCPU", func(t *testing.T) {
		tab := newTable(t)
		p, err := tab.Start(fourd.ProcessSpec{}, func(p *fourd.Process) error {
			x := 0
			for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
				x++
			}
			_ = x
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		<-p.Ended()
		if p.CPUTime() <= 0 {
			t.Fatalf("busy process reports CPU time %v", p.CPUTime())
		}
		if got := p.Info().CPUTime; got != p.CPUTime().Seconds() {
			t.Fatalf("Info().CPUTime = %v, want %v (frozen at end)", got, p.CPUTime().Seconds())
		}
	})
	t.Run("TrackedProcessCountsExecutingTimeOnly", func(t *testing.T) {
		p := track(t, newTable(t), fourd.ProcessSpec{})
		done := p.Wait(fourd.StateWaitingForInputOutput)
		time.Sleep(100 * time.Millisecond)
		done()
		p.End(nil)
		if p.CPUTime() >= 50*time.Millisecond {
			t.Fatalf("time spent waiting counted as CPU: %v", p.CPUTime())
		}
	})
	t.Run("UsageWithinZeroOne", func(t *testing.T) {
		p := track(t, newTable(t), fourd.ProcessSpec{})
		defer p.End(nil)
		p.Sample(time.Now())
		time.Sleep(5 * time.Millisecond)
		p.Sample(time.Now())
		if u := p.CPUUsage(); u < 0 || u > 1 {
			t.Fatalf("usage %v", u)
		}
	})
}

func TestProcessTypeNames(t *testing.T) {
	names := map[string]fourd.ProcessType{}
	for v := fourd.ProcessType(-58); v <= 5; v++ {
		s := v.String()
		if s == "" {
			t.Fatalf("empty name for %d", v)
		}
		if _, err := parseInt(s); err == nil {
			continue // not a 4D type
		}
		if prev, dup := names[s]; dup {
			t.Fatalf("%q names both %d and %d", s, prev, v)
		}
		names[s] = v
	}
	if len(names) != 54 {
		t.Fatalf("%d process types named, 4D has 54", len(names))
	}
	for s, v := range map[string]fourd.ProcessType{"HTTP Listener": -56, "Internal timer process": -25, "Main process": -1, "Worker process": 5, "Cache manager": -4, "DB4D Flush cache": -46, "Indexing process": -5} {
		if names[s] != v {
			t.Errorf("%q = %d, want %d", s, names[s], v)
		}
	}
	if fourd.StateWaitingForInternalFlag.String() != "Waiting for internal flag" || fourd.ProcessState(42).String() != "42" {
		t.Fatal("state names")
	}
	if !fourd.StateExecuting.Live() || fourd.StateAborted.Live() || fourd.StateDoesNotExist.Live() {
		t.Fatal("Live")
	}
}

func parseInt(s string) (int, error) {
	var n int
	_, err := fmtSscan(s, &n)
	return n, err
}
