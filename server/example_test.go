package server_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/server"
)

// A Go program embedding fourd runs work as 4D processes: a worker with a
// mailbox, and a process aborted by its unique ID.
func Example() {
	dir, err := os.MkdirTemp("", "fourd-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	srv := server.New()
	srv.Addr = "127.0.0.1:0"
	srv.DataDir = dir
	srv.Logger = slog.New(slog.DiscardHandler)
	if err := srv.Open(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// CALL WORKER: messages run in order on one Worker process (type 5).
	done := make(chan string)
	for _, word := range []string{"hello", "world"} {
		srv.CallWorker("printer", func(p *fourd.Process) error {
			done <- fmt.Sprintf("%s from process %q of type %d", word, p.Name(), p.Type())
			return nil
		})
	}
	fmt.Println(<-done)
	fmt.Println(<-done)

	// New process (type 4) that waits until it is aborted.
	p, err := srv.NewProcess("import", func(p *fourd.Process) error {
		<-p.Done() // real work would pass p as the context of its queries
		return p.Err()
	})
	if err != nil {
		log.Fatal(err)
	}
	a, _ := srv.ProcessActivity(context.Background(), srv.StoredProcedureSession().ID, fourd.ProcessesOnly)
	fmt.Println("processes in the stored-procedure session:", len(a.Processes))

	srv.AbortProcessByID(p.ID())
	<-p.Ended()
	fmt.Println("state:", p.State(), "cause:", p.Cause())
	fmt.Println("ProcessInfo after the end:", srv.ProcessInfo(p.Number()))

	// Output:
	// hello from process "printer" of type 5
	// world from process "printer" of type 5
	// processes in the stored-procedure session: 2
	// state: Aborted cause: process aborted
	// ProcessInfo after the end: <nil>
}
