// Package metrics exposes a fourd server's state and events to
// Prometheus (github.com/prometheus/client_golang).
//
// Two kinds of metric live here. What the server already knows as a
// snapshot (processes by type and state, sessions by type and user kind,
// entity sets and the cache, progress indicators) is read from its real
// source at scrape time, once per scrape, by one custom
// prometheus.Collector: nothing is kept up to date on the request path for
// it. What happens (requests, logins, quota refusals) is counted where it
// happens, through the rest.Observer interface that *Metrics implements.
//
// No label holds an unbounded value: no session ID, user name, URL or
// entity-set ID, only 4D's process types and states, session types, the
// REST resource kinds of rest.ResourceKind, HTTP statuses and fixed
// outcome names. docs/operations.md lists every metric.
package metrics
