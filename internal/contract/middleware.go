package contract

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
)

// maxCapture bounds the response body kept for validation. API responses are
// small; a larger body is passed through untouched and not validated.
const maxCapture = 8 << 20

// Middleware returns a handler that validates every request and response
// passing through to next against [Documents] and reports each violation with
// t.Errorf, naming method, path, status, the document and operation, and
// kin-openapi's message. Header values are never printed.
//
// The request body is read, validated and restored, so next sees the request
// unchanged. The response is passed to the client as next writes it
// (flushing and hijacking pass through); a copy of the body is kept for
// validation, which happens after next returns. A hijacked connection is not
// validated.
//
// The handler must not outlive the test (t.Errorf panics after the test ends):
// close the httptest.Server in the test.
func Middleware(t testing.TB, next http.Handler) http.Handler {
	t.Helper()
	return must(t, Default).Middleware(t, next)
}

// Middleware is [Middleware] with this Validator.
func (v *Validator) Middleware(t testing.TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, err := v.find(r)
		if errors.Is(err, ErrNotInContract) {
			next.ServeHTTP(w, r)
			return
		}
		skipReq := r.Header.Get(SkipRequestHeader) != ""

		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			var readErr error
			body, readErr = io.ReadAll(r.Body)
			_ = r.Body.Close()
			r.Body = &replayBody{r: bytes.NewReader(body), err: readErr}
			if readErr != nil {
				skipReq = true // a broken upload is not a contract question
			}
		}

		var reqErr error
		if !skipReq {
			if err != nil {
				reqErr = err
			} else {
				reqErr = v.validateRequest(r, body, m)
			}
		}

		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)

		status, hijacked, respBody, truncated := rec.result()
		if hijacked {
			status = 0
		}
		if reqErr != nil {
			t.Errorf("contract: %s %s -> %s: request violates %s: %v",
				r.Method, r.URL.Path, statusText(status), where(m), reqErr)
		}
		if m == nil || hijacked || truncated {
			return
		}
		if respErr := v.validateResponse(r, status, rec.Header(), respBody, m); respErr != nil {
			t.Errorf("contract: %s %s -> %d: response violates %s: %v",
				r.Method, r.URL.Path, status, m.describe(), respErr)
		}
	})
}

// must returns the validator load builds, or ends the test.
func must(t testing.TB, load func() (*Validator, error)) *Validator {
	t.Helper()
	v, err := load()
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	return v
}

func where(m *match) string {
	if m == nil {
		return "the API documents"
	}
	return m.describe()
}

func statusText(status int) string {
	if status == 0 {
		return "no response"
	}
	return fmt.Sprint(status)
}

// recorder passes a response through to the underlying ResponseWriter and
// keeps the status and a copy of the body. It implements http.Flusher and
// http.Hijacker by delegation, and Unwrap for http.ResponseController.
type recorder struct {
	http.ResponseWriter

	mu        sync.Mutex
	status    int
	body      bytes.Buffer
	truncated bool
	hijacked  bool
}

// WriteHeader implements http.ResponseWriter.
func (r *recorder) WriteHeader(status int) {
	r.mu.Lock()
	if r.status == 0 && status >= 200 {
		r.status = status
	}
	r.mu.Unlock()
	r.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if !r.truncated {
		if r.body.Len()+len(p) > maxCapture {
			r.truncated = true
			r.body.Reset()
		} else {
			r.body.Write(p)
		}
	}
	r.mu.Unlock()
	return r.ResponseWriter.Write(p)
}

// Flush implements http.Flusher when the underlying writer does.
func (r *recorder) Flush() {
	r.mu.Lock()
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.mu.Unlock()
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack implements http.Hijacker when the underlying writer does.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("contract: underlying %T: %w", r.ResponseWriter, http.ErrNotSupported)
	}
	conn, rw, err := h.Hijack()
	if err == nil {
		r.mu.Lock()
		r.hijacked = true
		r.mu.Unlock()
	}
	return conn, rw, err
}

// Unwrap returns the underlying ResponseWriter (for http.ResponseController).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) result() (status int, hijacked bool, body []byte, truncated bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	status = r.status
	if status == 0 {
		status = http.StatusOK // the handler wrote nothing: net/http sends 200
	}
	return status, r.hijacked, bytes.Clone(r.body.Bytes()), r.truncated
}

// replayBody replays bytes already read from a body, then the error that
// ended the original read (nil means io.EOF).
type replayBody struct {
	r   *bytes.Reader
	err error
}

func (b *replayBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.err != nil {
		return n, b.err
	}
	return n, err
}

func (b *replayBody) Close() error { return nil }
