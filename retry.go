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
		RetryMax:     cl.retryMax(),
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
			c.observe(ctx, now, resp.StatusCode, 0, nil)
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
			c.observe(ctx, now, status, 0, nil)
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
		c.observe(ctx, now, status, 0, nil)
		return false, nil
	}

	wait, hinted := c.retryWait(cl.resp.Attempts-1, answer)
	c.observe(ctx, now, status, wait, answer)
	if cl.resp.Attempts > cl.set.maxRetries && !cl.retryRateLimited(status, wait) {
		return false, nil
	}
	if hinted && wait > c.cfg.maxRetryWait {
		// The server asked for more than we are willing to sleep: hand the answer back.
		return false, nil
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

// retryMax is the engine's limit of retries: WithMaxRetries, or for an interactive call that
// may retry, room for the 429 retries of retryRateLimited as well (each waits at least
// waitFloor, so no more than WithMaxRetryWait ÷ waitFloor fit); checkRetry enforces the real
// limits.
func (cl *call) retryMax() int {
	n := cl.set.maxRetries
	if n > 0 && cl.set.lane == LaneInteractive {
		n += int(cl.c.cfg.maxRetryWait/waitFloor) + 1
	}
	return n
}

// retryRateLimited reports whether an interactive call whose retries (WithMaxRetries) are used
// up may still retry a 429 that asks for wait: a 429 is refused before the request does
// anything, so retrying it is always safe, and what bounds it is time, not a count. It may as
// long as the call's rate-limit waits (its RateLimitWait: waits for a budget slot and for
// earlier 429s) plus wait stay within WithMaxRetryWait. Every 429 holds the budget for its
// wait, so these retries follow the server's pace instead of adding load. A call with retries
// turned off (WithMaxRetries(0), WithCallMaxRetries(0)) and bulk calls (whose back-fills
// re-queue a 429 themselves) keep the count.
func (cl *call) retryRateLimited(status int, wait time.Duration) bool {
	return status == http.StatusTooManyRequests && cl.set.lane == LaneInteractive && cl.set.maxRetries > 0 &&
		cl.resp.RateLimitWait+wait <= cl.c.cfg.maxRetryWait
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

// The rate-limit layer: admit runs before every attempt and observe after every answer. Both
// go through the Client's Budget (budget.go): admit takes a slot of the call's lane, observe
// shares a 429 with every holder of the budget (Hold) and tells the in-memory budget when the
// server turned out stricter than its limits (correct).

// setBudget settles the Client's budget: the one of WithBudget, or an in-memory one of the
// configured limits (with the deprecated WithRateLimit's window) on the Client's clock.
func (c *Client) setBudget() error {
	cfg := &c.cfg
	if cfg.budget != nil {
		switch {
		case cfg.limitsSet:
			return errors.New("WithLimits and WithBudget cannot be combined: WithLimits configures the in-memory budget that WithBudget replaces")
		case cfg.rateLimit > 0:
			return errors.New("WithRateLimit and WithBudget cannot be combined: WithRateLimit adds a window to the in-memory budget that WithBudget replaces")
		}
		c.budget = cfg.budget
		return nil
	}
	mb := newMemoryBudget(cfg.limits, c.now)
	if cfg.rateLimit > 0 {
		mb.extra = append(mb.extra, newRateWindow(cfg.rateLimit, cfg.rateBurst))
	}
	c.budget = mb
	return nil
}

// corrector is a Budget that can lower its limits when the server refuses a request it
// admitted: the in-memory budget (memoryBudget.correct).
type corrector interface {
	correct(retryAfter time.Duration)
}

// observe reports an answer to the rate-limit layer: status (0 after a transport error), the
// wait before the retry (for a 429, the wait the server asked for) and the decoded answer. A 429
// holds the budget for its wait, for every holder of the budget, after telling the in-memory
// budget (unless WithAdaptivePacing(false)) that the server refused a request it had admitted.
func (c *Client) observe(ctx context.Context, now time.Time, status int, wait time.Duration, answer *APIError) {
	if status != http.StatusTooManyRequests {
		return
	}
	c.gate.hold(now.Add(wait), answer)
	if cr, ok := c.budget.(corrector); ok && !c.cfg.noPacing {
		cr.correct(wait)
	}
	// A budget that cannot record the hold (redisfleet's falls back on its own) must not fail
	// the call: the retry below waits for the server's retryAfter anyway.
	_ = c.budget.Hold(context.WithoutCancel(ctx), wait)
}

// admit takes a slot of the Client's budget for one attempt of cl, in the call's lane, waiting
// while the budget says when one may free; the time it waits counts as the call's
// RateLimitWait. An interactive call waits at most WithMaxRetryWait in all; a bulk call sits
// through single waits up to WithBulkMaxWait for as long as its ctx lasts. A wait beyond that,
// or one that would outlive ctx's deadline, is not started: admit returns a 429 *APIError for
// this call whose RetryAfter is the wait it refused (the 429 that holds the budget when this
// Client met one, else one saying that the request was not sent). An error of the budget other
// than ctx's does not stop the attempt (see WithBudget).
func (c *Client) admit(ctx context.Context, cl *call) error {
	lane := cl.set.lane
	limit := c.cfg.maxRetryWait
	if lane == LaneBulk && c.cfg.bulkMaxWait > 0 {
		limit = c.cfg.bulkMaxWait
	}
	var waited time.Duration
	for {
		wait, err := c.budget.Take(ctx, lane)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			cl.log(ctx, slog.LevelWarn, "debitura: request budget failed; sending without a slot", 0, 0, err)
			return nil
		}
		if wait <= 0 {
			return nil
		}
		now := c.now()
		allowed := limit
		if lane == LaneInteractive {
			allowed = limit - waited
		}
		if dl, ok := ctx.Deadline(); wait > allowed || (ok && now.Add(wait).After(dl)) {
			return c.gate.refusal(now, cl, wait)
		}
		cl.log(ctx, slog.LevelDebug, "debitura: waiting for a slot of the request budget", 0, wait, nil)
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
		cl.resp.RateLimitWait += wait
		waited += wait
	}
}

// rateGate remembers the last 429 the Client met and until when it holds the budget, so that a
// call the budget holds back gets that answer as its error.
type rateGate struct {
	mu    sync.Mutex
	until time.Time
	err   *APIError
}

func (g *rateGate) hold(until time.Time, err *APIError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.until) {
		g.until, g.err = until, err
	}
}

// refusal is the error of a call the budget held back for wait: the 429 that holds the budget
// when this Client met one that is still in force, otherwise a 429 saying the budget had no slot;
// described as this call, with RetryAfter the refused wait.
func (g *rateGate) refusal(now time.Time, cl *call, wait time.Duration) *APIError {
	g.mu.Lock()
	last := g.err
	if !g.until.After(now) {
		last = nil
	}
	g.mu.Unlock()
	var e APIError
	if last != nil {
		e = *last
	} else {
		e = APIError{StatusCode: http.StatusTooManyRequests, Message: "not sent: the request budget (the API key's rate-limit windows) has no free slot within the allowed wait"}
	}
	e.RetryAfter = wait
	e.Method, e.Route, e.Operation = cl.r.method, cl.r.route, cl.r.op
	e.Attempts = cl.resp.Attempts
	return &e
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
