package debitura

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Lane is the priority class of a request in the [Budget].
type Lane int

const (
	// LaneInteractive is the default lane: it may use every window of the budget up to its limit.
	LaneInteractive Lane = iota
	// LaneBulk is the lane of back-fills ([ClientsService.LinkMany], or [WithLane](LaneBulk) on a
	// call): it may use each window only up to (1 − Limits.BulkReserve) of its limit, so that a
	// back-fill always leaves room for interactive calls.
	LaneBulk
)

// String returns "interactive" or "bulk".
func (l Lane) String() string { return enumString(l, "Lane", laneNames) }

var laneNames = map[Lane]string{LaneInteractive: "interactive", LaneBulk: "bulk"}

// Limits are the rate-limit windows of one API key (Debitura's are documented per key: 2,000
// requests per sliding minute counted in 10-second segments, 20,000 per fixed hour, 100,000 per
// fixed day) and the share of them the bulk lane leaves to interactive calls. Start from
// [DefaultLimits]; every field must be set. Tests and benchmarks scale the durations down.
type Limits struct {
	// PerMinute, PerHour and PerDay are the limits of the three windows.
	PerMinute, PerHour, PerDay int
	// Segment is the sliding minute's segment (10 s at Debitura). Minute must be a whole number
	// of segments.
	Segment time.Duration
	// Minute, Hour and Day are the windows' lengths (1 min, 1 h, 24 h). The hour and the day are
	// fixed windows that reset at each multiple of their length since the Unix epoch (the top of
	// the hour and midnight UTC).
	Minute, Hour, Day time.Duration
	// BulkReserve is the share of each window the bulk lane leaves to interactive calls, in
	// [0, 1): the bulk lane may use floor(limit × (1 − BulkReserve)) of each window.
	BulkReserve float64
}

// Debitura's documented limits per API key (REFERENCE.md §4) and the default bulk reserve.
const (
	DefaultPerMinute   = 2000
	DefaultPerHour     = 20000
	DefaultPerDay      = 100000
	DefaultSegment     = 10 * time.Second
	DefaultBulkReserve = 0.20
)

// DefaultLimits returns Debitura's documented windows: 2,000 requests per sliding minute
// counted in 10-second segments, 20,000 per fixed hour, 100,000 per fixed day, with 20 % of
// each window reserved for the interactive lane.
func DefaultLimits() Limits {
	return Limits{
		PerMinute: DefaultPerMinute, PerHour: DefaultPerHour, PerDay: DefaultPerDay,
		Segment: DefaultSegment, Minute: time.Minute, Hour: time.Hour, Day: 24 * time.Hour,
		BulkReserve: DefaultBulkReserve,
	}
}

// bulkShare is floor(n × (1 − reserve)).
func bulkShare(n int, reserve float64) int { return int(math.Floor(float64(n) * (1 - reserve))) }

// BulkLimits returns the per-window limits of the bulk lane: floor(limit × (1 − BulkReserve)).
func (l Limits) BulkLimits() (perMinute, perHour, perDay int) {
	return bulkShare(l.PerMinute, l.BulkReserve), bulkShare(l.PerHour, l.BulkReserve), bulkShare(l.PerDay, l.BulkReserve)
}

// Validate reports whether l describes usable windows: positive limits, a sliding window that
// is a whole number of segments (each at least a millisecond), positive hour and day, and a
// reserve in [0, 1) that leaves the bulk lane at least one slot of each window.
func (l Limits) Validate() error {
	switch {
	case l.PerMinute <= 0 || l.PerHour <= 0 || l.PerDay <= 0:
		return fmt.Errorf("limits must be positive (per minute %d, hour %d, day %d)", l.PerMinute, l.PerHour, l.PerDay)
	case l.Segment < time.Millisecond:
		return fmt.Errorf("segment %v must be at least 1ms", l.Segment)
	case l.Minute < l.Segment || l.Minute%l.Segment != 0:
		return fmt.Errorf("sliding window %v must be a whole number of segments (%v)", l.Minute, l.Segment)
	case l.Hour <= 0 || l.Day <= 0:
		return fmt.Errorf("hour %v and day %v must be positive", l.Hour, l.Day)
	case math.IsNaN(l.BulkReserve) || l.BulkReserve < 0 || l.BulkReserve >= 1:
		return fmt.Errorf("bulk reserve %v must be in [0, 1)", l.BulkReserve)
	}
	for _, n := range []int{l.PerMinute, l.PerHour, l.PerDay} {
		if bulkShare(n, l.BulkReserve) < 1 {
			return fmt.Errorf("bulk reserve %v leaves the bulk lane no slot of a window of %d", l.BulkReserve, n)
		}
	}
	return nil
}

// Budget admits requests under the rate-limit windows of one API key; every holder of one
// Budget (every Client given it with [WithBudget], or every replica of a fleet sharing it in
// Redis, see package redisfleet) shares it. Every attempt of every call takes a slot before it
// is sent. Implementations must be safe for concurrent use.
type Budget interface {
	// Take admits one request of lane now (wait == 0) or reports how long until a slot may free
	// (wait > 0; nothing is taken, and the slot is not reserved). It never blocks for a slot.
	Take(ctx context.Context, lane Lane) (wait time.Duration, err error)
	// Hold shares a 429: nothing is admitted, in either lane, before now+d (the later of two
	// holds wins).
	Hold(ctx context.Context, d time.Duration) error
}

// NewMemoryBudget returns the in-process Budget: the three windows of l, the two lanes and the
// 429 gate, exactly as [DefaultLimits] documents them, for the Clients of one process. Every
// Client has one of its own unless [WithBudget] gives it another; give several Clients of one
// process the same Budget to make them share one API key's limits. It refuses invalid limits
// (see [Limits.Validate]).
func NewMemoryBudget(l Limits) (Budget, error) {
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("debitura: NewMemoryBudget: %w", err)
	}
	return newMemoryBudget(l, time.Now), nil
}

// memoryBudget is the in-process Budget. Its windows follow the same rules as redisfleet's Lua
// script, so a fleet that falls back to it keeps the same behaviour:
//
//   - the sliding minute counts requests per segment (aligned to the Unix epoch) and sums the
//     current segment and the ones before it; when full, the next slot frees at the end of the
//     oldest segment that still holds requests (for the bulk lane: when enough of the oldest
//     segments slid out to bring the count under its share), as ASP.NET Core's
//     SlidingWindowRateLimiter, which Debitura runs, does;
//   - the hour and the day are fixed windows that reset at each multiple of their length;
//   - the gate (Hold) refuses every slot before its end.
//
// Take answers at once; nobody queues, so interactive calls never wait behind bulk ones.
type memoryBudget struct {
	limits Limits
	now    func() time.Time

	mu      sync.Mutex
	segs    []segCount // the sliding window's non-empty segments, oldest first
	hourIdx int64
	hourN   int
	dayIdx  int64
	dayN    int
	gate    time.Time // no slot before it
	// extra are the windows of the deprecated WithRateLimit: sliding windows of their own.
	extra []*slidingWindow
	// The correction (correct): the window it learned (nil: none) and its counting period.
	learned                 *learnedWindow
	periodStart, periodLast time.Time
	periodN                 int
}

// segCount is the number of requests admitted in one segment.
type segCount struct {
	idx int64
	n   int
}

func newMemoryBudget(l Limits, now func() time.Time) *memoryBudget {
	return &memoryBudget{limits: l, now: now}
}

// Take admits one request of lane at the budget's clock, or reports the wait until a slot may
// free. It fails only for an unknown lane or a ctx that has ended.
func (b *memoryBudget) Take(ctx context.Context, lane Lane) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if lane != LaneInteractive && lane != LaneBulk {
		return 0, fmt.Errorf("debitura: Budget.Take: unknown lane %d", int(lane))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.takeLocked(b.now(), lane), nil
}

// takeLocked is Take at now.
func (b *memoryBudget) takeLocked(now time.Time, lane Lane) time.Duration {
	var wait time.Duration
	if g := b.gate.Sub(now); g > 0 {
		wait = g
	}
	l := b.limits
	limMin, limHour, limDay := l.PerMinute, l.PerHour, l.PerDay
	if lane == LaneBulk {
		limMin, limHour, limDay = l.BulkLimits()
	}
	ns := now.UnixNano()

	// The sliding minute.
	seg := int64(l.Segment)
	nseg := int64(l.Minute / l.Segment)
	cur := floorDiv(ns, seg)
	b.dropOldLocked(cur - nseg + 1)
	sum := 0
	for _, s := range b.segs {
		sum += s.n
	}
	if sum >= limMin {
		freed := 0
		for _, s := range b.segs {
			freed += s.n
			if sum-freed < limMin {
				wait = max(wait, time.Duration((s.idx+nseg)*seg-ns))
				break
			}
		}
	}

	// The fixed hour and day: a new index starts from zero.
	hidx, hn := fixedCount(ns, int64(l.Hour), b.hourIdx, b.hourN)
	didx, dn := fixedCount(ns, int64(l.Day), b.dayIdx, b.dayN)
	if hn >= limHour {
		wait = max(wait, time.Duration((hidx+1)*int64(l.Hour)-ns))
	}
	if dn >= limDay {
		wait = max(wait, time.Duration((didx+1)*int64(l.Day)-ns))
	}
	for _, w := range b.extra {
		wait = max(wait, w.wait(ns))
	}
	wait = max(wait, b.learnedWaitLocked(now))
	if wait > 0 {
		return wait
	}

	// Admit: count the request in every window.
	if n := len(b.segs); n > 0 && b.segs[n-1].idx == cur {
		b.segs[n-1].n++
	} else {
		b.segs = append(b.segs, segCount{idx: cur, n: 1})
	}
	b.hourIdx, b.hourN = hidx, hn+1
	b.dayIdx, b.dayN = didx, dn+1
	for _, w := range b.extra {
		w.add(ns)
	}
	b.countLocked(now)
	return 0
}

// dropOldLocked forgets the segments before first.
func (b *memoryBudget) dropOldLocked(first int64) {
	i := 0
	for i < len(b.segs) && b.segs[i].idx < first {
		i++
	}
	if i > 0 {
		b.segs = append(b.segs[:0], b.segs[i:]...)
	}
}

// fixedCount returns the index of the fixed window of size that holds ns, and its count: n if
// that is the stored window idx, else 0.
func fixedCount(ns, size, idx int64, n int) (int64, int) {
	cur := floorDiv(ns, size)
	if cur != idx {
		return cur, 0
	}
	return cur, n
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Hold closes the gate until now+d unless it is already closed until later. A d that is not
// positive does nothing.
func (b *memoryBudget) Hold(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if until := b.now().Add(d); until.After(b.gate) {
		b.gate = until
	}
	return nil
}

// ---- the correction: the server's limits turned out lower than the configured ones ----

// Tuning of the correction (see correct). It is the former adaptive pacer's learning, kept
// only for a server whose limits differ from the configured ones.
const (
	// correctionMargin: the learned window admits this share of what the server accepted, so
	// that timing jitter does not push a window one request over.
	correctionMargin = 0.95
	// correctionGrowth: the learned limit rises by this share per second without another
	// unexpected 429, so that a limit that was raised, or an estimate that was too low, is
	// found again.
	correctionGrowth = 0.01
	// correctionOff: the learned window is dropped once it has risen to this multiple (100 s
	// without an unexpected 429).
	correctionOff = 2.0
	// correctionMinSample is the fewest admitted requests a window is learned from: fewer say
	// more about where the server's window boundary fell than about its limit.
	correctionMinSample = 10
	// correctionIdle: a gap this long without an admission starts a new counting period, so a
	// budget that was idle does not learn a limit that is too low.
	correctionIdle = time.Second
)

// learnedWindow is the window the correction learned: base requests per span, risen since at.
type learnedWindow struct {
	base int
	span time.Duration
	at   time.Time
	w    *slidingWindow
}

// learnedWaitLocked is the wait the learned window imposes at now (0 without one), after
// letting its limit rise.
func (b *memoryBudget) learnedWaitLocked(now time.Time) time.Duration {
	lw := b.learned
	if lw == nil {
		return 0
	}
	grown := 1 + correctionGrowth*now.Sub(lw.at).Seconds()
	if grown >= correctionOff {
		b.learned = nil
		return 0
	}
	lw.w.limit = max(1, int(float64(lw.base)*grown))
	return lw.w.wait(now.UnixNano())
}

// countLocked records an admission at now in the correction's counting period.
func (b *memoryBudget) countLocked(now time.Time) {
	if b.periodStart.IsZero() || now.Sub(b.periodLast) > correctionIdle {
		b.periodStart, b.periodN = now, 0
	}
	b.periodN++
	b.periodLast = now
	if b.learned != nil {
		b.learned.w.add(now.UnixNano())
	}
}

// correct is told of a 429 the budget did not expect: the server refused a request the budget
// had admitted while no hold was in force, so the server's limits are lower than the configured
// ones, or shaped differently. It learns the server's window from the counting period the 429
// ends: the requests admitted since the period began (the last reopening of the gate, or the
// end of an idle second), less the refused one, per the time from then until the server's
// retryAfter has passed. From then on the budget also keeps a sliding window of
// correctionMargin of that many per that span; it relaxes by correctionGrowth per second and
// is dropped at correctionOff. The period must hold at least correctionMinSample admissions;
// with fewer, a learned window is halved (the server lets fewer through than it did) and none
// is learned. A 429 that comes while the gate is closed (a request in flight when an earlier
// 429 arrived) teaches nothing. retryAfter is the hold that follows (not positive: none).
func (b *memoryBudget) correct(retryAfter time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.gate.After(now) {
		return
	}
	reopen := now.Add(max(retryAfter, time.Millisecond))
	n := b.periodN - 1
	switch {
	case n >= correctionMinSample:
		span := reopen.Sub(b.periodStart)
		base := int(math.Floor(float64(n) * correctionMargin))
		nseg := int64(10)
		seg := max(int64(time.Millisecond), int64(span)/nseg)
		w := &slidingWindow{limit: base, seg: seg, nseg: nseg}
		// The window starts full at the reopening: what was admitted counts in it.
		w.segs = []segCount{{idx: floorDiv(now.UnixNano(), seg), n: base}}
		b.learned = &learnedWindow{base: base, span: span, at: reopen, w: w}
	case b.learned != nil:
		b.learned.base /= 2
		if b.learned.base < 1 {
			b.learned = nil
		}
	}
	b.periodStart, b.periodN, b.periodLast = reopen, 0, reopen
}

// ---- the deprecated WithRateLimit, as an extra sliding window ----

// slidingWindow is a sliding window of limit requests per nseg segments of seg, with the same
// rules as the budget's minute.
type slidingWindow struct {
	limit int
	seg   int64
	nseg  int64
	segs  []segCount
}

// newRateWindow maps WithRateLimit(perSecond, burst) onto a sliding window: at most burst
// requests in any burst/perSecond, counted in up to 10 segments.
func newRateWindow(perSecond float64, burst int) *slidingWindow {
	span := time.Duration(float64(burst) / perSecond * float64(time.Second))
	nseg := int64(min(burst, 10))
	seg := max(int64(time.Millisecond), int64(span)/nseg)
	return &slidingWindow{limit: burst, seg: seg, nseg: nseg}
}

func (w *slidingWindow) wait(ns int64) time.Duration {
	cur := floorDiv(ns, w.seg)
	i := 0
	for i < len(w.segs) && w.segs[i].idx < cur-w.nseg+1 {
		i++
	}
	w.segs = w.segs[i:]
	sum := 0
	for _, s := range w.segs {
		sum += s.n
	}
	if sum < w.limit {
		return 0
	}
	freed := 0
	for _, s := range w.segs {
		freed += s.n
		if sum-freed < w.limit {
			return time.Duration((s.idx+w.nseg)*w.seg - ns)
		}
	}
	return 0
}

func (w *slidingWindow) add(ns int64) {
	cur := floorDiv(ns, w.seg)
	if n := len(w.segs); n > 0 && w.segs[n-1].idx == cur {
		w.segs[n-1].n++
		return
	}
	w.segs = append(w.segs, segCount{idx: cur, n: 1})
}
