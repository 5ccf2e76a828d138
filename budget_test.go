package debitura

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// budgetT0 is the start of the budget tests' fake clock: the top of a day, so fixed windows
// start with it.
var budgetT0 = time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)

// smallLimits are the documented window shapes with small numbers: 10 s segments, a 60 s sliding
// minute, a fixed hour and day.
func smallLimits(perMinute, perHour, perDay int, reserve float64) Limits {
	return Limits{
		PerMinute: perMinute, PerHour: perHour, PerDay: perDay,
		Segment: 10 * time.Second, Minute: time.Minute, Hour: time.Hour, Day: 24 * time.Hour,
		BulkReserve: reserve,
	}
}

// refWindows is an independent reference of the three windows: it keeps every admission and
// counts them by brute force, and finds the next free instant by trying every instant at
// which a count can change.
type refWindows struct {
	l        Limits
	admitted []time.Time
	gate     time.Time
}

func (r *refWindows) limits(lane Lane) (int, int, int) {
	if lane == LaneBulk {
		f := func(n int) int { return int(float64(n) * (1 - r.l.BulkReserve)) }
		return f(r.l.PerMinute), f(r.l.PerHour), f(r.l.PerDay)
	}
	return r.l.PerMinute, r.l.PerHour, r.l.PerDay
}

// counts returns the requests the sliding minute, the hour and the day hold at t.
func (r *refWindows) counts(t time.Time) (m, h, d int) {
	segOf := func(x time.Time) int64 { return x.UnixNano() / int64(r.l.Segment) }
	nseg := int64(r.l.Minute / r.l.Segment)
	for _, a := range r.admitted {
		if segOf(a) > segOf(t)-nseg && segOf(a) <= segOf(t) {
			m++
		}
		if epochFloor(a, r.l.Hour).Equal(epochFloor(t, r.l.Hour)) {
			h++
		}
		if epochFloor(a, r.l.Day).Equal(epochFloor(t, r.l.Day)) {
			d++
		}
	}
	return m, h, d
}

func (r *refWindows) admits(t time.Time, lane Lane) bool {
	if t.Before(r.gate) {
		return false
	}
	lm, lh, ld := r.limits(lane)
	m, h, d := r.counts(t)
	return m < lm && h < lh && d < ld
}

// epochFloor rounds t down to a multiple of d since the Unix epoch (time.Truncate counts from
// year 1, which differs for lengths that do not divide a day).
func epochFloor(t time.Time, d time.Duration) time.Time {
	return time.Unix(0, t.UnixNano()-t.UnixNano()%int64(d)).UTC()
}

// nextFree is the first instant after t at which lane would be admitted.
func (r *refWindows) nextFree(t time.Time, lane Lane) time.Time {
	cands := []time.Time{r.gate, epochFloor(t, r.l.Hour).Add(r.l.Hour), epochFloor(t, r.l.Day).Add(r.l.Day)}
	for _, a := range r.admitted {
		cands = append(cands, epochFloor(a, r.l.Segment).Add(r.l.Minute))
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Before(cands[j]) })
	for _, c := range cands {
		if c.After(t) && r.admits(c, lane) {
			return c
		}
	}
	return time.Time{}
}

// take is the reference's answer to Take at t: 0 (and the admission recorded) or the wait.
func (r *refWindows) take(t time.Time, lane Lane) time.Duration {
	r.prune(t)
	if r.admits(t, lane) {
		r.admitted = append(r.admitted, t)
		return 0
	}
	return r.nextFree(t, lane).Sub(t)
}

// prune forgets the admissions older than the longest window, which cannot matter any more.
func (r *refWindows) prune(t time.Time) {
	horizon := t.Add(-max(r.l.Day, r.l.Hour, r.l.Minute) - r.l.Segment)
	i := 0
	for i < len(r.admitted) && r.admitted[i].Before(horizon) {
		i++
	}
	r.admitted = r.admitted[i:]
}

type budgetStep struct {
	at   time.Duration // since budgetT0
	lane Lane
	hold time.Duration // > 0: a Hold instead of a Take
	want time.Duration // Take's wait
}

func TestMemoryBudgetWindows(t *testing.T) {
	t.Parallel()
	I, B := LaneInteractive, LaneBulk
	tests := []struct {
		name   string
		limits Limits
		steps  []budgetStep
	}{
		{
			name:   "sliding minute: the next slot is the end of the oldest segment that holds requests",
			limits: smallLimits(3, 100, 100, 0),
			steps: []budgetStep{
				{at: 0, lane: I}, {at: 15 * time.Second, lane: I}, {at: 25 * time.Second, lane: I},
				{at: 30 * time.Second, lane: I, want: 30 * time.Second}, // segment [0,10s) leaves at 60s
				{at: 60 * time.Second, lane: I},
				{at: 61 * time.Second, lane: I, want: 9 * time.Second}, // segment [10s,20s) leaves at 70s
			},
		},
		{
			name:   "a request at the end of a segment frees with that segment",
			limits: smallLimits(1, 100, 100, 0),
			steps: []budgetStep{
				{at: 9999 * time.Millisecond, lane: I},
				{at: 10 * time.Second, lane: I, want: 50 * time.Second},
				{at: 60 * time.Second, lane: I},
			},
		},
		{
			name:   "bulk stops at its share; interactive uses the reserve",
			limits: smallLimits(10, 100, 100, 0.2),
			steps: []budgetStep{
				{at: 0, lane: B}, {at: 0, lane: B}, {at: 0, lane: B}, {at: 0, lane: B},
				{at: 0, lane: B}, {at: 0, lane: B}, {at: 0, lane: B}, {at: 0, lane: B},
				{at: time.Second, lane: B, want: 59 * time.Second},
				{at: time.Second, lane: I}, {at: time.Second, lane: I},
				{at: 2 * time.Second, lane: I, want: 58 * time.Second},
			},
		},
		{
			name:   "bulk frees only when enough of the oldest segments slid out",
			limits: smallLimits(5, 100, 100, 0.2), // bulk: 4
			steps: []budgetStep{
				{at: 0, lane: B}, {at: 12 * time.Second, lane: B}, {at: 24 * time.Second, lane: B}, {at: 36 * time.Second, lane: B},
				{at: 40 * time.Second, lane: I},
				{at: 41 * time.Second, lane: B, want: 29 * time.Second}, // 5 held, bulk needs < 4: two segments leave, at 60s and 70s
				{at: 41 * time.Second, lane: I, want: 19 * time.Second},
			},
		},
		{
			name:   "fixed hour resets at the top of the hour",
			limits: smallLimits(100, 2, 100, 0),
			steps: []budgetStep{
				{at: 58 * time.Minute, lane: I}, {at: 59 * time.Minute, lane: I},
				{at: 59*time.Minute + 30*time.Second, lane: I, want: 30 * time.Second},
				{at: time.Hour, lane: I},
			},
		},
		{
			name:   "fixed day resets at midnight",
			limits: smallLimits(100, 100, 2, 0),
			steps: []budgetStep{
				{at: time.Hour, lane: I}, {at: 5 * time.Hour, lane: I},
				{at: 23 * time.Hour, lane: I, want: time.Hour},
				{at: 24 * time.Hour, lane: I},
			},
		},
		{
			name:   "a hold refuses both lanes until it ends; the later hold wins",
			limits: smallLimits(100, 100, 100, 0.2),
			steps: []budgetStep{
				{at: 0, hold: 5 * time.Second}, {at: time.Second, hold: time.Second},
				{at: 2 * time.Second, lane: I, want: 3 * time.Second},
				{at: 2 * time.Second, lane: B, want: 3 * time.Second},
				{at: 5 * time.Second, lane: B},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var now time.Time
			b := newMemoryBudget(tt.limits, func() time.Time { return now })
			ref := &refWindows{l: tt.limits}
			for i, s := range tt.steps {
				now = budgetT0.Add(s.at)
				if s.hold > 0 {
					_ = b.Hold(t.Context(), s.hold)
					if until := now.Add(s.hold); until.After(ref.gate) {
						ref.gate = until
					}
					continue
				}
				got, err := b.Take(t.Context(), s.lane)
				if err != nil {
					t.Fatalf("step %d: Take: %v", i, err)
				}
				refWait := ref.take(now, s.lane)
				if diff := cmp.Diff([]time.Duration{s.want, s.want}, []time.Duration{got, refWait}); diff != "" {
					t.Errorf("step %d (%v at +%v): (budget, reference) wait (-want +got):\n%s", i, s.lane, s.at, diff)
				}
			}
		})
	}
}

// TestMemoryBudgetModel drives the budget with random request streams on a fake clock and
// checks every answer against the reference, and that no window ever held more than it allows.
func TestMemoryBudgetModel(t *testing.T) {
	t.Parallel()
	l := Limits{
		PerMinute: 12, PerHour: 40, PerDay: 90,
		Segment: 50 * time.Millisecond, Minute: 300 * time.Millisecond,
		Hour: 2 * time.Second, Day: 7 * time.Second, BulkReserve: 0.25,
	}
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 42))
		now := budgetT0
		b := newMemoryBudget(l, func() time.Time { return now })
		ref := &refWindows{l: l}
		type adm struct {
			at   time.Time
			lane Lane
		}
		var log []adm
		for i := range 1200 {
			now = now.Add(time.Duration(rng.IntN(20)) * time.Millisecond)
			if rng.IntN(200) == 0 {
				d := time.Duration(1+rng.IntN(100)) * time.Millisecond
				_ = b.Hold(t.Context(), d)
				if until := now.Add(d); until.After(ref.gate) {
					ref.gate = until
				}
				continue
			}
			lane := LaneInteractive
			if rng.IntN(3) > 0 {
				lane = LaneBulk
			}
			got, _ := b.Take(t.Context(), lane)
			want := ref.take(now, lane)
			if got != want {
				t.Fatalf("seed %d step %d: Take(%v) at +%v = %v, reference %v", seed, i, lane, now.Sub(budgetT0), got, want)
			}
			if got == 0 {
				log = append(log, adm{now, lane})
			}
		}
		// The invariant, checked on the log alone: at every admission, the windows (counting it)
		// hold no more than the lane's limits.
		check := &refWindows{l: l}
		for _, a := range log {
			check.prune(a.at)
			check.admitted = append(check.admitted, a.at)
			lm, lh, ld := check.limits(a.lane)
			if m, h, d := check.counts(a.at); m > lm || h > lh || d > ld {
				t.Fatalf("seed %d: at +%v the windows hold %d/%d/%d, over the %v lane's %d/%d/%d", seed, a.at.Sub(budgetT0), m, h, d, a.lane, lm, lh, ld)
			}
		}
		if len(log) < 100 {
			t.Errorf("seed %d: only %d admissions; the stream should exercise the windows", seed, len(log))
		}
	}
}

// Concurrent Takes never admit more than a window allows (run with -race).
func TestMemoryBudgetConcurrent(t *testing.T) {
	t.Parallel()
	l := smallLimits(100, 1000, 1000, 0.2)
	l.Segment, l.Minute = time.Hour, time.Hour // nothing slides out during the test
	b, err := NewMemoryBudget(l)
	if err != nil {
		t.Fatal(err)
	}
	var bulk, inter atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			lane := Lane(g % 2)
			for range 50 {
				if w, _ := b.Take(t.Context(), lane); w == 0 {
					if lane == LaneBulk {
						bulk.Add(1)
					} else {
						inter.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	if bulk.Load() > 80 || bulk.Load()+inter.Load() != 100 {
		t.Errorf("admitted %d bulk and %d interactive; want at most 80 bulk and 100 in all", bulk.Load(), inter.Load())
	}
}

func TestLimitsValidate(t *testing.T) {
	t.Parallel()
	mod := func(f func(*Limits)) Limits { l := DefaultLimits(); f(&l); return l }
	tests := []struct {
		name string
		l    Limits
		ok   bool
	}{
		{"default", DefaultLimits(), true},
		{"zero limit", mod(func(l *Limits) { l.PerHour = 0 }), false},
		{"minute not whole segments", mod(func(l *Limits) { l.Minute = 65 * time.Second }), false},
		{"reserve 1", mod(func(l *Limits) { l.BulkReserve = 1 }), false},
		{"reserve leaves bulk nothing", mod(func(l *Limits) { l.PerMinute = 1; l.BulkReserve = 0.5 }), false},
		{"zero segment", mod(func(l *Limits) { l.Segment = 0 }), false},
	}
	for _, tt := range tests {
		if err := tt.l.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if _, err := NewMemoryBudget(tt.l); (err == nil) != tt.ok {
			t.Errorf("%s: NewMemoryBudget error = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if _, err := New(testAPIKey, WithLimits(DefaultLimits()), WithBudget(newMemoryBudget(DefaultLimits(), time.Now))); err == nil {
		t.Error("New(WithLimits, WithBudget) = nil error, want the conflict refused")
	}
}

// okServer answers every request 200 with a partner body and counts them.
func okServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"p1","name":"Partner"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// The lanes through a Client: a bulk call stops at the bulk share and is refused a wait beyond
// WithMaxRetryWait, while interactive calls use the reserve; WithBulkMaxWait lets the bulk lane
// sit through a longer wait.
func TestClientLanes(t *testing.T) {
	t.Parallel()
	srv, hits := okServer(t)
	l := Limits{PerMinute: 5, PerHour: 1000, PerDay: 1000, Segment: 100 * time.Millisecond, Minute: 300 * time.Millisecond,
		Hour: time.Hour, Day: 24 * time.Hour, BulkReserve: 0.4} // bulk: 3
	c, err := New(testAPIKey, WithBaseURL(srv.URL), WithHTTPClient(srv.Client()), WithLimits(l), WithMaxRetryWait(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for i := range 3 {
		if _, err := c.Partner.Me(ctx, WithLane(LaneBulk)); err != nil {
			t.Fatalf("bulk call %d: %v", i, err)
		}
	}
	var resp Response
	_, err = c.Partner.Me(ctx, WithLane(LaneBulk), WithResponse(&resp))
	var apiErr *APIError
	if !asAPIError(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests || apiErr.Attempts != 0 || apiErr.RetryAfter <= 0 {
		t.Fatalf("4th bulk call = %v, want a 429 *APIError, not sent, with the refused wait", err)
	}
	for i := range 2 {
		if _, err := c.Partner.Me(ctx); err != nil {
			t.Fatalf("interactive call %d within the reserve: %v", i, err)
		}
	}
	if h := hits.Load(); h != 5 {
		t.Errorf("server hits = %d, want 5", h)
	}

	// WithBulkMaxWait: the bulk lane waits for the window instead.
	c2, err := New(testAPIKey, WithBaseURL(srv.URL), WithHTTPClient(srv.Client()), WithLimits(l), WithMaxRetryWait(time.Millisecond), WithBulkMaxWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var waited time.Duration
	for i := range 5 {
		var r Response
		if _, err := c2.Partner.Me(ctx, WithLane(LaneBulk), WithResponse(&r)); err != nil {
			t.Fatalf("bulk call %d with WithBulkMaxWait: %v", i, err)
		}
		waited += r.RateLimitWait
	}
	if waited == 0 {
		t.Error("5 bulk calls over a bulk share of 3 never waited")
	}
	if _, err := New(testAPIKey, WithBulkMaxWait(0)); err == nil {
		t.Error("WithBulkMaxWait(0) accepted")
	}
}

func asAPIError(err error, dst **APIError) bool {
	e, ok := err.(*APIError)
	if ok {
		*dst = e
	}
	return ok
}

// fixedWindow answers GET /me on the harness: limit requests per fixed window of period on the
// harness's fake clock, and the rest 429 with the time to the window's end as retryAfter (a
// server stricter than the budget's limits). It returns the count of 429s.
func fixedWindow(h *harness, limit int, period time.Duration) *atomic.Int32 {
	var (
		mu      sync.Mutex
		win     int64
		n       int
		refused atomic.Int32
	)
	h.mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		now := h.fake().Now().UnixNano()
		mu.Lock()
		if idx := now / int64(period); idx != win {
			win, n = idx, 0
		}
		n++
		over, end := n > limit, (win+1)*int64(period)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if over {
			refused.Add(1)
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintf(w, `{"error":"rate_limit_exceeded","retryAfter":%g}`, time.Duration(end-now).Seconds())
			return
		}
		fmt.Fprint(w, meBody)
	})
	return &refused
}

// The correction: a server stricter than the configured limits costs a 429 in every window
// without it, and few once the budget learned the server's window from the first one. The
// server's windows and the SDK's waits are on one fake clock, so the figures do not depend on
// the machine's speed.
func TestBudgetCorrectionLearnsAStricterServer(t *testing.T) {
	t.Parallel()
	run := func(correct bool) int32 {
		c, h := setup(t, WithAdaptivePacing(correct))
		refused := fixedWindow(h, 20, 100*time.Millisecond)
		for i := range 160 {
			if _, err := c.Partner.Me(t.Context()); err != nil {
				t.Fatalf("Partner.Me %d: %v", i, err)
			}
		}
		return refused.Load()
	}
	with, without := run(true), run(false)
	t.Logf("429s: %d with the correction, %d without", with, without)
	if without < 7 {
		t.Errorf("without the correction: %d 429s in 160 calls over 8 windows of 20; want one in each window after the first", without)
	}
	if with*4 > without {
		t.Errorf("the correction left %d 429s of %d without it; want it to cut them to a quarter at least", with, without)
	}
}

// A 429 holds the Client's budget: concurrent calls wait for it instead of meeting it again.
func TestBudgetHoldThroughClient(t *testing.T) {
	t.Parallel()
	b := newMemoryBudget(DefaultLimits(), time.Now)
	_ = b.Hold(context.Background(), 200*time.Millisecond)
	srv, hits := okServer(t)
	c, err := New(testAPIKey, WithBaseURL(srv.URL), WithHTTPClient(srv.Client()), WithBudget(b))
	if err != nil {
		t.Fatal(err)
	}
	var resp Response
	start := time.Now()
	if _, err := c.Partner.Me(t.Context(), WithResponse(&resp)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || resp.RateLimitWait < 150*time.Millisecond || hits.Load() != 1 {
		t.Errorf("call took %v (RateLimitWait %v, hits %d), want it held by the shared budget", d, resp.RateLimitWait, hits.Load())
	}
}

// A Lane prints its name in log records and errors; a value outside the two lanes prints its
// number.
func TestLaneString(t *testing.T) {
	got := []string{LaneInteractive.String(), LaneBulk.String(), Lane(7).String()}
	if diff := cmp.Diff([]string{"interactive", "bulk", "Lane(7)"}, got); diff != "" {
		t.Errorf("Lane names (-want +got):\n%s", diff)
	}
}
