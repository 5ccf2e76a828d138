package debitura

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"
)

var pacerT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(d time.Duration) time.Time { return pacerT0.Add(d) }

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// reserveWait takes a slot with no limit on the wait and returns the wait.
func reserveWait(p *pacer, now time.Time) time.Duration {
	_, d, ok := p.reserve(now, math.MaxInt64, time.Time{})
	if !ok {
		panic("reserve without limits refused a slot")
	}
	return d
}

func TestPacerOffUntil429(t *testing.T) {
	var p pacer
	for i := range 1000 {
		p.accept(at(time.Duration(i) * time.Millisecond))
		if d := reserveWait(&p, at(time.Duration(i)*time.Millisecond)); d != 0 {
			t.Fatalf("reserve without a 429 = %v, want 0", d)
		}
	}
	if got := p.pace(at(time.Second)); got != 0 {
		t.Fatalf("pace = %v, want 0 (off)", got)
	}
}

func TestPacerLearnsRateFrom429(t *testing.T) {
	var p pacer
	// 100 accepted in the first 50 ms, then a 429 whose gate reopens at 1 s.
	for i := range 100 {
		p.accept(at(time.Duration(i) * 500 * time.Microsecond))
	}
	p.throttled(at(50*time.Millisecond), at(time.Second))
	// accepted since the first answer (at 0) / time until reopen (1 s), times the margin
	if got := p.pace(at(time.Second)); !near(got, 95, 0.01) {
		t.Fatalf("pace = %v, want 95", got)
	}
	// Requests in flight when the 429 came are answered 429 too: they teach nothing new.
	for i := range 7 {
		p.throttled(at(51*time.Millisecond+time.Duration(i)*time.Millisecond), at(time.Second))
	}
	if got := p.pace(at(time.Second)); !near(got, 95, 0.01) {
		t.Fatalf("pace after in-flight 429s = %v, want 95", got)
	}
	// Before the gate reopens, the first slot is the reopening; then slots are 1/95 s apart.
	if d := reserveWait(&p, at(60*time.Millisecond)); d != 940*time.Millisecond {
		t.Fatalf("first slot wait = %v, want 940ms", d)
	}
	step := time.Second / 95
	if d := reserveWait(&p, at(time.Second)); d < step-time.Microsecond || d > step+time.Microsecond {
		t.Fatalf("second slot wait = %v, want %v", d, step)
	}
	// A caller that comes late gets its slot at once (no catch-up burst is saved up).
	if d := reserveWait(&p, at(5*time.Second)); d != 0 {
		t.Fatalf("late slot wait = %v, want 0", d)
	}
	if d := reserveWait(&p, at(5*time.Second)); d <= 0 {
		t.Fatalf("slot right after a late one = %v, want > 0", d)
	}
}

func TestPacerEvenSpacing(t *testing.T) {
	var p pacer
	p.accept(at(0))
	p.throttled(at(0), at(time.Second)) // 1 accepted in 1 s: 0.95/s
	p.rate, p.learnedAt = 10, at(time.Second)
	// 20 callers arriving together at the reopening get slots 100 ms apart (growth aside).
	var last time.Duration
	for i := range 20 {
		d := reserveWait(&p, at(time.Second))
		if i > 0 {
			gap := (d - last).Seconds()
			if !near(gap, 0.1, 0.001) {
				t.Fatalf("gap %d = %vs, want 0.1s", i, gap)
			}
		}
		last = d
	}
}

func TestPacerRelaxesAndSwitchesOff(t *testing.T) {
	var p pacer
	for i := range 50 {
		p.accept(at(time.Duration(i) * time.Millisecond))
	}
	p.throttled(at(50*time.Millisecond), at(500*time.Millisecond)) // 50 in 0.5 s: 95/s
	if got := p.pace(at(10*time.Second + 500*time.Millisecond)); !near(got, 95*1.10, 0.01) {
		t.Fatalf("pace after 10 s = %v, want %v", got, 95*1.10)
	}
	if got := p.pace(at(100*time.Second + 500*time.Millisecond)); got != 0 {
		t.Fatalf("pace after 100 s = %v, want 0 (off)", got)
	}
	if d := reserveWait(&p, at(101*time.Second)); d != 0 {
		t.Fatalf("reserve when off = %v, want 0", d)
	}
}

func TestPacerRelearnsFromNextWindow(t *testing.T) {
	var p pacer
	// First window: 100 accepted in a partial window (the last 200 ms of it): an overestimate.
	for i := range 100 {
		p.accept(at(800*time.Millisecond + time.Duration(i)*time.Millisecond))
	}
	p.throttled(at(900*time.Millisecond), at(time.Second))
	if got := p.pace(at(time.Second)); !near(got, 475, 0.01) {
		t.Fatalf("first estimate = %v, want 475", got)
	}
	// Second window, a whole one: 100 accepted between 1 s and 1.3 s, 429, reopen at 2 s.
	for i := range 100 {
		p.accept(at(time.Second + time.Duration(i)*3*time.Millisecond))
	}
	p.throttled(at(1300*time.Millisecond), at(2*time.Second))
	if got := p.pace(at(2 * time.Second)); !near(got, 95, 0.01) {
		t.Fatalf("second estimate = %v, want 95", got)
	}
}

func TestPacerBacksOffWhenNothingGetsThrough(t *testing.T) {
	var p pacer
	for i := range 10 {
		p.accept(at(time.Duration(i) * 100 * time.Millisecond))
	}
	p.throttled(at(time.Second), at(time.Second+100*time.Millisecond)) // 10 in 1.1 s
	want := 0.95 * 10 / 1.1
	if got := p.pace(at(time.Second + 100*time.Millisecond)); !near(got, want, 0.001) {
		t.Fatalf("pace = %v, want %v", got, want)
	}
	// The first request after the reopening is refused again (another client shares the key):
	// halve the pace.
	p.throttled(at(time.Second+150*time.Millisecond), at(2*time.Second))
	got := p.pace(at(2 * time.Second))
	if !near(got, want/2, 0.01) {
		t.Fatalf("pace after an empty window = %v, want about %v", got, want/2)
	}
}

func TestPacerIdleStartsNewPeriod(t *testing.T) {
	var p pacer
	p.accept(at(0))
	p.accept(at(10 * time.Millisecond))
	// A long pause, then 50 accepted in 250 ms and a 429 that reopens 250 ms later.
	for i := range 50 {
		p.accept(at(10*time.Second + time.Duration(i)*5*time.Millisecond))
	}
	p.throttled(at(10*time.Second+250*time.Millisecond), at(10*time.Second+500*time.Millisecond))
	if got := p.pace(at(10*time.Second + 500*time.Millisecond)); !near(got, 95, 0.01) {
		t.Fatalf("pace = %v, want 95 (the idle period is not counted)", got)
	}
}

func TestPacerConcurrentUse(t *testing.T) {
	var p pacer
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				now := at(time.Duration(i) * time.Millisecond)
				switch (g + i) % 3 {
				case 0:
					p.accept(now)
				case 1:
					p.throttled(now, now.Add(100*time.Millisecond))
				default:
					if slot, _, ok := p.reserve(now, time.Hour, time.Time{}); ok && i%2 == 0 {
						p.cancel(slot, now)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// windowServer imitates a fixed 1-second rate-limit window of limit requests on the fake clock,
// answering 429 with the body's retryAfter (seconds until the window reopens).
type windowServer struct {
	mu      sync.Mutex
	window  time.Time
	n       int
	ok, got int
}

func newWindowServer(clock *fakeClock, limit int) (*windowServer, step) {
	s := &windowServer{}
	return s, func(w http.ResponseWriter, r *http.Request) {
		now := clock.Now()
		s.mu.Lock()
		defer s.mu.Unlock()
		if win := now.Truncate(time.Second); !win.Equal(s.window) {
			s.window, s.n = win, 0
		}
		w.Header().Set("Content-Type", "application/json")
		if s.n >= limit {
			s.got++
			wait := s.window.Add(time.Second).Sub(now).Seconds()
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintf(w, `{"error":"rate_limit_exceeded","message":"Too many requests.","retryAfter":%.3f}`, wait)
			return
		}
		s.n++
		s.ok++
		fmt.Fprint(w, `{"externalTenantId":"t-1","onboardingDone":true}`)
	}
}

func run429Batch(t *testing.T, pacing bool) (ok, got429 int, waits []time.Duration) {
	t.Helper()
	c, h := setup(t, WithAdaptivePacing(pacing))
	srv, answer := newWindowServer(h.clock, 10)
	h.script(answer)
	for i := range 60 {
		if _, err := c.Clients.Get(context.Background(), "t-1"); err != nil {
			t.Fatalf("Get #%d: %v", i, err)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.ok, srv.got, h.clock.Waits()
}

// The fake clock does not move while a request is in flight, so an unpaced Client sends the
// whole window's allowance at one instant and meets a 429 in every window; the pacer learns
// 9.5/s from the first 429 and the later windows see (almost) none.
func TestPacerThroughClient(t *testing.T) {
	okOff, off429, _ := run429Batch(t, false)
	okOn, on429, waits := run429Batch(t, true)
	if okOff != 60 || okOn != 60 {
		t.Fatalf("accepted = %d (off), %d (on); want 60", okOff, okOn)
	}
	if off429 < 5 {
		t.Fatalf("without pacing: %d 429s, want one per window (>= 5)", off429)
	}
	if on429 > 2 {
		t.Fatalf("with pacing: %d 429s, want at most 2 (waits %v)", on429, waits)
	}
	paced := 0
	for _, w := range waits {
		if w > 100*time.Millisecond && w < 110*time.Millisecond { // 1/9.5 s, grown by <= 10%
			paced++
		}
	}
	if paced < 40 {
		t.Fatalf("with pacing: %d waits of about 1/9.5 s, want most of the 60 calls; waits %v", paced, waits)
	}
}

func TestWithAdaptivePacingOffNeverPaces(t *testing.T) {
	_, _, waits := run429Batch(t, false)
	for _, w := range waits {
		if w < 500*time.Millisecond {
			t.Fatalf("wait %v with pacing off: only gate waits (to the next window) expected; waits %v", w, waits)
		}
	}
}

// A rate is learned only from pacerMinSample accepted answers, and a pace below pacerMinRate
// switches the pacer off: a degenerate estimate never spaces requests seconds apart.
func TestPacerLearnsOnlyFromAMeaningfulSample(t *testing.T) {
	acceptN := func(p *pacer, n int, from, every time.Duration) {
		for i := range n {
			p.accept(at(from + time.Duration(i)*every))
		}
	}
	tests := []struct {
		name  string
		setup func(p *pacer)
		when  time.Duration
		want  float64 // 0: off
	}{
		{"one accepted, then a 429 with retryAfter 2 (the reviewer's probe)", func(p *pacer) {
			p.accept(at(0))
			p.throttled(at(10*time.Millisecond), at(2*time.Second))
		}, 2 * time.Second, 0},
		{"nine accepted", func(p *pacer) {
			acceptN(p, 9, 0, time.Millisecond)
			p.throttled(at(10*time.Millisecond), at(time.Second))
		}, time.Second, 0},
		{"ten accepted", func(p *pacer) {
			acceptN(p, 10, 0, time.Millisecond)
			p.throttled(at(10*time.Millisecond), at(time.Second))
		}, time.Second, 9.5},
		{"ten accepted over 20 s: 0.475/s is below the floor", func(p *pacer) {
			acceptN(p, 10, 0, 900*time.Millisecond)
			p.throttled(at(8100*time.Millisecond), at(20*time.Second))
		}, 20 * time.Second, 0},
		{"pacing, then a 429 with five accepted: half the pace", func(p *pacer) {
			acceptN(p, 10, 0, time.Millisecond)
			p.throttled(at(10*time.Millisecond), at(time.Second))
			acceptN(p, 5, time.Second, time.Millisecond)
			p.throttled(at(time.Second+100*time.Millisecond), at(2*time.Second))
		}, 2 * time.Second, 9.5 * 1.001 / 2},
		{"pacing at 1.58/s, then a 429 with none accepted: half is below the floor", func(p *pacer) {
			acceptN(p, 10, 0, time.Millisecond)
			p.throttled(at(10*time.Millisecond), at(6*time.Second))
			p.throttled(at(6*time.Second), at(7*time.Second))
		}, 7 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p pacer
			tt.setup(&p)
			if got := p.pace(at(tt.when)); !near(got, tt.want, 0.001) {
				t.Fatalf("pace = %v, want %v", got, tt.want)
			}
			if tt.want == 0 {
				if d := reserveWait(&p, at(tt.when)); d != 0 {
					t.Fatalf("reserve = %v, want 0 (not paced)", d)
				}
			}
		})
	}
}

// tenPerSecond returns a pacer at 10 requests per second from at(1s) on, with three slots
// taken at at(1s): the next one is at(1.3s).
func tenPerSecond(t *testing.T) *pacer {
	t.Helper()
	p := &pacer{rate: 10, learnedAt: at(time.Second), next: at(time.Second)}
	for i, want := range []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond} {
		if d := reserveWait(p, at(time.Second)); d != want {
			t.Fatalf("slot %d wait = %v, want %v", i, d, want)
		}
	}
	return p
}

// A slot whose wait is longer than the maximum wait, or that would start after the deadline,
// is not taken; the schedule stays as it was.
func TestPacerReserveRefusesWaitsItMayNotTake(t *testing.T) {
	tests := []struct {
		name     string
		maxWait  time.Duration
		deadline time.Time
		ok       bool
	}{
		{"no limits", math.MaxInt64, time.Time{}, true},
		{"longer than the maximum wait", 299 * time.Millisecond, time.Time{}, false},
		{"exactly the maximum wait", 300 * time.Millisecond, time.Time{}, true},
		{"after the deadline", math.MaxInt64, at(1299 * time.Millisecond), false},
		{"at the deadline", math.MaxInt64, at(1300 * time.Millisecond), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tenPerSecond(t)
			slot, d, ok := p.reserve(at(time.Second), tt.maxWait, tt.deadline)
			if ok != tt.ok || d != 300*time.Millisecond {
				t.Fatalf("reserve = (%v, %v), want (300ms, %v)", d, ok, tt.ok)
			}
			if !ok && slot != (paceSlot{}) {
				t.Fatalf("refused reserve returned slot %+v", slot)
			}
			want := 300 * time.Millisecond // a refused slot was not taken
			if ok {
				want = 400 * time.Millisecond
			}
			if d := reserveWait(p, at(time.Second)); d != want {
				t.Fatalf("next caller's wait = %v, want %v", d, want)
			}
		})
	}
}

// A slot given back by a caller that stopped waiting goes to the next caller; nobody waits
// behind it.
func TestPacerCancelGivesTheSlotBack(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name   string
		cancel []int           // which of three more slots (at 300, 400, 500 ms) are given back
		now    time.Duration   // when the next callers come (after at(1s))
		want   []time.Duration // their waits
	}{
		{"the last slot", []int{2}, 0, []time.Duration{ms(500), ms(600)}},
		{"a middle slot", []int{1}, 0, []time.Duration{ms(400), ms(600)}},
		{"the middle, then the last", []int{1, 2}, 0, []time.Duration{ms(400), ms(500), ms(600)}},
		{"the last, then the middle", []int{2, 1}, 0, []time.Duration{ms(400), ms(500), ms(600)}},
		{"all three", []int{0, 2, 1}, 0, []time.Duration{ms(300), ms(400), ms(500), ms(600)}},
		{"a slot whose time has passed is not sent late", []int{0}, ms(350), []time.Duration{ms(600 - 350)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tenPerSecond(t)
			var slots []paceSlot
			for range 3 {
				s, _, ok := p.reserve(at(time.Second), math.MaxInt64, time.Time{})
				if !ok {
					t.Fatal("reserve refused")
				}
				slots = append(slots, s)
			}
			for _, i := range tt.cancel {
				p.cancel(slots[i], at(time.Second))
			}
			var got []time.Duration
			for range tt.want {
				got = append(got, reserveWait(p, at(time.Second+tt.now)))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("waits = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPacerCancelAfterA429(t *testing.T) {
	p := tenPerSecond(t)
	s, _, _ := p.reserve(at(time.Second), math.MaxInt64, time.Time{}) // 1.3 s
	p.throttled(at(1050*time.Millisecond), at(2*time.Second))         // 429: nothing before 2 s
	p.cancel(s, at(1100*time.Millisecond))
	if d := reserveWait(p, at(2*time.Second)); d != 0 {
		t.Fatalf("first wait after the reopening = %v, want 0 (the slot at 1.3 s is gone)", d)
	}
	// Giving back a slot that has come is a no-op.
	s, _, _ = p.reserve(at(2*time.Second), math.MaxInt64, time.Time{})
	p.cancel(s, s.at)
	if d := reserveWait(p, s.at); d <= 0 {
		t.Fatalf("wait after a no-op give-back = %v, want > 0", d)
	}
}

// farClock is a fake clock an hour ahead of real time, so that a ctx deadline set on it never
// passes in real time while the test runs.
func farClock() *fakeClock {
	return &fakeClock{t: time.Now().Add(time.Hour).Truncate(time.Second)}
}

const pacer429 = `{"error":"rate_limit_exceeded","message":"Too many requests.","retryAfter":%g}`

// The reviewer's probe: one accepted call, then a 429 with retryAfter 2. One answer is no
// sample to learn a rate from (it would be 0.475 req/s: six callers spaced 2.1 s apart), so the
// pacer stays off and six concurrent calls all go out once the gate opens, none of them waiting
// longer than the gate.
func TestPacerOneAcceptedThen429DoesNotStall(t *testing.T) {
	clock := farClock()
	t0 := clock.Now()
	c, h := setup(t, WithMaxRetries(0))
	h.useClock(clock)
	h.script(status(200, `{}`), status(429, fmt.Sprintf(pacer429, 2.0)), status(200, `{}`))
	if _, err := c.Partner.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Partner.Me(t.Context()); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("second Me = %v, want ErrRateLimited", err)
	}
	ctx, cancel := context.WithDeadline(t.Context(), t0.Add(8*time.Second))
	defer cancel()
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Partner.Me(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	reqs := h.requests()
	if len(reqs) != n+2 {
		t.Fatalf("server saw %d requests, want %d", len(reqs), n+2)
	}
	for i, r := range reqs[2:] {
		if r.At.Before(t0.Add(2 * time.Second)) {
			t.Errorf("request %d sent at +%v, before the gate opened", i, r.At.Sub(t0))
		}
	}
	for _, w := range clock.Waits() {
		if w > 2*time.Second {
			t.Errorf("wait %v: longer than the gate (waits %v)", w, clock.Waits())
		}
	}
	if p := c.gate.pacer.pace(clock.Now()); p != 0 {
		t.Errorf("pace = %v, want 0 (not learned from one answer)", p)
	}
}

// pacedClient returns a Client whose pacer has learned 9.5 req/s: ten calls accepted at t0, an
// eleventh answered 429 with retryAfter 1 (the gate reopens at t0+1s). Later requests are
// answered 200.
func pacedClient(t *testing.T, clock *fakeClock, opts ...Option) (*Client, *harness) {
	t.Helper()
	steps := make([]step, 0, 12)
	for range 10 {
		steps = append(steps, status(200, `{}`))
	}
	steps = append(steps, status(429, fmt.Sprintf(pacer429, 1.0)), status(200, `{}`))
	c, h := setup(t, append([]Option{WithMaxRetries(0)}, opts...)...)
	h.useClock(clock)
	h.script(steps...)
	for range 10 {
		if _, err := c.do(t.Context(), opGet(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.do(t.Context(), opGet(), nil); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("11th call = %v, want ErrRateLimited", err)
	}
	if p := c.gate.pacer.pace(clock.Now().Add(time.Second)); !near(p, 9.5, 0.001) {
		t.Fatalf("pace = %v, want 9.5", p)
	}
	return c, h
}

// A paced wait obeys the rules of the gate: one longer than the maximum wait, or one that would
// end after ctx's deadline, is not slept. The call is not sent and returns the 429 the pacer
// learned from, as an *APIError with Attempts 0 and RetryAfter the wait; its slot is not taken.
func TestPacerWaitBeyondLimitsFailsFast(t *testing.T) {
	tests := []struct {
		name     string
		opts     []Option
		deadline time.Duration // after t0; 0: none
	}{
		{"longer than WithMaxRetryWait", []Option{WithMaxRetryWait(1500 * time.Millisecond)}, 0},
		{"past the ctx deadline", nil, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := farClock()
			t0 := clock.Now()
			c, h := pacedClient(t, clock, tt.opts...)
			// Twenty callers hold the slots from t0+1s on, 1/9.5 s apart: the next is at about
			// t0+3.1s, 2.1 s after the gate reopens.
			for range 20 {
				if _, _, ok := c.gate.pacer.reserve(t0, math.MaxInt64, time.Time{}); !ok {
					t.Fatal("reserve refused")
				}
			}
			ctx := t.Context()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, t0.Add(tt.deadline))
				defer cancel()
			}
			_, err := c.do(ctx, opKYC(), nil)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || !errors.Is(err, ErrRateLimited) {
				t.Fatalf("do() = %v (%T), want a 429 *APIError", err, err)
			}
			now := clock.Now()
			if !now.Equal(t0.Add(time.Second)) {
				t.Fatalf("clock at +%v, want +1s (the gate's wait only)", now.Sub(t0))
			}
			// The refused slot was not taken: the next caller gets the same wait.
			want := reserveWait(&c.gate.pacer, now)
			if want < 2*time.Second {
				t.Fatalf("slot wait = %v, want about 2.1s", want)
			}
			got := []any{apiErr.Attempts, apiErr.RetryAfter, apiErr.Type, apiErr.Route, len(h.requests()), fmt.Sprint(clock.Waits())}
			wantFields := []any{0, want, "rate_limit_exceeded", opKYC().route, 11, fmt.Sprint([]time.Duration{time.Second})}
			if fmt.Sprint(got) != fmt.Sprint(wantFields) {
				t.Fatalf("(attempts, retryAfter, type, route, hits, waits) = %v, want %v", got, wantFields)
			}
		})
	}
}

// A caller whose ctx ends while it waits for its slot gives the slot back: the next caller
// waits only as long as the one that gave up would have.
func TestPacerAbandonedSlotIsGivenBack(t *testing.T) {
	clock := farClock()
	var abandon func() // set while the abandoning call waits
	var abandonedWait time.Duration
	sleep := func(ctx context.Context, d time.Duration) error {
		if abandon != nil {
			abandonedWait = d
			abandon()
			<-ctx.Done()
			return ctx.Err()
		}
		return clock.Sleep(ctx, d)
	}
	c, h := pacedClient(t, clock, withClock(clock.Now, sleep))
	// The gate reopens; the first call takes the slot at the reopening and is sent at once.
	if _, err := c.do(t.Context(), opGet(), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	abandon = cancel
	_, err := c.do(ctx, opGet(), nil)
	abandon = nil
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned call = %v, want context.Canceled", err)
	}
	if step := time.Second * 2 / 19; abandonedWait < step-time.Microsecond || abandonedWait > step+time.Microsecond {
		t.Fatalf("abandoned call waited for %v, want its slot 1/9.5 s after the reopening", abandonedWait)
	}
	if _, err := c.do(t.Context(), opGet(), nil); err != nil {
		t.Fatal(err)
	}
	waits := clock.Waits()
	if last := waits[len(waits)-1]; last != abandonedWait {
		t.Fatalf("next caller waited %v, want %v (the given-back slot); waits %v", last, abandonedWait, waits)
	}
	if n := len(h.requests()); n != 13 {
		t.Fatalf("server hits = %d, want 13 (the abandoned call is not sent)", n)
	}
}
