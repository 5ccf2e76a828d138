// Package statuswriter records the status code an HTTP handler writes, for the mock's journal
// and its command's request log.
package statuswriter

import "net/http"

// Writer wraps an http.ResponseWriter and records the first status code written through it.
type Writer struct {
	http.ResponseWriter
	status int
}

// New returns a Writer over w.
func New(w http.ResponseWriter) *Writer { return &Writer{ResponseWriter: w} }

// WriteHeader records code unless a status was already written, and passes it on.
func (s *Writer) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records 200 unless a status was already written, and passes b on.
func (s *Writer) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (the mock's reset fault hijacks it).
func (s *Writer) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Code is the status written, or 200 when nothing was (or the connection was dropped by a
// fault).
func (s *Writer) Code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}
