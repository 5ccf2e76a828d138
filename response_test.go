package debitura

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/debitura-go/debitura/webhook"
)

// TestSuccessBodyCap: a 2xx body longer than WithMaxResponseBytes fails the call with an error
// that names the limit, is not retried, and is not read to its end.
func TestSuccessBodyCap(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10

	t.Run("endless body", func(t *testing.T) {
		t.Parallel()
		c, h := setup(t, WithMaxResponseBytes(limit))
		var written atomic.Int64
		done := make(chan struct{}, 4)
		chunk := []byte(strings.Repeat("x", 32<<10))
		h.script(func(w http.ResponseWriter, r *http.Request) {
			defer func() { done <- struct{}{} }()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"externalTenantId":"`))
			for written.Load() < 1<<30 { // bounded, in case the client never stops reading
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return
				}
			}
		})
		var out LinkedClient
		_, err := c.do(t.Context(), opGet(), &out)
		if !errors.Is(err, ErrResponseTooLarge) {
			t.Fatalf("do() = %v, want ErrResponseTooLarge", err)
		}
		if !strings.Contains(err.Error(), strconv.Itoa(limit)) {
			t.Errorf("error %q does not name the limit %d", err, limit)
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the server is still writing: the SDK did not stop reading")
		}
		// The server only gets as far as the socket buffers let it after the SDK stops.
		if n := written.Load(); n > 32<<20 {
			t.Errorf("server wrote %d bytes before the SDK stopped reading", n)
		}
		if n := len(h.requests()); n != 1 {
			t.Errorf("server got %d requests, want 1 (an oversize answer is not retried)", n)
		}
	})

	for _, tc := range []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"at the limit", limit, false},
		{"one byte over", limit + 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t, WithMaxResponseBytes(limit))
			h.script(status(http.StatusOK, strings.Repeat(" ", tc.size-2)+"{}"))
			var out map[string]any
			_, err := c.do(t.Context(), opGet(), &out)
			if got := errors.Is(err, ErrResponseTooLarge); got != tc.wantErr {
				t.Errorf("do() = %v, want ErrResponseTooLarge %v", err, tc.wantErr)
			}
		})
	}

	t.Run("default", func(t *testing.T) {
		t.Parallel()
		c, err := New(testAPIKey)
		if err != nil {
			t.Fatal(err)
		}
		if c.cfg.maxResponseBytes != DefaultMaxResponseBytes || DefaultMaxResponseBytes != 16<<20 {
			t.Errorf("default cap = %d, want %d", c.cfg.maxResponseBytes, 16<<20)
		}
		if _, err := New(testAPIKey, WithMaxResponseBytes(0)); err == nil {
			t.Error("New(WithMaxResponseBytes(0)) succeeded")
		}
	})
}

// TestEmptySuccessBody: an operation whose answer must carry a resource fails with
// ErrEmptyResponse on a 2xx whose body is empty or null, instead of returning an all-zero value;
// EnsureLinked returns that error instead of onboarding_required with an empty URL.
func TestEmptySuccessBody(t *testing.T) {
	t.Parallel()
	create := func() *ClientCreateRequest {
		return &ClientCreateRequest{ExternalTenantID: "t-1",
			Client: ClientDetails{Name: "Acme ApS", Country: "DK", SupportEmail: "support@acme.example"},
			Users:  []ClientUser{{Name: "Ada Lovelace", Email: "ada@acme.example"}}}
	}
	const hookID = "3f2b8c1e-9d4a-4e7b-8a6c-1d2e3f4a5b6c"
	ops := []struct {
		name   string
		status int
		before []step // answers before the empty one
		call   func(ctx context.Context, c *Client) (any, error)
	}{
		{"Clients.Get", 200, nil, func(ctx context.Context, c *Client) (any, error) { return c.Clients.Get(ctx, "t-1") }},
		{"Clients.Create", 201, nil, func(ctx context.Context, c *Client) (any, error) { return c.Clients.Create(ctx, create()) }},
		{"Clients.Create 202", 202, nil, func(ctx context.Context, c *Client) (any, error) { return c.Clients.Create(ctx, create()) }},
		{"Clients.List", 200, nil, func(ctx context.Context, c *Client) (any, error) { return c.Clients.List(ctx, nil) }},
		{"Clients.IsDeletable", 200, nil, func(ctx context.Context, c *Client) (any, error) { return c.Clients.IsDeletable(ctx, "t-1") }},
		{"Clients.SubmitKYC", 200, nil, func(ctx context.Context, c *Client) (any, error) {
			return c.Clients.SubmitKYC(ctx, "t-1", &KYCRequest{DirectorFullName: "Ada Lovelace", DirectorHomeAddress: "1 Analytical Row", DirectorDateOfBirth: Date{1815, time.December, 10}}, nil)
		}},
		{"Clients.Update", 200, nil, func(ctx context.Context, c *Client) (any, error) {
			return c.Clients.Update(ctx, "t-1", &ClientUpdateRequest{SupportPhone: Ptr("+45 1234")})
		}},
		{"Clients.Profile", 200, nil, func(ctx context.Context, c *Client) (any, error) { return c.Clients.Profile(ctx, "t-1") }},
		{"Clients.Suspend", 200, nil, func(ctx context.Context, c *Client) (any, error) { return c.Clients.Suspend(ctx, "t-1") }},
		{"Clients.Reactivate", 200, nil, func(ctx context.Context, c *Client) (any, error) { return c.Clients.Reactivate(ctx, "t-1") }},
		{"Tokens.Mint", 200, nil, func(ctx context.Context, c *Client) (any, error) { return c.Tokens.Mint(ctx, "t-1") }},
		{"Tokens.Rotate", 200, nil, func(ctx context.Context, c *Client) (any, error) { return c.Tokens.Rotate(ctx, "t-1", nil) }},
		{"Partner.Me", 200, nil, func(ctx context.Context, c *Client) (any, error) { return c.Partner.Me(ctx) }},
		{"Webhooks.List", 200, nil, func(ctx context.Context, c *Client) (any, error) { return c.Webhooks.List(ctx) }},
		{"Webhooks.Get", 200, nil, func(ctx context.Context, c *Client) (any, error) { return c.Webhooks.Get(ctx, hookID) }},
		{"Webhooks.Create", 200, nil, func(ctx context.Context, c *Client) (any, error) {
			return c.Webhooks.Create(ctx, &WebhookCreateRequest{URL: "https://hooks.example/debitura", Events: []webhook.EventType{webhook.ClientLinked}})
		}},
		{"Webhooks.Update", 200, nil, func(ctx context.Context, c *Client) (any, error) {
			return c.Webhooks.Update(ctx, hookID, &WebhookUpdateRequest{IsActive: Ptr(true)})
		}},
		{"Webhooks.Test", 200, nil, func(ctx context.Context, c *Client) (any, error) {
			return c.Webhooks.Test(ctx, &WebhookTestRequest{EventType: webhook.ClientLinked, ExternalTenantID: "t-1"})
		}},
		{"Clients.EnsureLinked, Get empty", 200, nil, func(ctx context.Context, c *Client) (any, error) {
			return c.Clients.EnsureLinked(ctx, create())
		}},
		{"Clients.EnsureLinked, Create empty", 202, []step{status(http.StatusNotFound, `{"message":"not found"}`)},
			func(ctx context.Context, c *Client) (any, error) { return c.Clients.EnsureLinked(ctx, create()) }},
	}
	for _, op := range ops {
		for _, body := range []string{"", "null", " null\n"} {
			t.Run(op.name+"/"+strconv.Quote(body), func(t *testing.T) {
				t.Parallel()
				c, h := setup(t)
				steps := append(append([]step(nil), op.before...), status(op.status, body))
				h.script(steps...)
				got, err := op.call(t.Context(), c)
				if !errors.Is(err, ErrEmptyResponse) {
					t.Fatalf("err = %v (result %+v), want ErrEmptyResponse", err, got)
				}
				if n, want := len(h.requests()), len(op.before)+1; n != want {
					t.Errorf("server got %d requests, want %d (an empty answer is not retried)", n, want)
				}
			})
		}
	}
}
