package redisfleet

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
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
