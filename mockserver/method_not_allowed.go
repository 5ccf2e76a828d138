package mockserver

import (
	"net/http"
	"strings"
)

// A request whose path matches a route but whose method does not answers 405 Method Not Allowed
// with an Allow header and an empty body, as ASP.NET Core's endpoint routing does (Debitura's
// stack), instead of the 404 of a path that matches nothing. On the API the key is checked
// first, as for every other route of the mock.

// probeMethods are the methods a route can be registered for (HEAD follows GET in ServeMux).
var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowedMethods lists the methods under which mux has a route (other than its "/" catch-all)
// for r's path, in probeMethods order; nil when the path matches no route.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range probeMethods {
		if pattern := muxPattern(mux, r, m); pattern != "" {
			out = append(out, m)
		}
	}
	return out
}

// muxPattern returns the pattern, without its method, that mux would serve for r's path under
// method; "" for the catch-all or no match.
func muxPattern(mux *http.ServeMux, r *http.Request, method string) string {
	probe := &http.Request{Method: method, Host: r.Host, URL: r.URL, Header: http.Header{}}
	_, pattern := mux.Handler(probe)
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	if pattern == "/" {
		return ""
	}
	return pattern
}

// writeMethodNotAllowed answers 405 with Allow and reports whether r's path is a known route of
// mux under another method.
func writeMethodNotAllowed(w http.ResponseWriter, mux *http.ServeMux, r *http.Request) bool {
	allow := allowedMethods(mux, r)
	if len(allow) == 0 {
		return false
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	w.WriteHeader(http.StatusMethodNotAllowed)
	return true
}
