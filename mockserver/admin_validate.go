package mockserver

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Validation of /__mock/ inputs that the typed control API takes as Go values: an odd value
// must be a 400 naming the field, never a panic later (a fault status net/http cannot write, a
// rate window that divides by zero, a clock moved past what the state file can encode).

// maxClockAdvance bounds one POST /__mock/clock/advance: far enough for any TTL, near enough
// that every time the mock records still encodes as RFC 3339 (years 0-9999).
const maxClockAdvance = 100 * 365 * 24 * time.Hour

// maxRateSegments bounds a sliding window's segments (each is a counter per partition).
const maxRateSegments = 3600

// clockAdvance turns the body of POST /__mock/clock/advance into a duration.
func clockAdvance(seconds float64, duration string) (time.Duration, error) {
	if math.IsNaN(seconds) || math.IsInf(seconds, 0) || seconds < 0 || seconds > maxClockAdvance.Seconds() {
		return 0, fmt.Errorf("seconds: must be between 0 and %.0f", maxClockAdvance.Seconds())
	}
	d := time.Duration(seconds * float64(time.Second))
	if duration != "" {
		var err error
		if d, err = time.ParseDuration(duration); err != nil {
			return 0, fmt.Errorf("duration: %v", err)
		}
		if d < 0 || d > maxClockAdvance {
			return 0, fmt.Errorf("duration: must be between 0 and %v", maxClockAdvance)
		}
	}
	return d, nil
}

// rateWindows checks and converts the windows of PUT /__mock/rate-limit.
func rateWindows(in []rateWindowJSON) ([]RateWindow, error) {
	var out []RateWindow
	for i, win := range in {
		p, err := time.ParseDuration(win.Period)
		switch {
		case err != nil || p <= 0:
			return nil, fmt.Errorf("windows[%d].period: needs a positive duration such as \"1m\"", i)
		case win.Limit <= 0:
			return nil, fmt.Errorf("windows[%d].limit: must be > 0", i)
		case win.Segments < 0 || win.Segments > maxRateSegments:
			return nil, fmt.Errorf("windows[%d].segments: must be between 0 and %d", i, maxRateSegments)
		case win.Segments > 1 && p/time.Duration(win.Segments) < time.Millisecond:
			return nil, fmt.Errorf("windows[%d].segments: each segment of the period must be at least 1ms", i)
		}
		out = append(out, RateWindow{Limit: win.Limit, Period: p, Segments: win.Segments, AnchorFirstRequest: win.AnchorFirstRequest})
	}
	return out, nil
}

// checkFault checks a fault rule given as JSON to POST /__mock/faults.
func checkFault(f Fault) error {
	switch {
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return fmt.Errorf("status: must be 0 (the shape's default) or 200-599")
	case math.IsNaN(f.Probability) || f.Probability < 0 || f.Probability > 1:
		return fmt.Errorf("probability: must be between 0 and 1")
	case math.IsNaN(f.RetryAfter) || f.RetryAfter < 0 || f.RetryAfter > 86400:
		return fmt.Errorf("retryAfter: must be between 0 and 86400 seconds")
	case f.Times < 0:
		return fmt.Errorf("times: must not be negative")
	case f.Latency < 0:
		return fmt.Errorf("latency: must not be negative")
	}
	if f.Shape != "" && !slices.Contains(faultShapes, f.Shape) {
		return fmt.Errorf("shape: unknown shape %q; valid: \"\" (the status's default), %s", f.Shape, quoteList(faultShapes))
	}
	for k, vs := range f.Header {
		if !validHeaderName(k) {
			return fmt.Errorf("header: %q is not a valid header name", k)
		}
		if http.CanonicalHeaderKey(k) == "Content-Length" || http.CanonicalHeaderKey(k) == "Transfer-Encoding" {
			return fmt.Errorf("header: %s is set by the mock", http.CanonicalHeaderKey(k))
		}
		for _, v := range vs {
			if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
				return fmt.Errorf("header: the value of %s has control characters", k)
			}
		}
	}
	return nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
