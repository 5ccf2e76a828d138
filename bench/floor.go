package main

import (
	"math"
	"slices"
	"time"
)

// window is one rate-limit window as the mock applies it (mockserver.RateWindow): at most limit
// requests per period; segments > 1 makes it sliding, counted in segments of period/segments
// aligned to multiples of the segment since the Unix epoch; otherwise it is fixed and resets at
// every multiple of period since the epoch (the top of the hour for an hour).
type window struct {
	limit    int
	period   time.Duration
	segments int
}

// floorTime is the floor of a back-fill of n requests started at start: the earliest instant,
// measured from start, at which the windows can have admitted all n, found by simulating the
// windows with every request sent at its earliest allowed instant (admitted at once, all that
// fit). The back-fill may use each window only up to floor(limit × share) (share 1: the whole
// window; 0.8: the bulk lane with a 20 % reserve); others are the instants of the other
// requests the server admitted on the same key (interactive traffic, before or during the
// back-fill), which count in every window as they happen. It is not n ÷ rate: a sliding window
// of L per P admits L at once, so 300 requests under 100 per 6 s can all be admitted by 12 s.
//
// The greedy schedule is the earliest possible: sending a request earlier never delays a later
// one, since a window's count only ever drops as time passes.
func floorTime(ws []window, share float64, start time.Time, n int, others []time.Time) time.Duration {
	if n <= 0 {
		return 0
	}
	others = slices.Clone(others)
	slices.SortFunc(others, func(a, b time.Time) int { return a.Compare(b) })
	sims := make([]*windowSim, len(ws))
	for i, w := range ws {
		sims[i] = &windowSim{w: w, lim: int(math.Floor(float64(w.limit)*share + 1e-9)), counts: map[int64]int{}}
		if sims[i].lim < 1 {
			return time.Duration(math.MaxInt64) // the lane may never send
		}
	}
	t := start.UnixNano()
	oi := 0
	addOthers := func(upTo int64) {
		for ; oi < len(others) && others[oi].UnixNano() <= upTo; oi++ {
			for _, s := range sims {
				s.add(others[oi].UnixNano(), 1)
			}
		}
	}
	admitted := 0
	for guard := 0; admitted < n && guard < 10*n+1000; guard++ {
		// Move t to the earliest instant every window admits one more.
		for {
			addOthers(t)
			var wait int64
			for _, s := range sims {
				wait = max(wait, s.wait(t))
			}
			if wait == 0 {
				break
			}
			t += wait
		}
		k := n - admitted
		for _, s := range sims {
			k = min(k, s.room(t))
		}
		for _, s := range sims {
			s.add(t, k)
		}
		admitted += k
	}
	return time.Duration(t - start.UnixNano())
}

// windowSim counts one window's admitted requests by segment (sliding) or by period (fixed).
type windowSim struct {
	w      window
	lim    int
	counts map[int64]int // by segment or period index since the epoch
}

func (s *windowSim) unit() int64 {
	if s.w.segments > 1 {
		return max(int64(s.w.period)/int64(s.w.segments), 1)
	}
	return int64(s.w.period)
}

// used is how many requests the window holds at t: the last segments of a sliding window,
// the current period of a fixed one.
func (s *windowSim) used(t int64) int {
	u := s.unit()
	k := t / u
	if s.w.segments <= 1 {
		return s.counts[k]
	}
	total := 0
	for j := k - int64(s.w.segments) + 1; j <= k; j++ {
		total += s.counts[j]
	}
	return total
}

func (s *windowSim) room(t int64) int { return max(s.lim-s.used(t), 0) }

// wait is how long after t until the window admits one more (0: now).
func (s *windowSim) wait(t int64) int64 {
	total := s.used(t)
	if total < s.lim {
		return 0
	}
	u := s.unit()
	k := t / u
	if s.w.segments <= 1 {
		return (k+1)*u - t
	}
	n := int64(s.w.segments)
	for j := k - n + 1; j <= k; j++ {
		total -= s.counts[j]
		if total < s.lim {
			return (j+n)*u - t // segment j leaves the window when segment j+n starts
		}
	}
	return (k+1)*u - t
}

func (s *windowSim) add(t int64, k int) {
	if k > 0 {
		s.counts[t/s.unit()] += k
	}
}
