package debitura

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Base URLs of the two Debitura environments. They are fully isolated: keys, clients, tokens
// and webhook subscriptions of one never work in the other.
const (
	// ProductionBaseURL is the Referral Partner API of the production environment.
	ProductionBaseURL = "https://referral-api.debitura.com"
	// TestBaseURL is the Referral Partner API of the test environment.
	TestBaseURL = "https://testreferral-api.debitura.com"
)

// Client is a handle on the Debitura Referral Partner API. Build one with [New]; it is safe for
// concurrent use by many goroutines and immutable after New. Operations hang off its services.
type Client struct {
	cfg     config
	common  service
	httpc   *http.Client
	baseURL *url.URL

	// Clients links, reads, lists and manages the partner's clients.
	Clients *ClientsService
	// Tokens mints Customer API bearer tokens for linked clients.
	Tokens *TokensService
	// Partner reads the authenticated partner's profile.
	Partner *PartnerService
}

// service is the common base of every service, as in go-github.
type service struct {
	client *Client
}

// PartnerService reads the authenticated partner's profile.
type PartnerService service

// New returns a Client that authenticates with apiKey (sent in the XApiKey header). Invalid
// options or an empty key make New return an error; New never panics.
func New(apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("debitura: New: apiKey is empty")
	}
	cfg := defaultConfig()
	cfg.apiKey = apiKey
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("debitura: New: %w", err)
		}
	}
	u, err := parseBaseURL(cfg.baseURL)
	if err != nil {
		return nil, fmt.Errorf("debitura: New: %w", err)
	}
	c := &Client{cfg: cfg, baseURL: u, httpc: cfg.httpClient()}
	c.common.client = c
	c.Clients = (*ClientsService)(&c.common)
	c.Tokens = (*TokensService)(&c.common)
	c.Partner = (*PartnerService)(&c.common)
	return c, nil
}

// retryClass says when an operation may be sent again after an attempt whose outcome is unknown.
// The table in DESIGN.md is the contract.
type retryClass int

const (
	// retrySafe: the operation is idempotent (GET, PATCH, suspend, reactivate, POST /clients keyed
	// by externalTenantId, POST /oauth/token where an extra token is harmless).
	retrySafe retryClass = iota
	// retryWithKey: safe only with an Idempotency-Key; do generates one when the request has
	// none and sends the same key on every attempt (kyc-verification, rotate-token).
	retryWithKey
	// retryDelete: safe in effect; a 404 that follows an attempt whose outcome is unknown means
	// the earlier attempt worked, and do reports success (withdraw, reset).
	retryDelete
)

// apiRequest describes one operation call. Services fill it in; do sends it.
type apiRequest struct {
	op     string     // operation id of the API documents, e.g. "postClients"
	method string     // HTTP method
	route  string     // route template for errors and logs, e.g. "/clients/{externalTenantId}"
	path   string     // escaped path, e.g. "/clients/" + url.PathEscape(id)
	query  url.Values // nil for none
	body   any        // JSON-encoded when non-nil
	retry  retryClass
	// idempotencyKey is sent as Idempotency-Key. For retryWithKey do generates one when empty.
	idempotencyKey string
}

// apiResponse is what do reports about a call that ended in a 2xx.
type apiResponse struct {
	StatusCode int
	Header     http.Header
	// Attempts is how many times the request was sent.
	Attempts int
	// Uncertain is true when an earlier attempt of this call may have reached the server and had
	// its effect (connection broken after sending, or a 5xx/429 answer was retried).
	Uncertain bool
	// IdempotencyKey is the key that was sent, if any.
	IdempotencyKey string
}

// do sends r, decodes a 2xx JSON body into out (when out is non-nil and a body is present) and
// turns every other answer into an error. It is the single request path of the SDK.
//
// TODO(sdk-core): this placeholder sends once with net/http; the retry pipeline replaces it.
func (c *Client) do(ctx context.Context, r *apiRequest, out any) (*apiResponse, error) {
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("debitura: %s %s: encode request: %w", r.method, r.route, err)
		}
		body = bytes.NewReader(b)
	}
	u := *c.baseURL
	u.Path = strings.TrimSuffix(u.Path, "/") + r.path
	u.RawPath = strings.TrimSuffix(u.EscapedPath(), "/") + r.path
	if r.query != nil {
		u.RawQuery = r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("debitura: %s %s: %w", r.method, r.route, err)
	}
	req.Header.Set("XApiKey", c.cfg.apiKey)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", r.idempotencyKey)
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("debitura: %s %s: %w", r.method, r.route, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("debitura: %s %s: read response: %w", r.method, r.route, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("debitura: %s %s: status %d", r.method, r.route, resp.StatusCode)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("debitura: %s %s: decode response: %w", r.method, r.route, err)
		}
	}
	return &apiResponse{StatusCode: resp.StatusCode, Header: resp.Header, Attempts: 1, IdempotencyKey: r.idempotencyKey}, nil
}
