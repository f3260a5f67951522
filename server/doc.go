// Package server assembles a running fourd server from its parts: the
// process table and session store (inmem), the REST handler (rest), and the
// internal processes that do the server's own work. cmd/fourd uses it, and
// so can a Go program that embeds fourd:
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
//
// The server's Go API mirrors 4D's process commands: NewProcess,
// ExecuteOnServer, CallWorker, KillWorker, DelayProcess, PauseProcess,
// ResumeProcess, AbortProcessByID, ProcessInfo, SessionInfo and
// ProcessActivity.
package server
