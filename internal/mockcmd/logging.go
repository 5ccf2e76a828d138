package mockcmd

import (
	"io"
	"log/slog"
	"net/http"
	"time"
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

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (the mock's reset fault hijacks it).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests writes one line per request to w: method, route template, status and duration.
// It never logs headers, query strings or path values, so no key, token or tenant id leaks.
// Route templates come from the Backend itself, so every route it serves is named.
func logRequests(next http.Handler, name routeNamer, w io.Writer) http.Handler {
	log := slog.New(slog.NewTextHandler(w, nil))
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: rw}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK // nothing written (or the connection was dropped by a fault)
		}
		log.Info("request", "method", r.Method, "route", routeOf(name, r), "status", status, "duration", time.Since(start).Round(time.Microsecond))
	})
}
