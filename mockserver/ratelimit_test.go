package mockserver

import (
	"testing"
	"time"
)

// TestRateLimitWindows plays GET /me sequences on the mock clock against one window each. A 429
// step checks the body (error, message, retryAfter) and the Retry-After header ("" = none).
func TestRateLimitWindows(t *testing.T) {
	t.Parallel()
	type step struct {
		advance    time.Duration // moved on the mock clock before the request
		key        string
		want       int
		retryAfter float64 // of a 429
		header     string  // Retry-After of a 429
	}
	scenarios := []struct {
		name   string
		start  time.Time
		window RateWindow
		opts   []Option
		steps  []step
	}{
		{
			name:   "sliding minute in 10s segments",
			start:  time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC),
			window: RateWindow{Limit: 3, Period: time.Minute, Segments: 6},
			steps: []step{
				{key: key, want: 200},
				{key: key, want: 200},
				{advance: 25 * time.Second, key: key, want: 200}, // segment 2
				// The two requests of segment 0 (10:00:00-10:00:10) drop out at 10:01:00, 35 s from
				// now; no Retry-After header by default.
				{key: key, want: 429, retryAfter: 35},
				// Another partner has its own partition; unauthenticated requests share one.
				{key: "", want: 401},
				{advance: 35 * time.Second, key: key, want: 200},
			},
		},
		{
			name:   "fixed hour resets at the top of the hour, with header",
			start:  time.Date(2025, 1, 1, 10, 59, 30, 500e6, time.UTC),
			window: RateWindow{Limit: 1, Period: time.Hour},
			opts:   []Option{WithRetryAfterHeader(true)},
			steps: []step{
				{key: key, want: 200},
				{key: key, want: 429, retryAfter: 29.5, header: "30"},
				{advance: 29500 * time.Millisecond, key: key, want: 200},
			},
		},
		{
			name:   "day window anchored to the first request; unauthenticated partition",
			start:  time.Date(2025, 1, 1, 15, 0, 0, 0, time.UTC),
			window: RateWindow{Limit: 2, Period: 24 * time.Hour, AnchorFirstRequest: true},
			steps: []step{
				{key: "", want: 401},
				{key: "mock_test_nobody", want: 401},
				{key: "", want: 429, retryAfter: 24 * 60 * 60}, // shared partition
				{key: key, want: 200},                          // a real partner: own partition
				{advance: 24 * time.Hour, key: "", want: 401},  // admitted the next day
			},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			clock := NewFakeClock(sc.start)
			opts := append([]Option{WithClock(clock), WithRateLimit(RateLimitConfig{Windows: []RateWindow{sc.window}})}, sc.opts...)
			s := newTestServer(t, opts...)
			for i, st := range sc.steps {
				clock.Advance(st.advance)
				r := do(t, s, "GET", "/me", st.key, nil)
				if r.status != st.want {
					t.Fatalf("step %d: GET /me with key %q = %d %s, want %d", i, st.key, r.status, r.body, st.want)
				}
				if r.status != 429 {
					continue
				}
				var body wireRateLimit
				r.decode(t, &body)
				if body.Error != "rate_limit_exceeded" || body.Message != rateLimitMessage || body.RetryAfter != st.retryAfter {
					t.Errorf("step %d: 429 body = %s, want retryAfter %v", i, r.body, st.retryAfter)
				}
				if h := r.header.Get("Retry-After"); h != st.header {
					t.Errorf("step %d: Retry-After = %q, want %q", i, h, st.header)
				}
			}
		})
	}
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
