package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress counts a link run and shows it on stderr: a live bar on a terminal, a plain line
// every interval otherwise (and one when a window wait starts or ends). It is safe for
// concurrent use.
type progress struct {
	w        io.Writer
	now      func() time.Time
	interval time.Duration

	mu       sync.Mutex
	c        counts
	start    time.Time
	waitFrom time.Time // start of the current window wait; zero when none
	waitTill time.Time
	// waitShown says the start of the current wait was printed (plain mode prints waits of at
	// least minShownWait; shorter ones, such as the SDK's pacing, only show in the progress line).
	waitShown bool
	bar       *progressbar.ProgressBar
	stopTick  chan struct{}
	ticker    sync.WaitGroup
}

// minShownWait is the shortest window wait plain progress announces on its own line.
const minShownWait = time.Second

// counts are the figures of a run. Done = Skipped + Bad + the rows settled this run + Unsettled.
type counts struct {
	Total                                       int // -1 when unknown (stdin)
	Skipped                                     int // settled by an earlier run
	Ready, OnboardingRequired, ApprovalRequired int
	Failed, Bad, Unsettled                      int
	settledThisRun                              int
}

func (c counts) done() int { return c.Skipped + c.Bad + c.settledThisRun + c.Unsettled }

// newProgress starts showing progress on w: a bar when bar is true, else a plain line every
// interval (0: only the wait lines and the summary).
func newProgress(w io.Writer, bar bool, interval time.Duration, total int, now func() time.Time) *progress {
	p := &progress{w: w, now: now, interval: interval, c: counts{Total: total}, start: now(), stopTick: make(chan struct{})}
	if bar {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false), // our ETA knows about window waits
			progressbar.OptionSetWidth(24),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSpinnerType(14),
		)
	}
	if p.bar == nil && interval > 0 {
		p.ticker.Go(func() {
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-p.stopTick:
					return
				case <-t.C:
					p.mu.Lock()
					fmt.Fprintln(p.w, "progress: "+p.lineLocked())
					p.mu.Unlock()
				}
			}
		})
	}
	return p
}

// skipped counts rows an earlier run settled.
func (p *progress) skipped() { p.update(func(c *counts) { c.Skipped++ }) }

// bad counts a row that failed validation (not sent).
func (p *progress) bad() { p.update(func(c *counts) { c.Bad++ }) }

// unsettled counts a row that was started but not settled (it runs again next time).
func (p *progress) unsettled() { p.update(func(c *counts) { c.Unsettled++ }) }

// settled counts a row settled in state.
func (p *progress) settled(state string) {
	p.update(func(c *counts) {
		c.settledThisRun++
		switch state {
		case stateReady:
			c.Ready++
		case stateOnboardingRequired:
			c.OnboardingRequired++
		case stateApprovalRequired:
			c.ApprovalRequired++
		case stateFailed:
			c.Failed++
		}
	})
}

func (p *progress) update(f func(*counts)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.c)
	if p.bar != nil {
		p.bar.Describe(p.describeLocked())
		_ = p.bar.Set(p.c.done())
	}
}

// WindowWait implements waitReporter: a rate-limit window holds every request until until.
func (p *progress) WindowWait(d time.Duration, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	started := p.waitFrom.IsZero()
	if started {
		p.waitFrom = p.now()
	}
	p.waitTill = until
	if p.bar != nil {
		p.bar.Describe(p.describeLocked())
		return
	}
	// A later 429 that moves the end of the same wait is not a new wait.
	if !p.waitShown && d >= minShownWait {
		p.waitShown = true
		fmt.Fprintf(p.w, "window wait: %s, until %s (a rate-limit window is full; rows resume then)\n", roundWait(d), until.Format(time.TimeOnly))
	}
}

// WindowWaitOver implements waitReporter.
func (p *progress) WindowWaitOver() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waitFrom.IsZero() {
		return
	}
	// The stream reports the end of a wait with the first row settled after it, a little later.
	end := p.now()
	if !p.waitTill.IsZero() && p.waitTill.Before(end) {
		end = p.waitTill
	}
	waited := end.Sub(p.waitFrom)
	shown := p.waitShown
	p.waitFrom, p.waitTill, p.waitShown = time.Time{}, time.Time{}, false
	if p.bar != nil {
		p.bar.Describe(p.describeLocked())
		return
	}
	if !shown {
		return
	}
	fmt.Fprintf(p.w, "window wait over after %s; linking resumes\n", roundWait(waited))
}

// eta is the time left: rows left ÷ the rate of this run so far (window waits included, so a
// window that bound once is expected to bind as often again), plus what is left of the current
// window wait. ok is false until there is a rate or when the total is unknown.
func (p *progress) etaLocked() (eta time.Duration, rate float64, ok bool) {
	elapsed := p.now().Sub(p.start).Seconds()
	n := p.c.settledThisRun + p.c.Unsettled
	if elapsed > 0 {
		rate = float64(n) / elapsed
	}
	if p.c.Total < 0 || rate == 0 {
		return 0, rate, false
	}
	left := p.c.Total - p.c.done()
	eta = time.Duration(float64(left) / rate * float64(time.Second))
	if !p.waitTill.IsZero() {
		if w := p.waitTill.Sub(p.now()); w > 0 {
			eta += w
		}
	}
	return eta, rate, true
}

// writeTimingLocked writes the rate, the ETA when known and the current window wait to b, each
// after sep; waitFormat formats the wait from its time left and its end.
func (p *progress) writeTimingLocked(b *strings.Builder, sep, waitFormat string) {
	eta, rate, ok := p.etaLocked()
	b.WriteString(sep + formatRate(rate))
	if ok {
		fmt.Fprintf(b, "%sETA %s", sep, eta.Round(time.Second))
	}
	if p.waitTill.After(p.now()) {
		fmt.Fprintf(b, sep+waitFormat, roundWait(max(p.waitTill.Sub(p.now()), 0)), p.waitTill.Format(time.TimeOnly))
	}
}

// describeLocked is the bar's text: counts by state, rate, ETA and the current wait.
func (p *progress) describeLocked() string {
	var b strings.Builder
	c := p.c
	fmt.Fprintf(&b, "ready %d · onboarding %d · approval %d · failed %d", c.Ready, c.OnboardingRequired, c.ApprovalRequired, c.Failed)
	if c.Bad > 0 {
		fmt.Fprintf(&b, " · bad %d", c.Bad)
	}
	p.writeTimingLocked(&b, " | ", "window wait: %s left, until %s")
	return b.String()
}

// lineLocked is a plain progress line.
func (p *progress) lineLocked() string {
	c := p.c
	var b strings.Builder
	if c.Total >= 0 {
		pct := 100.0
		if c.Total > 0 {
			pct = 100 * float64(c.done()) / float64(c.Total)
		}
		fmt.Fprintf(&b, "%d/%d (%.0f%%)", c.done(), c.Total, pct)
	} else {
		fmt.Fprintf(&b, "%d/?", c.done())
	}
	fmt.Fprintf(&b, " ready %d, onboarding_required %d, approval_required %d, failed %d", c.Ready, c.OnboardingRequired, c.ApprovalRequired, c.Failed)
	if c.Skipped > 0 {
		fmt.Fprintf(&b, ", skipped %d", c.Skipped)
	}
	if c.Bad > 0 {
		fmt.Fprintf(&b, ", bad %d", c.Bad)
	}
	p.writeTimingLocked(&b, "; ", "in a window wait, %s left, until %s")
	return b.String()
}

// finish stops the ticker and the bar and returns the final counts.
func (p *progress) finish() counts {
	close(p.stopTick)
	p.ticker.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Exit()
	}
	return p.c
}

// elapsed is the time since the run started.
func (p *progress) elapsed() time.Duration { return p.now().Sub(p.start) }

// roundWait rounds a wait for display: to 10ms under 10s, to the second above.
func roundWait(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// formatRate prints rows per second, or per minute when under one per second.
func formatRate(perSecond float64) string {
	if perSecond > 0 && perSecond < 1 {
		return fmt.Sprintf("%.1f rows/min", perSecond*60)
	}
	return fmt.Sprintf("%.1f rows/s", perSecond)
}
