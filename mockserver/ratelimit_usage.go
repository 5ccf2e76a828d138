package mockserver

import (
	"slices"
	"time"
)

// RateLimitUsage is one partition's use of one rate-limit window at the time of the call.
type RateLimitUsage struct {
	// PartnerID is the partition: a partner's id, or "" for requests with a missing or unknown key.
	PartnerID string     `json:"partnerId"`
	Window    RateWindow `json:"window"`
	Used      int        `json:"used"` // requests counted in the window now
}

// RateLimitUsage reports each partition's current use of each window, partitions sorted by id.
// It reads the counters without changing them.
func (b *Backend) RateLimitUsage() []RateLimitUsage {
	l := b.limiter
	now := b.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []RateLimitUsage
	for part, st := range l.parts {
		for i, w := range l.cfg.Windows {
			if i < len(st) {
				out = append(out, RateLimitUsage{PartnerID: part, Window: w, Used: st[i].used(w, now)})
			}
		}
	}
	slices.SortStableFunc(out, func(a, c RateLimitUsage) int {
		if a.PartnerID != c.PartnerID {
			if a.PartnerID < c.PartnerID {
				return -1
			}
			return 1
		}
		return 0
	})
	return out
}

// used counts the requests a window holds at now, without rolling it.
func (s *windowState) used(w RateWindow, now time.Time) int {
	if w.Limit <= 0 || w.Period <= 0 {
		return 0
	}
	if w.Segments > 1 {
		if s.counts == nil {
			return 0
		}
		n := int64(w.Segments)
		seg := now.UnixNano() / int64(segDur(w))
		total := 0
		for k := max(seg-n+1, s.lastSeg-n+1); k <= s.lastSeg; k++ {
			total += s.counts[((k%n)+n)%n]
		}
		return total
	}
	if s.start.IsZero() || now.Before(s.start) || !now.Before(s.start.Add(w.Period)) {
		return 0
	}
	return s.count
}
