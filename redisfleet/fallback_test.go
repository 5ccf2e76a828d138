package redisfleet

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// fallbackLimits bind only the fixed "hour" (a real hour, so a sub-second test does not cross
// a boundary): 40 requests, with 50 ms segments so holders renew their heartbeat often.
func fallbackLimits() debitura.Limits {
	return debitura.Limits{
		PerMinute: 1 << 20, PerHour: 40, PerDay: 1 << 20,
		Segment: 50 * time.Millisecond, Minute: time.Second,
		Hour: time.Hour, Day: 24 * time.Hour, BulkReserve: 0.25,
	}
}

// Four replicas share one budget; Redis stops; each replica's fallback admits only its share
// of the windows (the limit ÷ the active holders it learned while Redis was up, less what it
// had already taken), so the fleet as a whole admits no more than the window allows.
func TestSDKBudgetFallbackSharesTheWindows(t *testing.T) {
	t.Parallel()
	srv := fleetSrv(t)
	const holders = 4
	l := fallbackLimits()
	hourAtStart := time.Now().Truncate(time.Hour)
	ctx := t.Context()
	var budgets []debitura.Budget
	for range holders {
		f := fleetOn(t, srv, WithLogger(slog.New(slog.DiscardHandler)), WithFailover(time.Minute, time.Minute), WithOpTimeout(200*time.Millisecond))
		b, err := f.SDKBudget(l)
		if err != nil {
			t.Fatal(err)
		}
		budgets = append(budgets, b)
	}
	admitted := 0
	take := func(b debitura.Budget) bool {
		w, err := b.Take(ctx, debitura.LaneInteractive)
		if err != nil {
			t.Fatalf("Take: %v", err)
		}
		return w == 0
	}
	// Up: two rounds a heartbeat apart, so every holder learns that there are four.
	for round := range 2 {
		for _, b := range budgets {
			if !take(b) {
				t.Fatalf("round %d: a slot was refused while the window had room", round)
			}
			admitted++
		}
		time.Sleep(l.Segment + 10*time.Millisecond)
	}

	srv.Stop()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, b := range budgets {
		wg.Go(func() {
			for range 1000 { // bounded: stops at the first refusal
				if !take(b) {
					return
				}
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if time.Now().Truncate(time.Hour) != hourAtStart {
		t.Skip("the test crossed the top of an hour; the fixed window reset")
	}
	// Each holder's share is 40/4 = 10, of which it took 2 while Redis was up.
	if admitted != l.PerHour {
		t.Errorf("the fleet admitted %d requests in the hour across the outage, want exactly its limit %d", admitted, l.PerHour)
	}
}

// A budget that never reached Redis counts itself as the only holder; the share never falls
// below the two slots a window needs to leave the bulk lane one.
func TestShareLimits(t *testing.T) {
	l := debitura.Limits{PerMinute: 120, PerHour: 500, PerDay: 5000, Segment: time.Second, Minute: 6 * time.Second,
		Hour: time.Minute, Day: time.Hour, BulkReserve: 0.2}
	for _, tc := range []struct {
		n                int
		minute, hour, dy int
	}{
		{0, 120, 500, 5000},
		{1, 120, 500, 5000},
		{8, 15, 62, 625},
		{100, 2, 5, 50},
		{1000, 2, 2, 5},
	} {
		s := shareLimits(l, tc.n)
		if s.PerMinute != tc.minute || s.PerHour != tc.hour || s.PerDay != tc.dy {
			t.Errorf("shareLimits(n=%d) = %d/%d/%d, want %d/%d/%d", tc.n, s.PerMinute, s.PerHour, s.PerDay, tc.minute, tc.hour, tc.dy)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("shareLimits(n=%d) is not valid: %v", tc.n, err)
		}
	}
}

// Four replicas (each its own Client, Fleet and Redis connection; eight goroutines each) call a
// mock whose sliding window they share, at full speed; redis-server is stopped for part of the run and started
// again. The Clients allow one retry (WithMaxRetries(1)), so a call that met two 429s would
// fail under a count. No call fails: while Redis is away each replica keeps to its share of the
// window, and the 429s that remain (the phase of the server's segments, Redis's return with
// empty windows) are retried within WithMaxRetryWait.
func TestSDKFleetRedisStoppedNoCallFails(t *testing.T) {
	t.Parallel()
	srv := fleetSrv(t)
	const perWindow = 40
	l := debitura.Limits{
		PerMinute: perWindow, PerHour: 1 << 20, PerDay: 1 << 20,
		Segment: 50 * time.Millisecond, Minute: 300 * time.Millisecond,
		Hour: time.Hour, Day: 24 * time.Hour, BulkReserve: 0.25,
	}
	mock := mockserver.NewTest(t, mockserver.WithRateLimit(mockserver.RateLimitConfig{Windows: []mockserver.RateWindow{
		{Limit: perWindow, Period: l.Minute, Segments: 6},
	}}))
	fopts := []Option{WithLogger(slog.New(slog.DiscardHandler)), WithFailover(50*time.Millisecond, time.Minute), WithOpTimeout(200 * time.Millisecond)}
	ctx := t.Context()
	var clients []*debitura.Client
	for range 4 {
		clients = append(clients, fleetClient(t, srv, mockserver.DefaultAPIKey, mock.URL, mock.Client(), l, fopts, debitura.WithMaxRetries(1)))
	}
	if _, err := clients[0].Clients.EnsureLinked(ctx, newTenant("fallback-0")); err != nil {
		t.Fatal(err)
	}

	// Redis is away for four windows of the run's five.
	const run, perClient = 1500 * time.Millisecond, 8
	start := time.Now()
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		time.Sleep(run / 10)
		srv.Stop()
		time.Sleep(run * 8 / 10)
		srv.Restart()
	}()
	var calls, failed atomic.Int32
	var wg sync.WaitGroup
	for i := range 4 * perClient {
		c := clients[i%len(clients)]
		wg.Go(func() {
			for time.Since(start) < run {
				calls.Add(1)
				if _, err := c.Clients.Get(ctx, "fallback-0"); err != nil {
					if failed.Add(1) == 1 {
						t.Errorf("a call failed: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	<-restarted
	n429 := 0
	for _, e := range mock.Journal() {
		if e.Status == http.StatusTooManyRequests {
			n429++
		}
	}
	t.Logf("%d calls, %d failed, %d answers 429, %d requests", calls.Load(), failed.Load(), n429, len(mock.Journal()))
	if failed.Load() != 0 {
		t.Errorf("%d of %d calls failed because Redis went away, want 0", failed.Load(), calls.Load())
	}
}

// redis-server restarts empty after an outage: the holders credit the shared hour with what
// they admitted (told by their lost heartbeat entries) after their first Take on the returned
// Redis (in the background), so the fleet does not admit the hour's limit a second time; only
// that first Take per holder slips through.
func TestSDKBudgetCreditsAfterRedisRestart(t *testing.T) {
	t.Parallel()
	srv := fleetSrv(t)
	l := fallbackLimits()
	l.Minute = 3 * time.Second // so the credited segments are still in it when the test looks
	hourAtStart := time.Now().Truncate(time.Hour)
	ctx := t.Context()
	var budgets []debitura.Budget
	for range 2 {
		f := fleetOn(t, srv, WithLogger(slog.New(slog.DiscardHandler)), WithFailover(10*time.Millisecond, time.Minute), WithOpTimeout(200*time.Millisecond))
		b, err := f.SDKBudget(l)
		if err != nil {
			t.Fatal(err)
		}
		budgets = append(budgets, b)
	}
	drain := func() (n int) {
		for _, b := range budgets {
			for range 1000 { // bounded: stops at the first refusal
				w, err := b.Take(ctx, debitura.LaneInteractive)
				if err != nil {
					t.Fatalf("Take: %v", err)
				}
				if w > 0 {
					break
				}
				n++
			}
		}
		return n
	}
	for range 2 { // learn that there are two holders
		for _, b := range budgets {
			if w, err := b.Take(ctx, debitura.LaneInteractive); err != nil || w > 0 {
				t.Fatalf("Take = %v, %v; want a slot", w, err)
			}
		}
		time.Sleep(l.Segment + 10*time.Millisecond)
	}
	srv.Stop()
	during := drain()
	srv.Restart()
	time.Sleep(l.Segment + 20*time.Millisecond) // past the probe interval and the next heartbeat
	// Each holder credits at its first Take on the returned Redis (a live replica takes often);
	// that Take itself is admitted, as the restarted windows are empty.
	after := 0
	for _, b := range budgets {
		if w, err := b.Take(ctx, debitura.LaneInteractive); err == nil && w == 0 {
			after++
		}
	}
	// The credits run in the background: wait until both landed in the shared hour.
	f := fleetOn(t, srv)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if n, _ := f.rdb.HGet(ctx, f.key("b", "hour"), "n").Int(); n >= l.PerHour+after {
			break
		}
	}
	after += drain()
	// The sliding minute was credited too, segment by segment.
	segs, err := f.rdb.HGetAll(ctx, f.key("b", "min")).Result()
	if err != nil {
		t.Fatal(err)
	}
	inMinute := 0
	for _, v := range segs {
		n, _ := strconv.Atoi(v)
		inMinute += n
	}
	if time.Now().Truncate(time.Hour) != hourAtStart {
		t.Skip("the test crossed the top of an hour; the fixed window reset")
	}
	if 4+during != l.PerHour {
		t.Errorf("during the outage the fleet admitted %d + the 4 before, want the hour's limit %d", during, l.PerHour)
	}
	if inMinute < l.PerHour {
		t.Errorf("the shared minute counts %d requests after the restart, want the %d the fleet sent", inMinute, l.PerHour)
	}
	if after > len(budgets) {
		t.Errorf("after the restart the fleet admitted %d more in the same hour, want at most %d (one per holder)", after, len(budgets))
	}
}
