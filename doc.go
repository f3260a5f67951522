// Package fourd is the domain of fourd, a Go implementation of the runtime core
// of a 4D Server: a REST data server whose every unit of work is a visible,
// numbered process, whose clients hold sessions, and whose state can be
// inspected at any moment through Process activity.
//
// This package reads like the specification. It holds the nouns and the 4D
// constants with their 4D numeric values:
//
//   - Process: one unit of work (a REST request, a worker, the HTTP listener, ...),
//     with its ProcessType, its ProcessState and the ProcessInfo snapshot that
//     4D's Process info command returns.
//   - Session: a client's session and the SessionInfo object that 4D's
//     Session info command returns.
//   - Activity: the result of 4D's Process activity command, built by
//     ProcessActivity from a ProcessTable and a SessionStore.
//   - Error: the one error vocabulary, mapped to HTTP statuses and to the 4D
//     __ERROR envelope by the rest package.
//
// It imports nothing but the standard library and filter (the $filter
// language, itself pure Go). Implementations live in packages named after
// their technology, behind the small interfaces declared here (Datastore,
// SessionStore, ProcessTable, EntitySetStore, UserStore, ...): inmem,
// sqlite, postgres and redis for the stores, access for the roles.json
// permissions, query for checking a filter against the model, rest for
// the 4D REST API over net/http, server to assemble a running server, and
// cmd/fourd for the binary. docs/architecture.md has the map.
//
// Date-times are UTC with milliseconds (FormatTime); identifiers are 32
// uppercase hexadecimal characters from crypto/rand (NewID).
package fourd
