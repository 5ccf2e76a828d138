package mockserver

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// RateWindow is one limit: at most Limit requests per Period.
//
// Segments > 1 makes it a sliding window made of Segments equal segments (Debitura's per-minute
// window is 2,000 per minute in 10-second segments: Segments 6). Otherwise it is a fixed window
// that starts at a multiple of Period since the Unix epoch in UTC (so a 1-hour window resets at the
// top of the hour), or, with AnchorFirstRequest, at the partition's first request.
type RateWindow struct {
	Limit              int           `json:"limit"`
	Period             time.Duration `json:"period"`
	Segments           int           `json:"segments,omitempty"`
	AnchorFirstRequest bool          `json:"anchorFirstRequest,omitempty"`
}

// RateLimitConfig is the set of windows applied per API key. A request is refused when it would
// exceed any window. Unauthenticated requests (missing or unknown key) share one partition.
type RateLimitConfig struct {
	Disabled bool         `json:"disabled,omitempty"`
	Windows  []RateWindow `json:"windows"`
}

// DefaultRateLimits returns Debitura's documented limits: 2,000 per minute (sliding, 10-second
// segments), 20,000 per hour (fixed, reset at the top of the hour) and 100,000 per day (fixed 24
// hours anchored to the partition's first request: the newest version of the rate-limiting page).
func DefaultRateLimits() RateLimitConfig {
	return RateLimitConfig{Windows: []RateWindow{
		{Limit: 2000, Period: time.Minute, Segments: 6},
		{Limit: 20000, Period: time.Hour},
		{Limit: 100000, Period: 24 * time.Hour, AnchorFirstRequest: true},
	}}
}

const rateLimitMessage = "Too many requests. Please try again later or contact support if you need higher limits."

type windowState struct {
	// sliding
	counts  []int
	lastSeg int64
	// fixed
	start time.Time
	count int
}

type rateLimiter struct {
	mu    sync.Mutex
	cfg   RateLimitConfig
	parts map[string][]windowState
}

func newRateLimiter(cfg RateLimitConfig) *rateLimiter {
	return &rateLimiter{cfg: cfg, parts: map[string][]windowState{}}
}

func (l *rateLimiter) set(cfg RateLimitConfig) {
	l.mu.Lock()
	l.cfg, l.parts = cfg, map[string][]windowState{}
	l.mu.Unlock()
}

func (l *rateLimiter) config() RateLimitConfig {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.cfg
	c.Windows = append([]RateWindow(nil), c.Windows...)
	return c
}

// allow admits one request of partition at now, or reports how long until it would be admitted.
func (l *rateLimiter) allow(partition string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.Disabled || len(l.cfg.Windows) == 0 {
		return true, 0
	}
	st := l.parts[partition]
	if st == nil {
		st = make([]windowState, len(l.cfg.Windows))
		l.parts[partition] = st
	}
	var wait time.Duration
	for i, w := range l.cfg.Windows {
		if w.Limit <= 0 || w.Period <= 0 {
			continue
		}
		if d := st[i].roll(w, now); d > wait {
			wait = d
		}
	}
	if wait > 0 {
		return false, wait
	}
	for i, w := range l.cfg.Windows {
		if w.Limit > 0 && w.Period > 0 {
			st[i].take(w, now)
		}
	}
	return true, 0
}

// segDur is at least 1ns, so a window with more segments than nanoseconds cannot divide by zero.
func segDur(w RateWindow) time.Duration { return max(w.Period/time.Duration(w.Segments), 1) }

// roll brings the window up to now and returns 0 when one more request fits, else the wait.
func (s *windowState) roll(w RateWindow, now time.Time) time.Duration {
	if w.Segments > 1 {
		sd := segDur(w)
		seg := now.UnixNano() / int64(sd)
		if s.counts == nil {
			s.counts = make([]int, w.Segments)
			s.lastSeg = seg
		}
		n := int64(w.Segments)
		if seg-s.lastSeg >= n {
			clear(s.counts)
		} else {
			for k := s.lastSeg + 1; k <= seg; k++ {
				s.counts[k%n] = 0
			}
		}
		if seg > s.lastSeg {
			s.lastSeg = seg
		}
		total := 0
		for _, c := range s.counts {
			total += c
		}
		if total+1 <= w.Limit {
			return 0
		}
		expired := 0
		for k := seg - n + 1; k <= seg; k++ {
			expired += s.counts[((k%n)+n)%n]
			if total-expired+1 <= w.Limit {
				at := time.Unix(0, (k+n)*int64(sd))
				return max(at.Sub(now), time.Nanosecond)
			}
		}
		return w.Period
	}
	if s.start.IsZero() || !now.Before(s.start.Add(w.Period)) || now.Before(s.start) {
		if w.AnchorFirstRequest {
			if s.start.IsZero() || now.Before(s.start) {
				s.start = now
			} else {
				k := now.Sub(s.start) / w.Period
				s.start = s.start.Add(k * w.Period)
			}
		} else {
			s.start = time.Unix(0, now.UnixNano()/int64(w.Period)*int64(w.Period))
		}
		s.count = 0
	}
	if s.count+1 <= w.Limit {
		return 0
	}
	return max(s.start.Add(w.Period).Sub(now), time.Nanosecond)
}

func (s *windowState) take(w RateWindow, now time.Time) {
	if w.Segments > 1 {
		s.counts[s.lastSeg%int64(w.Segments)]++
		return
	}
	s.count++
}

// retryAfterSeconds rounds a wait up to a tenth of a second (the docs show 42.0).
func retryAfterSeconds(d time.Duration) float64 {
	return math.Ceil(d.Seconds()*10) / 10
}

func (b *Backend) writeRateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := retryAfterSeconds(wait)
	if b.set.retryAfterHeader {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	}
	writeJSON(w, http.StatusTooManyRequests, wireRateLimit{Error: "rate_limit_exceeded", Message: rateLimitMessage, RetryAfter: secs})
}

// SetRateLimit replaces the rate-limit windows and forgets every partition's counters. A window
// with a non-positive limit or period, more than 3600 segments or segments shorter than 1ms is
// an error wrapping [ErrInvalid], and nothing changes.
func (b *Backend) SetRateLimit(c RateLimitConfig) error {
	if err := checkRateLimit(c); err != nil {
		return err
	}
	c.Windows = slices.Clone(c.Windows)
	b.limiter.set(c)
	return nil
}

// RateLimit returns the current rate-limit configuration.
func (b *Backend) RateLimit() RateLimitConfig { return b.limiter.config() }
