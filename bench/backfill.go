package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// windowShape is Debitura's documented window shape (REFERENCE.md §4: a minute sliding in six
// segments, a fixed hour that resets at the top of the hour, a fixed day) scaled in time. The
// kinds, the six segments and the alignment (fixed windows reset at multiples of their period
// since the epoch) are kept; the durations and limits are scaled so that the hour-like window
// binds within seconds.
type windowShape struct {
	perMinute, perHour, perDay int
	segment                    time.Duration // minute = 6 segments
	hour, day                  time.Duration
}

func (w windowShape) minute() time.Duration { return 6 * w.segment }

// windows are the shape's windows for floorTime.
func (w windowShape) windows() []window {
	return []window{
		{limit: w.perMinute, period: w.minute(), segments: 6},
		{limit: w.perHour, period: w.hour},
		{limit: w.perDay, period: w.day},
	}
}

// mock is the shape as the mock's rate-limit configuration (the day fixed at multiples of its
// period, like the hour, not anchored to the first request).
func (w windowShape) mock() mockserver.RateLimitConfig {
	return mockserver.RateLimitConfig{Windows: []mockserver.RateWindow{
		{Limit: w.perMinute, Period: w.minute(), Segments: 6},
		{Limit: w.perHour, Period: w.hour},
		{Limit: w.perDay, Period: w.day},
	}}
}

func (w windowShape) String() string {
	return fmt.Sprintf("%d per %v sliding in 6 segments of %v, %d per fixed %v, %d per fixed %v",
		w.perMinute, w.minute(), w.segment, w.perHour, w.hour, w.perDay, w.day)
}

// Scaled shapes: quick, the minute is 1.2 s and the hour 4.8 s (4 minutes); full, the minute is
// 6 s and the hour 36 s (6 minutes). At Debitura the hour holds 10 minutes' worth of requests
// and lasts 60; scaled, it holds 2.5 (quick) or 5 (full) minutes' worth, so it binds within
// seconds instead of after 10 minutes at full rate.
var (
	quickShape = windowShape{perMinute: 60, perHour: 150, perDay: 1000, segment: 200 * time.Millisecond, hour: 4800 * time.Millisecond, day: 48 * time.Second}
	fullShape  = windowShape{perMinute: 100, perHour: 500, perDay: 5000, segment: time.Second, hour: 36 * time.Second, day: 360 * time.Second}
)

// alignTo sleeps until the next multiple of period since the epoch, so a run starts at the
// same phase of every fixed window (the same instant a new hour starts).
func alignTo(period time.Duration) time.Time {
	now := time.Now()
	next := time.Unix(0, (now.UnixNano()/int64(period)+1)*int64(period))
	time.Sleep(time.Until(next))
	return next
}

// fullWindows counts the periods of a fixed window (limit per period) in which the mock
// admitted limit requests: how often the window bound.
func fullWindows(s *mockserver.Server, limit int, period time.Duration) int {
	per := map[int64]int{}
	for _, e := range s.Journal() {
		if e.Status != http.StatusTooManyRequests && e.Status != 0 {
			per[e.Time.UnixNano()/int64(period)]++
		}
	}
	n := 0
	for _, c := range per {
		if c >= limit {
			n++
		}
	}
	return n
}

// backfillRun is one measured back-fill.
type backfillRun struct {
	elapsed, floor time.Duration
	failed         int
	n429, total    int
	hourBinds      int
}

// runBackfillStream links n new clients with Clients.LinkStream against a fresh mock limited by
// shape, starting at the top of a scaled hour.
func runBackfillStream(shape windowShape, n int) (backfillRun, error) {
	var run backfillRun
	s := mockserver.New(mockserver.WithSeed(11), mockserver.WithRateLimit(shape.mock()))
	defer s.Close()
	// The back-fill runs alone on the key, so its Client leaves no reserve (BulkReserve 0) and
	// its bulk lane sits through a whole scaled hour.
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(s.URL),
		debitura.WithHTTPClient(&http.Client{Transport: newTransport()}),
		debitura.WithLimits(shape.limits(0)), debitura.WithBulkMaxWait(bulkMaxWait(shape)))
	if err != nil {
		return run, err
	}
	in := func(yield func(*debitura.ClientCreateRequest) bool) {
		for i := range n {
			if !yield(newRequest(fmt.Sprintf("backfill-%06d", i), i)) {
				return
			}
		}
	}
	t0 := alignTo(shape.hour)
	for res, err := range c.Clients.LinkStream(context.Background(), in, &debitura.LinkStreamOptions{Total: n, MaxWait: shape.day}) {
		if err != nil {
			return run, err
		}
		if res.Err != nil {
			run.failed++
		}
	}
	run.elapsed = time.Since(t0)
	run.floor = floorTime(shape.windows(), 1, t0, n, nil)
	run.n429, run.total = count429(s)
	run.hourBinds = fullWindows(s, shape.perHour, shape.hour)
	return run, nil
}

// runBackfillNaive links the same n clients with the naive go-retryablehttp loop against a
// fresh mock with the same windows, from the same phase.
func runBackfillNaive(shape windowShape, n int) (backfillRun, error) {
	var run backfillRun
	s := mockserver.New(mockserver.WithSeed(11), mockserver.WithRateLimit(shape.mock()))
	defer s.Close()
	reqs := bulkRequests(n, "backfill-naive")
	t0 := alignTo(shape.hour)
	_, run.failed = naiveLoop(s.URL, reqs)
	run.elapsed = time.Since(t0)
	run.floor = floorTime(shape.windows(), 1, t0, n, nil)
	run.n429, run.total = count429(s)
	run.hourBinds = fullWindows(s, shape.perHour, shape.hour)
	return run, nil
}

func benchBackfill(r *report, sz sizes) error {
	st, err := runBackfillStream(sz.backfillShape, sz.backfillN)
	if err != nil {
		return err
	}
	nv, err := runBackfillNaive(sz.backfillShape, sz.backfillN)
	if err != nil {
		return err
	}
	pct := func(b backfillRun) float64 { return 100 * float64(b.n429) / float64(max(b.total, 1)) }
	r.add(info("backfill_floor_s", st.floor.Seconds(), "s"))
	r.add(info("backfill_s", st.elapsed.Seconds(), "s"))
	r.add(le("backfill_ratio", st.elapsed.Seconds()/st.floor.Seconds(), "x", 1.02))
	r.add(le("backfill_429_pct", pct(st), "%", 0.5))
	r.add(le("backfill_failed", float64(st.failed), "", 0))
	r.add(info("backfill_hour_binds", float64(st.hourBinds), ""))
	r.add(info("backfill_naive_s", nv.elapsed.Seconds(), "s"))
	r.add(info("backfill_naive_429_pct", pct(nv), "%"))
	r.add(info("backfill_naive_failed", float64(nv.failed), ""))
	r.add(le("backfill_vs_naive", st.elapsed.Seconds()/nv.elapsed.Seconds(), "x", 1.0))
	r.note("backfill: Clients.LinkStream of %d new clients (default concurrency %d, MaxWait %v; the Client's budget has the same windows, WithLimits with BulkReserve 0 since nothing else uses the key, and WithBulkMaxWait of a scaled hour) against a mock limited to %s, started at the top of a scaled hour; backfill_ratio = wall time from that instant to the last result ÷ the floor (floorTime: the windows simulated with every request at its earliest allowed instant, the whole of each window: no other traffic on the key). backfill_429_pct: POST /clients answered 429 ÷ all POST /clients sent. backfill_hour_binds: scaled hours in which the mock admitted its hour limit (the hour-like window bound). %d POST sent, %d answered 429, %d hour(s) bound",
		sz.backfillN, debitura.DefaultLinkConcurrency, sz.backfillShape.day, sz.backfillShape, st.total, st.n429, st.hourBinds)
	r.note("backfill_naive: the same %d clients through the naive go-retryablehttp loop (its defaults: 1-30 s exponential backoff in real seconds, not scaled; it ignores the 429's retryAfter), %d goroutines, a fresh mock with the same windows, from the same phase; floor %.2fs, %d POST sent, %d answered 429, %d failed. backfill_vs_naive = backfill_s ÷ backfill_naive_s",
		sz.backfillN, debitura.DefaultLinkConcurrency, nv.floor.Seconds(), nv.total, nv.n429, nv.failed)
	return nil
}
