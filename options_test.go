package debitura

import (
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

func TestNewOptionsValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		key     string
		opts    []Option
		wantErr string // substring; "" means success
	}{
		{name: "defaults", key: "key"},
		{name: "key too short to redact", key: "k2", wantErr: "at least 3"},
		{name: "empty key", key: " ", wantErr: "apiKey is empty"},
		{name: "key with newline", key: "k\nX-Evil: 1", wantErr: "printable ASCII"},
		{name: "nil option ignored", key: "key", opts: []Option{nil}},
		{name: "base URL test env", key: "key", opts: []Option{WithBaseURL(TestBaseURL)}},
		{name: "base URL http loopback", key: "key", opts: []Option{WithBaseURL("http://127.0.0.1:8080/x")}},
		{name: "base URL http remote", key: "key", opts: []Option{WithBaseURL("http://example.com")}, wantErr: "must use https"},
		{name: "base URL relative", key: "key", opts: []Option{WithBaseURL("/api")}, wantErr: "not an absolute URL"},
		{name: "base URL with query", key: "key", opts: []Option{WithBaseURL("https://example.com/?a=1")}, wantErr: "must not carry"},
		{name: "nil http client", key: "key", opts: []Option{WithHTTPClient(nil)}, wantErr: "client is nil"},
		{name: "http client", key: "key", opts: []Option{WithHTTPClient(&http.Client{Timeout: time.Second})}},
		{name: "user agent", key: "key", opts: []Option{WithUserAgent("sync/1.0")}},
		{name: "user agent empty", key: "key", opts: []Option{WithUserAgent(" ")}, wantErr: "WithUserAgent"},
		{name: "user agent control", key: "key", opts: []Option{WithUserAgent("a\r\nb")}, wantErr: "WithUserAgent"},
		{name: "app info", key: "key", opts: []Option{WithAppInfo("billing", "")}},
		{name: "app info empty name", key: "key", opts: []Option{WithAppInfo("", "1")}, wantErr: "WithAppInfo"},
		{name: "app info slash", key: "key", opts: []Option{WithAppInfo("a/b", "1")}, wantErr: "WithAppInfo"},
		{name: "app info space in version", key: "key", opts: []Option{WithAppInfo("a", "1 2")}, wantErr: "WithAppInfo"},
		{name: "max retries 0", key: "key", opts: []Option{WithMaxRetries(0)}},
		{name: "max retries 10", key: "key", opts: []Option{WithMaxRetries(10)}},
		{name: "max retries 11", key: "key", opts: []Option{WithMaxRetries(11)}, wantErr: "WithMaxRetries"},
		{name: "max retries -1", key: "key", opts: []Option{WithMaxRetries(-1)}, wantErr: "WithMaxRetries"},
		{name: "max retry wait", key: "key", opts: []Option{WithMaxRetryWait(time.Second)}},
		{name: "max retry wait 0", key: "key", opts: []Option{WithMaxRetryWait(0)}, wantErr: "WithMaxRetryWait"},
		{name: "rate limit", key: "key", opts: []Option{WithRateLimit(10, 5)}},
		{name: "rate limit 0", key: "key", opts: []Option{WithRateLimit(0, 1)}, wantErr: "WithRateLimit"},
		{name: "rate limit NaN", key: "key", opts: []Option{WithRateLimit(math.NaN(), 1)}, wantErr: "WithRateLimit"},
		{name: "rate limit Inf", key: "key", opts: []Option{WithRateLimit(math.Inf(1), 1)}, wantErr: "WithRateLimit"},
		{name: "rate limit burst 0", key: "key", opts: []Option{WithRateLimit(1, 0)}, wantErr: "WithRateLimit"},
		{name: "logger", key: "key", opts: []Option{WithLogger(slog.Default())}},
		{name: "nil logger", key: "key", opts: []Option{WithLogger(nil)}},
		{name: "nil budget", key: "key", opts: []Option{WithBudget(nil)}, wantErr: "WithBudget: nil Budget"},
		{name: "nil token cache", key: "key", opts: []Option{WithTokenCache(nil)}, wantErr: "WithTokenCache: nil TokenCache"},
		{name: "nil link locker", key: "key", opts: []Option{WithLinkLocker(nil)}, wantErr: "WithLinkLocker: nil Locker"},
		{name: "bulk max wait 0", key: "key", opts: []Option{WithBulkMaxWait(0)}, wantErr: "WithBulkMaxWait: 0s is not positive"},
		{name: "limits unset", key: "key", opts: []Option{WithLimits(Limits{})}, wantErr: "WithLimits:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.key, tt.opts...)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Errorf("New() = %v, %v; want a Client", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New() error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestOptionsLastWinsAndDefaults(t *testing.T) {
	t.Parallel()
	c, err := New("key", WithMaxRetries(1), WithMaxRetries(5), WithBaseURL("https://a.example"), WithBaseURL(TestBaseURL),
		WithAppInfo("one", "1"), WithAppInfo("two", "2"), WithUserAgent("extra/9"))
	if err != nil {
		t.Fatal(err)
	}
	if set, _ := c.settle("test", nil); c.cfg.maxRetries != 5 || set.maxRetries != 5 {
		t.Errorf("maxRetries = %d (call default %d), want 5", c.cfg.maxRetries, set.maxRetries)
	}
	if c.baseURL.String() != TestBaseURL {
		t.Errorf("baseURL = %s, want %s", c.baseURL, TestBaseURL)
	}
	if want := "debitura-go/" + Version + " two/2 extra/9"; c.userAgent != want {
		t.Errorf("User-Agent = %q, want %q", c.userAgent, want)
	}
	d, err := New("key")
	if err != nil {
		t.Fatal(err)
	}
	if d.cfg.maxRetries != 3 || d.cfg.maxRetryWait != 30*time.Second || d.cfg.rateLimit != 0 || d.cfg.logger != nil || d.baseURL.String() != ProductionBaseURL {
		t.Errorf("defaults = %+v, want 3 retries, 30s max wait, no limiter, no logger, production", d.cfg)
	}
}

func TestWithHTTPClientIsCopied(t *testing.T) {
	t.Parallel()
	hc := &http.Client{Timeout: 3 * time.Second}
	c, err := New("key", WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if c.httpc == hc || hc.Transport != nil || c.httpc.Timeout != 3*time.Second {
		t.Errorf("SDK client shares or changed the caller's client (same %v, caller transport %v, timeout %v)", c.httpc == hc, hc.Transport, c.httpc.Timeout)
	}
	if _, ok := c.httpc.Transport.(interface{ CloseIdleConnections() }); ok {
		t.Error("SDK transport exposes CloseIdleConnections; the engine would close the caller's pool")
	}
}

// The SDK sends through the transport of the *http.Client it is given: here a per-test httpmock
// transport (never httpmock's global one, which would fight parallel tests). It also shows that
// a caller's client is copied, not changed.
func TestWithHTTPClientUsesTheCallersTransport(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodGet, "https://referral-api.example/me", func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("XApiKey") != "mock_httpmock_key" {
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		}
		return httpmock.NewJsonResponse(http.StatusOK, map[string]any{"companyName": "Transported ApS", "isActive": true})
	})
	hc := &http.Client{Transport: mt}
	c, err := New("mock_httpmock_key", WithBaseURL("https://referral-api.example"), WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.Partner.Me(t.Context())
	if err != nil {
		t.Fatalf("Partner.Me: %v", err)
	}
	if me.CompanyName != "Transported ApS" {
		t.Errorf("Partner.Me().CompanyName = %q, want %q", me.CompanyName, "Transported ApS")
	}
	if n := mt.GetCallCountInfo()["GET https://referral-api.example/me"]; n != 1 {
		t.Errorf("calls through the caller's transport = %d, want 1", n)
	}
	if hc.Transport != mt || hc.CheckRedirect != nil || hc.Timeout != 0 {
		t.Errorf("the caller's *http.Client was changed: %+v", hc)
	}
}
