package mockcmd

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/debitura-go/debitura/internal/statuswriter"
)

// routeNamer names the route template of a request ("" when it matches none); the Backend's
// Route, which never returns path values or queries.
type routeNamer func(*http.Request) string

// routeOf returns the template of the request's path, or "unmatched".
func routeOf(name routeNamer, r *http.Request) string {
	if t := name(r); t != "" {
		return t
	}
	return "unmatched"
}

// logRequests writes one line per request to w: method, route template, status and duration.
// It never logs headers, query strings or path values, so no key, token or tenant id leaks.
// Route templates come from the Backend itself, so every route it serves is named.
func logRequests(next http.Handler, name routeNamer, w io.Writer) http.Handler {
	log := slog.New(slog.NewTextHandler(w, nil))
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := statuswriter.New(rw)
		next.ServeHTTP(rec, r)
		log.Info("request", "method", r.Method, "route", routeOf(name, r), "status", rec.Code(), "duration", time.Since(start).Round(time.Microsecond))
	})
}
