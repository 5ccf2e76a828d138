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
// The pacer learns the server's rate from a 429 instead: the answers the server accepted since
// the gate last opened (or since the Client became busy), divided by the time from then until
// the gate reopens, is the rate the server allows. It learns only from a meaningful sample
// (pacerMinSample accepted answers) and only a rate worth pacing at (pacerMinRate); otherwise it
// stays off and the gate alone handles the limit. From then on the Client spaces its requests
// evenly at pacerMargin of that rate (a token bucket with a burst of one), so later windows see
// few or no 429s. The pace relaxes over time (pacerGrowth per second without a 429) so that a
// limit that was raised, or an estimate that was too low, is found again; once it has doubled
// the pacer switches itself off until the next 429. A 429 that comes while pacing re-learns the
// rate from the window that just ended, or halves the pace when too few answers got through.
//
// A slot is taken only when its wait is acceptable to the caller (see reserve), and a caller
// that gives up while waiting gives its slot back (cancel), so nobody queues behind a request
// that is never sent.
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
	// pacerMinSample is the fewest accepted answers a rate is learned from. The estimate is a
	// count divided by a period, so with n answers one request more or less moves it by 1/n:
	// with fewer than 10 that error (> 10%) is larger than pacerMargin's 5% and the early
	// relaxing, and a handful of answers mostly says where the window boundary fell (one
	// accepted call and a 429 with retryAfter 2 would "learn" 0.5 req/s). A Client that sends
	// fewer than 10 requests per window also has little to gain: the gate alone costs it at most
	// one 429 per request in flight per window.
	pacerMinSample = 10
	// pacerMinRate is the slowest pace (requests per second) the pacer keeps: a learned or
	// halved rate below it switches the pacer off, so it never spaces requests more than a
	// second apart. A limit that low is left to the gate.
	pacerMinRate = 1.0
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
	// next is the earliest time the next new slot may be sent at.
	next time.Time
	// freed holds the slots before next that callers gave back, by time; reserve hands them
	// out again before making a new one.
	freed []paceSlot
	// start begins the counting period; accepted counts the accepted answers since then, the
	// last of them at last.
	start    time.Time
	accepted int
	last     time.Time
}

// paceSlot is a send slot handed out by reserve: the request may be sent at at; end is what
// next became when the slot was made (the start of the slot after it). The zero paceSlot is
// "no slot" (the pacer was off).
type paceSlot struct {
	at, end time.Time
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
//
// The rate is learned only from at least pacerMinSample accepted answers. With fewer, a pacer
// that is on halves its pace (the server lets fewer through than it did) and one that is off
// stays off. A rate below pacerMinRate switches the pacer off.
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
	if p.accepted >= pacerMinSample {
		learned = pacerMargin * float64(p.accepted) / reopen.Sub(p.start).Seconds()
	} else if cur := p.paceLocked(now); cur > 0 {
		learned = cur / 2 // too few got through: back off
	}
	if learned >= pacerMinRate {
		p.rate = learned
		p.learnedAt = reopen
	} else {
		p.rate = 0
	}
	if p.next.Before(reopen) {
		p.next = reopen
	}
	// Slots given back before the reopening are gone: the gate holds their time.
	i := 0
	for i < len(p.freed) && p.freed[i].at.Before(reopen) {
		i++
	}
	p.freed = p.freed[i:]
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

// reserve takes the earliest free send slot and returns it with the wait until it. When the
// pacer is off it returns the zero slot, 0 and true. A slot whose wait is longer than maxWait,
// or that starts after deadline (the zero deadline is none), is not taken: reserve returns the
// wait it would have been and false, and the schedule is unchanged.
func (p *pacer) reserve(now time.Time, maxWait time.Duration, deadline time.Time) (paceSlot, time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pace := p.paceLocked(now)
	if pace == 0 {
		p.freed = nil
		return paceSlot{}, 0, true
	}
	i := 0
	for i < len(p.freed) && p.freed[i].at.Before(now) {
		i++ // given back, but its time has passed unused: no catch-up burst
	}
	p.freed = p.freed[i:]
	s, reused := paceSlot{at: p.next}, false
	if len(p.freed) > 0 {
		s, reused = p.freed[0], true // every freed slot is before next
	}
	if s.at.Before(now) {
		s.at = now
	}
	wait := s.at.Sub(now)
	if wait > maxWait || (!deadline.IsZero() && s.at.After(deadline)) {
		return paceSlot{}, wait, false
	}
	if reused {
		p.freed = p.freed[1:]
		return s, wait, true
	}
	p.next = s.at.Add(time.Duration(float64(time.Second) / pace))
	s.end = p.next
	return s, wait, true
}

// cancel gives back a slot from reserve whose caller will not send at it (its ctx ended while
// it waited). The last slot handed out moves next back; an earlier one is kept in freed for the
// next caller. A slot whose time has come, or the zero slot, is not given back.
func (p *pacer) cancel(s paceSlot, now time.Time) {
	if s.at.IsZero() || !s.at.After(now) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !s.at.Before(p.next) || s.at.Before(p.start) {
		return // a 429 since has moved the schedule past it
	}
	i := len(p.freed)
	for i > 0 && p.freed[i-1].at.After(s.at) {
		i--
	}
	p.freed = append(p.freed, paceSlot{})
	copy(p.freed[i+1:], p.freed[i:])
	p.freed[i] = s
	// Slots given back at the end of the schedule shorten it.
	for n := len(p.freed); n > 0 && p.freed[n-1].end.Equal(p.next); n = len(p.freed) {
		p.next = p.freed[n-1].at
		p.freed = p.freed[:n-1]
	}
}

// pace reports the current pace in requests per second (0: off), for logs and tests.
func (p *pacer) pace(now time.Time) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paceLocked(now)
}
