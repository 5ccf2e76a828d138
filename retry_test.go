package debitura

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const body429 = `{"error":"rate_limit_exceeded","message":"Too many requests. Please try again later or contact support if you need higher limits.","retryAfter":1.5}`

// TestRetryTable runs every retry class against every fault: the fault answers the first
// attempt, then the server succeeds.
func TestRetryTable(t *testing.T) {
	t.Parallel()
	httpDate := func(clock *fakeClock) string { return clock.Now().Add(4 * time.Second).UTC().Format(http.TimeFormat) }
	faults := []struct {
		name      string
		step      func(clock *fakeClock) step
		retried   bool
		wait      time.Duration // wait before the retry
		uncertain bool          // an earlier attempt may have had its effect
		status    int           // final status when not retried
	}{
		{name: "connection reset", step: func(*fakeClock) step { return reset() }, retried: true, wait: 500 * time.Millisecond, uncertain: true},
		{name: "429 body retryAfter", step: func(*fakeClock) step { return status(429, body429) }, retried: true, wait: 1500 * time.Millisecond},
		{name: "429 legacy retry_after", step: func(*fakeClock) step {
			return status(429, `{"error":{"type":"rate_limit_error","message":"Too many requests","retry_after":2}}`)
		}, retried: true, wait: 2 * time.Second},
		{name: "429 Retry-After seconds", step: func(*fakeClock) step { return status(429, "", "Retry-After", "3") }, retried: true, wait: 3 * time.Second},
		{name: "429 Retry-After fractional", step: func(*fakeClock) step { return status(429, "", "Retry-After", "0.25") }, retried: true, wait: 250 * time.Millisecond},
		{name: "429 Retry-After HTTP date", step: func(c *fakeClock) step { return status(429, "", "Retry-After", httpDate(c)) }, retried: true, wait: 4 * time.Second},
		{name: "429 body beats header", step: func(*fakeClock) step { return status(429, body429, "Retry-After", "9") }, retried: true, wait: 1500 * time.Millisecond},
		{name: "429 retryAfter 0 gets floor", step: func(*fakeClock) step { return status(429, `{"retryAfter":0}`) }, retried: true, wait: 500 * time.Millisecond},
		{name: "429 negative Retry-After ignored", step: func(*fakeClock) step { return status(429, "", "Retry-After", "-5") }, retried: true, wait: 500 * time.Millisecond},
		{name: "500", step: func(*fakeClock) step {
			return status(500, `{"businessErrors":[{"type":"UnexpectedError","message":"boom"}]}`)
		}, retried: true, wait: 500 * time.Millisecond, uncertain: true},
		{name: "502 HTML", step: func(*fakeClock) step { return status(502, "<html><body>Bad gateway</body></html>") }, retried: true, wait: 500 * time.Millisecond, uncertain: true},
		{name: "503 Retry-After", step: func(*fakeClock) step { return status(503, "", "Retry-After", "2") }, retried: true, wait: 2 * time.Second, uncertain: true},
		{name: "504", step: func(*fakeClock) step { return status(504, "") }, retried: true, wait: 500 * time.Millisecond, uncertain: true},
		{name: "501", step: func(*fakeClock) step { return status(501, "") }, status: 501},
		{name: "409", step: func(*fakeClock) step {
			return status(409, `{"error":"Client is not attributed","message":"Client is not attributed"}`)
		}, status: 409},
		{name: "400", step: func(*fakeClock) step { return status(400, `{"Users":["At least one user is required"]}`) }, status: 400},
		{name: "401", step: func(*fakeClock) step { return status(401, "") }, status: 401},
		{name: "403", step: func(*fakeClock) step { return status(403, "") }, status: 403},
		{name: "422", step: func(*fakeClock) step { return status(422, `{"businessErrors":[{"type":"NoPartnerAvailable"}]}`) }, status: 422},
	}
	classes := []struct {
		name string
		req  func() *apiRequest
		ok   int
	}{
		{"safe GET", opGet, 200},
		{"safe POST /clients", opCreate, 201},
		{"withKey kyc", opKYC, 201},
		{"delete reset", opReset, 204},
	}
	for _, cl := range classes {
		for _, f := range faults {
			t.Run(cl.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				c, h := setup(t)
				h.script(f.step(h.clock), status(cl.ok, ""))
				resp, err := c.do(t.Context(), cl.req(), nil)
				hits := len(h.requests())
				if !f.retried {
					var apiErr *APIError
					if !errors.As(err, &apiErr) || apiErr.StatusCode != f.status {
						t.Fatalf("do() = %v, %v; want *APIError %d", resp, err, f.status)
					}
					if apiErr.Attempts != 1 || hits != 1 {
						t.Errorf("attempts = %d, server hits = %d; want 1 and 1", apiErr.Attempts, hits)
					}
					if w := h.clock.Waits(); len(w) != 0 {
						t.Errorf("waits = %v, want none", w)
					}
					return
				}
				if err != nil {
					t.Fatalf("do() = %v, want success after a retry", err)
				}
				got := struct {
					Status, Attempts, Hits int
					Uncertain              bool
					Waits                  []time.Duration
				}{resp.StatusCode, resp.Attempts, hits, resp.Uncertain, h.clock.Waits()}
				want := struct {
					Status, Attempts, Hits int
					Uncertain              bool
					Waits                  []time.Duration
				}{cl.ok, 2, 2, f.uncertain, []time.Duration{f.wait}}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("outcome (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestRetryGivesUpAfterMaxRetriesWithTypedError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		maxRetries int
		wantWaits  []time.Duration
	}{
		{"default 3", -1, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}},
		{"0 disables", 0, nil},
		{"5 caps at 8s", 5, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if tt.maxRetries >= 0 {
				opts = append(opts, WithMaxRetries(tt.maxRetries))
			}
			c, h := setup(t, opts...)
			h.script(status(503, `{"message":"maintenance"}`, "X-Request-Id", "req-503"))
			_, err := c.do(t.Context(), opGet(), nil)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("do() = %v, want *APIError", err)
			}
			wantAttempts := len(tt.wantWaits) + 1
			got := []any{apiErr.StatusCode, apiErr.Attempts, len(h.requests()), apiErr.RequestID, apiErr.Message, errors.Is(err, ErrServer)}
			want := []any{503, wantAttempts, wantAttempts, "req-503", "maintenance", true}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(status, attempts, hits, request id, message, ErrServer) (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWaits, h.clock.Waits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryMaxWaitExceededReturnsRateLimitError(t *testing.T) {
	t.Parallel()
	c, h := setup(t, WithMaxRetryWait(30*time.Second))
	h.script(status(429, `{"error":"rate_limit_exceeded","message":"Too many requests.","retryAfter":60.0}`), status(200, "{}"))
	_, err := c.do(t.Context(), opGet(), nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("do() = %v, want *APIError matching ErrRateLimited", err)
	}
	if apiErr.RetryAfter != 60*time.Second || apiErr.Attempts != 1 || apiErr.Type != "rate_limit_exceeded" {
		t.Errorf("APIError = RetryAfter %v, Attempts %d, Type %q; want 60s, 1, rate_limit_exceeded", apiErr.RetryAfter, apiErr.Attempts, apiErr.Type)
	}
	if w := h.clock.Waits(); len(w) != 0 {
		t.Errorf("waits = %v, want none (the SDK must not sleep 60s)", w)
	}

	// The gate is now closed for 60s, longer than the maximum wait: the next call of this Client
	// is not sent and gets the 429 back.
	_, err = c.do(t.Context(), opKYC(), nil)
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("second do() = %v, want the gate's *APIError", err)
	}
	if apiErr.Attempts != 0 || apiErr.Route != opKYC().route || apiErr.RetryAfter != 60*time.Second {
		t.Errorf("gate error = Attempts %d, Route %q, RetryAfter %v; want 0, %q, 60s", apiErr.Attempts, apiErr.Route, apiErr.RetryAfter, opKYC().route)
	}
	if n := len(h.requests()); n != 1 {
		t.Errorf("server hits = %d, want 1", n)
	}
}

func TestRetryContextCanceledDuringWait(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sleep := func(ctx context.Context, d time.Duration) error {
		cancel() // the caller gives up while the SDK waits
		<-ctx.Done()
		return ctx.Err()
	}
	c, h := setup(t, withClock(newFakeClock().Now, sleep))
	h.script(status(503, `{"message":"down"}`), status(200, "{}"))
	_, err := c.do(ctx, opGet(), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("do() = %v, want context.Canceled", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Errorf("do() = %v, want it to carry the last *APIError (503)", err)
	}
	if n := len(h.requests()); n != 1 {
		t.Errorf("server hits = %d, want 1", n)
	}
}

func TestRetryWaitBeyondDeadlineIsNotStarted(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	ctx, cancel := context.WithDeadline(t.Context(), h.clock.Now().Add(2*time.Second))
	defer cancel()
	h.script(status(429, `{"retryAfter":5}`), status(200, "{}"))
	_, err := c.do(ctx, opGet(), nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.RetryAfter != 5*time.Second {
		t.Fatalf("do() = %v, want the 429 *APIError with RetryAfter 5s", err)
	}
	if w := h.clock.Waits(); len(w) != 0 {
		t.Errorf("waits = %v, want none", w)
	}
}

func TestRetryGateHoldsConcurrentRequests(t *testing.T) {
	t.Parallel()
	c, h := setup(t, WithMaxRetries(0))
	start := h.clock.Now()
	h.script(status(429, `{"error":"rate_limit_exceeded","retryAfter":5}`), status(200, "{}"))
	if _, err := c.do(t.Context(), opGet(), nil); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("first do() = %v, want ErrRateLimited", err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.do(t.Context(), opGet(), nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: do() = %v", i, err)
		}
	}
	reqs := h.requests()
	if len(reqs) != n+1 {
		t.Fatalf("server saw %d requests, want %d", len(reqs), n+1)
	}
	for i, r := range reqs[1:] {
		if r.At.Before(start.Add(5 * time.Second)) {
			t.Errorf("request %d sent at +%v, before the gate opened at +5s", i+1, r.At.Sub(start))
		}
	}
	if len(h.clock.Waits()) == 0 {
		t.Error("no goroutine waited at the gate")
	}
}

func TestRetryDeleteAfterAmbiguousFailure(t *testing.T) {
	t.Parallel()
	notFound := status(404, `{"error":"Client not found","message":"Client not found"}`)
	tests := []struct {
		name        string
		req         func() *apiRequest
		steps       []step
		wantSuccess bool
	}{
		{"503 then 404 is success", opReset, []step{status(503, ""), notFound}, true},
		{"reset then 404 is success", opReset, []step{reset(), notFound}, true},
		{"withdraw 500 then 404 is success", opWithdraw, []step{status(500, ""), notFound}, true},
		{"429 then 404 is not found", opReset, []step{status(429, `{"retryAfter":1}`), notFound}, false},
		{"plain 404 is not found", opReset, []step{notFound}, false},
		{"safe GET 503 then 404 is not found", opGet, []step{status(503, ""), notFound}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t)
			h.script(tt.steps...)
			resp, err := c.do(t.Context(), tt.req(), nil)
			if !tt.wantSuccess {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("do() = %+v, %v; want ErrNotFound", resp, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("do() = %v, want success", err)
			}
			want := Response{StatusCode: 204, Attempts: 2, Uncertain: true, AssumedSuccess: true}
			got := *resp
			got.Header, got.RequestID, got.BackoffWait = nil, "", 0
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryIdempotencyKey(t *testing.T) {
	t.Parallel()
	t.Run("generated once and reused", func(t *testing.T) {
		t.Parallel()
		c, h := setup(t)
		h.script(reset(), status(503, ""), status(201, `{}`))
		resp, err := c.do(t.Context(), opKYC(), nil)
		if err != nil {
			t.Fatalf("do() = %v", err)
		}
		reqs := h.requests()
		if len(reqs) != 3 || resp.Attempts != 3 {
			t.Fatalf("server saw %d requests, Attempts %d; want 3", len(reqs), resp.Attempts)
		}
		key := reqs[0].Header.Get("Idempotency-Key")
		if _, err := hex.DecodeString(key); err != nil || len(key) != 32 {
			t.Errorf("generated key %q, want 32 hex characters", key)
		}
		for i, r := range reqs {
			if got := r.Header.Get("Idempotency-Key"); got != key {
				t.Errorf("attempt %d key = %q, want %q", i+1, got, key)
			}
			if r.Body != reqs[0].Body {
				t.Errorf("attempt %d body = %q, want %q", i+1, r.Body, reqs[0].Body)
			}
		}
		if resp.IdempotencyKey != key {
			t.Errorf("apiResponse.IdempotencyKey = %q, want %q", resp.IdempotencyKey, key)
		}
	})
	t.Run("two calls get two keys", func(t *testing.T) {
		t.Parallel()
		c, h := setup(t)
		h.script(status(201, `{}`))
		r1, err1 := c.do(t.Context(), opKYC(), nil)
		r2, err2 := c.do(t.Context(), opKYC(), nil)
		if err1 != nil || err2 != nil || r1.IdempotencyKey == r2.IdempotencyKey {
			t.Errorf("keys %q and %q (errors %v, %v); want two different keys", r1.IdempotencyKey, r2.IdempotencyKey, err1, err2)
		}
	})
	t.Run("caller key used verbatim", func(t *testing.T) {
		t.Parallel()
		c, h := setup(t)
		h.script(status(500, ""), status(201, `{}`))
		if _, err := c.do(t.Context(), opKYC(), nil, WithIdempotencyKey("order-7-kyc")); err != nil {
			t.Fatalf("do() = %v", err)
		}
		for i, rec := range h.requests() {
			if got := rec.Header.Get("Idempotency-Key"); got != "order-7-kyc" {
				t.Errorf("attempt %d key = %q, want order-7-kyc", i+1, got)
			}
		}
	})
	t.Run("key over 255 characters is rejected before sending", func(t *testing.T) {
		t.Parallel()
		c, h := setup(t)
		h.script(status(201, `{}`))
		_, err := c.do(t.Context(), opKYC(), nil, WithIdempotencyKey(strings.Repeat("k", 256)))
		var verr *ValidationError
		if !errors.As(err, &verr) || verr.Field != "Idempotency-Key" {
			t.Errorf("do() = %v, want a *ValidationError naming Idempotency-Key", err)
		}
		if n := len(h.requests()); n != 0 {
			t.Errorf("server hits = %d, want 0", n)
		}
	})
}

func TestRetryTransportErrorIsWrapped(t *testing.T) {
	t.Parallel()
	c, h := setup(t, WithMaxRetries(1))
	h.script(reset())
	_, err := c.do(t.Context(), opGet(), nil)
	if err == nil {
		t.Fatal("do() = nil, want a transport error")
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		t.Errorf("do() = %v, a transport error must not be an *APIError", err)
	}
	if strings.Contains(err.Error(), h.url) {
		t.Errorf("error %q carries the URL", err)
	}
	if n := len(h.requests()); n != 2 {
		t.Errorf("server hits = %d, want 2", n)
	}
}

func TestRetryConnectionRefusedIsNotUncertain(t *testing.T) {
	t.Parallel()
	// A request that never reached a server: dial fails (nothing listens on port 1), and a later
	// 404 of a delete is a 404.
	c, h := setup(t, WithBaseURL("http://127.0.0.1:1/base"), WithMaxRetries(1))
	_, err := c.do(t.Context(), opReset(), nil)
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("do() = %v, want a connection error", err)
	}
	if waits := h.fake().Waits(); len(waits) != 1 {
		t.Errorf("waits = %v, want one retry", waits)
	}
}

// WithRateLimit is a deprecated shim onto the budget: a wait for it beyond the deadline is
// refused like every budget wait, with a 429 *APIError that says the request was not sent.
func TestRetryClientSideRateLimit(t *testing.T) {
	t.Parallel()
	c, h := setup(t, WithRateLimit(0.001, 1)) // one request, then one per 1000s
	// Start at a multiple of the window from the Unix epoch (the budget's windows are aligned
	// to it), so the first request opens the window and the refused wait is the whole 1000s.
	h.useClock(newFakeClockAt(time.Unix(time.Now().Unix()/1000*1000, 0)))
	h.script(status(200, "{}"))
	if _, err := c.do(t.Context(), opGet(), nil); err != nil {
		t.Fatalf("first do() = %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err := c.do(ctx, opGet(), nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrRateLimited) || apiErr.Attempts != 0 || apiErr.RetryAfter <= time.Minute {
		t.Fatalf("second do() = %v, want a 429 *APIError with Attempts 0 and the refused wait", err)
	}
	if n := len(h.requests()); n != 1 {
		t.Errorf("server hits = %d, want 1", n)
	}
}

// cut answers 201 with a Content-Length the body never reaches, then closes the connection: the
// server acted, the client gets half an answer.
func cut() step {
	return func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			panic(err)
		}
		_, _ = buf.WriteString("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"directorFullName\":\"Ada")
		_ = buf.Flush()
		_ = conn.Close()
	}
}

func TestRetryCutSuccessBody(t *testing.T) {
	t.Parallel()
	t.Run("retried with the same key", func(t *testing.T) {
		t.Parallel()
		c, h := setup(t)
		h.script(cut(), status(201, `{"directorFullName":"Ada Lovelace"}`))
		var out struct{ DirectorFullName string }
		resp, err := c.do(t.Context(), opKYC(), &out)
		if err != nil {
			t.Fatalf("do() = %v, want success after a retry", err)
		}
		reqs := h.requests()
		if len(reqs) != 2 || reqs[0].Header.Get("Idempotency-Key") == "" || reqs[0].Header.Get("Idempotency-Key") != reqs[1].Header.Get("Idempotency-Key") {
			t.Fatalf("requests = %d with keys %q, want 2 with one key", len(reqs), []string{reqs[0].Header.Get("Idempotency-Key"), reqs[len(reqs)-1].Header.Get("Idempotency-Key")})
		}
		if out.DirectorFullName != "Ada Lovelace" || !resp.Uncertain || resp.Attempts != 2 {
			t.Errorf("out = %+v, Uncertain = %t, Attempts = %d; want the second answer, true, 2", out, resp.Uncertain, resp.Attempts)
		}
	})
	t.Run("no retries left: the read error", func(t *testing.T) {
		t.Parallel()
		c, h := setup(t, WithMaxRetries(0))
		h.script(cut())
		_, err := c.do(t.Context(), opKYC(), &struct{}{})
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("do() = %v, want an error wrapping io.ErrUnexpectedEOF", err)
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			t.Errorf("do() = %v, a cut body is not an *APIError", err)
		}
	})
}
