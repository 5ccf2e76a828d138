package redisfleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/debitura-go/debitura"
)

// The holder count: while Redis answers, every SDK budget of the fleet (one per Client given
// Fleet.Options or SDKBudget) records itself as an active holder of the API key's budget, so
// that when Redis goes away each one knows into how many shares to split the windows of its
// in-process fallback (see the package doc's failure policy).

// holdersScript records holder ARGV[1] as active until now+ARGV[2] µs, forgets the holders
// whose time ran out, and returns how many are active. Time is Redis's own (TIME) unless
// ARGV[3] overrides it (tests).
//
// KEYS: the holders' sorted set (member: holder id, score: active-until µs).
var holdersScript = redis.NewScript(`
if redis.replicate_commands then pcall(redis.replicate_commands) end
local now
if ARGV[3] and ARGV[3] ~= '' then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], string.format('%.0f', now + ttl), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl / 1000) + 1000)
return redis.call('ZCARD', KEYS[1])
`)

// holderTTL is how long a holder counts as active after its last heartbeat: two sliding
// windows of l, so a replica that takes a slot at least that often is always counted.
func holderTTL(l Limits) time.Duration { return 2 * l.Minute }

// holderBeat is how often an active holder renews its entry: once per segment of l.
func holderBeat(l Limits) time.Duration { return l.Segment }

// newHolderID returns a random id for one holder (not secret: it only tells holders apart).
func newHolderID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// beat records holder id as active for ttl and returns how many holders of the budget are
// active. Errors wrap ErrUnavailable or the caller's ctx.Err().
func (b *Budget) beat(ctx context.Context, id string, ttl time.Duration) (int, error) {
	n, err := run(ctx, b.f, "holders", func(ctx context.Context) (int64, error) {
		return holdersScript.Run(ctx, b.f.rdb, []string{b.f.key("b", "holders")}, id, ttl.Microseconds(), b.nowArg()).Int64()
	})
	if err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, fmt.Errorf("redisfleet: holders: %w: unexpected script answer %d", ErrUnavailable, n)
	}
	return int(n), nil
}

// shareLimits returns one holder's share of l when n holders share it: each window's limit
// divided by n (rounded down, so the shares never add up to more than the window), but never
// below the smallest limit that leaves the bulk lane one slot (2 with the default 20 % reserve),
// so every holder can still send. With n ≤ 1, or if the share would not be valid, it is l.
func shareLimits(l debitura.Limits, n int) debitura.Limits {
	if n <= 1 {
		return l
	}
	least := 1
	for float64(least)*(1-l.BulkReserve) < 1 && least < 1000 {
		least++
	}
	s := l
	s.PerMinute = max(l.PerMinute/n, least)
	s.PerHour = max(l.PerHour/n, least)
	s.PerDay = max(l.PerDay/n, least)
	if s.Validate() != nil {
		return l
	}
	return s
}
