package debitura

import (
	"context"
	"time"
)

// Coordination beyond one Client: the request budget, the lanes, and the hooks through which
// several replicas of a service share one API key's budget, tokens and link locks (package
// redisfleet implements them on Redis).

// WithLimits sets the windows of the Client's in-memory [Budget] (default [DefaultLimits]), for
// a partner whose limits were raised, or to scale the windows down in tests. The limits must be
// valid ([Limits.Validate]). It cannot be combined with [WithBudget], whose Budget has limits of
// its own.
func WithLimits(l Limits) Option {
	err := l.Validate()
	return option(failIf(err != nil, "WithLimits: %w", err), func(cfg *config) { cfg.limits, cfg.limitsSet = l, true })
}

// WithBudget replaces the Client's in-memory budget with b, for example one shared by several
// Clients of one process ([NewMemoryBudget]) or by every replica of a fleet (redisfleet). b must
// not be nil. Every attempt of every call takes a slot of b before it is sent, and a 429 holds b
// for the server's retryAfter. An error from b.Take (other than the call's ctx ending) does not
// fail the call: the attempt is sent without a slot and a Warn record is logged, since the
// server's own limit and the 429 handling still protect the call.
func WithBudget(b Budget) Option {
	return option(failIf(b == nil, "WithBudget: nil Budget"), func(cfg *config) { cfg.budget = b })
}

// WithBulkMaxWait sets the longest single wait for a slot that a call of the bulk lane
// ([LaneBulk]: LinkMany, or WithLane(LaneBulk)) sits through (default: WithMaxRetryWait's
// value; d must be positive). A back-fill given a long one waits out a full hourly window
// instead of failing; its ctx still bounds every wait. Interactive calls are never held longer
// than WithMaxRetryWait in all.
func WithBulkMaxWait(d time.Duration) Option {
	return option(failIf(d <= 0, "WithBulkMaxWait: %s is not positive", d), func(cfg *config) { cfg.bulkMaxWait = d })
}

// WithLane puts one call in lane l: [LaneInteractive] (the default) or [LaneBulk]. A bulk call
// uses each window of the budget only up to (1 − Limits.BulkReserve) of its limit and may wait
// up to WithBulkMaxWait for a slot.
func WithLane(l Lane) CallOption {
	return option(failIf(l != LaneInteractive && l != LaneBulk, "WithLane: unknown lane %d", int(l)), func(s *callSettings) { s.lane = l })
}

// TokenCache is a cache of Customer API tokens shared by several Clients (every replica of a
// fleet: see redisfleet), behind [TokensService.Source]. Implementations must be safe for
// concurrent use and must keep tokens secret (redisfleet seals them).
type TokenCache interface {
	// Token returns the cached token for externalTenantID or mints one with mint, one minter
	// fleet-wide.
	Token(ctx context.Context, externalTenantID string, mint func(ctx context.Context) (*Token, error)) (*Token, error)
	// Forget drops a token the server refused.
	Forget(ctx context.Context, externalTenantID string) error
}

// WithTokenCache puts tc behind the sources of [TokensService.Source]: a source that needs a
// token asks tc, which returns the fleet's cached one or mints one (one mint per client per
// token lifetime across the fleet); a token the Customer API refuses is forgotten in tc as
// well. The source still caches the token in process. tc must not be nil.
func WithTokenCache(tc TokenCache) Option {
	return option(failIf(tc == nil, "WithTokenCache: nil TokenCache"), func(cfg *config) { cfg.tokenCache = tc })
}

// Locker takes named locks across processes (redisfleet's lease locks).
type Locker interface {
	// Lock takes the named lock (waiting while another holder has it) and returns its release.
	Lock(ctx context.Context, name string) (unlock func(), err error)
}

// WithLinkLocker makes [ClientsService.EnsureLinked] take l's lock for the tenant around its
// POST /clients, so concurrent calls for one customer on several replicas send one: the holder
// creates, and a caller that got the lock after it reads the tenant again (GET
// /clients/{externalTenantId}) and finds the holder's result. The lock saves budget and
// duplicate work; correctness does not depend on it (POST /clients is idempotent per
// externalTenantId). When l.Lock fails for a reason other than ctx, EnsureLinked goes on
// without the lock. l must not be nil.
func WithLinkLocker(l Locker) Option {
	return option(failIf(l == nil, "WithLinkLocker: nil Locker"), func(cfg *config) { cfg.linkLocker = l })
}
