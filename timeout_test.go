package debitura

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// stall answers nothing (or only the headers and the start of a body, with headers) until the
// client gives up on the request or the test ends.
func stall(headers bool) step {
	return func(w http.ResponseWriter, r *http.Request) {
		if headers {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"externalTenantId":`))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
}

// TestAttemptTimeout: with a ctx without deadline, a server that never answers (or stops in the
// middle of the body) does not hang the call: each attempt ends after the attempt timeout, the
// attempts follow the retry classes (a timed-out attempt is ambiguous), and the error says the
// attempt timed out.
func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	const d = 50 * time.Millisecond
	opHook := func() *apiRequest {
		return &apiRequest{op: "postV1Webhooks", method: http.MethodPost, route: "/v1/Webhooks", path: "/v1/Webhooks",
			body: map[string]any{"url": "https://hooks.example/d", "events": []string{"client.linked"}}, retry: retryUnsent}
	}
	for _, tc := range []struct {
		name     string
		headers  bool
		op       func() *apiRequest
		attempts int
	}{
		{"no answer, safe operation retried", false, opGet, 2},
		{"stalled body, safe operation retried", true, opGet, 2},
		{"no answer, not retried when the outcome is unknown", false, opHook, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t, WithAttemptTimeout(d), WithMaxRetries(1))
			h.script(stall(tc.headers))
			start := time.Now()
			var out map[string]any
			_, err := c.do(context.Background(), tc.op(), &out)
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("call took %s with a %s attempt timeout", el, d)
			}
			if !errors.Is(err, ErrAttemptTimeout) {
				t.Fatalf("do() = %v, want ErrAttemptTimeout", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "attempt timed out after 50ms") || strings.Contains(msg, "127.0.0.1") {
				t.Errorf("error %q does not say the attempt timed out, or prints the URL", msg)
			}
			if n := len(h.requests()); n != tc.attempts {
				t.Errorf("server got %d attempts, want %d", n, tc.attempts)
			}
		})
	}

	t.Run("ctx ends first", func(t *testing.T) {
		t.Parallel()
		c, h := setup(t, WithAttemptTimeout(10*time.Second))
		h.script(stall(false))
		ctx, cancel := context.WithTimeout(t.Context(), d)
		defer cancel()
		_, err := c.do(ctx, opGet(), nil)
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrAttemptTimeout) {
			t.Errorf("do() = %v, want ctx's deadline and not an attempt timeout", err)
		}
	})
}

// TestAttemptTimeoutPrecedence: the default applies when nothing else is set; the caller's
// http.Client.Timeout replaces the default; with both, the shorter one wins.
func TestAttemptTimeoutPrecedence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		caller time.Duration // Timeout of the caller's http.Client; 0: no client given
		option time.Duration // WithAttemptTimeout; 0: not given
		want   time.Duration
	}{
		{"default", 0, 0, DefaultAttemptTimeout},
		{"caller's Timeout", 3 * time.Second, 0, 3 * time.Second},
		{"option", 0, time.Second, time.Second},
		{"option shorter than the caller's", 3 * time.Second, time.Second, time.Second},
		{"caller's shorter than the option", time.Second, 3 * time.Second, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if tc.caller > 0 {
				opts = append(opts, WithHTTPClient(&http.Client{Timeout: tc.caller}))
			}
			if tc.option > 0 {
				opts = append(opts, WithAttemptTimeout(tc.option))
			}
			c, err := New(testAPIKey, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if c.httpc.Timeout != tc.want {
				t.Errorf("attempt timeout = %s, want %s", c.httpc.Timeout, tc.want)
			}
		})
	}
	if DefaultAttemptTimeout != 30*time.Second {
		t.Errorf("DefaultAttemptTimeout = %s, want 30s", DefaultAttemptTimeout)
	}
	if _, err := New(testAPIKey, WithAttemptTimeout(0)); err == nil {
		t.Error("New(WithAttemptTimeout(0)) succeeded")
	}
}
