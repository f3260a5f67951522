// Package rest is the 4D REST API of fourd over net/http, and its Go client.
//
// Every request under /rest/ runs in a session, found from the
// 4DSID_<AppName> cookie or created as a new guest session, and as a
// process of type Web server process in the process table, named after
// its method and path, for as long as it is handled. Handlers return
// errors; one adapter writes them in the 4D __ERROR envelope with the
// status of the single table in error.go.
//
// With access control on (users, roles.json), data requests are checked
// against the compiled roles.json (access.Policy) and admin resources
// need the WebAdmin privilege; filters are checked against the model by
// the datastore (package query) before they run.
//
// The resources are listed in docs/rest.md: Process activity ($activity),
// $info, $catalog, the dataclasses and their entities and entity sets,
// $lock, the login and admin resources, and class functions.
//
// Class functions are Go functions registered on a Functions registry
// (DataStore, DataClass, Entity, EntitySelection, Singleton), which REST
// clients call at 4D's URLs (POST /rest/$catalog/{fn},
// /rest/{dataClass}/{fn}, /rest/{dataClass}({key})/{fn},
// /rest/{dataClass}/{fn}/$entityset/{id}, /rest/$singleton/{class}/{fn},
// and GET with $params for those registered OnHTTPGet). Each call runs as
// the request's process, named after the function; a Call carries the
// session, the process, the datastore, the entity or selection and the
// decoded arguments.
//
// Client calls the same API from Go, keeping its session cookie.
package rest
