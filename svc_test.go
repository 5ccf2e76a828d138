package debitura

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/debitura-go/debitura/internal/contract"
)

// Test helpers of the service tests (clients, tokens, guide, pagination). Names carry a svc
// prefix so that they never clash with the pipeline's test helpers in the same package.

const svcAPIKey = "svc-test-key"

// svcClock is a settable clock; its sleeper returns at once (or with ctx's error).
type svcClock struct {
	mu  sync.Mutex
	now time.Time
}

func newSvcClock() *svcClock {
	return &svcClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *svcClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *svcClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *svcClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// svcCall is one request the test server received.
type svcCall struct {
	Method string
	Path   string // escaped, base path removed
	Query  url.Values
	Header http.Header
	Body   []byte
}

// svcAPI is an httptest server whose API is mounted under /base (so that absolute-URL mistakes
// fail), validated against the API documents by internal/contract, and a Client pointed at it.
type svcAPI struct {
	t     *testing.T
	mux   *http.ServeMux
	c     *Client
	clock *svcClock
	srv   *httptest.Server

	mu    sync.Mutex
	calls []svcCall
}

func newSvcAPI(t *testing.T, opts ...Option) *svcAPI {
	t.Helper()
	a := &svcAPI{t: t, mux: http.NewServeMux(), clock: newSvcClock()}
	rec := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.calls = append(a.calls, svcCall{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		a.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		a.mux.ServeHTTP(w, r)
	})
	outer := http.NewServeMux()
	outer.Handle("/base/", http.StripPrefix("/base", contract.Middleware(t, rec)))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL.Path)
		http.Error(w, "outside base path", http.StatusTeapot)
	})
	a.srv = httptest.NewServer(outer)
	t.Cleanup(a.srv.Close)
	all := append([]Option{WithBaseURL(a.srv.URL + "/base"), withClock(a.clock.Now, a.clock.Sleep)}, opts...)
	c, err := New(svcAPIKey, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a.c = c
	return a
}

// answer makes pattern answer status with body (JSON), with extra header pairs.
func (a *svcAPI) answer(pattern string, status int, body string, header ...string) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

// lenient is the header pair that keeps the contract validator off a response on purpose (a
// body in a shape the documents do not allow but the SDK must decode: PascalCase keys,
// snake_case kycStatus).
var lenient = []string{contract.FaultHeader, "svc-lenient"}

func (a *svcAPI) Calls() []svcCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]svcCall(nil), a.calls...)
}

// only returns the single call the server received.
func (a *svcAPI) only() svcCall {
	a.t.Helper()
	calls := a.Calls()
	if len(calls) != 1 {
		a.t.Fatalf("server got %d requests, want 1", len(calls))
	}
	return calls[0]
}

// svcWant is what a request must look like. Body "" means no body. IdemKey "" means no
// Idempotency-Key, "*" means any non-empty one.
type svcWant struct {
	Method  string
	Path    string
	Query   url.Values
	Body    string
	IdemKey string
}

func checkCall(t *testing.T, got svcCall, want svcWant) {
	t.Helper()
	if got.Method != want.Method || got.Path != want.Path {
		t.Errorf("request = %s %s, want %s %s", got.Method, got.Path, want.Method, want.Path)
	}
	wq := want.Query
	if wq == nil {
		wq = url.Values{}
	}
	if diff := cmp.Diff(wq, got.Query); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
	if k := got.Header.Get("XApiKey"); k != svcAPIKey {
		t.Errorf("XApiKey header = %q, want %q", k, svcAPIKey)
	}
	if got.Header.Get("User-Agent") == "" {
		t.Errorf("User-Agent header missing")
	}
	switch key := got.Header.Get("Idempotency-Key"); want.IdemKey {
	case "":
		if key != "" {
			t.Errorf("Idempotency-Key = %q, want none", key)
		}
	case "*":
		if key == "" {
			t.Errorf("Idempotency-Key missing")
		}
	default:
		if key != want.IdemKey {
			t.Errorf("Idempotency-Key = %q, want %q", key, want.IdemKey)
		}
	}
	if want.Body == "" {
		if len(got.Body) != 0 {
			t.Errorf("body = %s, want none", got.Body)
		}
		return
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var g, w any
	if err := json.Unmarshal(got.Body, &g); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, got.Body)
	}
	if err := json.Unmarshal([]byte(want.Body), &w); err != nil {
		t.Fatalf("want body is not JSON: %v", err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
}

// refuseAll makes every route fail the test: for checks that must not send anything.
func (a *svcAPI) refuseAll() {
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.t.Errorf("unexpected request %s %s", r.Method, r.URL.EscapedPath())
		http.Error(w, "unexpected", http.StatusTeapot)
	})
}

var contextCanceled = context.Canceled

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}
