package rest

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/fourd/fourd"
)

// withCleanRequest refuses, in the __ERROR envelope, what net/http's
// ServeMux would otherwise drop or redirect without it: a query string
// that does not decode (a bad percent-encoding or a raw ';' would lose its
// parameter, and a $filter would then select everything), and a path that
// is not in its clean form (the mux would answer a 301 or 307 redirect).
// It runs before a session is looked up or made.
func (h *Handler) withCleanRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
			writeError(w, r, h.Logger, badParam("the query string does not decode (%v): percent-encode %%, ; and other reserved characters in values", err))
			return
		}
		p := r.URL.Path
		if p == "/rest" {
			writeError(w, r, h.Logger, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "unknown REST resource %q; resources are under /rest/", p))
			return
		}
		if clean := cleanPath(p); clean != p {
			writeError(w, r, h.Logger, badParam("the path %q is not in its clean form; use %q", p, clean))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath is the form ServeMux redirects to: rooted, without . or ..
// elements or doubled slashes, a trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}
