package debitura

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

var pacerT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(d time.Duration) time.Time { return pacerT0.Add(d) }

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestPacerOffUntil429(t *testing.T) {
	var p pacer
	for i := range 1000 {
		p.accept(at(time.Duration(i) * time.Millisecond))
		if d := p.reserve(at(time.Duration(i) * time.Millisecond)); d != 0 {
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
	if d := p.reserve(at(60 * time.Millisecond)); d != 940*time.Millisecond {
		t.Fatalf("first slot wait = %v, want 940ms", d)
	}
	step := time.Second / 95
	if d := p.reserve(at(time.Second)); d < step-time.Microsecond || d > step+time.Microsecond {
		t.Fatalf("second slot wait = %v, want %v", d, step)
	}
	// A caller that comes late gets its slot at once (no catch-up burst is saved up).
	if d := p.reserve(at(5 * time.Second)); d != 0 {
		t.Fatalf("late slot wait = %v, want 0", d)
	}
	if d := p.reserve(at(5 * time.Second)); d <= 0 {
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
		d := p.reserve(at(time.Second))
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
	if d := p.reserve(at(101 * time.Second)); d != 0 {
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
					_ = p.reserve(now)
				}
			}
		}()
	}
	wg.Wait()
}

// windowServer imitates a fixed 1-second rate-limit window of limit requests on the fake clock,
// answering 429 with the body's retryAfter (seconds until the window reopens).
type windowServer struct {
	*httptest.Server
	mu      sync.Mutex
	window  time.Time
	n       int
	ok, got int
}

func newWindowServer(t *testing.T, clock *fakeClock, limit int) *windowServer {
	s := &windowServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	}))
	t.Cleanup(s.Close)
	return s
}

func run429Batch(t *testing.T, pacing bool) (ok, got429 int, waits []time.Duration) {
	t.Helper()
	clock := newFakeClock()
	srv := newWindowServer(t, clock, 10)
	c, err := New(testAPIKey, WithBaseURL(srv.URL), withClock(clock.Now, clock.Sleep), withJitter(maxJitter),
		WithAdaptivePacing(pacing))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if _, err := c.Clients.Get(context.Background(), "t-1"); err != nil {
			t.Fatalf("Get #%d: %v", i, err)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.ok, srv.got, clock.Waits()
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
