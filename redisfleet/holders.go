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
// whose time ran out, and returns how many are active and whether ARGV[1]'s entry was new. Time is Redis's own (TIME) unless
// ARGV[3] overrides it (tests).
//
// KEYS: the holders' sorted set (member: holder id, score: active-until µs).
var holdersScript = redis.NewScript(luaNow(3) + `
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
local added = redis.call('ZADD', KEYS[1], string.format('%.0f', now + ttl), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl / 1000) + 1000)
return {redis.call('ZCARD', KEYS[1]), added}
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
// active, and whether id's entry was new (first beat, or Redis lost it: restarted, or an
// outage longer than ttl). Errors wrap ErrUnavailable or the caller's ctx.Err().
func (b *Budget) beat(ctx context.Context, id string, ttl time.Duration) (n int, added bool, err error) {
	res, err := run(ctx, b.f, "holders", func(ctx context.Context) ([]int64, error) {
		return holdersScript.Run(ctx, b.f.rdb, []string{b.f.key("b", "holders")}, id, ttl.Microseconds(), b.nowArg()).Int64Slice()
	})
	if err != nil {
		return 0, false, err
	}
	if len(res) != 2 || res[0] < 1 {
		return 0, false, fmt.Errorf("redisfleet: holders: %w: unexpected script answer %v", ErrUnavailable, res)
	}
	return int(res[0]), res[1] == 1, nil
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

// creditScript adds what holders admitted without Redis (during an outage, or all of it when
// Redis lost its state) to the windows that are still current: the sliding minute's segments
// (ARGV[9]…: segment index, count pairs) and the fixed hour and day, so the shared windows
// count them when Redis answers again. It never refuses: the requests were sent. Time is
// Redis's own (TIME) unless ARGV[8] overrides it (tests).
//
// KEYS: minute hash, hour hash, day hash. ARGV: hour µs, day µs, segment µs, hour index, hour
// count, day index, day count, time override, segments per sliding window, then the pairs.
var creditScript = redis.NewScript(luaNow(8) + `
local seg, nseg = tonumber(ARGV[3]), tonumber(ARGV[9])
local first = math.floor(now / seg) - nseg + 1
local any = false
for i = 10, #ARGV - 1, 2 do
  local idx, k = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  if idx >= first and k > 0 then
    redis.call('HINCRBY', KEYS[1], string.format('%.0f', idx), k)
    any = true
  end
end
if any then redis.call('PEXPIRE', KEYS[1], math.ceil((nseg + 1) * seg / 1000)) end
local function credit(key, size, idx, k)
  if k <= 0 or math.floor(now / size) ~= idx then return end
  local h = redis.call('HMGET', key, 'i', 'n')
  if tonumber(h[1]) == idx then
    redis.call('HINCRBY', key, 'n', k)
  else
    redis.call('DEL', key)
    redis.call('HSET', key, 'i', string.format('%.0f', idx), 'n', k)
  end
  redis.call('PEXPIRE', key, math.ceil(((idx + 1) * size - now + seg) / 1000))
end
credit(KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[4]), tonumber(ARGV[5]))
credit(KEYS[3], tonumber(ARGV[2]), tonumber(ARGV[6]), tonumber(ARGV[7]))
return 1
`)

// tally counts admissions in one fixed window (idx: the window's index).
type tally struct{ idx, n int64 }

func (t *tally) add(idx int64) {
	if idx != t.idx {
		t.idx, t.n = idx, 0
	}
	t.n++
}

// counts are one holder's admissions in the windows that are current: the sliding minute's
// segments (oldest first), the fixed hour and the fixed day.
type counts struct {
	segs      []tally
	hour, day tally
}

// add counts an admission at now (µs) under l.
func (c *counts) add(now int64, l debitura.Limits) {
	seg := now / l.Segment.Microseconds()
	first := seg - int64(l.Minute/l.Segment) + 1
	i := 0
	for i < len(c.segs) && c.segs[i].idx < first {
		i++
	}
	c.segs = append(c.segs[:0], c.segs[i:]...)
	if n := len(c.segs); n > 0 && c.segs[n-1].idx == seg {
		c.segs[n-1].n++
	} else {
		c.segs = append(c.segs, tally{idx: seg, n: 1})
	}
	c.hour.add(now / l.Hour.Microseconds())
	c.day.add(now / l.Day.Microseconds())
}

func (c counts) empty() bool { return len(c.segs) == 0 && c.hour.n == 0 && c.day.n == 0 }

// credit adds c (admissions of this holder that Redis did not see) to the shared windows.
func (b *Budget) credit(ctx context.Context, c counts) error {
	l := b.limits
	args := []any{l.Hour.Microseconds(), l.Day.Microseconds(), l.Segment.Microseconds(),
		c.hour.idx, c.hour.n, c.day.idx, c.day.n, b.nowArg(), int64(l.Minute / l.Segment)}
	for _, s := range c.segs {
		args = append(args, s.idx, s.n)
	}
	_, err := run(ctx, b.f, "credit", func(ctx context.Context) (int64, error) {
		return creditScript.Run(ctx, b.f.rdb, b.keys[0:3], args...).Int64()
	})
	return err
}
