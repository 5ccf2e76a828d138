package mockserver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Webhook delivery: an in-memory queue per Backend, worked off by a goroutine that exists only
// while there is due work, a real-time timer that re-checks the mock clock while deliveries
// wait for a retry, and [Backend.FlushWebhooks] for tests.

// Delivery rules.
const (
	// WebhookMaxAttempts is how many times a delivery is attempted in all; a delivery that fails
	// all of them disables its subscription.
	WebhookMaxAttempts = 8
	// WebhookTimeout bounds one delivery attempt (connect, send, response headers and body).
	WebhookTimeout = 10 * time.Second
	// maxPoll is the longest real-time wait between two looks at the mock clock while
	// deliveries wait for a retry (a FakeClock can be advanced at any time).
	maxPoll = time.Second
	// maxFinishedDeliveries caps the delivered, failed and cancelled deliveries kept for
	// [Backend.Deliveries] (oldest dropped first).
	maxFinishedDeliveries = 10000
	maxReceiverBody       = 64 << 10
)

// WebhookBackoff is the wait (on the mock clock) after failed attempt n (1-based) before attempt
// n+1: 2^n seconds (2 s, 4 s, ... 128 s before the 8th attempt).
func WebhookBackoff(n int) time.Duration {
	return time.Duration(1<<min(max(n, 0), 30)) * time.Second
}

// Delivery states reported by [DeliveryInfo].State.
const (
	DeliveryPending   = "pending"   // waiting for its first attempt or a retry
	DeliveryDelivered = "delivered" // a 2xx answer
	DeliveryFailed    = "failed"    // 410 Gone, or every attempt failed; the subscription was disabled
	DeliveryCancelled = "cancelled" // the subscription was disabled or deleted before delivery
)

// WebhookAttempt is what the journal records of one delivery attempt (never the secret, the
// signature or the body).
type WebhookAttempt struct {
	SubscriptionID string `json:"subscriptionId"`
	EventID        string `json:"eventId"`
	Event          string `json:"event"`
	Attempt        int    `json:"attempt"`
	Status         int    `json:"status,omitempty"` // 0 when no HTTP answer came
	Error          string `json:"error,omitempty"`
	Test           bool   `json:"test,omitempty"`
}

// DeliveryInfo describes one delivery of an event to one subscription.
type DeliveryInfo struct {
	EventID        string          `json:"eventId"`
	Event          string          `json:"event"`
	SubscriptionID string          `json:"subscriptionId"`
	PartnerID      string          `json:"partnerId"`
	Test           bool            `json:"test"`
	State          string          `json:"state"`
	Attempts       int             `json:"attempts"`
	LastStatus     int             `json:"lastStatus,omitempty"`
	LastError      string          `json:"lastError,omitempty"`
	Created        time.Time       `json:"created"`
	NextAttemptAt  *time.Time      `json:"nextAttemptAt,omitempty"`
	FinishedAt     *time.Time      `json:"finishedAt,omitempty"`
	Payload        json.RawMessage `json:"payload"`
}

type whJob struct {
	seq       int64
	gen       int64
	eventID   string
	event     string
	subID     string
	partnerID string
	test      bool
	body      []byte
	created   time.Time
	due       time.Time
	attempts  int
	status    int
	lastErr   string
	state     string
	finished  *time.Time
	inflight  bool
}

type webhookQueue struct {
	mu       sync.Mutex
	gen      int64
	seq      int64
	jobs     []*whJob // every delivery, in creation order
	finished int
	running  bool
	again    bool
	timer    *time.Timer
	closed   bool          // Backend.Close: no more timers or workers
	sem      chan struct{} // one runner at a time (the worker or a FlushWebhooks)
	client   *http.Client
}

func newWebhookQueue(env Environment, rt http.RoundTripper) *webhookQueue {
	if rt == nil {
		rt = deliveryTransport(env)
	}
	return &webhookQueue{
		sem: make(chan struct{}, 1),
		client: &http.Client{
			Transport:     rt,
			Timeout:       WebhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// WithWebhookTransport makes the mock deliver webhooks through rt instead of its own transport
// (which dials only public addresses, plus loopback in the Test environment, and uses no proxy).
// Use it to receive deliveries in memory or through TLS test servers; rt's reach is then the
// caller's responsibility. Redirects are never followed and [WebhookTimeout] still applies.
func WithWebhookTransport(rt http.RoundTripper) Option {
	return func(s *settings) { s.webhookTransport = rt }
}

// deliveryTransport dials public addresses only, plus loopback in the Test environment. It never
// uses a proxy and keeps no idle connections.
func deliveryTransport(env Environment) http.RoundTripper {
	d := &net.Dialer{
		Timeout: WebhookTimeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			switch {
			case ip == nil:
				return fmt.Errorf("mockserver: webhook delivery to %s refused", address)
			case ip.IsLoopback() && env == Test:
				return nil
			case ip.IsLoopback() || blockedIP(ip):
				return fmt.Errorf("mockserver: webhook delivery to a loopback or private address (%s) refused", address)
			}
			return nil
		},
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSHandshakeTimeout:    WebhookTimeout,
		ResponseHeaderTimeout:  WebhookTimeout,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: maxReceiverBody,
	}
}

func (q *webhookQueue) enqueue(j *whJob) {
	q.mu.Lock()
	q.seq++
	j.seq, j.gen, j.state = q.seq, q.gen, DeliveryPending
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
}

// reset drops every delivery; attempts in flight are not recorded.
func (q *webhookQueue) reset() {
	q.mu.Lock()
	q.gen++
	q.jobs, q.finished = nil, 0
	if q.timer != nil {
		q.timer.Stop()
	}
	q.mu.Unlock()
}

// cancelSubscription marks the subscription's pending deliveries cancelled.
func (q *webhookQueue) cancelSubscription(subID, reason string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range q.jobs {
		if j.subID == subID && j.state == DeliveryPending {
			j.state, j.lastErr = DeliveryCancelled, reason
			q.finished++
		}
	}
}

// forgetSubscription drops every delivery of a deleted subscription (its history is lost).
func (q *webhookQueue) forgetSubscription(subID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	kept := q.jobs[:0]
	for _, j := range q.jobs {
		if j.subID != subID {
			kept = append(kept, j)
		} else if j.state != DeliveryPending {
			q.finished--
		}
	}
	clear(q.jobs[len(kept):])
	q.jobs = kept
}

// nextDue claims the earliest due pending delivery, or returns nil.
func (q *webhookQueue) nextDue(now time.Time) *whJob {
	q.mu.Lock()
	defer q.mu.Unlock()
	var best *whJob
	for _, j := range q.jobs {
		if j.state != DeliveryPending || j.inflight || j.due.After(now) {
			continue
		}
		if best == nil || j.due.Before(best.due) {
			best = j
		}
	}
	if best != nil {
		best.inflight = true
	}
	return best
}

// earliest reports the due time of the earliest pending delivery.
func (q *webhookQueue) earliest() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var t time.Time
	ok := false
	for _, j := range q.jobs {
		if j.state == DeliveryPending && (!ok || j.due.Before(t)) {
			t, ok = j.due, true
		}
	}
	return t, ok
}

// kick starts the worker unless it runs (then it makes it look again). Safe under b.mu.
func (q *webhookQueue) kick(b *Backend) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	if q.running {
		q.again = true
		q.mu.Unlock()
		return
	}
	q.running = true
	q.mu.Unlock()
	go func() {
		for {
			_ = b.runDueWebhooks(context.Background())
			q.mu.Lock()
			if !q.again {
				q.running = false
				q.mu.Unlock()
				break
			}
			q.again = false
			q.mu.Unlock()
		}
		b.armWebhookTimer()
	}()
}

// close stops the retry timer and keeps new workers and timers from starting; a delivery
// attempt under way finishes.
func (q *webhookQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	if q.timer != nil {
		q.timer.Stop()
	}
}

// armWebhookTimer schedules the next look at the queue: when the earliest retry is due on the
// mock clock (in real time), at most maxPoll away, because the mock clock may be moved.
func (b *Backend) armWebhookTimer() {
	q := b.wh
	due, ok := q.earliest()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.timer != nil {
		q.timer.Stop()
	}
	if !ok || q.closed {
		return
	}
	d := min(max(due.Sub(b.now()), 10*time.Millisecond), maxPoll)
	q.timer = time.AfterFunc(d, func() {
		if due, ok := q.earliest(); ok {
			if due.After(b.now()) {
				b.armWebhookTimer()
				return
			}
			q.kick(b)
		}
	})
}

// runDueWebhooks attempts every due delivery, one after another, until none is due.
func (b *Backend) runDueWebhooks(ctx context.Context) error {
	q := b.wh
	select {
	case q.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-q.sem }()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		j := q.nextDue(b.now())
		if j == nil {
			return nil
		}
		b.attemptDelivery(ctx, j)
	}
}

// FlushWebhooks makes the webhook queue current: it expires link requests whose TTL has passed
// on the mock clock (firing client.link_expired), then attempts every delivery that is due now,
// including retries whose backoff has passed, and waits for attempts already under way. It
// returns when no delivery is due (retries scheduled later on the mock clock stay pending:
// advance the clock and flush again) or with ctx's error.
func (b *Backend) FlushWebhooks(ctx context.Context) error {
	b.ExpireLinks()
	err := b.runDueWebhooks(ctx)
	b.armWebhookTimer()
	return err
}

// Deliveries lists every delivery since the last Reset (up to the latest 10,000 finished ones),
// oldest first.
func (b *Backend) Deliveries() []DeliveryInfo {
	q := b.wh
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]DeliveryInfo, 0, len(q.jobs))
	for _, j := range q.jobs {
		d := DeliveryInfo{
			EventID: j.eventID, Event: j.event, SubscriptionID: j.subID, PartnerID: j.partnerID, Test: j.test,
			State: j.state, Attempts: j.attempts, LastStatus: j.status, LastError: j.lastErr, Created: j.created,
			Payload: json.RawMessage(bytes.Clone(j.body)),
		}
		if j.state == DeliveryPending {
			t := j.due
			d.NextAttemptAt = &t
		}
		if j.finished != nil {
			t := *j.finished
			d.FinishedAt = &t
		}
		out = append(out, d)
	}
	return out
}

// SignWebhook computes the X-Debitura-Signature value for a body sent at time t with the Base64
// secret of a subscription: "t={unix seconds},v1={hex HMAC-SHA256 of "{t}.{body}"}", keyed with
// the Base64-decoded secret. It takes the arguments of the SDK's webhook.Sign, so a test can
// use either.
func SignWebhook(secret string, t time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		return "", fmt.Errorf("%w: webhook secret is not Base64: %v", ErrInvalid, err)
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil)), nil
}

// attemptDelivery makes one attempt of j and records its outcome. It runs without b.mu.
func (b *Backend) attemptDelivery(ctx context.Context, j *whJob) {
	q := b.wh
	b.mu.Lock()
	h := b.st.Webhooks[j.subID]
	var target, secret string
	if h != nil && h.IsActive {
		target, secret = h.URL, h.Secret
	}
	b.mu.Unlock()

	q.mu.Lock()
	stale := j.gen != q.gen
	if !stale && target == "" && j.state == DeliveryPending {
		j.state, j.lastErr = DeliveryCancelled, "subscription inactive or deleted"
		q.finished++
	}
	j.inflight = false
	q.mu.Unlock()
	if stale || target == "" {
		return
	}

	start := b.now()
	status, errText := b.post(ctx, target, secret, j, start)

	now := b.now()
	q.mu.Lock()
	if j.gen != q.gen || j.state != DeliveryPending {
		q.mu.Unlock()
		return
	}
	j.attempts++
	j.status, j.lastErr = status, errText
	rec := WebhookAttempt{SubscriptionID: j.subID, EventID: j.eventID, Event: j.event, Attempt: j.attempts, Status: status, Error: errText, Test: j.test}
	effects := []string{EffectWebhookFailed}
	disable := ""
	switch {
	case status >= 200 && status < 300:
		effects = []string{EffectWebhookDelivered}
		j.state, j.finished = DeliveryDelivered, &now
		q.finished++
	case status == http.StatusGone:
		j.state, j.finished = DeliveryFailed, &now
		q.finished++
		disable = "The endpoint answered 410 Gone."
	case j.attempts >= WebhookMaxAttempts:
		j.state, j.finished = DeliveryFailed, &now
		q.finished++
		disable = fmt.Sprintf("Automatically disabled after %d failed delivery attempts (last: %s).", j.attempts, describeFailure(status, errText))
	default:
		j.due = now.Add(WebhookBackoff(j.attempts))
	}
	q.trimLocked()
	q.mu.Unlock()

	if disable != "" {
		b.mu.Lock()
		if h := b.st.Webhooks[j.subID]; h != nil && h.IsActive {
			h.IsActive, h.DisabledReason, h.Updated = false, disable, now
			q.cancelSubscription(h.ID, "subscription disabled")
			effects = append(effects, EffectWebhookDisabled)
		}
		b.mu.Unlock()
	}
	b.journal.add(JournalEntry{
		Time: start, Operation: OpWebhookAttempt, Status: status, PartnerID: j.partnerID, Effects: effects,
		Duration: now.Sub(start), Webhook: &rec,
	})
}

func describeFailure(status int, errText string) string {
	if status != 0 {
		return "HTTP " + strconv.Itoa(status)
	}
	return errText
}

// post sends one signed delivery and reports the answer's status (0 and an error text when
// there was none).
func (b *Backend) post(ctx context.Context, target, secret string, j *whJob, at time.Time) (int, string) {
	sig, err := SignWebhook(secret, at, j.body)
	if err != nil {
		return 0, "signing failed"
	}
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(j.body))
	if err != nil {
		return 0, "invalid URL"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Debitura-Webhooks-Mock/1.0")
	req.Header.Set("X-Debitura-Signature", sig)
	req.Header.Set("X-Debitura-Timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("X-Debitura-Event", j.event)
	if j.test {
		req.Header.Set("X-Debitura-Test", "true")
	}
	res, err := b.wh.client.Do(req)
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
			return 0, "timeout"
		case errors.Is(err, context.Canceled):
			return 0, "cancelled"
		default:
			return 0, "connection failed"
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxReceiverBody))
	_ = res.Body.Close()
	return res.StatusCode, ""
}

// trimLocked drops the oldest finished deliveries beyond maxFinishedDeliveries.
func (q *webhookQueue) trimLocked() {
	if q.finished <= maxFinishedDeliveries {
		return
	}
	drop := q.finished - maxFinishedDeliveries
	kept := q.jobs[:0]
	for _, j := range q.jobs {
		if drop > 0 && j.state != DeliveryPending {
			drop--
			q.finished--
			continue
		}
		kept = append(kept, j)
	}
	clear(q.jobs[len(kept):])
	q.jobs = kept
}
