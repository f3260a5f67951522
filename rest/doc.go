// Package rest is the 4D REST API of fourd over net/http, and its Go client.
//
// Every request under /rest/ runs in a session, found from the
// 4DSID_<AppName> cookie or created as a new guest session, and as a
// process of type Web server process in the process table, named after
// its method and path, for as long as it is handled. Handlers return
// errors; one adapter writes them in the 4D __ERROR envelope with the
// status of the single table in error.go.
//
// Resources so far:
//
//	GET /rest/$activity?sessionID=<ID>&options=<0|1|2>   4D's Process activity
//
// Client calls the same API from Go, keeping its session cookie.
package rest
