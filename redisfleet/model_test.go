package redisfleet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// admission is one slot the budget admitted: Redis's time and the lane.
type admission struct {
	at   time.Time
	lane Lane
}

// TestBudgetModel: replicas with connections of their own take slots at random instants from
// both lanes, with time scaled down (25 ms segments); an independent reference of the three
// windows then replays every admission and checks that no window ever held more than the lane's
// limit allowed at the instant of admission.
func TestBudgetModel(t *testing.T) {
	srv := fleetSrv(t)
	l := Limits{
		// Each window binds in turn: the sliding window allows ~40 per "hour", the hours ~87 per
		// "day".
		PerMinute: 20, PerHour: 35, PerDay: 60,
		Segment: 25 * time.Millisecond, Minute: 150 * time.Millisecond,
		Hour: 300 * time.Millisecond, Day: 750 * time.Millisecond,
		BulkReserve: 0.25,
	}
	const (
		replicas = 6
		runFor   = 1600 * time.Millisecond // holds at least one whole fixed day (2 × Day)
	)
	var mu sync.Mutex
	var got []admission
	var wg sync.WaitGroup
	ctx := context.Background()
	deadline := time.Now().Add(runFor)
	for i := range replicas {
		b, err := fleetOn(t, srv).Budget(l)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(i), 42))
		wg.Go(func() {
			for time.Now().Before(deadline) {
				time.Sleep(time.Duration(rng.IntN(4000)) * time.Microsecond)
				lane := Interactive
				if rng.IntN(10) < 6 {
					lane = Bulk
				}
				g, err := b.Take(ctx, lane)
				if err != nil {
					t.Error(err)
					return
				}
				if g.Admitted {
					mu.Lock()
					got = append(got, admission{g.At, lane})
					mu.Unlock()
				} else if g.Wait <= 0 || g.Window == WindowNone {
					t.Errorf("refusal without a wait: %+v", g)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	summary, err := checkWindows(l, got)
	t.Log(summary)
	if err != nil {
		t.Fatal(err)
	}
}

// checkWindows is the reference: it recounts the windows from the admissions alone. At each
// admission at t, the requests admitted in t's sliding window (t's segment and the ones before
// it, Minute/Segment in all), in t's fixed hour and in t's fixed day, including itself, must not
// exceed the lane's limit. Admissions at the same microsecond are counted all together for
// interactive (conservative) and as "before" only when strictly earlier for bulk (ties have no
// order), so the check never fails a correct budget.
func checkWindows(l Limits, adm []admission) (summary string, err error) {
	sort.Slice(adm, func(i, j int) bool { return adm[i].at.Before(adm[j].at) })
	seg := l.Segment.Microseconds()
	nseg := int64(l.Minute / l.Segment)
	idx := func(a admission, size int64) int64 { return a.at.UnixMicro() / size }
	bm, bh, bd := l.BulkLimits()

	perLane := map[Lane]int{}
	maxMinute, maxHour, maxDay := 0, 0, 0
	for i, a := range adm {
		perLane[a.lane]++
		s, h, d := idx(a, seg), idx(a, l.Hour.Microseconds()), idx(a, l.Day.Microseconds())
		var minuteN, hourN, dayN int    // admitted at or before a (all ties included)
		var minuteLT, hourLT, dayLT int // admitted strictly before a
		for j := 0; j < len(adm) && !adm[j].at.After(a.at); j++ {
			b := adm[j]
			strictly := b.at.Before(a.at)
			if bs := idx(b, seg); bs > s-nseg && bs <= s {
				minuteN++
				if strictly {
					minuteLT++
				}
			}
			if idx(b, l.Hour.Microseconds()) == h {
				hourN++
				if strictly {
					hourLT++
				}
			}
			if idx(b, l.Day.Microseconds()) == d {
				dayN++
				if strictly {
					dayLT++
				}
			}
		}
		maxMinute, maxHour, maxDay = max(maxMinute, minuteN), max(maxHour, hourN), max(maxDay, dayN)
		if minuteN > l.PerMinute || hourN > l.PerHour || dayN > l.PerDay {
			return "", fmt.Errorf("admission %d (%v at %v): minute %d/%d, hour %d/%d, day %d/%d: a window is over its limit",
				i, a.lane, a.at.Format("15:04:05.000000"), minuteN, l.PerMinute, hourN, l.PerHour, dayN, l.PerDay)
		}
		if a.lane == Bulk && (minuteLT+1 > bm || hourLT+1 > bh || dayLT+1 > bd) {
			return "", fmt.Errorf("bulk admission %d at %v: minute %d/%d, hour %d/%d, day %d/%d: over the bulk share",
				i, a.at.Format("15:04:05.000000"), minuteLT+1, bm, hourLT+1, bh, dayLT+1, bd)
		}
	}
	summary = fmt.Sprintf("admitted %d (interactive %d, bulk %d); fullest sliding window %d/%d, hour %d/%d, day %d/%d",
		len(adm), perLane[Interactive], perLane[Bulk], maxMinute, l.PerMinute, maxHour, l.PerHour, maxDay, l.PerDay)
	// The budget must also use what the windows allow, not merely stay under: the traffic is far
	// above the limits, so every window type fills up at least to the bulk share.
	if perLane[Interactive] == 0 || perLane[Bulk] == 0 || maxMinute < bm || maxHour < bh || maxDay < bd {
		return summary, fmt.Errorf("the budget left the windows underused: %s", summary)
	}
	return summary, nil
}

// TestCheckWindowsCatchesOverAdmission shows the reference is not vacuous: one admission too
// many in a sliding window, a fixed hour, or over the bulk share fails it.
func TestCheckWindowsCatchesOverAdmission(t *testing.T) {
	l := scaledLimits()
	l.PerMinute, l.PerHour, l.PerDay = 5, 8, 1000
	base := clockBase
	at := func(ms int, lane Lane) admission {
		return admission{base.Add(time.Duration(ms) * time.Millisecond), lane}
	}
	cases := map[string][]admission{
		"six in one sliding window": {at(0, Interactive), at(100, Interactive), at(200, Interactive), at(300, Interactive), at(400, Interactive), at(550, Interactive)},
		"nine in one hour": {at(0, Interactive), at(1, Interactive), at(2, Interactive), at(600, Interactive), at(601, Interactive),
			at(1200, Interactive), at(1201, Interactive), at(1202, Interactive), at(1900, Interactive)},
		"bulk past its share": {at(0, Interactive), at(1, Interactive), at(2, Interactive), at(3, Interactive), at(4, Bulk)},
	}
	for name, adm := range cases {
		if _, err := checkWindows(l, adm); err == nil || !strings.Contains(err.Error(), "over") {
			t.Errorf("%s: the reference answered %v, want an over-limit error", name, err)
		}
	}
}
