package mockserver

import (
	"testing"
	"time"
)

func TestRateLimitWindows(t *testing.T) {
	t.Parallel()
	t.Run("sliding minute in 10s segments", func(t *testing.T) {
		t.Parallel()
		clock := NewFakeClock(time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC))
		s := newTestServer(t, WithClock(clock), WithRateLimit(RateLimitConfig{Windows: []RateWindow{{Limit: 3, Period: time.Minute, Segments: 6}}}))
		for range 2 {
			do(t, s, "GET", "/me", key, nil)
		}
		clock.Advance(25 * time.Second) // segment 2
		do(t, s, "GET", "/me", key, nil)
		r := do(t, s, "GET", "/me", key, nil)
		if r.status != 429 {
			t.Fatalf("4th request = %d, want 429", r.status)
		}
		var body wireRateLimit
		r.decode(t, &body)
		// The two requests of segment 0 (10:00:00-10:00:10) drop out at 10:01:00, 35 s from now.
		if body.Error != "rate_limit_exceeded" || body.Message != rateLimitMessage || body.RetryAfter != 35 {
			t.Errorf("429 body = %s", r.body)
		}
		if h := r.header.Get("Retry-After"); h != "" {
			t.Errorf("Retry-After = %q, want none by default", h)
		}
		// Another partner has its own partition; unauthenticated requests share one.
		if r := do(t, s, "GET", "/me", "", nil); r.status != 401 {
			t.Errorf("unauthenticated = %d, want 401", r.status)
		}
		clock.Advance(35 * time.Second)
		if r := do(t, s, "GET", "/me", key, nil); r.status != 200 {
			t.Errorf("after retryAfter = %d, want 200", r.status)
		}
	})
	t.Run("fixed hour resets at the top of the hour, with header", func(t *testing.T) {
		t.Parallel()
		clock := NewFakeClock(time.Date(2025, 1, 1, 10, 59, 30, 500e6, time.UTC))
		s := newTestServer(t, WithClock(clock), WithRetryAfterHeader(true), WithRateLimit(RateLimitConfig{Windows: []RateWindow{{Limit: 1, Period: time.Hour}}}))
		do(t, s, "GET", "/me", key, nil)
		r := do(t, s, "GET", "/me", key, nil)
		var body wireRateLimit
		r.decode(t, &body)
		if r.status != 429 || body.RetryAfter != 29.5 || r.header.Get("Retry-After") != "30" {
			t.Errorf("429 = %d %s Retry-After %q, want retryAfter 29.5 and header 30", r.status, r.body, r.header.Get("Retry-After"))
		}
		clock.Advance(29500 * time.Millisecond)
		if r := do(t, s, "GET", "/me", key, nil); r.status != 200 {
			t.Errorf("at the top of the hour = %d, want 200", r.status)
		}
	})
	t.Run("day window anchored to the first request; unauthenticated partition", func(t *testing.T) {
		t.Parallel()
		clock := NewFakeClock(time.Date(2025, 1, 1, 15, 0, 0, 0, time.UTC))
		s := newTestServer(t, WithClock(clock), WithRateLimit(RateLimitConfig{Windows: []RateWindow{{Limit: 2, Period: 24 * time.Hour, AnchorFirstRequest: true}}}))
		do(t, s, "GET", "/me", "", nil)
		do(t, s, "GET", "/me", "mock_test_nobody", nil)
		if r := do(t, s, "GET", "/me", "", nil); r.status != 429 {
			t.Errorf("3rd unauthenticated request = %d, want 429 (shared partition)", r.status)
		}
		if r := do(t, s, "GET", "/me", key, nil); r.status != 200 {
			t.Errorf("a real partner = %d, want 200 (own partition)", r.status)
		}
		clock.Advance(24 * time.Hour)
		if r := do(t, s, "GET", "/me", "", nil); r.status != 401 {
			t.Errorf("next day = %d, want 401 (admitted)", r.status)
		}
	})
	t.Run("defaults and disabled", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		if got := s.RateLimit(); len(got.Windows) != 3 || got.Windows[0].Limit != 2000 || got.Windows[1].Limit != 20000 || got.Windows[2].Limit != 100000 {
			t.Errorf("default windows = %+v", got)
		}
		s.SetRateLimit(RateLimitConfig{Windows: []RateWindow{{Limit: 1, Period: time.Hour}}})
		do(t, s, "GET", "/me", key, nil)
		if r := do(t, s, "GET", "/me", key, nil); r.status != 429 {
			t.Errorf("after SetRateLimit = %d, want 429", r.status)
		}
		s.SetRateLimit(RateLimitConfig{Disabled: true})
		if r := do(t, s, "GET", "/me", key, nil); r.status != 200 {
			t.Errorf("disabled = %d, want 200", r.status)
		}
		if n := s.Count(OpMe); n != 3 {
			t.Errorf("journal count = %d, want 3", n)
		}
	})
}

func BenchmarkRateLimiter(b *testing.B) {
	l := newRateLimiter(DefaultRateLimits())
	l.cfg.Windows[0].Limit = 1 << 30
	l.cfg.Windows[1].Limit = 1 << 30
	l.cfg.Windows[2].Limit = 1 << 30
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.allow("p", now.Add(time.Duration(i)*time.Millisecond))
	}
}
