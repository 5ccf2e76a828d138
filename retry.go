package debitura

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// callStateKey carries the *callState of one do call in the request's context, so that
// CheckRetry and PrepareRetry (which see only the context or the request) know the call's retry
// class and history. It carries per-call bookkeeping, never configuration.
type callStateKey struct{}

// callState is the bookkeeping of one do call across its attempts. The retry engine runs the
// attempts of a call one after another, so it needs no lock.
type callState struct {
	r        *apiRequest
	attempts int
	// uncertain: a retried attempt may have had its effect on the server (a 5xx, or a transport
	// error that was not a failure to connect).
	uncertain bool
	// last answer (non-2xx) and its decoded error; nil when the last attempt had no answer.
	lastStatus int
	lastHeader http.Header
	lastBody   []byte
	lastAPIErr *APIError
	lastConfl  errorBody
	lastErr    error // last transport error
	// okBody is the body of a 2xx answer, read whole by checkRetry (nil when the read failed).
	okBody []byte
}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}

// retryableStatus lists the answers that may be retried: 429 and the transient 5xx. 501 and
// every 4xx other than 429 are final.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableTransportError reports whether a transport error may be retried. Certificate
// problems, bad schemes and redirects the policy refused (another origin, too many, the
// caller's CheckRedirect) are final; everything else (resets, refused connections, per-attempt
// timeouts) may be retried while the call's ctx is alive.
func retryableTransportError(err error) bool {
	var stopped *redirectStopped
	if errors.Is(err, ErrRedirectRefused) || errors.As(err, &stopped) {
		return false
	}
	var (
		uae  x509.UnknownAuthorityError
		he   x509.HostnameError
		cie  x509.CertificateInvalidError
		cve  *tls.CertificateVerificationError
		rhe  tls.RecordHeaderError
		uerr *url.Error
	)
	switch {
	case errors.As(err, &uae), errors.As(err, &he), errors.As(err, &cie), errors.As(err, &cve), errors.As(err, &rhe):
		return false
	}
	if errors.As(err, &uerr) {
		msg := uerr.Err.Error()
		if strings.Contains(msg, "stopped after") || strings.Contains(msg, "unsupported protocol scheme") {
			return false
		}
	}
	return true
}

// notSent reports whether a transport error certainly happened before the request was written
// (name resolution or connecting failed), so the attempt had no effect.
func notSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	return false
}

// checkRetry is the CheckRetry of the retry engine. It counts the attempt, buffers a non-2xx
// body, decides whether the call may be retried, and does the (ctx-aware, injectable) wait
// itself, because the engine's Backoff sees neither ctx nor the body. It returns false without
// an error when the call must end with the answer it has: go-retryablehttp then hands that
// answer to do through the pass-through ErrorHandler or as a plain response.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := stateFrom(ctx)
	if st == nil { // not a request built by do
		return false, err
	}
	st.attempts++
	now := c.now()
	status := 0
	var ambiguous bool
	if err == nil && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		// Read a success answer here, not in do: an answer cut off mid-body is the same as a
		// connection broken after sending (the server acted, the client did not learn how),
		// so it is retried by the same rules, with the same Idempotency-Key.
		data, rerr := bufferBody(resp, c.cfg.maxResponseBytes)
		st.okBody = data
		if errors.Is(rerr, ErrResponseTooLarge) {
			// The server answered, and would answer the same again: final, never retried.
			c.gate.pacer.accept(now)
			c.logAttempt(ctx, slog.LevelInfo, st, resp.StatusCode, requestIDFromHeader(resp.Header), 0, rerr)
			return false, nil
		}
		if rerr != nil {
			err = fmt.Errorf("read response: %w", rerr)
		}
	}
	if err != nil {
		st.lastErr = err
		// lastAPIErr stays: a ctx that ends later still reports the last answer there was.
		st.lastStatus, st.lastHeader, st.lastBody, st.lastConfl = 0, nil, nil, nil
		if ctx.Err() != nil || !retryableTransportError(err) {
			c.logAttempt(ctx, slog.LevelInfo, st, 0, "", 0, err)
			return false, nil
		}
		ambiguous = !notSent(err)
	} else {
		status = resp.StatusCode
		st.lastErr = nil
		if status != http.StatusTooManyRequests {
			c.gate.pacer.accept(now)
		}
		if status < 200 || status > 299 {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			_ = resp.Body.Close()
			if rerr != nil {
				body = nil
			}
			resp.Body = io.NopCloser(strings.NewReader(string(body)))
			st.lastStatus, st.lastHeader, st.lastBody = status, resp.Header, body
			st.lastAPIErr, st.lastConfl = decodeAPIError(status, resp.Header, body, now, c.cfg.apiKey.Reveal())
		}
		reqID := requestIDFromHeader(resp.Header)
		if st.lastAPIErr != nil && status >= 300 {
			reqID = st.lastAPIErr.RequestID
		}
		if !retryableStatus(status) {
			level := slog.LevelDebug
			if status >= 300 {
				level = slog.LevelInfo
			}
			c.logAttempt(ctx, level, st, status, reqID, 0, nil)
			return false, nil
		}
		ambiguous = status >= 500 // a 429 is rejected before it does anything
	}
	reqID := ""
	var answer *APIError // this attempt's answer; nil after a transport error
	if err == nil && st.lastAPIErr != nil {
		answer = st.lastAPIErr
		reqID = answer.RequestID
	}

	if ambiguous && st.r.retry == retryUnsent {
		// The attempt may have had its effect; a second one could repeat it.
		c.logAttempt(ctx, slog.LevelInfo, st, status, reqID, 0, err)
		return false, nil
	}

	wait, hinted := c.retryWait(st.attempts-1, answer)
	if status == http.StatusTooManyRequests {
		c.gate.hold(now.Add(wait), answer)
		if !c.cfg.noPacing {
			until, _ := c.gate.remaining(now)
			c.gate.pacer.throttled(now, now.Add(until))
		}
	}
	if st.attempts > c.cfg.maxRetries {
		c.logAttempt(ctx, slog.LevelInfo, st, status, reqID, 0, err)
		return false, nil
	}
	if hinted && wait > c.cfg.maxRetryWait {
		// The server asked for more than we are willing to sleep: hand the answer back.
		c.logAttempt(ctx, slog.LevelInfo, st, status, reqID, wait, err)
		return false, nil
	}
	if g, _ := c.gate.remaining(now); g > wait {
		if g > c.cfg.maxRetryWait {
			c.logAttempt(ctx, slog.LevelInfo, st, status, reqID, g, err)
			return false, nil
		}
		wait = g
	}
	if dl, ok := ctx.Deadline(); ok && now.Add(wait).After(dl) {
		c.logAttempt(ctx, slog.LevelInfo, st, status, reqID, wait, err)
		return false, nil
	}
	c.logAttempt(ctx, slog.LevelWarn, st, status, reqID, wait, err)
	if serr := c.sleep(ctx, wait); serr != nil {
		return false, serr
	}
	if ambiguous {
		st.uncertain = true
	}
	return true, nil
}

// keepLastAnswer is the engine's ErrorHandler, called when the attempts end on an answer or an
// error that checkRetry did not retry (or retries ran out). It hands back the last response and
// error untouched, so do can turn the answer into a typed *APIError with its status, body facts
// and request id. The library's default drains and closes the body and returns only "giving up
// after N attempt(s)" with the URL in it, losing the answer and printing the URL.
func keepLastAnswer(resp *http.Response, err error, _ int) (*http.Response, error) {
	return resp, err
}

// zeroBackoff is the engine's Backoff: checkRetry has already waited.
func zeroBackoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration { return 0 }

// prepareRetry runs before every retry: it holds the attempt at the shared 429 gate and the
// client-side limiter.
func (c *Client) prepareRetry(req *http.Request) error {
	st := stateFrom(req.Context())
	if st == nil {
		return nil
	}
	return c.beforeSend(req.Context(), st)
}

// retryWait returns the wait before retry number n (0-based) and whether the server asked for
// it: body retryAfter, legacy retry_after, Retry-After header (all already decoded into
// apiErr.RetryAfter), else full-jitter exponential backoff. Waits have a small floor so that a
// server-sent 0 does not make the SDK hammer the server.
func (c *Client) retryWait(n int, apiErr *APIError) (time.Duration, bool) {
	if apiErr != nil && apiErr.RetryAfter > 0 {
		d := apiErr.RetryAfter
		if d < waitFloor {
			d = waitFloor
		}
		return d, true
	}
	ceiling := backoffCap
	if c.cfg.maxRetryWait < ceiling {
		ceiling = c.cfg.maxRetryWait
	}
	d := backoffBase
	for i := 0; i < n && d < ceiling; i++ {
		d *= 2
	}
	if d > ceiling {
		d = ceiling
	}
	d = c.jitter(d)
	if d < waitFloor {
		d = waitFloor
	}
	return d, false
}

// beforeSend holds an attempt while the shared 429 gate is closed, then for its slot from the
// adaptive pacer, then takes a token from the client-side limiter. A gate or pacer wait longer
// than the maximum retry wait, or one that would outlive ctx's deadline, is not started: it
// returns the 429 that closed the gate (the one the pacer learned from), as an *APIError for
// this call whose RetryAfter is the wait it refused.
func (c *Client) beforeSend(ctx context.Context, st *callState) error {
	if err := c.waitGate(ctx, st); err != nil {
		return err
	}
	// The adaptive pacer (pacer.go) hands out evenly spaced send slots after a 429. A slot is
	// taken only when its wait is acceptable, and given back when ctx ends during the wait.
	// When the gate closes again while this attempt waits for its slot (another request's 429),
	// the attempt waits at the gate and takes a new slot.
	for i := 0; !c.cfg.noPacing && i < 3; i++ {
		now := c.now()
		dl, _ := ctx.Deadline() // the zero time when there is none
		slot, d, ok := c.gate.pacer.reserve(now, c.cfg.maxRetryWait, dl)
		if !ok {
			_, gerr := c.gate.remaining(now)
			return gateError(gerr, st, d)
		}
		if d <= 0 {
			break
		}
		c.log(ctx, slog.LevelDebug, "debitura: pacing after 429 (adaptive pacer)", st, 0, "", d, nil)
		if err := c.sleep(ctx, d); err != nil {
			c.gate.pacer.cancel(slot, c.now())
			return err
		}
		if rem, _ := c.gate.remaining(c.now()); rem <= 0 {
			break
		}
		if err := c.waitGate(ctx, st); err != nil {
			return err
		}
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("client-side rate limit (WithRateLimit), not a server answer: %w", err)
		}
	}
	return nil
}

// waitGate holds an attempt while the shared 429 gate is closed; see beforeSend.
func (c *Client) waitGate(ctx context.Context, st *callState) error {
	for range 3 {
		now := c.now()
		rem, gerr := c.gate.remaining(now)
		if rem <= 0 {
			break
		}
		dl, hasDL := ctx.Deadline()
		if rem > c.cfg.maxRetryWait || (hasDL && now.Add(rem).After(dl)) {
			return gateError(gerr, st, rem)
		}
		c.log(ctx, slog.LevelDebug, "debitura: waiting for rate-limit gate", st, 0, "", rem, nil)
		if err := c.sleep(ctx, rem); err != nil {
			return err
		}
	}
	return nil
}

// gateError is the error of a call held back by the 429 gate: the 429 that closed the gate,
// described as this call.
func gateError(last *APIError, st *callState, rem time.Duration) *APIError {
	var e APIError
	if last != nil {
		e = *last
	} else {
		e = APIError{StatusCode: http.StatusTooManyRequests, Message: http.StatusText(http.StatusTooManyRequests)}
	}
	e.RetryAfter = rem
	e.Method, e.Route, e.Operation = st.r.method, st.r.route, st.r.op
	e.Attempts = st.attempts
	return &e
}

// rateGate is the Client-wide 429 gate: after a 429, no request of the Client is sent before
// the server's retryAfter has passed.
type rateGate struct {
	mu    sync.Mutex
	until time.Time
	err   *APIError
	// pacer spaces requests after a 429 (pacer.go); it has its own lock.
	pacer pacer
}

func (g *rateGate) hold(until time.Time, err *APIError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.until) {
		g.until, g.err = until, err
	}
}

func (g *rateGate) remaining(now time.Time) (time.Duration, *APIError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.until.Sub(now), g.err
}

// realSleep waits d or until ctx ends.
func realSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
