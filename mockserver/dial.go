package mockserver

import (
	"bytes"
	"context"
	"encoding/json"

	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// dialTimeout bounds each call of a dialled Controller (FlushWebhooks uses its ctx instead).
const dialTimeout = 30 * time.Second

// Dial returns a [Controller] that drives the debitura-mock binary (or any server of a
// [Backend]) at baseURL ("http://127.0.0.1:8080") over its /__mock/ routes. It checks that the
// mock answers GET /__mock/health within ctx and returns an error otherwise.
//
// Each request carries Content-Type: application/json and the Host header "localhost", so the
// admin guard accepts it whatever name the mock is reached under (a container name, a pod IP);
// the guard exists to stop browsers, and a Go client is not one. Each call is bounded by 30
// seconds, except FlushWebhooks, which uses its ctx. The partner of the per-partner calls is the
// API key (or partner id) given to them.
func Dial(ctx context.Context, baseURL string) (Controller, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mockserver: Dial: %q is not an http(s) base URL", baseURL)
	}
	c := &remote{base: u.String(), client: &http.Client{Timeout: dialTimeout}}
	var h Health
	if err := c.call(ctx, http.MethodGet, HealthPath, "", nil, &h); err != nil {
		return nil, fmt.Errorf("mockserver: Dial %s: %w", c.base, err)
	}
	if h.Status != "ok" {
		return nil, fmt.Errorf("mockserver: Dial %s: health status %q", c.base, h.Status)
	}
	return c, nil
}

// remote is the Controller Dial returns.
type remote struct {
	base   string
	client *http.Client
}

// remoteError is a control route's error answer; it matches the sentinel of its status.
type remoteError struct {
	status int
	msg    string
	kind   error
}

func (e *remoteError) Error() string {
	return fmt.Sprintf("mockserver: control API %d: %s", e.status, e.msg)
}

func (e *remoteError) Unwrap() error { return e.kind }

// call sends one control request (key "" sends no XApiKey) and decodes a 2xx answer into out.
func (c *remote) call(ctx context.Context, method, path, key string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Host = "localhost" // a loopback name: accepted by the admin guard's Host check
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if key != "" {
		req.Header.Set("XApiKey", key)
	}
	res, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		re := &remoteError{status: res.StatusCode, msg: e.Message}
		switch res.StatusCode {
		case http.StatusBadRequest:
			re.kind = ErrInvalid
		case http.StatusNotFound:
			re.kind = ErrNotFound
		case http.StatusConflict:
			re.kind = ErrConflict
			if strings.Contains(e.Message, ErrExpired.Error()) {
				re.kind = ErrExpired
			}
		}
		return re
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("mockserver: decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

func (c *remote) do(method, path, key string, in, out any) error {
	return c.call(context.Background(), method, path, key, in, out)
}

func (c *remote) AddPartner(p PartnerSpec) (PartnerSpec, error) {
	var out PartnerSpec
	return out, c.do(http.MethodPost, "/__mock/partners", "", p, &out)
}

func (c *remote) AddCreditor(spec CreditorSpec) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(http.MethodPost, "/__mock/creditors", "", spec, &out)
	return out.ID, err
}

func clientPath(ext, suffix string) string {
	return "/__mock/clients/" + url.PathEscape(ext) + suffix
}

func (c *remote) CompleteOnboarding(apiKey, ext string) error {
	return c.do(http.MethodPost, clientPath(ext, "/complete-onboarding"), apiKey, nil, nil)
}

func (c *remote) LinkedClient(apiKey, ext string) (ClientInfo, error) {
	var out ClientInfo
	return out, c.do(http.MethodGet, clientPath(ext, ""), apiKey, nil, &out)
}

func (c *remote) ApprovePendingLink(apiKey, ext string) error {
	return c.do(http.MethodPost, clientPath(ext, "/link-request/approve"), apiKey, nil, nil)
}

func (c *remote) DeclinePendingLink(apiKey, ext string) error {
	return c.do(http.MethodPost, clientPath(ext, "/link-request/decline"), apiKey, nil, nil)
}

func (c *remote) ExpirePendingLink(apiKey, ext string) error {
	return c.do(http.MethodPost, clientPath(ext, "/link-request/expire"), apiKey, nil, nil)
}

func (c *remote) ExpireLinkRequests() (int, error) {
	var out struct {
		Expired int `json:"expired"`
	}
	err := c.do(http.MethodPost, "/__mock/links/expire", "", nil, &out)
	return out.Expired, err
}

func (c *remote) AdvanceClock(d time.Duration) (time.Time, error) {
	var out struct {
		Now time.Time `json:"now"`
	}
	err := c.do(http.MethodPost, "/__mock/clock/advance", "", map[string]string{"duration": d.String()}, &out)
	return out.Now, err
}

// faultJSON is a Fault as POST /__mock/faults takes it (latency as a duration string).
func faultJSON(f Fault) any {
	in := faultIn{Fault: f}
	if f.Latency != 0 {
		in.Latency = f.Latency.String()
	}
	return in
}

func (c *remote) AddFault(f Fault) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(http.MethodPost, "/__mock/faults", "", faultJSON(f), &out)
	return out.ID, err
}

func (c *remote) DeleteFault(id string) error {
	return c.do(http.MethodDelete, "/__mock/faults/"+url.PathEscape(id), "", nil, nil)
}

func (c *remote) ListFaults() ([]FaultRule, error) {
	var out []FaultRule
	return out, c.do(http.MethodGet, "/__mock/faults", "", nil, &out)
}

func (c *remote) SetRateLimit(cfg RateLimitConfig) error {
	in := rateLimitJSON(cfg)
	return c.do(http.MethodPut, "/__mock/rate-limit", "", in, nil)
}

func (c *remote) RateLimits() (RateLimitConfig, error) {
	var in rateLimitIn
	if err := c.do(http.MethodGet, "/__mock/rate-limit", "", nil, &in); err != nil {
		return RateLimitConfig{}, err
	}
	ws, err := rateWindows(in.Windows)
	if err != nil {
		return RateLimitConfig{}, err
	}
	return RateLimitConfig{Disabled: in.Disabled, Windows: ws}, nil
}

func (c *remote) JournalEntries(f JournalFilter) ([]JournalEntry, error) {
	q := url.Values{}
	if f.Operation != "" {
		q.Set("operation", f.Operation)
	}
	switch {
	case f.StatusClass != 0:
		q.Set("status", strconv.Itoa(f.StatusClass)+"xx")
	case f.Status != 0:
		q.Set("status", strconv.Itoa(f.Status))
	}
	if f.PartnerID != "" {
		q.Set("partnerId", f.PartnerID)
	}
	path := "/__mock/journal"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out []JournalEntry
	return out, c.do(http.MethodGet, path, "", nil, &out)
}

func (c *remote) FlushWebhooks(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/__mock/webhooks/flush", "", nil, nil)
}

func (c *remote) WebhookDeliveries() ([]DeliveryInfo, error) {
	var out []DeliveryInfo
	return out, c.do(http.MethodGet, "/__mock/webhooks/deliveries", "", nil, &out)
}

func (c *remote) ResetAll() error {
	return c.do(http.MethodPost, "/__mock/reset", "", nil, nil)
}

var _ Controller = (*remote)(nil)
