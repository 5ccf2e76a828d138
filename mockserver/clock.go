package mockserver

import (
	"sync"
	"time"
)

// Clock is the mock's source of time. Link-request expiry, token lifetimes, rotation grace
// periods and rate-limit windows all read it. Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// AdvanceableClock is a [Clock] that tests (or POST /__mock/clock/advance) can move forward.
// [FakeClock] and the default clock of a [Backend] both implement it.
type AdvanceableClock interface {
	Clock
	Advance(d time.Duration)
}

// FakeClock is a manual [Clock]: time stands still until Advance or Set moves it. It is safe for
// concurrent use. Build one with [NewFakeClock].
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a FakeClock that reads start until it is moved.
func NewFakeClock(start time.Time) *FakeClock {
	return &FakeClock{now: start}
}

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backwards when d is negative).
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// OffsetClock is real time plus an adjustable offset. It is the default clock of a [Backend], so
// that a long-running mock (the debitura-mock binary) can still be moved forward with Advance.
type OffsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// NewOffsetClock returns an OffsetClock that starts at real time.
func NewOffsetClock() *OffsetClock { return &OffsetClock{} }

// Now returns real time plus the accumulated offset.
func (c *OffsetClock) Now() time.Time {
	c.mu.Lock()
	off := c.offset
	c.mu.Unlock()
	return time.Now().Add(off)
}

// Advance adds d to the offset.
func (c *OffsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Offset reports how far the clock has been moved away from real time.
func (c *OffsetClock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}
