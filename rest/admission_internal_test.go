package rest

import (
	"context"
	"runtime"
	"testing"

	"github.com/fourd/fourd"
)

// TestQueriesFairTurns checks the admission of selections: the per-session
// limit, turns between sessions, the per-session queue bound, and a waiter
// that gives up.
func TestQueriesFairTurns(t *testing.T) {
	q := &queries{max: 2, perSession: 1, maxQueued: 3}
	ctx := context.Background()
	got := make(chan string, 16)
	releases := make(chan func(), 16)
	wait := func(id string) {
		go func() {
			release, err := q.acquire(ctx, id)
			if err != nil {
				got <- "error " + err.Error()
				return
			}
			releases <- release
			got <- id
		}()
	}
	relA, err := q.acquire(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	// A holds its one slot: its next requests wait, though a global slot is free.
	for i := 0; i < 3; i++ {
		waitQueued(t, q, "A", i, func() { wait("A") })
	}
	if _, err := q.acquire(ctx, "A"); fourd.ErrorCode(err) != fourd.EQUOTA {
		t.Fatalf("a fourth waiting request of A: %v, want EQUOTA (429)", err)
	}
	// B gets the free global slot at once: A's queue does not hold it up.
	relB, err := q.acquire(ctx, "B")
	if err != nil {
		t.Fatal(err)
	}
	waitQueued(t, q, "B", 0, func() { wait("B") })
	waitQueued(t, q, "C", 0, func() { wait("C") })
	// Slots freed one by one go to the sessions in turn: A, B, C, then A.
	relA()
	if who := <-got; who != "A" {
		t.Fatalf("first free slot went to %s, want A (first in turn)", who)
	}
	relB()
	if who := <-got; who != "B" {
		t.Fatalf("second free slot went to %s, want B", who)
	}
	(<-releases)() // A's second request ends
	if who := <-got; who != "C" {
		t.Fatalf("third free slot went to %s, want C (A had its turn)", who)
	}
	(<-releases)() // B's
	(<-releases)() // C's
	for want := 2; want > 0; want-- {
		if who := <-got; who != "A" {
			t.Fatalf("then %s, want A", who)
		}
		(<-releases)()
	}
	t.Run("ErrGivesUp", func(t *testing.T) {
		q := &queries{max: 1, perSession: 1}
		rel, _ := q.acquire(ctx, "A")
		cctx, cancel := context.WithCancelCause(ctx)
		cause := fourd.Errorf(fourd.EUNAVAILABLE, fourd.ErrCodeInterrupted, "budget")
		cancel(cause)
		if _, err := q.acquire(cctx, "B"); err != cause {
			t.Fatalf("a waiter whose context ended: %v, want its cause", err)
		}
		rel()
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.running != 0 || len(q.sessions) != 0 || q.turn.Len() != 0 {
			t.Fatalf("left behind: running %d, sessions %d, turn %d", q.running, len(q.sessions), q.turn.Len())
		}
	})
}

// waitQueued starts a waiter with start and waits until session id has
// n+1 requests waiting.
func waitQueued(t *testing.T, q *queries, id string, n int, start func()) {
	t.Helper()
	start()
	for {
		q.mu.Lock()
		sq := q.sessions[id]
		queued := sq != nil && sq.waiting.Len() == n+1
		q.mu.Unlock()
		if queued {
			return
		}
		runtimeGosched()
	}
}

func runtimeGosched() { runtime.Gosched() }
