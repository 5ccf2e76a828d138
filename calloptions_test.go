package debitura

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const meBody = `{"id":"7d9f0000-0000-4000-8000-000000000001","companyName":"SaaS Co","referralFeePercentage":10,"isActive":true,"isPublicDemo":false}`

func kycRequest() *KYCRequest {
	return &KYCRequest{DirectorFullName: "J D", DirectorHomeAddress: "addr", DirectorDateOfBirth: Date{1980, 1, 2}}
}

// answerSeq makes pattern answer with the n-th function for the n-th request (the last repeats)
// and counts the requests.
func answerSeq(h *harness, pattern string, steps ...step) *atomic.Int32 {
	var n atomic.Int32
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		steps[min(i, len(steps)-1)](w, r)
	})
	return &n
}

// Each call option shows on the wire: headers, the number of attempts, the attempt timeout and
// the Idempotency-Key.
func TestCallOptionsOnTheWire(t *testing.T) {
	t.Parallel()
	unavailable := status(http.StatusServiceUnavailable, `{"message":"down"}`, lenient...)
	tests := []struct {
		name string
		// answers of the route under test (GET /me unless kyc)
		answers []step
		kyc     bool
		opts    []CallOption
		// wantErr: nil for success, else a sentinel the error must match
		wantErr      error
		wantAttempts int32
		check        func(t *testing.T, calls []request)
	}{
		{
			name:    "WithHeader adds headers, repeated names add values",
			answers: []step{status(200, meBody)},
			opts:    []CallOption{WithHeader("X-Trace-Id", "trace-1"), WithHeader("x-tag", "a"), WithHeader("X-Tag", "b")},
			check: func(t *testing.T, calls []request) {
				h := calls[0].Header
				if diff := cmp.Diff([]string{"trace-1"}, h.Values("X-Trace-Id")); diff != "" {
					t.Errorf("X-Trace-Id (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"a", "b"}, h.Values("X-Tag")); diff != "" {
					t.Errorf("X-Tag (-want +got):\n%s", diff)
				}
				if h.Get("XApiKey") != testAPIKey {
					t.Errorf("XApiKey = %q, want the Client's key", h.Get("XApiKey"))
				}
			},
			wantAttempts: 1,
		},
		{
			name:         "default retries: 4 attempts",
			answers:      []step{unavailable},
			wantErr:      ErrServer,
			wantAttempts: 4,
		},
		{
			name:         "WithCallMaxRetries(0): 1 attempt",
			answers:      []step{unavailable},
			opts:         []CallOption{WithCallMaxRetries(0)},
			wantErr:      ErrServer,
			wantAttempts: 1,
		},
		{
			name:         "WithCallMaxRetries(1): 2 attempts; the last option wins",
			answers:      []step{unavailable},
			opts:         []CallOption{WithCallMaxRetries(5), WithCallMaxRetries(1)},
			wantErr:      ErrServer,
			wantAttempts: 2,
		},
		{
			name: "WithCallAttemptTimeout ends a slow attempt",
			answers: []step{func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(lenient[0], lenient[1]) // no answer to validate
				<-r.Context().Done()                   // the client gives up, closing the connection
			}},
			opts:         []CallOption{WithCallAttemptTimeout(50 * time.Millisecond), WithCallMaxRetries(0)},
			wantErr:      ErrAttemptTimeout,
			wantAttempts: 1,
		},
		{
			name:    "WithIdempotencyKey is sent on every attempt",
			kyc:     true,
			answers: []step{unavailable, status(201, kycAnswer)},
			opts:    []CallOption{WithIdempotencyKey("kyc-order-7")},
			check: func(t *testing.T, calls []request) {
				for i, c := range calls {
					if k := c.Header.Get("Idempotency-Key"); k != "kyc-order-7" {
						t.Errorf("attempt %d: Idempotency-Key = %q, want kyc-order-7", i+1, k)
					}
				}
			},
			wantAttempts: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t)
			var err error
			var n *atomic.Int32
			if tt.kyc {
				n = answerSeq(h, "POST /clients/{id}/kyc-verification", tt.answers...)
				_, err = c.Clients.SubmitKYC(t.Context(), "t1", kycRequest(), tt.opts...)
			} else {
				n = answerSeq(h, "GET /me", tt.answers...)
				_, err = c.Partner.Me(t.Context(), tt.opts...)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("call = %v, want success", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("call = %v, want an error matching %v", err, tt.wantErr)
			}
			if got := n.Load(); got != tt.wantAttempts {
				t.Errorf("server got %d requests, want %d", got, tt.wantAttempts)
			}
			if tt.check != nil {
				tt.check(t, h.requests())
			}
		})
	}
}

// WithResponse receives the metadata of a call that was retried after a 429.
func TestWithResponseAfter429(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	answerSeq(h, "GET /me",
		status(http.StatusTooManyRequests, `{"message":"slow down","retryAfter":1.5}`, append([]string{"X-Request-Id", "req-1"}, lenient...)...),
		status(http.StatusOK, meBody, "X-Request-Id", "req-2"))
	var resp Response
	if _, err := c.Partner.Me(t.Context(), WithResponse(&resp)); err != nil {
		t.Fatalf("Partner.Me = %v", err)
	}
	want := Response{StatusCode: 200, RequestID: "req-2", Attempts: 2, RateLimitWait: 1500 * time.Millisecond}
	if diff := cmp.Diff(want, resp, cmpopts.IgnoreFields(Response{}, "Header")); diff != "" {
		t.Errorf("Response (-want +got):\n%s", diff)
	}
	if resp.Header.Get("X-Request-Id") != "req-2" {
		t.Errorf("Response.Header = %v, want the last answer's headers", resp.Header)
	}
}

// WithResponse is filled on failure too, and reports backoff waits and an uncertain outcome.
func TestWithResponseOnFailure(t *testing.T) {
	t.Parallel()
	c, h := setup(t, withJitter(func(max time.Duration) time.Duration { return max }))
	answerSeq(h, "POST /clients/{id}/kyc-verification",
		status(http.StatusInternalServerError, `{"message":"oops"}`, lenient...),
		status(http.StatusNotFound, `{"message":"no such client"}`, append([]string{"X-Request-Id", "req-404"}, lenient...)...))
	var resp Response
	_, err := c.Clients.SubmitKYC(t.Context(), "t1", kycRequest(), WithResponse(&resp))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("SubmitKYC = %v, want ErrNotFound", err)
	}
	if resp.IdempotencyKey == "" {
		t.Errorf("Response.IdempotencyKey is empty; the SDK generated and sent one")
	}
	want := Response{StatusCode: 404, RequestID: "req-404", Attempts: 2, BackoffWait: backoffBase, Uncertain: true, IdempotencyKey: resp.IdempotencyKey}
	if diff := cmp.Diff(want, resp, cmpopts.IgnoreFields(Response{}, "Header")); diff != "" {
		t.Errorf("Response (-want +got):\n%s", diff)
	}
}

// Invalid call options are refused before anything is sent, with a *ValidationError that names
// the operation.
func TestCallOptionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		call     func(c *Client) error
		wantOp   string
		wantText string // a part of the message that names the problem
	}{
		{"XApiKey header", func(c *Client) error { _, err := c.Partner.Me(t.Context(), WithHeader("xapikey", "other")); return err }, "Partner.Me", "xapikey"},
		{"Authorization header", func(c *Client) error {
			_, err := c.Clients.Get(t.Context(), "t1", WithHeader("Authorization", "Bearer x"))
			return err
		}, "Clients.Get", "Authorization"},
		{"Idempotency-Key header", func(c *Client) error {
			_, err := c.Clients.SubmitKYC(t.Context(), "t1", kycRequest(), WithHeader("Idempotency-Key", "k"))
			return err
		}, "Clients.SubmitKYC", "WithIdempotencyKey"},
		{"bad header name", func(c *Client) error { _, err := c.Partner.Me(t.Context(), WithHeader("X Bad", "v")); return err }, "Partner.Me", "header name"},
		{"header value with a line break", func(c *Client) error {
			_, err := c.Partner.Me(t.Context(), WithHeader("X-Trace", "a\r\nXApiKey: b"))
			return err
		}, "Partner.Me", "control character"},
		{"Idempotency-Key on Clients.Get", func(c *Client) error {
			_, err := c.Clients.Get(t.Context(), "t1", WithIdempotencyKey("k-1"))
			return err
		}, "Clients.Get", "Clients.Get"},
		{"Idempotency-Key on Clients.Create", func(c *Client) error {
			_, err := c.Clients.Create(t.Context(), fullCreateRequest(), WithIdempotencyKey("k-1"))
			return err
		}, "Clients.Create", "takes no Idempotency-Key"},
		{"Idempotency-Key too long", func(c *Client) error {
			_, err := c.Tokens.Rotate(t.Context(), "t1", WithIdempotencyKey(strings.Repeat("k", 256)))
			return err
		}, "Tokens.Rotate", "at most 255"},
		{"retries out of range", func(c *Client) error { _, err := c.Partner.Me(t.Context(), WithCallMaxRetries(11)); return err }, "Partner.Me", "outside 0..10"},
		{"attempt timeout not positive", func(c *Client) error {
			_, err := c.Partner.Me(t.Context(), WithCallAttemptTimeout(0))
			return err
		}, "Partner.Me", "not positive"},
		{"unknown lane", func(c *Client) error { _, err := c.Partner.Me(t.Context(), WithLane(Lane(7))); return err }, "Partner.Me", "WithLane: unknown lane 7"},
		{"nil WithResponse", func(c *Client) error { _, err := c.Partner.Me(t.Context(), WithResponse(nil)); return err }, "Partner.Me", "nil"},
		{"WithResponse on LinkMany", func(c *Client) error {
			var resp Response
			_, err := c.Clients.LinkMany(t.Context(), []*ClientCreateRequest{fullCreateRequest()}, nil, WithResponse(&resp))
			return err
		}, "Clients.LinkMany", "WithResponse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if ve := refused(t, tt.call); ve.Op != tt.wantOp || !strings.Contains(ve.Error(), tt.wantText) {
				t.Errorf("error = %q (Op %q), want Op %q and a message naming %q", ve, ve.Op, tt.wantOp, tt.wantText)
			}
		})
	}
}

// The logger gets Debug records for a retried attempt and a successful call, Info for a call
// that ended with a 4xx answer, Warn for one that failed for lack of an answer it could use, and
// the last record of every call carries its duration.
func TestLogLevels(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, h := setup(t, WithLogger(logger), withJitter(func(max time.Duration) time.Duration { return max }))
	answerSeq(h, "GET /me", status(http.StatusServiceUnavailable, `{"message":"down"}`, lenient...), status(200, meBody))
	h.answer("GET /clients/{id}", http.StatusNotFound, `{"message":"not found"}`, lenient...)
	answerSeq(h, "GET /clients/{id}/profile", status(http.StatusBadGateway, `{"message":"bad gateway"}`, lenient...))

	ctx := t.Context()
	if _, err := c.Partner.Me(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Clients.Get(ctx, "t1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Clients.Get = %v, want ErrNotFound", err)
	}
	if _, err := c.Clients.Profile(ctx, "t1", WithCallMaxRetries(0)); !errors.Is(err, ErrServer) {
		t.Fatalf("Clients.Profile = %v, want ErrServer", err)
	}

	type record struct {
		Level, Msg, Op string
		Status         int
		HasDuration    bool
	}
	var got []record
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		status, _ := m["status"].(float64)
		_, hasDur := m["duration"]
		got = append(got, record{Level: m["level"].(string), Msg: m["msg"].(string), Op: m["op"].(string), Status: int(status), HasDuration: hasDur})
	}
	want := []record{
		{"DEBUG", "debitura: retrying", "getMe", 503, false},
		{"DEBUG", "debitura: call done", "getMe", 200, true},
		{"INFO", "debitura: call failed", "getClientsByExternalTenantId", 404, true},
		{"WARN", "debitura: call failed", "getClientProfile", 502, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
}
