package inmem_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/internal/servertest"
)

func TestWorkers(t *testing.T) {
	t.Run("MessagesRunInOrderOnOneProcess", func(t *testing.T) {
		ws := inmem.NewWorkers(MustOpenTable(t), "SP")
		var mu sync.Mutex
		var order []int
		var procIDs = map[int64]bool{}
		done := make(chan struct{})
		const n = 200
		for i := 0; i < n; i++ {
			if err := ws.Call("w", func(p *fourd.Process) error {
				mu.Lock()
				order = append(order, i)
				procIDs[p.ID()] = true
				if p.Type() != fourd.TypeWorkerProcess || p.SessionID() != "SP" || p.Name() != "w" {
					t.Errorf("worker process %v %q %q", p.Type(), p.SessionID(), p.Name())
				}
				mu.Unlock()
				if i == n-1 {
					close(done)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		<-done
		mu.Lock()
		defer mu.Unlock()
		for i, v := range order {
			if v != i {
				t.Fatalf("message %d ran at position %d", v, i)
			}
		}
		if len(procIDs) != 1 {
			t.Fatalf("messages ran on %d processes, want 1", len(procIDs))
		}
		p := ws.Process("w")
		servertest.Eventually(t, "worker to wait for messages", func() bool { return p.State() == fourd.StateWaitingForInternalFlag })
	})
	t.Run("KillThenCallStartsNewProcess", func(t *testing.T) {
		ws := inmem.NewWorkers(MustOpenTable(t), "SP")
		first := make(chan *fourd.Process, 1)
		if err := ws.Call("w", func(p *fourd.Process) error { first <- p; return nil }); err != nil {
			t.Fatal(err)
		}
		p1 := <-first
		if err := ws.Kill("w"); err != nil {
			t.Fatal(err)
		}
		<-p1.Ended()
		second := make(chan *fourd.Process, 1)
		if err := ws.Call("w", func(p *fourd.Process) error { second <- p; return nil }); err != nil {
			t.Fatal(err)
		}
		p2 := <-second
		if p2.ID() == p1.ID() {
			t.Fatal("the killed worker's process ran the new message")
		}
		if err := ws.Kill("nobody"); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("kill unknown: %v", err)
		}
	})
	t.Run("KillDropsPendingAndCallDuringKillWaitsForEnd", func(t *testing.T) {
		ws := inmem.NewWorkers(MustOpenTable(t), "SP")
		started, release := make(chan *fourd.Process), make(chan struct{})
		ran := make(chan string, 10)
		_ = ws.Call("w", func(p *fourd.Process) error { started <- p; <-release; ran <- "busy"; return nil })
		_ = ws.Call("w", func(*fourd.Process) error { ran <- "dropped"; return nil })
		p1 := <-started
		_ = ws.Kill("w")
		next := make(chan *fourd.Process, 1)
		_ = ws.Call("w", func(p *fourd.Process) error { ran <- "after"; next <- p; return nil })
		close(release)
		p2 := <-next
		<-p1.Ended()
		if p2.ID() == p1.ID() {
			t.Fatal("message posted during the kill ran on the killed process")
		}
		close(ran)
		var got []string
		for s := range ran {
			got = append(got, s)
		}
		if len(got) != 2 || got[0] != "busy" || got[1] != "after" {
			t.Fatalf("ran %v, want [busy after]: the pending message must be dropped", got)
		}
	})
	t.Run("AbortedWorkerRestartsOnNextMessage", func(t *testing.T) {
		ws := inmem.NewWorkers(MustOpenTable(t), "SP")
		got := make(chan *fourd.Process, 1)
		_ = ws.Call("w", func(p *fourd.Process) error { got <- p; return nil })
		p1 := <-got
		servertest.Eventually(t, "worker waiting", func() bool { return p1.State() == fourd.StateWaitingForInternalFlag })
		p1.Abort(nil)
		<-p1.Ended()
		if !errors.Is(p1.Cause(), fourd.ErrAborted) {
			t.Fatalf("cause %v", p1.Cause())
		}
		servertest.Eventually(t, "worker to lose its process", func() bool { return ws.Process("w") == nil })
		_ = ws.Call("w", func(p *fourd.Process) error { got <- p; return nil })
		if p2 := <-got; p2.ID() == p1.ID() {
			t.Fatal("no new process")
		}
	})
	t.Run("FailingMessagesDoNotEndWorker", func(t *testing.T) {
		ws := inmem.NewWorkers(MustOpenTable(t), "SP")
		ws.Logger = discardLogger()
		_ = ws.Call("w", func(*fourd.Process) error { return errors.New("fails") })
		_ = ws.Call("w", func(*fourd.Process) error { panic("boom") })
		got := make(chan *fourd.Process, 1)
		_ = ws.Call("w", func(p *fourd.Process) error { got <- p; return nil })
		p := <-got
		if p.Err() != nil {
			t.Fatal("worker ended after failing messages")
		}
	})
	t.Run("ErrBadCall", func(t *testing.T) {
		ws := inmem.NewWorkers(MustOpenTable(t), "SP")
		if err := ws.Call("", func(*fourd.Process) error { return nil }); fourd.ErrorCode(err) != fourd.EINVALID {
			t.Fatalf("empty name: %v", err)
		}
		if err := ws.Call("w", nil); fourd.ErrorCode(err) != fourd.EINVALID {
			t.Fatalf("nil message: %v", err)
		}
	})
}
