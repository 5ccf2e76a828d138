package mockserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Server is a [Backend] behind a loopback HTTP server, in the manner of httptest.Server. The
// control methods of the Backend are promoted onto it.
type Server struct {
	*Backend
	// URL is the base URL of the server (http://127.0.0.1:port), with no trailing slash. Point the
	// SDK's base URL at it.
	URL string
	srv *httptest.Server
}

// New starts a Server. Unless [WithPublicURL] is given, the hosted-page URLs it hands out start
// with the server's URL. The caller must Close it. New panics on an invalid option.
func New(opts ...Option) *Server {
	b := NewBackend(opts...)
	srv := httptest.NewServer(b)
	if b.PublicURL() == "" {
		b.SetPublicURL(srv.URL)
	}
	return &Server{Backend: b, URL: srv.URL, srv: srv}
}

// NewTest starts a Server that is closed when the test ends.
func NewTest(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := New(opts...)
	t.Cleanup(s.Close)
	return s
}

// Client returns an *http.Client that talks to the server (and whose idle connections are closed
// with it).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close shuts the server down, blocking until all outstanding requests have completed, and
// closes its Backend.
func (s *Server) Close() {
	s.srv.Close()
	s.Backend.Close()
}
