package debitura

import (
	"sync"
	"time"
)

// Adaptive pacing (on by default; WithAdaptivePacing(false) turns it off).
//
// The 429 gate alone makes a busy Client meet the server's limit once per window: the Client
// sends as fast as it can until the limit is reached, every request in flight at that moment is
// answered 429, the gate holds everything until the window reopens, and the cycle repeats. With
// Debitura's windows (a fixed or sliding count per period) that costs about one 429 per request
// in flight per window (8 of every ~100 with LinkMany's default concurrency at 100 requests/s).
//
// The pacer learns the server's rate from the first 429 instead: the answers the server
// accepted since the gate last opened (or since the Client became busy), divided by the time
// from then until the gate reopens, is the rate the server allows. From then on the Client
// spaces its requests evenly at pacerMargin of that rate (a token bucket with a burst of one),
// so later windows see few or no 429s. The pace relaxes over time (pacerGrowth per second
// without a 429) so that a limit that was raised, or an estimate that was too low, is found
// again; once it has doubled the pacer switches itself off until the next 429. A 429 that comes
// while pacing re-learns the rate from the window that just ended.
//
// Nothing changes for a Client that never sees a 429.
const (
	// pacerMargin is the share of the learned rate the pacer sends at, so that timing jitter
	// does not push a window one request over its limit.
	pacerMargin = 0.95
	// pacerGrowth is how fast the pace relaxes: +1% of the learned rate per second without a 429.
	pacerGrowth = 0.01
	// pacerOffFactor: the pacer switches off once the pace has relaxed to this multiple of the
	// learned rate (100 s without a 429 at pacerGrowth).
	pacerOffFactor = 2.0
	// pacerIdleReset: a gap this long without an accepted answer starts a new counting period,
	// so a Client that was idle does not learn a rate that is too low.
	pacerIdleReset = time.Second
	// pacerMinRate is the slowest pace the pacer learns (requests per second).
	pacerMinRate = 0.1
)

// pacer is the Client's adaptive pacer. Its methods take the time as an argument, so it runs
// on the Client's (injectable) clock; the zero value is an idle pacer. It is safe for
// concurrent use.
type pacer struct {
	mu sync.Mutex
	// rate is the learned rate in requests per second; 0 when the pacer is off.
	rate float64
	// learnedAt is when rate took effect (the gate's reopening); the pace relaxes from there.
	learnedAt time.Time
	// next is the earliest time the next paced request may be sent.
	next time.Time
	// start begins the counting period; accepted counts the accepted answers since then, the
	// last of them at last.
	start    time.Time
	accepted int
	last     time.Time
}

// accept records an answer that was not a 429 (the server admitted the request).
func (p *pacer) accept(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Before(p.start) {
		return // admitted in the window that a 429 already closed
	}
	if p.start.IsZero() || now.Sub(p.last) > pacerIdleReset {
		p.start, p.accepted = now, 0
	}
	p.accepted++
	p.last = now
}

// throttled records a 429 answered at now; the gate stays closed until reopen. It learns the
// rate from the period that the 429 ends and starts a new one at reopen. A 429 answered while
// the gate is already closed by an earlier one (a request that was in flight) adds nothing.
func (p *pacer) throttled(now, reopen time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Before(p.start) {
		return // the window that this 429 belongs to was already learned from
	}
	if !reopen.After(now) {
		reopen = now.Add(time.Millisecond)
	}
	var learned float64
	if p.accepted > 0 {
		learned = pacerMargin * float64(p.accepted) / reopen.Sub(p.start).Seconds()
	} else if cur := p.paceLocked(now); cur > 0 {
		learned = cur / 2 // nothing got through: back off
	}
	if learned > 0 {
		p.rate = max(learned, pacerMinRate)
		p.learnedAt = reopen
	}
	if p.next.Before(reopen) {
		p.next = reopen
	}
	p.start, p.accepted, p.last = reopen, 0, reopen
}

// paceLocked is the current pace in requests per second (0: off). p.mu is held.
func (p *pacer) paceLocked(now time.Time) float64 {
	if p.rate == 0 {
		return 0
	}
	grown := 1.0
	if since := now.Sub(p.learnedAt); since > 0 {
		grown += pacerGrowth * since.Seconds()
	}
	if grown >= pacerOffFactor {
		p.rate = 0
		return 0
	}
	return p.rate * grown
}

// reserve takes the next send slot and returns how long to wait for it (0 when the pacer is
// off or the slot is now).
func (p *pacer) reserve(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	pace := p.paceLocked(now)
	if pace == 0 {
		return 0
	}
	slot := p.next
	if slot.Before(now) {
		slot = now
	}
	p.next = slot.Add(time.Duration(float64(time.Second) / pace))
	return slot.Sub(now)
}

// pace reports the current pace in requests per second (0: off), for logs and tests.
func (p *pacer) pace(now time.Time) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paceLocked(now)
}
