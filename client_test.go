package debitura

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/debitura-go/debitura/internal/contract"
)

const testAPIKey = "dbt_test_SECRETKEY_0123456789abcdef"

// fakeClock is the injected clock and sleeper: Sleep records the wait and moves the clock on at
// once, so no test sleeps for real.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock {
	// Whole seconds, so HTTP-date Retry-After values convert exactly.
	return &fakeClock{t: time.Now().Truncate(time.Second)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	f.t = f.t.Add(d)
	return nil
}

func (f *fakeClock) Waits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// maxJitter makes full-jitter backoff deterministic: it always picks the ceiling.
func maxJitter(max time.Duration) time.Duration { return max }

// step is one scripted answer of the test server.
type step func(w http.ResponseWriter, r *http.Request)

func status(code int, body string, header ...string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

// reset closes the connection after reading the request, without an answer.
func reset() step {
	return func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			panic(err)
		}
		_ = conn.Close()
	}
}

// recorded is what the test server saw of one request.
type recorded struct {
	Method, Path, Query string
	RawPath             string // escaped path as sent
	Header              http.Header
	Body                string
	At                  time.Time // fake clock
}

// scriptServer answers the n-th request with steps[n] (the last step repeats) and records every
// request. It is mounted under /base so that a client that drops the base path fails.
type scriptServer struct {
	*httptest.Server
	mu    sync.Mutex
	steps []step
	reqs  []recorded
	hits  atomic.Int32
	clock *fakeClock
}

func newScriptServer(t *testing.T, clock *fakeClock, steps ...step) *scriptServer {
	t.Helper()
	s := &scriptServer{steps: steps, clock: clock}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.hits.Add(1)) - 1
		body := new(strings.Builder)
		if r.Body != nil {
			b := make([]byte, 64<<10)
			for {
				k, err := r.Body.Read(b)
				body.Write(b[:k])
				if err != nil {
					break
				}
			}
		}
		rec := recorded{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body.String()}
		if clock != nil {
			rec.At = clock.Now()
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, rec)
		st := s.steps[min(n, len(s.steps)-1)]
		s.mu.Unlock()
		if !strings.HasPrefix(r.URL.Path, "/base/") {
			http.Error(w, "missing base path", http.StatusTeapot)
			return
		}
		checkRequestContract(t, r, body.String())
		st(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptServer) Requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

// newTestClient returns a Client pointed at srv with the fake clock and deterministic jitter.
func newTestClient(t *testing.T, srv *scriptServer, clock *fakeClock, opts ...Option) *Client {
	t.Helper()
	all := append([]Option{WithBaseURL(srv.URL + "/base"), withClock(clock.Now, clock.Sleep), withJitter(maxJitter)}, opts...)
	c, err := New(testAPIKey, all...)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return c
}

// checkRequestContract validates a request the script server received against the API
// documents, as if the server were mounted at the root: every request the SDK sends in these
// tests must be one the API accepts. Paths the documents do not describe are not checked.
// The scripted answers are not validated: many are off-spec on purpose (legacy envelopes,
// PascalCase, proxy pages), which is what these tests feed the SDK.
func checkRequestContract(t *testing.T, r *http.Request, body string) {
	t.Helper()
	v, err := contract.Default()
	if err != nil {
		t.Errorf("contract: %v", err)
		return
	}
	rr := r.Clone(r.Context())
	rr.URL.Path = strings.TrimPrefix(r.URL.Path, "/base")
	rr.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, "/base")
	rr.RequestURI = ""
	if err := v.ValidateRequest(rr, []byte(body)); err != nil && !errors.Is(err, contract.ErrNotInContract) {
		t.Errorf("contract: %s %s: %v", r.Method, rr.URL.Path, err)
	}
}

// Fake operations of each retry class, sent through do as the services do, with bodies the API
// accepts.
func opGet() *apiRequest {
	return &apiRequest{op: "getClient", method: http.MethodGet, route: "/clients/{externalTenantId}", path: "/clients/t-1", retry: retrySafe}
}

func opKYC() *apiRequest {
	return &apiRequest{op: "postKyc", method: http.MethodPost, route: "/clients/{externalTenantId}/kyc-verification",
		path: "/clients/t-1/kyc-verification", body: map[string]string{
			"directorFullName": "Ada Lovelace", "directorHomeAddress": "1 Analytical Row, London", "directorDateOfBirth": "1815-12-10",
		}, retry: retryWithKey}
}

func opReset() *apiRequest {
	return &apiRequest{op: "deleteClient", method: http.MethodDelete, route: "/clients/{externalTenantId}", path: "/clients/t-1", retry: retryDelete}
}

func opCreate() *apiRequest {
	return &apiRequest{op: "postClients", method: http.MethodPost, route: "/clients", path: "/clients",
		body: map[string]any{
			"externalTenantId": "t-1",
			"client":           map[string]string{"name": "Acme ApS", "country": "DK", "supportEmail": "support@acme.example"},
			"users":            []map[string]string{{"name": "Ada Lovelace", "email": "ada@acme.example"}},
		}, retry: retrySafe}
}

func opWithdraw() *apiRequest {
	return &apiRequest{op: "withdrawClient", method: http.MethodPost, route: "/clients/{externalTenantId}/withdraw",
		path: "/clients/t-1/withdraw", retry: retryDelete}
}

func TestDoSendsHeadersPathQueryAndDecodes(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := newScriptServer(t, clock, status(200, `{"Name":"Acme","id":"42"}`))
	c := newTestClient(t, srv, clock, WithAppInfo("billing-sync", "2.1"))
	r := &apiRequest{op: "getClients", method: http.MethodGet, route: "/clients", path: "/clients",
		query: map[string][]string{"Page": {"2"}, "PageSize": {"100"}}, retry: retrySafe}
	var out struct {
		Name string `json:"name"`
		ID   string `json:"id"`
	}
	resp, err := c.do(t.Context(), r, &out)
	if err != nil {
		t.Fatalf("do() = %v", err)
	}
	if out.Name != "Acme" || out.ID != "42" {
		t.Errorf("decoded = %+v, want Name Acme, ID 42", out)
	}
	if resp.StatusCode != 200 || resp.Attempts != 1 || resp.Uncertain || resp.IdempotencyKey != "" {
		t.Errorf("apiResponse = %+v, want 200, 1 attempt, certain, no key", resp)
	}
	reqs := srv.Requests()
	got := reqs[0]
	want := recorded{Method: "GET", Path: "/base/clients", Query: "Page=2&PageSize=100"}
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool {
		n := p.Last().String()
		return n == ".Header" || n == ".At" || n == ".Body" || n == ".RawPath"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("request mismatch (-want +got):\n%s", diff)
	}
	if k := got.Header.Get("XApiKey"); k != testAPIKey {
		t.Errorf("XApiKey = %q, want the key", k)
	}
	if ua, want := got.Header.Get("User-Agent"), "debitura-go/"+Version+" billing-sync/2.1"; ua != want {
		t.Errorf("User-Agent = %q, want %q", ua, want)
	}
	if got.Header.Get("Idempotency-Key") != "" {
		t.Errorf("Idempotency-Key sent on a retrySafe call without a key")
	}
}

func TestDoSendsJSONBody(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := newScriptServer(t, clock, status(204, ""))
	c := newTestClient(t, srv, clock)
	// A nil out: the body is not needed (a non-nil out would make the empty 204 an error).
	resp, err := c.do(t.Context(), opCreate(), nil)
	if err != nil {
		t.Fatalf("do() = %v", err)
	}
	if resp.StatusCode != 204 {
		t.Errorf("do() = %+v; want 204", resp)
	}
	got := srv.Requests()[0]
	var body, want any
	if err := json.Unmarshal([]byte(got.Body), &body); err != nil {
		t.Fatalf("request body %q is not JSON: %v", got.Body, err)
	}
	wantJSON, _ := json.Marshal(opCreate().body)
	_ = json.Unmarshal(wantJSON, &want)
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
}

func TestDoDecodeErrorWrapsJSONError(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := newScriptServer(t, clock, status(200, `{"id": 12`))
	c := newTestClient(t, srv, clock)
	var out struct{ ID int }
	_, err := c.do(t.Context(), opGet(), &out)
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		t.Errorf("do() = %v, want an error wrapping *json.SyntaxError", err)
	}
}

func TestDoKeepsEscapedPathSegments(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := newScriptServer(t, clock, status(200, "{}"))
	c := newTestClient(t, srv, clock)
	r := opGet()
	r.path = "/clients/" + url.PathEscape("a/b c?d#e%")
	if _, err := c.do(t.Context(), r, nil); err != nil {
		t.Fatalf("do() = %v", err)
	}
	// The server's r.URL.Path is unescaped; compare the escaped form it received.
	if got, want := srv.Requests()[0].RawPath, "/base/clients/a%2Fb%20c%3Fd%23e%25"; got != want {
		t.Errorf("escaped path = %q, want %q", got, want)
	}
}
