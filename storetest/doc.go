// Package storetest holds the conformance suites that every backend of
// fourd's stores runs from its own tests: one behavioural contract, checked
// the same way for memory, SQLite, Redis or PostgreSQL.
//
// A backend calls a suite with a function that opens a fresh, empty store:
//
//	func TestEntitySetStore(t *testing.T) {
//		storetest.TestEntitySetStore(t, func(t *testing.T, size int64, now func() time.Time) fourd.EntitySetStore {
//			st := inmem.NewEntitySetStore(size)
//			st.Now = now
//			return st
//		})
//	}
//
// Time is injected: the suites move the clock they pass to open and never
// sleep, so expiry is tested to the nanosecond and the suites are fast.
package storetest
