package redisfleet

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clockBase is 2025-01-01T10:00:00Z: a multiple of every scaled window, so offsets from it read
// as positions inside the windows.
var clockBase = time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)

// fakeClock feeds the scripts a time instead of Redis TIME (tests only).
type fakeClock struct{ us atomic.Int64 }

func (c *fakeClock) set(t time.Time) { c.us.Store(t.UnixMicro()) }
func (c *fakeClock) now() int64      { return c.us.Load() }

// budgetOnFakeClock returns f's budget with limits l, reading its time from the returned clock
// instead of Redis's.
func budgetOnFakeClock(t *testing.T, f *Fleet, l Limits) (*Budget, *fakeClock) {
	t.Helper()
	b, err := f.Budget(l)
	if err != nil {
		t.Fatal(err)
	}
	clock := new(fakeClock)
	b.now = clock.now
	return b, clock
}

// budgetStep is one call of a scripted budget test: n Takes (or one Hold when hold > 0) at base+at.
type budgetStep struct {
	at     time.Duration
	lane   Lane
	n      int
	hold   time.Duration
	admit  bool
	wait   time.Duration
	window Window
}

// budgetCase is a scripted budget test: limits (from scaledLimits) and the steps, on the fake
// clock, with the API key "key of <name>".
type budgetCase struct {
	name   string
	limits func(*Limits)
	steps  []budgetStep
}

// TestBudgetWindows runs budgetCases on one redis-server, each on a client of its own.
func TestBudgetWindows(t *testing.T) {
	srv := fleetSrv(t)
	for _, tt := range budgetCases() {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, srv.Client(t)) })
	}
}

// budgetCases check every window, both lanes and the gate: what is admitted, what is refused,
// by which window and for how long.
func budgetCases() []budgetCase {
	ok := func(at time.Duration, lane Lane, n int) budgetStep {
		return budgetStep{at: at, lane: lane, n: n, admit: true}
	}
	no := func(at time.Duration, lane Lane, wait time.Duration, w Window) budgetStep {
		return budgetStep{at: at, lane: lane, n: 1, wait: wait, window: w}
	}
	hold := func(at, d time.Duration) budgetStep { return budgetStep{at: at, hold: d} }
	ms := time.Millisecond
	I, B := Interactive, Bulk

	return []budgetCase{
		{
			name:   "sliding minute frees the oldest segment when it slides out",
			limits: func(l *Limits) { l.PerMinute = 5 },
			steps: []budgetStep{
				ok(0, I, 3), ok(150*ms, I, 2),
				no(200*ms, I, 400*ms, WindowMinute), no(599*ms, I, 1*ms, WindowMinute),
				ok(600*ms, I, 3), // segment 0 (3 requests) slid out
				no(600*ms, I, 100*ms, WindowMinute),
				ok(700*ms, I, 2), // segment 1 (2 requests) slid out
				no(700*ms, I, 500*ms, WindowMinute),
			},
		},
		{
			name:   "bulk stops at 80% of the minute, interactive uses the rest",
			limits: func(l *Limits) { l.PerMinute = 10 },
			steps: []budgetStep{
				ok(0, B, 8), no(0, B, 600*ms, WindowMinute),
				ok(50*ms, I, 2), no(50*ms, I, 550*ms, WindowMinute), no(50*ms, B, 550*ms, WindowMinute),
			},
		},
		{
			name:   "bulk waits until enough segments slid out to go under its share",
			limits: func(l *Limits) { l.PerMinute = 10 },
			steps: []budgetStep{
				ok(0, I, 1), ok(100*ms, I, 9),
				// interactive: segment 0 sliding out frees one slot; bulk needs 10-1-9 < 8: segment 1 too
				no(200*ms, I, 400*ms, WindowMinute), no(200*ms, B, 500*ms, WindowMinute),
				ok(600*ms, I, 1), no(600*ms, B, 100*ms, WindowMinute), ok(700*ms, B, 7), no(700*ms, B, 500*ms, WindowMinute),
			},
		},
		{
			name:   "bulk reserve with another configured share",
			limits: func(l *Limits) { l.PerMinute = 10; l.BulkReserve = 0.5 },
			steps:  []budgetStep{ok(0, B, 5), no(0, B, 600*ms, WindowMinute), ok(0, I, 5), no(0, I, 600*ms, WindowMinute)},
		},
		{
			name:   "fixed hour resets at the window boundary, not a window after the first request",
			limits: func(l *Limits) { l.PerHour = 3 },
			steps: []budgetStep{
				ok(1500*ms, I, 3), no(1999*ms, I, 1*ms, WindowHour), ok(2000*ms, I, 3), no(2000*ms, I, 2000*ms, WindowHour),
			},
		},
		{
			name:   "bulk share of the hour",
			limits: func(l *Limits) { l.PerHour = 10 },
			steps:  []budgetStep{ok(0, B, 8), no(700*ms, B, 1300*ms, WindowHour), ok(700*ms, I, 2), no(700*ms, I, 1300*ms, WindowHour)},
		},
		{
			name:   "fixed day spans hours",
			limits: func(l *Limits) { l.PerDay = 4 },
			steps: []budgetStep{
				ok(0, I, 2), ok(2500*ms, I, 2), no(5000*ms, I, 1000*ms, WindowDay), no(5000*ms, B, 1000*ms, WindowDay), ok(6000*ms, I, 1),
			},
		},
		{
			name:   "the longest wait of the full windows is the answer",
			limits: func(l *Limits) { l.PerMinute = 2; l.PerHour = 2 },
			steps:  []budgetStep{ok(1900*ms, I, 2), no(1950*ms, I, 550*ms, WindowMinute)},
		},
		{
			name:   "the gate holds both lanes and keeps the later of two holds",
			limits: func(*Limits) {},
			steps: []budgetStep{
				hold(0, 300*ms), no(100*ms, I, 200*ms, WindowGate), no(100*ms, B, 200*ms, WindowGate),
				hold(150*ms, 100*ms), no(250*ms, I, 50*ms, WindowGate),
				hold(250*ms, 200*ms), no(300*ms, I, 150*ms, WindowGate),
				ok(450*ms, I, 1), ok(450*ms, B, 1),
			},
		},
	}
}

// run plays tt's steps on a budget of its own API key on rdb.
func (tt budgetCase) run(t *testing.T, rdb redis.UniversalClient) {
	l := scaledLimits()
	tt.limits(&l)
	f, err := New(rdb, "key of "+tt.name, WithOpTimeout(testOpTimeout))
	if err != nil {
		t.Fatal(err)
	}
	b, clock := budgetOnFakeClock(t, f, l)
	ctx := context.Background()
	for i, s := range tt.steps {
		at := clockBase.Add(s.at)
		clock.set(at)
		if s.hold > 0 {
			if _, err := b.Hold(ctx, s.hold); err != nil {
				t.Fatalf("step %d: Hold: %v", i, err)
			}
			continue
		}
		for j := 0; j < s.n; j++ {
			g, err := b.Take(ctx, s.lane)
			if err != nil {
				t.Fatalf("step %d: Take: %v", i, err)
			}
			want := Grant{Admitted: s.admit, At: at, Wait: s.wait, Window: s.window}
			if !g.At.Equal(want.At) || g.Admitted != want.Admitted || g.Wait != want.Wait || g.Window != want.Window {
				t.Fatalf("step %d (+%v %v), take %d: got %+v, want %+v", i, s.at, s.lane, j+1, g, want)
			}
		}
	}
}

// TestBudgetDefaultWindowsAreUTC checks Debitura's real window lengths: the hour resets at the
// top of the hour and the day at midnight UTC.
func TestBudgetDefaultWindowsAreUTC(t *testing.T) {
	f := fleetOn(t, fleetSrv(t))
	l := DefaultLimits()
	l.PerHour, l.PerDay = 2, 3
	b, clock := budgetOnFakeClock(t, f, l)
	ctx := context.Background()
	take := func(at time.Time) Grant {
		t.Helper()
		clock.set(at)
		g, err := b.Take(ctx, Interactive)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	day := time.Date(2025, 3, 7, 0, 0, 0, 0, time.UTC)
	for range 2 {
		if g := take(day.Add(22*time.Hour + 59*time.Minute + 59*time.Second)); !g.Admitted {
			t.Fatalf("first two of the hour: %+v", g)
		}
	}
	if g := take(day.Add(22*time.Hour + 59*time.Minute + 59*time.Second + 500*time.Millisecond)); g.Admitted || g.Window != WindowHour || g.Wait != 500*time.Millisecond {
		t.Fatalf("third in the hour: got %+v, want a 500ms wait for the hour", g)
	}
	if g := take(day.Add(23 * time.Hour)); !g.Admitted {
		t.Fatalf("top of the hour: %+v", g)
	}
	if g := take(day.Add(23*time.Hour + time.Minute)); g.Admitted || g.Window != WindowDay || g.Wait != 59*time.Minute {
		t.Fatalf("fourth in the day: got %+v, want a 59m wait for midnight UTC", g)
	}
	if g := take(day.Add(24 * time.Hour)); !g.Admitted {
		t.Fatalf("midnight UTC: %+v", g)
	}
}

// TestBudgetUsesRedisTime checks that, without a test clock, the script's time is Redis's.
func TestBudgetUsesRedisTime(t *testing.T) {
	f := fleetOn(t, fleetSrv(t))
	b, err := f.Budget(DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	g, err := b.Take(context.Background(), Interactive)
	after := time.Now()
	if err != nil || !g.Admitted {
		t.Fatalf("Take: %+v, %v", g, err)
	}
	// Same machine: Redis's clock is ours, so At lies within the call (a ms of rounding allowed).
	if g.At.Before(before.Add(-time.Millisecond)) || g.At.After(after.Add(time.Millisecond)) {
		t.Fatalf("At %v outside the call [%v, %v]", g.At, before, after)
	}
}

// TestGateSharedAcrossClients: a Hold by one replica (its own connections) holds another's Takes,
// in real time, and Wait returns once the gate opens.
func TestGateSharedAcrossClients(t *testing.T) { gateShared(t, onServer(t)) }

func gateShared(t *testing.T, fleet fleetFunc) {
	a, b := mustBudget(t, fleet(t)), mustBudget(t, fleet(t))
	ctx := context.Background()
	const hold = 200 * time.Millisecond
	opens, err := a.Hold(ctx, hold)
	if err != nil {
		t.Fatal(err)
	}
	g, err := b.Take(ctx, Interactive)
	if err != nil {
		t.Fatal(err)
	}
	if g.Admitted || g.Window != WindowGate || g.Wait <= 0 || g.Wait > hold || !g.At.Add(g.Wait).Equal(opens) {
		t.Fatalf("Take during the hold: %+v, want refused by the gate until %v", g, opens)
	}
	// A shorter hold does not shorten the gate.
	if o2, err := b.Hold(ctx, time.Millisecond); err != nil || !o2.Equal(opens) {
		t.Fatalf("shorter Hold: %v, %v; want the gate kept until %v", o2, err, opens)
	}
	g, err = b.Wait(ctx, Bulk)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Admitted || g.At.Before(opens) {
		t.Fatalf("Wait admitted at %v, before the gate opened at %v", g.At, opens)
	}
}

func TestLimitsValidate(t *testing.T) {
	f := &Fleet{}
	tests := []struct {
		name string
		mod  func(*Limits)
	}{
		{"zero limit", func(l *Limits) { l.PerHour = 0 }},
		{"minute not a multiple of segments", func(l *Limits) { l.Minute = 65 * time.Second }},
		{"sub-millisecond segment", func(l *Limits) { l.Segment = time.Microsecond; l.Minute = 6 * time.Microsecond }},
		{"segment not whole milliseconds", func(l *Limits) { l.Segment = 1500 * time.Microsecond; l.Minute = 6 * l.Segment }},
		{"hour not whole milliseconds", func(l *Limits) { l.Hour = time.Hour + time.Microsecond }},
		{"reserve 1", func(l *Limits) { l.BulkReserve = 1 }},
		{"negative reserve", func(l *Limits) { l.BulkReserve = -0.1 }},
		{"reserve leaves bulk nothing", func(l *Limits) { l.PerMinute = 1 }},
	}
	for _, tt := range tests {
		l := DefaultLimits()
		tt.mod(&l)
		if _, err := f.Budget(l); err == nil {
			t.Errorf("%s: Budget accepted %+v", tt.name, l)
		}
	}
	if _, err := f.Budget(DefaultLimits()); err != nil {
		t.Errorf("DefaultLimits: %v", err)
	}
	if m, h, d := DefaultLimits().BulkLimits(); m != 1600 || h != 16000 || d != 80000 {
		t.Errorf("BulkLimits of the defaults = %d, %d, %d; want 1600, 16000, 80000", m, h, d)
	}
}
