// Package admin is fourd's web console: a few static files (HTML, CSS and
// vanilla JavaScript, embedded in the binary with embed) that run in the
// browser as a thin client of the public REST API. The console has no
// private API: it logs in with POST /rest/$directory/login and then polls
// GET /rest/$activity and GET /rest/$info once a second, and acts through
// the admin resources ($process/abort|pause|resume, $session/drop,
// $entityset/$release). What it shows and may do is therefore exactly what
// the session's privileges allow over REST.
//
// The server mounts Handler at /console/ on the public listener, outside
// the REST handler, so that loading the console's files creates no
// session and no process.
package admin

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// Prefix is the path the console is served under.
const Prefix = "/console/"

// Handler returns the handler of the console's files, to be mounted at
// Prefix: /console/ answers index.html, /console/console.js the script,
// and so on. Every answer forbids framing and loading anything from
// another origin, and asks the browser not to cache, so that a new binary
// is picked up at the next load.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix(Prefix, http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
