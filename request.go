package debitura

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// The request path of the SDK, in four files:
//
//   - the operation (clients.go, tokens.go, ...) checks its input, fills in an apiRequest (or
//     an operation, whose request method checks the path parameter and the body) and calls do;
//   - do (this file) builds the HTTP request, sends it through the retry engine, reads the
//     answer and decodes it;
//   - retry.go decides after each attempt whether to retry and how long to wait, and takes a
//     slot of the Client's request budget (budget.go) before every attempt;
//   - errors.go turns an answer other than 2xx into an *APIError.
//
// The state of one call (its settings and what happened across its attempts) is a *call that
// do creates and hands to the retry engine's callbacks as closures.

// retryClass says when an operation may be sent again after an attempt whose outcome is unknown.
// The table in DESIGN.md is the contract.
type retryClass int

const (
	// retrySafe: the operation is idempotent (GET, PATCH, suspend, reactivate, POST /clients keyed
	// by externalTenantId, POST /oauth/token where an extra token is harmless).
	retrySafe retryClass = iota
	// retryWithKey: safe only with an Idempotency-Key; do generates one when the caller gave
	// none (WithIdempotencyKey) and sends the same key on every attempt (kyc-verification,
	// rotate-token).
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

// apiRequest describes one operation call. Operations fill it in; do sends it.
type apiRequest struct {
	name   string     // the SDK method, e.g. "Clients.Create", for errors raised before sending
	op     string     // the API's operationId, e.g. "postClients"
	method string     // HTTP method
	route  string     // route template for errors and logs, e.g. "/clients/{externalTenantId}"
	path   string     // escaped path, e.g. "/clients/" + url.PathEscape(id)
	query  url.Values // nil for none
	body   any        // JSON-encoded when non-nil
	retry  retryClass
}

// operation describes an operation whose route has at most one path parameter,
// {externalTenantId} or {id}, for the operations that fill one in instead of an apiRequest:
// request checks the parameter and then the body, and builds the apiRequest.
type operation struct {
	name, op, method, route string // as in apiRequest; route is the template, e.g. "/v1/Webhooks/{id}"
	retry                   retryClass
	query                   url.Values
	body                    any
	// validate checks the body after the path parameter (the body's validate method); nil for
	// none.
	validate func(op string) error
}

// request checks param, the value of the route's path parameter ({externalTenantId}: the
// externalTenantId rules; {id}: a UUID), then the body, and returns the apiRequest of o with
// param escaped into its path.
func (o operation) request(param string) (*apiRequest, error) {
	var err error
	field := "" // the route's path parameter, if it has one
	switch {
	case strings.Contains(o.route, "{externalTenantId}"):
		field = "externalTenantId"
		err = checkExternalTenantID(o.name, field, param, -1)
	case strings.Contains(o.route, "{id}"):
		field = "id"
		err = checkUUID(o.name, field, param)
	}
	if err == nil && o.validate != nil {
		err = o.validate(o.name)
	}
	if err != nil {
		return nil, err
	}
	path := o.route
	if field != "" {
		path = strings.Replace(o.route, "{"+field+"}", url.PathEscape(param), 1)
	}
	return &apiRequest{name: o.name, op: o.op, method: o.method, route: o.route, path: path, query: o.query, body: o.body, retry: o.retry}, nil
}

// doOperation sends o with its path parameter param and decodes the answer into a new T.
func doOperation[T any](ctx context.Context, c *Client, o operation, param string, opts []CallOption) (*T, error) {
	r, err := o.request(param)
	if err != nil {
		return nil, err
	}
	return doResult[T](ctx, c, r, opts)
}

// sendOperation sends o with its path parameter param and ignores the answer's body.
func sendOperation(ctx context.Context, c *Client, o operation, param string, opts []CallOption) error {
	r, err := o.request(param)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, r, nil, opts...)
	return err
}

// Response describes how a call went. Pass [WithResponse] to an operation to receive it. It is
// filled when the call returns, whether it succeeded or not; what the call never got to stays
// zero (StatusCode is 0 when no answer arrived, Attempts is 0 when nothing was sent).
type Response struct {
	// StatusCode is the HTTP status of the last answer. It is 204 when AssumedSuccess is set.
	StatusCode int
	// Header holds the headers of the last answer.
	Header http.Header
	// RequestID identifies the last answer for Debitura support (X-Request-Id and the like).
	RequestID string
	// Attempts is how many times the request was sent.
	Attempts int
	// RateLimitWait is the time the call spent waiting because of rate limits: before a retry of
	// a 429, and for a slot of the Client's request budget (its windows and its 429 hold).
	RateLimitWait time.Duration
	// BackoffWait is the time the call spent waiting before retries of other failures (5xx
	// answers, transport errors).
	BackoffWait time.Duration
	// Uncertain is true when an earlier attempt of this call may have reached the server and had
	// its effect: the connection broke after the request may have been written, or a 5xx answer
	// was retried. A retried 429 does not count: the rate limiter rejects before any effect.
	Uncertain bool
	// IdempotencyKey is the Idempotency-Key that was sent, if any (the caller's, from
	// WithIdempotencyKey, or the one the SDK generated).
	IdempotencyKey string
	// AssumedSuccess is true for Withdraw, Reset and Webhooks.Delete when the final answer was
	// 404 after an attempt whose outcome was unknown: the earlier attempt is taken to have
	// worked, and the call succeeds.
	AssumedSuccess bool
}

// call is one operation call on its way through the pipeline: the request, its settings and
// what happened across its attempts. The retry engine runs the attempts of a call one after
// another, so it needs no lock.
type call struct {
	c     *Client
	r     *apiRequest
	set   callSettings
	start time.Time
	// resp is what the caller gets; do and the retry policy fill it as the call goes.
	resp Response
	// last is the last answer other than 2xx, decoded (nil before there is one); lastStatus is
	// the status of the last attempt's answer (0 after a transport error).
	last       *APIError
	lastStatus int
	// okBody is the body of a 2xx answer, read whole by checkRetry.
	okBody []byte
}

// do sends r, decodes a 2xx JSON body into out and turns every other answer into an error. A
// non-nil out means the operation's answer must carry a resource: a 2xx body that is empty or
// null is then an error matching ErrEmptyResponse. A nil out ignores the body. opts are the
// caller's per-call options; the Client's options are their defaults.
//
// Errors: a *ValidationError for call options the operation refuses; a non-2xx answer is an
// *APIError; a call the request budget held back gets a 429 *APIError with Attempts 0;
// a ctx that ends wraps ctx.Err() together with the last *APIError, if any; a transport error
// wraps the *url.Error (and matches ErrAttemptTimeout when the per-attempt timeout ended it,
// ErrRedirectRefused for a redirect to another origin); a success body over the
// WithMaxResponseBytes limit matches ErrResponseTooLarge.
func (c *Client) do(ctx context.Context, r *apiRequest, out any, opts ...CallOption) (*Response, error) {
	if ctx == nil {
		return nil, fmt.Errorf("debitura: %s %s: nil context", r.method, r.route)
	}
	cl, err := c.newCall(r, opts)
	if err != nil {
		return nil, err
	}
	err = cl.run(ctx, out)
	cl.finish(ctx, err)
	if err != nil {
		return nil, err
	}
	return &cl.resp, nil
}

// doResult runs r through do and returns the answer decoded into a new T: the step that every
// operation with a result shares.
func doResult[T any](ctx context.Context, c *Client, r *apiRequest, opts []CallOption) (*T, error) {
	out := new(T)
	if _, err := c.do(ctx, r, out, opts...); err != nil {
		return nil, err
	}
	return out, nil
}

// newCall settles the call's settings (the Client's defaults, then opts) and its
// Idempotency-Key.
func (c *Client) newCall(r *apiRequest, opts []CallOption) (*call, error) {
	set, err := c.settle(r.name, opts)
	if err != nil {
		return nil, err
	}
	cl := &call{c: c, r: r, set: set}
	key := set.idempotencyKey
	if key != "" && r.retry != retryWithKey {
		return nil, invalid(r.name, "Idempotency-Key", "%s (%s %s) takes no Idempotency-Key; only Clients.SubmitKYC and Tokens.Rotate do", r.name, r.method, r.route)
	}
	if err := checkIdempotencyKey(r.name, key); err != nil {
		return nil, err
	}
	if key == "" && r.retry == retryWithKey {
		key = newIdempotencyKey()
	}
	cl.resp.IdempotencyKey = key
	cl.start = c.now()
	return cl, nil
}

// settle applies opts over the Client's defaults. name is the SDK method, for the error.
func (c *Client) settle(name string, opts []CallOption) (callSettings, error) {
	set := callSettings{maxRetries: c.cfg.maxRetries, attemptTimeout: c.httpc.Timeout}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&set); err != nil {
			return callSettings{}, invalid(name, "call options", "%v", err)
		}
	}
	return set, nil
}

// run sends the call and reads its answer into out.
func (cl *call) run(ctx context.Context, out any) error {
	c, r := cl.c, cl.r
	req, err := cl.httpRequest(ctx)
	if err != nil {
		return err
	}
	if err := c.admit(ctx, cl); err != nil {
		return cl.error(ctx, err)
	}
	resp, err := cl.engine().Do(req)
	if err != nil {
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		return cl.error(ctx, err)
	}
	defer resp.Body.Close()
	cl.resp.StatusCode, cl.resp.Header = resp.StatusCode, resp.Header
	cl.resp.RequestID = requestIDFromHeader(resp.Header)

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// checkRetry has decoded every answer that is not 2xx.
		if r.retry == retryDelete && resp.StatusCode == http.StatusNotFound && cl.resp.Uncertain {
			cl.resp.StatusCode, cl.resp.AssumedSuccess = http.StatusNoContent, true
			return nil
		}
		cl.resp.RequestID = cl.last.RequestID
		return cl.lastError()
	}

	data := cl.okBody
	if data == nil { // checkRetry's read failed (or hit the limit) and the call was not retried
		b, err := readCapped(resp.Body, c.cfg.maxResponseBytes)
		if err != nil {
			return &requestError{method: r.method, route: r.route, attempts: cl.resp.Attempts, what: "read response", err: cl.attemptError(ctx, err)}
		}
		data = b
	}
	if out != nil {
		// Every operation that passes out expects a resource: an empty or null body would
		// otherwise decode into an all-zero value that looks like a real answer.
		if emptyBody(data) {
			return &requestError{method: r.method, route: r.route, attempts: cl.resp.Attempts, what: "decode response", err: &emptyResponseError{status: resp.StatusCode}}
		}
		if err := json.Unmarshal(data, out); err != nil {
			return &requestError{method: r.method, route: r.route, attempts: cl.resp.Attempts, what: "decode response", err: err}
		}
	}
	return nil
}

// httpRequest builds the request of the call: URL, JSON body, and the headers XApiKey,
// User-Agent, Accept, Content-Type, Idempotency-Key and the caller's WithHeader headers.
func (cl *call) httpRequest(ctx context.Context) (*retryablehttp.Request, error) {
	c, r := cl.c, cl.r
	var body any // nil, or []byte: retryablehttp replays a []byte body on every attempt
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
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("debitura: %s %s: %w", r.method, r.route, err)
	}
	for k, vs := range cl.set.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Set("XApiKey", c.cfg.apiKey.Reveal())
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key := cl.resp.IdempotencyKey; key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return req, nil
}

// lastError is the *APIError of the call's last answer, described as this call.
func (cl *call) lastError() *APIError {
	e := *cl.last
	e.Method, e.Route, e.Operation, e.Attempts = cl.r.method, cl.r.route, cl.r.op, cl.resp.Attempts
	return &e
}

// error turns an error of the retry engine (or of admit) into the SDK's error for the call.
func (cl *call) error(ctx context.Context, err error) error {
	r := cl.r
	var apiErr *APIError
	if errors.As(err, &apiErr) { // held back by the request budget
		return apiErr
	}
	var last *APIError
	if cl.last != nil {
		last = cl.lastError()
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &canceledError{method: r.method, route: r.route, attempts: cl.resp.Attempts, err: ctxErr, last: last}
	}
	return &requestError{method: r.method, route: r.route, attempts: cl.resp.Attempts, err: cl.attemptError(ctx, err)}
}

// attemptError marks err as an attempt timeout when it is one: the per-attempt deadline (the
// Timeout of the call's *http.Client, which net/http reports as context.DeadlineExceeded) ended
// the attempt while ctx, the bound of the whole call, was alive.
func (cl *call) attemptError(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrAttemptTimeout) {
		return err
	}
	return &attemptTimeoutError{after: cl.set.attemptTimeout, err: err}
}

// finish fills the caller's WithResponse destination and logs the call's last line: Debug when
// it succeeded, Info when the API answered with a final 4xx other than 429 (an answer for the
// caller to handle), Warn when it failed otherwise (a 429 or 5xx after its retries, a transport
// error, a timeout, a ctx that ended). A call refused before sending is not logged.
func (cl *call) finish(ctx context.Context, err error) {
	if cl.set.response != nil {
		*cl.set.response = cl.resp
	}
	status := cl.resp.StatusCode
	level, msg := slog.LevelDebug, "debitura: call done"
	var apiErr *APIError
	switch {
	case err == nil:
	case errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 && apiErr.StatusCode != http.StatusTooManyRequests:
		level, msg = slog.LevelInfo, "debitura: call failed"
		status = apiErr.StatusCode
	default:
		level, msg = slog.LevelWarn, "debitura: call failed"
		if errors.As(err, &apiErr) {
			status = apiErr.StatusCode
		}
	}
	cl.log(ctx, level, msg, status, cl.c.now().Sub(cl.start), err)
}

// log writes one record about the call: operation, method, route template, attempt number,
// status, the request id and either the wait before the next attempt (retries, waits at the
// gate) or the call's duration (its last line). It never logs URLs, headers, bodies or
// credentials.
func (cl *call) log(ctx context.Context, level slog.Level, msg string, status int, d time.Duration, err error) {
	c := cl.c
	l := c.cfg.logger
	if l == nil || !l.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", cl.r.op),
		slog.String("method", cl.r.method),
		slog.String("route", cl.r.route),
		slog.Int("attempt", cl.resp.Attempts),
	}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if strings.HasPrefix(msg, "debitura: call ") {
		attrs = append(attrs, slog.Duration("duration", d))
	} else if d > 0 {
		attrs = append(attrs, slog.Duration("wait", d))
	}
	reqID := cl.resp.RequestID
	if cl.last != nil && cl.lastStatus != 0 {
		reqID = cl.last.RequestID
	}
	if reqID != "" {
		attrs = append(attrs, slog.String("request_id", redact(reqID, c.cfg.apiKey.Reveal())))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", safeErrorText(err, c.cfg.apiKey.Reveal())))
	}
	l.LogAttrs(ctx, level, msg, attrs...)
}

// safeErrorText is the text of an error without the URL a *url.Error carries, with secrets
// removed.
func safeErrorText(err error, secrets ...string) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return redact(err.Error(), secrets...)
}

// newIdempotencyKey returns 32 random hex characters.
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// emptyBody reports whether a success body carries nothing: no bytes but white space, or null.
func emptyBody(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) == 0 || string(t) == "null"
}

// bufferBody reads resp's body into memory, up to limit bytes, puts it back and returns it (nil
// when the read failed). When the read fails, the body it puts back yields what was read and
// then the same error, so a caller that reads it sees the failure too. A body longer than limit
// is not read further: the error matches ErrResponseTooLarge, and the body put back yields only
// that error.
func bufferBody(resp *http.Response, limit int64) ([]byte, error) {
	data, err := readCapped(resp.Body, limit)
	_ = resp.Body.Close() // before the end of the body: closes the connection
	switch {
	case errors.Is(err, ErrResponseTooLarge):
		resp.Body = io.NopCloser(errReader{err})
		return nil, err
	case err != nil:
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(data), errReader{err}))
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return data, nil
}

// readCapped reads r to its end, but not more than limit bytes: with more to read it returns a
// *tooLargeError after reading limit+1 bytes.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	n := limit
	if n < math.MaxInt64 {
		n++
	}
	data, err := io.ReadAll(io.LimitReader(r, n))
	if err == nil && int64(len(data)) > limit {
		return nil, &tooLargeError{limit: limit}
	}
	return data, err
}

// errReader is a reader that only fails.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
