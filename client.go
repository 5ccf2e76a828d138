package debitura

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/debitura-go/debitura/internal/redaction"
	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
)

// Version is the version of this SDK, sent in the User-Agent header as "debitura-go/<Version>".
const Version = "0.1.0"

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
	cfg       config
	common    service
	httpc     *http.Client
	baseURL   *url.URL
	rc        *retryablehttp.Client
	gate      *rateGate
	limiter   *rate.Limiter // nil without WithRateLimit
	userAgent string
	rndMu     *sync.Mutex
	rnd       *mrand.Rand

	tokens *tokenState // sources handed out by Tokens.Source

	linkFlights *singleflight.Group // Clients.EnsureLinked calls in flight, by externalTenantId

	// Clients links, reads, lists and manages the partner's clients.
	Clients *ClientsService
	// Tokens mints Customer API bearer tokens for linked clients.
	Tokens *TokensService
	// Partner reads the authenticated partner's profile.
	Partner *PartnerService
	// Webhooks manages the partner's webhook subscriptions.
	Webhooks *WebhooksService
}

// service is the common base of every service, as in go-github.
type service struct {
	client *Client
}

// PartnerService reads the authenticated partner's profile.
type PartnerService service

// New returns a Client that authenticates with apiKey (sent in the XApiKey header). Invalid
// options or an empty key make New return an error; New never panics. The Client uses its own
// *http.Client (a copy of the one given with WithHTTPClient, or a new one over
// http.DefaultTransport) and never prints or logs apiKey.
func New(apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("debitura: New: apiKey is empty")
	}
	if !printableASCII(apiKey) {
		return nil, errors.New("debitura: New: apiKey contains characters that are not printable ASCII")
	}
	if len(apiKey) < minSecretLen {
		// A key this short could not be told apart from ordinary text, so it could not be
		// removed from error bodies and logs.
		return nil, fmt.Errorf("debitura: New: apiKey is %d characters long; an API key has at least %d", len(apiKey), minSecretLen)
	}
	cfg := defaultConfig()
	cfg.apiKey = NewSecret(apiKey)
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
	c := &Client{cfg: cfg, baseURL: u, httpc: cfg.httpClient(), gate: &rateGate{}, tokens: &tokenState{}, linkFlights: &singleflight.Group{}, userAgent: cfg.userAgentString()}
	var seed [16]byte
	_, _ = rand.Read(seed[:])
	c.rndMu = &sync.Mutex{}
	c.rnd = mrand.New(mrand.NewPCG(
		uint64(seed[0])|uint64(seed[1])<<8|uint64(seed[2])<<16|uint64(seed[3])<<24|uint64(seed[4])<<32|uint64(seed[5])<<40|uint64(seed[6])<<48|uint64(seed[7])<<56,
		uint64(seed[8])|uint64(seed[9])<<8|uint64(seed[10])<<16|uint64(seed[11])<<24|uint64(seed[12])<<32|uint64(seed[13])<<40|uint64(seed[14])<<48|uint64(seed[15])<<56))
	if cfg.rateLimit > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(cfg.rateLimit), cfg.rateBurst)
	}
	c.rc = &retryablehttp.Client{
		HTTPClient:   c.httpc,
		Logger:       nil,
		RetryWaitMin: 0,
		RetryWaitMax: 0,
		RetryMax:     cfg.maxRetries,
		CheckRetry:   c.checkRetry,
		Backoff:      zeroBackoff,
		ErrorHandler: keepLastAnswer,
		PrepareRetry: c.prepareRetry,
	}
	c.common.client = c
	c.Clients = (*ClientsService)(&c.common)
	c.Tokens = (*TokensService)(&c.common)
	c.Partner = (*PartnerService)(&c.common)
	c.Webhooks = (*WebhooksService)(&c.common)
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
	// retryUnsent: not idempotent and no key; retried only when the attempt provably had no
	// effect (the connection was never made, or a 429), never after an ambiguous failure (a
	// 5xx, or a connection that broke after the request may have been written). Creating a
	// webhook subscription, regenerating its secret, triggering a test event.
	retryUnsent
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

// apiResponse is what do reports about a call that ended in a 2xx (or, for retryDelete, in a
// 404 that follows an ambiguous attempt).
type apiResponse struct {
	StatusCode int
	Header     http.Header
	// Attempts is how many times the request was sent.
	Attempts int
	// Uncertain is true when an earlier attempt of this call may have reached the server and had
	// its effect: the connection broke after the request may have been written, or a 5xx answer
	// was retried. A retried 429 does not count: the rate limiter rejects before any effect.
	Uncertain bool
	// IdempotencyKey is the key that was sent, if any.
	IdempotencyKey string
	// AssumedSuccess is true for a retryDelete call whose final answer was 404 after an
	// ambiguous attempt: the earlier attempt is taken to have worked. StatusCode is then 204.
	AssumedSuccess bool
}

// maxIdemKeyLen is the longest Idempotency-Key the API accepts.
const maxIdemKeyLen = 255

// do sends r, decodes a 2xx JSON body into out and turns every other answer into an error. A
// non-nil out means the operation's answer must carry a resource: a 2xx body that is empty or
// null is then an error matching ErrEmptyResponse. A nil out ignores the body. It is the single
// request path of the SDK: it attaches XApiKey, User-Agent and Idempotency-Key, waits at the 429
// gate and the client-side limiter, and retries per r.retry (see retry.go).
//
// Errors: a non-2xx answer is an *APIError (a *ConflictError or one of its specific types for
// the 409 of POST /clients); a call held back by the 429 gate gets the gate's 429 as *APIError
// with Attempts 0; a ctx that ends wraps ctx.Err() together with the last *APIError, if any; a
// transport error wraps the *url.Error (and matches ErrAttemptTimeout when the per-attempt
// timeout ended it, ErrRedirectRefused for a redirect to another origin); a success body over
// the WithMaxResponseBytes limit matches ErrResponseTooLarge.
func (c *Client) do(ctx context.Context, r *apiRequest, out any) (*apiResponse, error) {
	if ctx == nil {
		return nil, fmt.Errorf("debitura: %s %s: nil context", r.method, r.route)
	}
	key := r.idempotencyKey
	if len(key) > maxIdemKeyLen {
		return nil, fmt.Errorf("debitura: %s %s: IdempotencyKey is %d characters long; the API accepts at most %d", r.method, r.route, len(key), maxIdemKeyLen)
	}
	if key != "" && !printableASCII(key) {
		return nil, fmt.Errorf("debitura: %s %s: IdempotencyKey must be printable ASCII", r.method, r.route)
	}
	if key == "" && r.retry == retryWithKey {
		key = newIdempotencyKey()
	}

	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("debitura: %s %s: encode request: %w", r.method, r.route, err)
		}
		body = b
	}
	// r.path is already escaped: Path gets its unescaped form and RawPath the escaped one, so
	// that "%2F" inside a segment stays "%2F" on the wire.
	unescaped, err := url.PathUnescape(r.path)
	if err != nil {
		return nil, fmt.Errorf("debitura: %s %s: invalid path: %w", r.method, r.route, err)
	}
	u := *c.baseURL
	u.RawPath = strings.TrimSuffix(u.EscapedPath(), "/") + r.path
	u.Path = strings.TrimSuffix(u.Path, "/") + unescaped
	if r.query != nil {
		u.RawQuery = r.query.Encode()
	}

	st := &callState{r: r}
	var rawBody any
	if body != nil {
		rawBody = body
	}
	req, err := retryablehttp.NewRequestWithContext(context.WithValue(ctx, callStateKey{}, st), r.method, u.String(), rawBody)
	if err != nil {
		return nil, fmt.Errorf("debitura: %s %s: %w", r.method, r.route, err)
	}
	req.Header.Set("XApiKey", c.cfg.apiKey.Reveal())
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}

	if err := c.beforeSend(ctx, st); err != nil {
		return nil, c.callError(ctx, st, err)
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		return nil, c.callError(ctx, st, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr, confl := st.lastAPIErr, st.lastConfl
		if apiErr == nil || st.lastStatus != resp.StatusCode { // not seen by checkRetry
			data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			apiErr, confl = decodeAPIError(resp.StatusCode, resp.Header, data, c.now(), c.cfg.apiKey.Reveal())
		}
		if r.retry == retryDelete && resp.StatusCode == http.StatusNotFound && st.uncertain {
			return &apiResponse{StatusCode: http.StatusNoContent, Header: resp.Header, Attempts: st.attempts,
				Uncertain: true, IdempotencyKey: key, AssumedSuccess: true}, nil
		}
		e := *apiErr
		e.Method, e.Route, e.Operation, e.Attempts = r.method, r.route, r.op, st.attempts
		return nil, conflictFromAPIError(r.op, &e, confl, c.cfg.apiKey.Reveal())
	}

	data := st.okBody // checkRetry read it
	if data == nil {
		b, err := readCapped(resp.Body, c.cfg.maxResponseBytes)
		if err != nil {
			return nil, &requestError{method: r.method, route: r.route, attempts: st.attempts, what: "read response", err: c.attemptError(ctx, err)}
		}
		data = b
	}
	if out != nil {
		// Every operation that passes out expects a resource: an empty or null body would
		// otherwise decode into an all-zero value that looks like a real answer.
		if emptyBody(data) {
			return nil, &requestError{method: r.method, route: r.route, attempts: st.attempts, what: "decode response", err: &emptyResponseError{status: resp.StatusCode}}
		}
		if err := json.Unmarshal(data, out); err != nil {
			return nil, &requestError{method: r.method, route: r.route, attempts: st.attempts, what: "decode response", err: err}
		}
	}
	return &apiResponse{StatusCode: resp.StatusCode, Header: resp.Header, Attempts: st.attempts,
		Uncertain: st.uncertain, IdempotencyKey: key}, nil
}

// callError turns an error of the retry engine into the SDK's error for the call.
func (c *Client) callError(ctx context.Context, st *callState, err error) error {
	r := st.r
	var apiErr *APIError
	if errors.As(err, &apiErr) { // held back by the 429 gate
		return apiErr
	}
	var last *APIError
	if st.lastAPIErr != nil {
		e := *st.lastAPIErr
		e.Method, e.Route, e.Operation, e.Attempts = r.method, r.route, r.op, st.attempts
		last = &e
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &canceledError{method: r.method, route: r.route, attempts: st.attempts, ctxErr: ctxErr, last: last}
	}
	return &requestError{method: r.method, route: r.route, attempts: st.attempts, err: c.attemptError(ctx, err)}
}

// requestError is a transport or decode failure of a call. Its text names the route template,
// never the URL; Unwrap gives the underlying error (often a *url.Error).
type requestError struct {
	method, route string
	attempts      int
	what          string
	err           error
}

func (e *requestError) Error() string {
	inner := e.err
	var (
		uerr *url.Error
		ate  *attemptTimeoutError
	)
	switch {
	case errors.As(inner, &ate):
		inner = ate // prints without the URL
	case errors.As(inner, &uerr):
		inner = uerr.Err // the *url.Error would print the full URL
	}
	msg := "debitura: " + e.method + " " + e.route + ": "
	if e.what != "" {
		msg += e.what + ": "
	}
	msg += redact(fmt.Sprint(inner))
	if e.attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.attempts)
	}
	return msg
}

func (e *requestError) Unwrap() error { return e.err }

// canceledError is the error of a call whose ctx ended. errors.Is finds context.Canceled or
// context.DeadlineExceeded, and errors.As finds the last *APIError when there was an answer.
type canceledError struct {
	method, route string
	attempts      int
	ctxErr        error
	last          *APIError
}

func (e *canceledError) Error() string {
	msg := fmt.Sprintf("debitura: %s %s: %v after %d attempt(s)", e.method, e.route, e.ctxErr, e.attempts)
	if e.last != nil {
		msg += fmt.Sprintf(" (last answer: %d %s: %s)", e.last.StatusCode, e.last.Type, oneLine(e.last.Message, 200))
	}
	return msg
}

func (e *canceledError) Unwrap() []error {
	if e.last == nil {
		return []error{e.ctxErr}
	}
	return []error{e.ctxErr, e.last}
}

// newIdempotencyKey returns 32 random hex characters.
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// now returns the Client's clock.
func (c *Client) now() time.Time {
	if c.cfg.now != nil {
		return c.cfg.now()
	}
	return time.Now()
}

// sleep waits d or until ctx ends, with the Client's sleeper.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.cfg.sleep != nil {
		return c.cfg.sleep(ctx, d)
	}
	return realSleep(ctx, d)
}

// jitter returns a random duration in [0, max].
func (c *Client) jitter(max time.Duration) time.Duration {
	if c.cfg.jitter != nil {
		return c.cfg.jitter(max)
	}
	if max <= 0 {
		return 0
	}
	c.rndMu.Lock()
	defer c.rndMu.Unlock()
	return time.Duration(c.rnd.Int64N(int64(max) + 1))
}

// String describes the Client without its API key. The printing methods have value receivers
// so that a copied Client value prints safely too.
func (c Client) String() string {
	if c.baseURL == nil {
		return "debitura.Client{}"
	}
	return fmt.Sprintf("debitura.Client{baseURL: %s, apiKey: %s, userAgent: %q}", c.baseURL.Redacted(), redactedMark, c.userAgent)
}

// GoString is String, so %#v never prints the API key.
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb, so %v, %+v, %#v, %s and %q never print the API key.
func (c Client) Format(f fmt.State, verb rune) { redaction.Format(f, verb, c.String()) }

// LogValue keeps the API key out of slog output.
func (c Client) LogValue() slog.Value { return slog.StringValue(c.String()) }
