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

	"github.com/hashicorp/go-retryablehttp"
)

// engine returns go-retryablehttp configured for one call: the call's own policy and limits,
// with the call's state reached through closures.
//
// Two parts of the library are deliberately not used. Its wait between attempts (Backoff plus a
// timer) cannot do the job: Backoff sees neither ctx nor the call, so it cannot refuse a wait
// that would outlive ctx's deadline or exceed WithMaxRetryWait, cannot read the wait a 429's
// body asks for, and the timer runs on the real clock where tests inject one. So checkRetry
// decides, waits on the Client's clock and returns, and Backoff returns 0. Its default
// ErrorHandler would drop the last answer; PassthroughErrorHandler keeps it for errors.go.
func (cl *call) engine() *retryablehttp.Client {
	hc := cl.c.httpc
	if cl.set.attemptTimeout != hc.Timeout { // WithCallAttemptTimeout
		h := *hc
		h.Timeout = cl.set.attemptTimeout
		hc = &h
	}
	return &retryablehttp.Client{
		HTTPClient:   hc,
		RetryMax:     cl.set.maxRetries,
		CheckRetry:   cl.checkRetry,
		Backoff:      func(_, _ time.Duration, _ int, _ *http.Response) time.Duration { return 0 },
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		PrepareRetry: func(req *http.Request) error { return cl.c.admit(req.Context(), cl) },
	}
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

// checkRetry is the engine's CheckRetry for one call. It counts the attempt, buffers the body
// (a 2xx up to WithMaxResponseBytes, any other answer up to 1 MiB, decoded into cl.last),
// reports the answer to the rate-limit layer (observe), decides whether the call may be
// retried, and does the wait itself (see engine). It returns false without an error when the
// call must end with the answer it has; the engine then hands that answer to do.
func (cl *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	c := cl.c
	cl.resp.Attempts++
	now := c.now()
	status := 0
	var ambiguous bool
	if err == nil && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		// Read a success answer here, not in do: an answer cut off mid-body is the same as a
		// connection broken after sending (the server acted, the client did not learn how),
		// so it is retried by the same rules, with the same Idempotency-Key.
		data, rerr := bufferBody(resp, c.cfg.maxResponseBytes)
		cl.okBody = data
		if errors.Is(rerr, ErrResponseTooLarge) {
			// The server answered, and would answer the same again: final, never retried.
			c.observe(now, resp.StatusCode, 0, nil)
			return false, nil
		}
		if rerr != nil {
			err = fmt.Errorf("read response: %w", rerr)
		}
	}
	if err != nil {
		// cl.last stays: a ctx that ends later still reports the last answer there was.
		cl.lastStatus = 0
		if ctx.Err() != nil || !retryableTransportError(err) {
			return false, nil
		}
		ambiguous = !notSent(err)
	} else {
		status = resp.StatusCode
		cl.lastStatus = status
		if status < 200 || status > 299 {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			_ = resp.Body.Close()
			if rerr != nil {
				body = nil
			}
			resp.Body = io.NopCloser(strings.NewReader(string(body)))
			cl.last = decodeAPIError(status, resp.Header, body, now, c.cfg.apiKey.Reveal())
		}
		if !retryableStatus(status) {
			c.observe(now, status, 0, nil)
			return false, nil
		}
		ambiguous = status >= 500 // a 429 is rejected before it does anything
	}
	var answer *APIError // this attempt's answer; nil after a transport error
	if err == nil {
		answer = cl.last
	}

	if ambiguous && cl.r.retry == retryUnsent {
		// The attempt may have had its effect; a second one could repeat it.
		c.observe(now, status, 0, nil)
		return false, nil
	}

	wait, hinted := c.retryWait(cl.resp.Attempts-1, answer)
	c.observe(now, status, wait, answer)
	if cl.resp.Attempts > cl.set.maxRetries {
		return false, nil
	}
	if hinted && wait > c.cfg.maxRetryWait {
		// The server asked for more than we are willing to sleep: hand the answer back.
		return false, nil
	}
	if g, _ := c.gate.remaining(now); g > wait {
		if g > c.cfg.maxRetryWait {
			return false, nil
		}
		wait = g
	}
	if dl, ok := ctx.Deadline(); ok && now.Add(wait).After(dl) {
		return false, nil
	}
	cl.log(ctx, slog.LevelDebug, "debitura: retrying", status, wait, err)
	if serr := c.sleep(ctx, wait); serr != nil {
		return false, serr
	}
	if status == http.StatusTooManyRequests {
		cl.resp.RateLimitWait += wait
	} else {
		cl.resp.BackoffWait += wait
	}
	if ambiguous {
		cl.resp.Uncertain = true
	}
	return true, nil
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

// The rate-limit layer: admit runs before every attempt and observe after every answer. Today
// they drive the Client's 429 gate, its adaptive pacer (pacer.go) and the WithRateLimit limiter.

// observe reports an answer to the rate-limit layer: status (0 after a transport error), the
// wait before the retry (for a 429, the wait the server asked for) and the decoded answer. An
// answer other than 429 counts as one the server accepted; a 429 closes the gate for its wait
// and teaches the pacer the server's rate.
func (c *Client) observe(now time.Time, status int, wait time.Duration, answer *APIError) {
	switch {
	case status == 0:
	case status != http.StatusTooManyRequests:
		c.gate.pacer.accept(now)
	default:
		c.gate.hold(now.Add(wait), answer)
		if !c.cfg.noPacing {
			until, _ := c.gate.remaining(now)
			c.gate.pacer.throttled(now, now.Add(until))
		}
	}
}

// admit holds an attempt while the shared 429 gate is closed, then for its slot from the
// adaptive pacer, then takes a token from the client-side limiter; the time it waits counts as
// the call's RateLimitWait. A gate or pacer wait longer than the maximum retry wait, or one that
// would outlive ctx's deadline, is not started: it returns the 429 that closed the gate (the one
// the pacer learned from), as an *APIError for this call whose RetryAfter is the wait it refused.
func (c *Client) admit(ctx context.Context, cl *call) error {
	if err := c.waitGate(ctx, cl); err != nil {
		return err
	}
	// The pacer hands out evenly spaced send slots after a 429. A slot is taken only when its
	// wait is acceptable, and given back when ctx ends during the wait. When the gate closes
	// again while this attempt waits for its slot (another request's 429), the attempt waits at
	// the gate and takes a new slot.
	for i := 0; !c.cfg.noPacing && i < 3; i++ {
		now := c.now()
		dl, _ := ctx.Deadline() // the zero time when there is none
		slot, d, ok := c.gate.pacer.reserve(now, c.cfg.maxRetryWait, dl)
		if !ok {
			_, gerr := c.gate.remaining(now)
			return gateError(gerr, cl, d)
		}
		if d <= 0 {
			break
		}
		cl.log(ctx, slog.LevelDebug, "debitura: pacing after 429 (adaptive pacer)", 0, d, nil)
		if err := c.sleep(ctx, d); err != nil {
			c.gate.pacer.cancel(slot, c.now())
			return err
		}
		cl.resp.RateLimitWait += d
		if rem, _ := c.gate.remaining(c.now()); rem <= 0 {
			break
		}
		if err := c.waitGate(ctx, cl); err != nil {
			return err
		}
	}
	if c.limiter != nil {
		start := time.Now() // rate.Limiter runs on the real clock
		if err := c.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("client-side rate limit (WithRateLimit), not a server answer: %w", err)
		}
		cl.resp.RateLimitWait += time.Since(start)
	}
	return nil
}

// waitGate holds an attempt while the shared 429 gate is closed; see admit.
func (c *Client) waitGate(ctx context.Context, cl *call) error {
	for range 3 {
		now := c.now()
		rem, gerr := c.gate.remaining(now)
		if rem <= 0 {
			break
		}
		dl, hasDL := ctx.Deadline()
		if rem > c.cfg.maxRetryWait || (hasDL && now.Add(rem).After(dl)) {
			return gateError(gerr, cl, rem)
		}
		cl.log(ctx, slog.LevelDebug, "debitura: waiting for rate-limit gate", 0, rem, nil)
		if err := c.sleep(ctx, rem); err != nil {
			return err
		}
		cl.resp.RateLimitWait += rem
	}
	return nil
}

// gateError is the error of a call held back by the 429 gate: the 429 that closed the gate,
// described as this call.
func gateError(last *APIError, cl *call, rem time.Duration) *APIError {
	var e APIError
	if last != nil {
		e = *last
	} else {
		e = APIError{StatusCode: http.StatusTooManyRequests, Message: http.StatusText(http.StatusTooManyRequests)}
	}
	e.RetryAfter = rem
	e.Method, e.Route, e.Operation = cl.r.method, cl.r.route, cl.r.op
	e.Attempts = cl.resp.Attempts
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

// now returns the Client's clock.
func (c *Client) now() time.Time {
	if c.cfg.now != nil {
		return c.cfg.now()
	}
	return time.Now()
}

// sleep waits d or until ctx ends, on the Client's clock.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.cfg.sleep != nil {
		return c.cfg.sleep(ctx, d)
	}
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
