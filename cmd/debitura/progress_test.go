package main

import (
	"github.com/debitura-go/debitura/internal/syncbuf"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for the progress figures.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestProgressETAIncludesTheWindowWait(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)}
	var out syncbuf.Buffer
	p := newProgress(&out, false, 0, 100, clock.now)
	p.skipped()
	for range 9 {
		p.settled(stateOnboardingRequired)
	}
	p.settled(stateFailed)
	clock.add(10 * time.Second) // 10 rows this run in 10 s: 1 row/s, 89 rows left
	p.mu.Lock()
	line := p.lineLocked()
	p.mu.Unlock()
	if want := "11/100 (11%) ready 0, onboarding_required 9, approval_required 0, failed 1, skipped 1; 1.0 rows/s; ETA 1m29s"; line != want {
		t.Errorf("line = %q\nwant   %q", line, want)
	}

	p.WindowWait(time.Hour, clock.now().Add(time.Hour))
	clock.add(15 * time.Minute)
	p.mu.Lock()
	line = p.lineLocked()
	p.mu.Unlock()
	// 10 rows in 15m10s (0.66/min); 89 rows left at that rate (2h14m59s), plus the 45 minutes
	// left of the wait.
	if want := "0.7 rows/min; ETA 2h59m59s; in a window wait, 45m0s left, until 11:00:10"; !strings.HasSuffix(line, want) {
		t.Errorf("line in a wait = %q, want it to end in %q", line, want)
	}
	clock.add(45 * time.Minute)
	p.WindowWaitOver()
	c := p.finish()
	if c.done() != 11 || c.Failed != 1 || c.Skipped != 1 {
		t.Errorf("counts %+v", c)
	}
	want := "window wait: 1h0m0s, until 11:00:10 (a rate-limit window is full; rows resume then)\nwindow wait over after 1h0m0s; linking resumes\n"
	if got := out.String(); got != want {
		t.Errorf("plain output:\n%s\nwant:\n%s", got, want)
	}
}

func TestProgressBarOnATerminal(t *testing.T) {
	var out syncbuf.Buffer
	p := newProgress(&out, true, time.Millisecond, 3, time.Now)
	p.settled(stateReady)
	p.WindowWait(2*time.Second, time.Now().Add(2*time.Second))
	p.settled(stateApprovalRequired)
	time.Sleep(250 * time.Millisecond) // past the bar's redraw throttle
	p.settled(stateOnboardingRequired)
	p.finish()
	got := out.String()
	for _, want := range []string{"ready 1", "approval 1", "left, until ", "/3"} {
		if !strings.Contains(got, want) {
			t.Errorf("the bar never showed %q:\n%q", want, got)
		}
	}
	if strings.Contains(got, "progress: ") {
		t.Errorf("plain lines in bar mode:\n%q", got)
	}
}
