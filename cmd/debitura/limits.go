package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/debitura-go/debitura"
)

// limitsFlag is --limits: the rate-limit windows the Client's request budget paces to
// (debitura.WithLimits). Its zero value (the flag not given) means debitura.DefaultLimits().
type limitsFlag struct {
	l   debitura.Limits
	set bool
}

// limitsUsage documents --limits.
const limitsUsage = "the API key's rate-limit windows the link run paces to, as PER_MIN,PER_HOUR,PER_DAY, each optionally /LENGTH " +
	"(the window's length; default 1m, 1h and 24h; the minute slides in 6 segments, the hour and day are fixed windows aligned to the Unix epoch), " +
	"e.g. 2000,20000,100000 (Debitura's documented limits, the default) or 100/6s,300/1m,100000 against a mock with scaled windows; " +
	"the link run uses 80% of each window and leaves the rest to your service's interactive calls"

// minuteSegments is the sliding minute's number of segments (Debitura: 6 of 10 s).
const minuteSegments = 6

func (f *limitsFlag) String() string {
	if !f.set {
		return ""
	}
	return fmt.Sprintf("%d/%s,%d/%s,%d/%s", f.l.PerMinute, f.l.Minute, f.l.PerHour, f.l.Hour, f.l.PerDay, f.l.Day)
}

func (f *limitsFlag) Type() string { return "PER_MIN,PER_HOUR,PER_DAY" }

// Set parses PER_MIN,PER_HOUR,PER_DAY with an optional /LENGTH on each.
func (f *limitsFlag) Set(s string) error {
	l, err := parseLimits(s)
	if err != nil {
		return err
	}
	f.l, f.set = l, true
	return nil
}

// limits returns the windows to pace to.
func (f *limitsFlag) limits() debitura.Limits {
	if !f.set {
		return debitura.DefaultLimits()
	}
	return f.l
}

// parseLimits parses the value of --limits onto debitura.DefaultLimits().
func parseLimits(s string) (debitura.Limits, error) {
	l := debitura.DefaultLimits()
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return l, fmt.Errorf("%q: want three windows, PER_MIN,PER_HOUR,PER_DAY", s)
	}
	windows := []struct {
		name   string
		n      *int
		length *time.Duration
	}{{"minute", &l.PerMinute, &l.Minute}, {"hour", &l.PerHour, &l.Hour}, {"day", &l.PerDay, &l.Day}}
	for i, p := range parts {
		w := windows[i]
		num, length, hasLength := strings.Cut(strings.TrimSpace(p), "/")
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 {
			return l, fmt.Errorf("%s window %q: the limit must be a positive whole number", w.name, p)
		}
		*w.n = n
		if hasLength {
			d, err := time.ParseDuration(length)
			if err != nil || d <= 0 {
				return l, fmt.Errorf("%s window %q: the length must be a positive duration such as 6s", w.name, p)
			}
			*w.length = d
		}
	}
	l.Segment = l.Minute / minuteSegments
	if l.Segment*minuteSegments != l.Minute {
		return l, fmt.Errorf("minute window length %s must split into %d equal segments", l.Minute, minuteSegments)
	}
	if err := l.Validate(); err != nil {
		return l, err
	}
	return l, nil
}
