package webhook

import (
	"log/slog"
	"time"
)

// DefaultMaxBody is the largest delivery body Handler reads (1 MiB).
const DefaultMaxBody = 1 << 20

// Option configures [Handler].
type Option func(*config)

type config struct {
	older     []string
	tolerance time.Duration
	now       func() time.Time
	dedupe    Deduper
	maxBody   int64
	logger    *slog.Logger
}

// WithSecrets adds secrets that are also accepted, for the time after a secret regeneration when
// deliveries signed with the old secret may still arrive.
func WithSecrets(secrets ...string) Option {
	return func(c *config) { c.older = append(c.older, secrets...) }
}

// WithTolerance sets how far a signature's timestamp may be from now; zero or less means
// DefaultTolerance.
func WithTolerance(d time.Duration) Option {
	return func(c *config) { c.tolerance = d }
}

// WithClock sets the clock signatures are checked against; nil means time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithDeduper sets where processed event ids are remembered. The default is a
// NewMemoryDeduper(0, 0) of the handler's own; nil turns de-duplication off.
func WithDeduper(d Deduper) Option {
	return func(c *config) { c.dedupe = d }
}

// WithMaxBody sets the largest body the handler reads; zero or less means DefaultMaxBody
// (1 MiB). A larger body is answered 413.
func WithMaxBody(n int64) Option {
	return func(c *config) { c.maxBody = n }
}

// WithLogger makes the handler log refused deliveries and failures of its function (event id
// and name, never a secret or a body); nil, the default, logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
