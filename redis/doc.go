// Package redis keeps the state that several fourd nodes share in Redis,
// through go-redis: the entity-set cache (EntitySetStore), the login
// limiter and, once the session contract is a value, the sessions. A
// cluster's nodes open the same Redis database (fourd serve --shared
// redis://…) and any node then serves any session and any set.
//
// Every change is one atomic step in Redis (a Lua script or a MULTI
// transaction), so the counters the quotas read (Used, the sets of a
// session, login failures) are exact for the whole cluster, not per node.
// Expiry is decided by the nodes' clocks, as in the in-memory stores;
// Redis's own TTLs only bound how long state outlives a cluster that
// stopped. Keys carry a prefix in a Redis Cluster hash tag (see DB), so
// that several clusters, or several tests, share one Redis.
//
// Each store passes the same storetest suite as the in-memory one; the
// tests run when FOURD_TEST_REDIS names a Redis (scripts/redis prints one)
// and fail under CI when it does not.
package redis
