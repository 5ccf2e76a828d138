package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/debitura-go/debitura/mockserver"
)

// TestInterruptDuringAWindowWait: a signal while the run sits in a window wait ends the run at
// once (exit 130): rows held back by the wait are not in flight, so they are left unsettled,
// never marked failed, and the rows settled before the wait stay written.
func TestInterruptDuringAWindowWait(t *testing.T) {
	t.Parallel()
	srv := mockserver.NewTest(t)
	// 5 requests, then a wait of about a minute (far over --call-max-wait, within --max-wait).
	if err := srv.SetRateLimit(mockserver.RateLimitConfig{Windows: []mockserver.RateWindow{{Limit: 5, Period: time.Minute, AnchorFirstRequest: true}}}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(csvHeader)
	for i := range 10 {
		fmt.Fprintf(&b, "t%d,C%d,DK,s@c%d.example,U,u@c%d.example\n", i, i, i, i)
	}
	in, out := writeFile(t, "in.csv", b.String()), filepath.Join(t.TempDir(), "o.jsonl")

	r := inBackground(t, []string{"--base-url", srv.URL, "link", "--in", in, "--out", out, "--concurrency", "2",
		"--call-max-wait", "100ms", "--max-wait", "5m", "--progress-interval", "0"}, map[string]string{keyEnv: mockserver.DefaultAPIKey})
	// The 6th request meets the window while the 5th may still be in flight: signal once the
	// wait has begun and the 5 admitted rows are written (an in-flight row would be left
	// unsettled by the interrupt, rightly, and make the count below a race).
	r.waitFor(t, "window wait with 5 rows written", func() bool {
		return strings.Contains(r.stderr.String(), "window wait: ") && completeLines(out) == 5
	})
	if code := r.signal(t, 5*time.Second); code != exitInterrupted {
		t.Errorf("interrupted in a window wait = exit %d, want 130\nstderr:\n%s", code, r.stderr.String())
	}
	results := readResults(t, out)
	for _, r := range results {
		if r.State == stateFailed {
			t.Errorf("row %d marked failed by the interrupted wait: %+v", r.Line, r)
		}
	}
	if len(results) != 5 {
		t.Errorf("%d rows settled; want the 5 the window let through", len(results))
	}
}
