package redisfleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Defaults of the adapters' failure policy.
const (
	// DefaultProbeInterval is how long the adapters stay on their in-process fallback after
	// Redis failed before they try it again (one call tries; the others stay on the fallback
	// until it answers).
	DefaultProbeInterval = time.Second
	// DefaultWarnInterval is the shortest time between two Warn records about Redis being
	// unavailable.
	DefaultWarnInterval = 30 * time.Second
)

// WithLogger sets the logger of the adapters' failure policy (default slog.Default()): a Warn
// record when they fall back to the in-process equivalents because Redis is unavailable (at
// most one per WithFailover's warn interval) and an Info record when Redis answers again. The
// records carry the operation and the error, never a key, a token or an id. A nil l logs
// nothing.
func WithLogger(l *slog.Logger) Option {
	return func(f *Fleet) error {
		f.fo.log, f.fo.logSet = l, true
		return nil
	}
}

// WithFailover sets the adapters' probe interval (how long they stay on the in-process
// fallback before they try Redis again, default DefaultProbeInterval) and warn interval (the
// shortest time between two Warn records, default DefaultWarnInterval). Both must be positive.
func WithFailover(probe, warn time.Duration) Option {
	return func(f *Fleet) error {
		if probe <= 0 || warn <= 0 {
			return fmt.Errorf("redisfleet: WithFailover: intervals must be positive (probe %v, warn %v)", probe, warn)
		}
		f.fo.probe, f.fo.warn = probe, warn
		return nil
	}
}

// failover is the failure policy the SDK adapters of one Fleet share: after a call fails with
// ErrUnavailable they use the in-process fallback, try Redis again after the probe interval
// (one caller at a time), and go back to it when it answers.
type failover struct {
	log         *slog.Logger
	logSet      bool
	probe, warn time.Duration

	mu       sync.Mutex
	down     bool
	retryAt  time.Time
	probing  bool
	lastWarn time.Time
}

func newFailover() *failover {
	return &failover{probe: DefaultProbeInterval, warn: DefaultWarnInterval}
}

func (fo *failover) logger() *slog.Logger {
	if !fo.logSet {
		return slog.Default()
	}
	return fo.log
}

// try reports whether the caller should use Redis now: always while it is up; while it is
// down, only for the one caller that probes it after the probe interval.
func (fo *failover) try() bool {
	fo.mu.Lock()
	defer fo.mu.Unlock()
	if !fo.down {
		return true
	}
	if fo.probing || time.Now().Before(fo.retryAt) {
		return false
	}
	fo.probing = true
	return true
}

// result records the outcome of a Redis call made after try. It reports whether the caller
// must fall back: err wraps ErrUnavailable. Any other outcome (success, redis answers with a
// result, the caller's ctx ending) shows Redis reachable.
func (fo *failover) result(op string, err error) (fallBack bool) {
	unavailable := err != nil && errors.Is(err, ErrUnavailable)
	fo.mu.Lock()
	fo.probing = false
	now := time.Now()
	if !unavailable && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		fo.mu.Unlock() // the caller gave up: that says nothing about Redis
		return false
	}
	if !unavailable {
		back := fo.down
		fo.down = false
		fo.mu.Unlock()
		if back {
			if l := fo.logger(); l != nil {
				l.LogAttrs(context.Background(), slog.LevelInfo, "redisfleet: redis answers again; back to fleet coordination", slog.String("op", op))
			}
		}
		return false
	}
	fo.down = true
	fo.retryAt = now.Add(fo.probe)
	warn := fo.lastWarn.IsZero() || now.Sub(fo.lastWarn) >= fo.warn
	if warn {
		fo.lastWarn = now
	}
	fo.mu.Unlock()
	if l := fo.logger(); warn && l != nil {
		l.LogAttrs(context.Background(), slog.LevelWarn, "redisfleet: redis unavailable; using the in-process fallback",
			slog.String("op", op), slog.String("error", err.Error()), slog.Duration("next_try", fo.probe))
	}
	return true
}
