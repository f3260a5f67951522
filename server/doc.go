// Package server assembles a running fourd server from its parts: the
// stores, each a root interface (process table, sessions, entity sets,
// locks and workers in memory from inmem; the datastore from the URL in
// Datastore, SQLite by default; store.go is the one place that chooses
// backends), the REST handler (rest), the admin listener, and the internal
// processes that do the server's own work. cmd/fourd uses it, and so can a
// Go program that embeds fourd:
//
//	srv := server.New()
//	srv.Addr = "127.0.0.1:0"
//	srv.DataDir = dir
//	if err := srv.Open(); err != nil { ... }
//	defer srv.Close()
//	srv.CallWorker("mailer", func(p *fourd.Process) error { ... })
//
// From Open to Close these internal processes run, each doing real work:
//
//	1  Main process (-1)            owns the server's life: waits for Close, then shuts everything down in order
//	   HTTP Listener (-56)          accepts connections and hands them to net/http
//	   Internal timer process (-25) expires idle sessions and ends their processes
//	   Monitor process (-26)        samples every process's CPU time, for cpuUsage
//	   Cache manager (-4)           removes expired entity sets
//
// With a datastore, the Cache flusher (DB4D Flush cache) and the Indexer
// run too, and jobs (index builds, the demo import, flushes) run as
// processes of their own with progress indicators.
//
// The server's Go API mirrors 4D's process commands: NewProcess,
// ExecuteOnServer, CallWorker, KillWorker, DelayProcess, PauseProcess,
// ResumeProcess, AbortProcessByID, ProcessInfo, SessionInfo and
// ProcessActivity.
package server
