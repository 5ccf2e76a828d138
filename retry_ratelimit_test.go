package debitura

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A 429 did nothing, so an interactive call retries it beyond WithMaxRetries for as long as its
// rate-limit waits stay within WithMaxRetryWait; retries turned off and bulk calls keep the
// count.
func TestRetryRateLimitedBeyondMaxRetries(t *testing.T) {
	t.Parallel()
	const after = 1500 * time.Millisecond // body429's retryAfter
	tests := []struct {
		name     string
		opts     []Option
		callOpts []CallOption
		n429     int  // 429s before a 200
		wantOK   bool // else the last 429 is the error
		attempts int
	}{
		{name: "interactive: six 429s, then success", n429: 6, wantOK: true, attempts: 7},
		{name: "interactive: stops when the waits would pass WithMaxRetryWait", opts: []Option{WithMaxRetryWait(5 * time.Second)}, n429: 10, attempts: 4},
		{name: "interactive: WithMaxRetryWait allows two more", opts: []Option{WithMaxRetryWait(9 * time.Second)}, n429: 10, attempts: 7},
		{name: "retries off", callOpts: []CallOption{WithCallMaxRetries(0)}, n429: 6, attempts: 1},
		{name: "bulk keeps the count", callOpts: []CallOption{WithLane(LaneBulk)}, n429: 6, attempts: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t, tt.opts...)
			var steps []step
			for range tt.n429 {
				steps = append(steps, status(429, body429))
			}
			h.script(append(steps, status(200, "{}"))...)
			resp, err := c.do(t.Context(), opGet(), nil, tt.callOpts...)
			var waits []time.Duration
			for range tt.attempts - 1 {
				waits = append(waits, after)
			}
			got := struct {
				OK       bool
				Attempts int
				Waits    []time.Duration
			}{err == nil, len(h.requests()), h.clock.Waits()}
			want := struct {
				OK       bool
				Attempts int
				Waits    []time.Duration
			}{tt.wantOK, tt.attempts, waits}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			var apiErr *APIError
			switch {
			case tt.wantOK && (resp == nil || resp.Attempts != tt.attempts):
				t.Errorf("resp.Attempts = %d, want %d", resp.Attempts, tt.attempts)
			case !tt.wantOK && !errors.As(err, &apiErr):
				t.Errorf("error = %v, want the last 429 as an *APIError", err)
			case !tt.wantOK && (!errors.Is(err, ErrRateLimited) || apiErr.Attempts != tt.attempts):
				t.Errorf("error = %v, want the last 429 after %d attempts", err, tt.attempts)
			}
		})
	}
}
