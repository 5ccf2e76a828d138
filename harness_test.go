package debitura

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/debitura-go/debitura/internal/contract"
	"github.com/debitura-go/debitura/mockserver"
)

// The harness of the package's internal tests, in the spirit of go-github's setup: a
// ServeMux behind an httptest server, mounted under /base so that absolute-URL mistakes fail,
// checked against the API documents by internal/contract, and a Client pointed at it with the
// fake clock and deterministic jitter. A test registers handlers on h.mux (or answers with
// h.answer, or a script of answers with h.script) and asserts on h.requests().

const testAPIKey = "dbt_test_SECRETKEY_0123456789abcdef"

// harness is what setup returns besides the Client.
type harness struct {
	t   *testing.T
	mux *http.ServeMux
	// clock is what the Client and the request log read; useClock replaces it.
	clock *fakeClock
	url   string // server URL, without the /base mount

	mu   sync.Mutex // guards reqs, and clock against useClock
	reqs []request
}

// useClock makes the Client and the request log read c: for a test that needs another start
// (the pacer's tests run an hour ahead of real time). Call it before the first request.
func (h *harness) useClock(c *fakeClock) {
	h.mu.Lock()
	h.clock = c
	h.mu.Unlock()
}

// fake returns the clock in use, for the Client and the server's goroutines.
func (h *harness) fake() *fakeClock {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.clock
}

// request is what the server saw of one request.
type request struct {
	Method string
	Path   string // escaped, /base removed
	Query  url.Values
	Header http.Header
	Body   string
	At     time.Time // on the fake clock
}

// setup starts the server and returns a Client pointed at it; opts come after the harness's own
// (base URL, fake clock, jitter that always picks the ceiling), so a test can override them.
func setup(t *testing.T, opts ...Option) (*Client, *harness) {
	t.Helper()
	h := &harness{t: t, mux: http.NewServeMux(), clock: newFakeClock()}
	rec := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		at := h.fake().Now()
		h.mu.Lock()
		h.reqs = append(h.reqs, request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(),
			Header: r.Header.Clone(), Body: string(body), At: at})
		h.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		h.mux.ServeHTTP(w, r)
	})
	outer := http.NewServeMux()
	outer.Handle("/base/", http.StripPrefix("/base", contract.Middleware(t, rec)))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL.Path)
		http.Error(w, "outside base path", http.StatusTeapot)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	h.url = srv.URL
	// Through h.fake, so that useClock reaches the Client.
	now := func() time.Time { return h.fake().Now() }
	sleep := func(ctx context.Context, d time.Duration) error { return h.fake().Sleep(ctx, d) }
	// srv.Client has a connection pool of its own: the parallel tests' servers come and go on
	// reused loopback ports, and a pool shared through http.DefaultTransport (which every
	// httptest.Server.Close also empties) would hand one test a connection of another's.
	all := append([]Option{WithBaseURL(srv.URL + "/base"), WithHTTPClient(srv.Client()), withClock(now, sleep), withJitter(maxJitter)}, opts...)
	c, err := New(testAPIKey, all...)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return c, h
}

// requests returns the requests the server received, in order.
func (h *harness) requests() []request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]request(nil), h.reqs...)
}

// only returns the single request the server received.
func (h *harness) only() request {
	h.t.Helper()
	reqs := h.requests()
	if len(reqs) != 1 {
		h.t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// answer makes pattern answer status with body (JSON), with extra header pairs.
func (h *harness) answer(pattern string, code int, body string, header ...string) {
	h.mux.HandleFunc(pattern, status(code, body, header...))
}

// lenient is the header pair that keeps the contract validator off a response on purpose (a
// body in a shape the documents do not allow but the SDK must decode: PascalCase keys,
// snake_case kycStatus).
var lenient = []string{contract.FaultHeader, "lenient"}

// script answers the n-th request on any route with steps[n] (the last step repeats). The
// answers are not checked against the documents: many are off-spec on purpose (legacy envelopes,
// PascalCase, proxy pages, cut connections), which is what these tests feed the SDK.
func (h *harness) script(steps ...step) {
	var n int
	var mu sync.Mutex
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st := steps[min(n, len(steps)-1)]
		n++
		mu.Unlock()
		w.Header().Set(contract.FaultHeader, "script")
		st(w, r)
	})
}

// refuseAll makes every route fail the test: for checks that must not send anything.
func (h *harness) refuseAll() {
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.t.Errorf("unexpected request %s %s", r.Method, r.URL.EscapedPath())
		http.Error(w, "unexpected", http.StatusTeapot)
	})
}

// step is one scripted answer.
type step func(w http.ResponseWriter, r *http.Request)

// status answers code with body (JSON when not empty) and extra header pairs.
func status(code int, body string, header ...string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// reset closes the connection after reading the request, without an answer.
func reset() step {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		_ = conn.Close()
	}
}

// wantRequest is what a request must look like. Body "" means no body. IdemKey "" means no
// Idempotency-Key, "*" means any non-empty one.
type wantRequest struct {
	Method  string
	Path    string
	Query   url.Values
	Body    string
	IdemKey string
}

// checkRequest compares got with want, and checks the headers every request carries.
func checkRequest(t *testing.T, got request, want wantRequest) {
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
	if k := got.Header.Get("XApiKey"); k != testAPIKey {
		t.Errorf("XApiKey header = %q, want the key", k)
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
	if err := json.Unmarshal([]byte(got.Body), &g); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, got.Body)
	}
	if err := json.Unmarshal([]byte(want.Body), &w); err != nil {
		t.Fatalf("want body is not JSON: %v", err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
}

// fakeClock is the injected clock and sleeper. It starts at the real time, so that a ctx
// deadline set on it means what it says, truncated to whole seconds, so that HTTP-date
// Retry-After values convert exactly; Sleep records the wait and moves the clock on at once (or
// returns ctx's error), so no test sleeps for real.
type fakeClock struct {
	*mockserver.FakeClock // Now and Advance (which records no wait)

	mu    sync.Mutex
	waits []time.Duration
}

func newFakeClock() *fakeClock { return newFakeClockAt(time.Now().Truncate(time.Second)) }

// newFakeClockAt returns a fakeClock that starts at start.
func newFakeClockAt(start time.Time) *fakeClock {
	return &fakeClock{FakeClock: mockserver.NewFakeClock(start)}
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	f.Advance(d)
	return nil
}

// Waits returns the waits Sleep was asked for, in order.
func (f *fakeClock) Waits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// maxJitter makes full-jitter backoff deterministic: it always picks the ceiling.
func maxJitter(max time.Duration) time.Duration { return max }
