package main

import (
	"testing"
	"time"
)

// at is an instant s seconds after a whole hour since the epoch, so every window of these cases
// starts at 0.
func at(s float64) time.Time {
	return time.Unix(3600*500000, 0).Add(time.Duration(s * float64(time.Second)))
}

func TestFloorTime(t *testing.T) {
	sliding := window{limit: 100, period: 6 * time.Second, segments: 6}
	tests := []struct {
		name   string
		ws     []window
		share  float64
		start  float64
		n      int
		others []float64
		want   time.Duration
	}{
		// 100 at 0, the first segment leaves at 6 s: 100 more, then 100 at 12 s (not 18 s = N ÷ rate).
		{"sliding, aligned start", []window{sliding}, 1, 0, 300, nil, 12 * time.Second},
		// 100 at 0.5 s (segment 0), which leaves the window at 6 s; 100 at 6, 100 at 12.
		{"sliding, start mid-segment", []window{sliding}, 1, 0.5, 300, nil, 11500 * time.Millisecond},
		{"fits at once", []window{sliding}, 1, 2, 100, nil, 0},
		// 10 at 0.3, 10 when the next second starts, 5 at 2.0.
		{"fixed", []window{{limit: 10, period: time.Second}}, 1, 0.3, 25, nil, 1700 * time.Millisecond},
		// 100 at 0; at 6 the sliding window frees 100 but the fixed one has 50 left; at 10 the
		// fixed one resets and the sliding one holds 50 (segment 6): 50; at 12 segment 6 leaves:
		// 50 (the fixed window holds 100 of 150); at 16 segment 10 leaves: the last 50.
		{"sliding and fixed", []window{sliding, {limit: 150, period: 10 * time.Second}}, 1, 0, 300, nil, 16 * time.Second},
		// The same with a smaller fixed window: 100 at 0, 20 at 6 (fixed full), 80 at 10 (segment
		// 6 still holds 20), 20 at 12, 20 at 16 (fixed full again), the last 60 at 20.
		{"fixed window binds twice", []window{sliding, {limit: 120, period: 10 * time.Second}}, 1, 0, 300, nil, 20 * time.Second},
		// The bulk share: 80 of each 100: 80 at 0, 6, 12 and the last 60 at 18.
		{"bulk share 0.8", []window{sliding}, 0.8, 0, 300, nil, 18 * time.Second},
		// Five other requests at 0 leave room for 5: the other 5 when segment 0 leaves, at 6.
		{"other traffic counts", []window{{limit: 10, period: 6 * time.Second, segments: 6}}, 1, 0, 10, []float64{0, 0, 0, 0, 0}, 6 * time.Second},
		// Other traffic before the start, in the same fixed window.
		{"other traffic before start", []window{{limit: 10, period: 10 * time.Second}}, 1, 5, 8, []float64{1, 2, 3, 4}, 5 * time.Second},
		// Other traffic after the start, between two admissions: 8 at 0 (share 0.8 of 10), then
		// at 1 two others arrive; the second window (fixed, 1 s) opens at 1 with 2 used: 6 more.
		{"other traffic during", []window{{limit: 10, period: time.Second}}, 0.8, 0, 14, []float64{1, 1}, time.Second},
		{"nothing to send", []window{sliding}, 1, 0, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var others []time.Time
			for _, o := range tt.others {
				others = append(others, at(o))
			}
			if got := floorTime(tt.ws, tt.share, at(tt.start), tt.n, others); got != tt.want {
				t.Errorf("floorTime = %v, want %v", got, tt.want)
			}
		})
	}
}
