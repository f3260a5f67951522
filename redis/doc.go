// Package redis keeps the state that several fourd nodes share in Redis,
// through go-redis: the sessions (SessionStore), the entity-set cache
// (EntitySetStore), the login limiter (LoginLimiter) and the cluster's
// process registry (ProcessRegistry: heartbeats, every node's processes,
// actions routed to the owning node). A cluster's
// nodes open the same Redis database (fourd serve --shared redis://…) and
// any node then serves any session and any set.
//
// Every change is one atomic step in Redis (a Lua script, or a WATCH/MULTI
// transaction for a session's Update and Replace), so the counters the
// quotas read (sessions and guests, Used, the sets of a session, login
// failures) are exact for the whole cluster, not per node. Expiry is
// decided by the nodes' clocks, as in the in-memory stores; Redis's own
// TTLs only bound how long state outlives a cluster that stopped. Keys
// carry a prefix in a Redis Cluster hash tag (see DB), so that several
// clusters, or several tests, share one Redis.
//
// On the hot path a request costs one round trip for its session (Touch
// writes at most once a minute) and one for an entity set it pages.
//
// Each store passes the same storetest suite as the in-memory one; the
// tests run when FOURD_TEST_REDIS names a Redis (scripts/redis prints one)
// and fail under CI when it does not.
package redis
