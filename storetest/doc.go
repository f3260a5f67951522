// Package storetest holds the conformance suites that every backend of
// fourd's stores runs from its own tests: one behavioural contract per root
// interface, checked the same way for memory, SQLite, PostgreSQL or Redis.
//
//	TestDatastore       fourd.Datastore: the 4D query semantics (sqlite)
//	TestSessionStore    fourd.SessionStore (inmem, redis)
//	TestUserStore       fourd.UserStore (userfile)
//	TestProcessTable    fourd.ProcessTable (inmem)
//	TestEntitySetStore  fourd.EntitySetStore (inmem, redis)
//	TestLoginLimiter    fourd.LoginLimiter (inmem, redis)
//	TestProcessRegistry fourd.ProcessRegistry on one node (inmem, redis)
//	TestProcessRegistryCluster  the same with several nodes (redis)
//
// A backend's test file is a few lines: it calls a suite with a function
// that opens a fresh, empty store and closes it when the test ends:
//
//	func TestEntitySetStore(t *testing.T) {
//		storetest.TestEntitySetStore(t, func(t *testing.T, size int64, now func() time.Time) fourd.EntitySetStore {
//			st := inmem.NewEntitySetStore(size)
//			st.Now = now
//			return st
//		})
//	}
//
// A backend that needs an external server takes its address from an
// environment variable, FOURD_TEST_POSTGRES (a postgres:// URL) or
// FOURD_TEST_REDIS (a redis:// URL), and skips, saying so, only when the
// variable is unset; CI sets them. Each open call then gets a store of its
// own (a fresh schema or key prefix), so that subtests never see each
// other's data.
//
// Time is injected: the suites move the clock they pass to open and never
// sleep, so expiry is tested to the nanosecond and the suites are fast.
package storetest
