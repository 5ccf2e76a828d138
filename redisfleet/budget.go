package redisfleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/redis/go-redis/v9"
)

// Lane is the priority class of a request: the SDK's [debitura.Lane].
type Lane = debitura.Lane

const (
	// Interactive requests may use every window up to its full limit.
	Interactive = debitura.LaneInteractive
	// Bulk requests (backfills, LinkMany) may use each window only up to (1 − BulkReserve) of its
	// limit, so a backfill always leaves room for interactive calls.
	Bulk = debitura.LaneBulk
)

// Window names what made Take refuse a slot.
type Window int

const (
	// WindowNone: the slot was admitted.
	WindowNone Window = iota
	// WindowGate: a 429 hold (Hold) is in force.
	WindowGate
	// WindowMinute: the sliding minute is full.
	WindowMinute
	// WindowHour: the fixed hour is full.
	WindowHour
	// WindowDay: the fixed day is full.
	WindowDay
)

// String returns the window's name.
func (w Window) String() string {
	switch w {
	case WindowNone:
		return "none"
	case WindowGate:
		return "gate"
	case WindowMinute:
		return "minute"
	case WindowHour:
		return "hour"
	case WindowDay:
		return "day"
	}
	return fmt.Sprintf("Window(%d)", int(w))
}

// Limits are the rate-limit windows of one API key, and the share of them the bulk lane may
// use: the SDK's [debitura.Limits], so one value configures both. DefaultLimits returns
// Debitura's documented numbers; tests and benchmarks scale the durations down. Every field must
// be set (no zero means "default"): start from DefaultLimits.
//
// Every replica sharing an API key must use the same Limits: the counters in Redis are laid
// out by Segment, Minute, Hour and Day.
type Limits = debitura.Limits

// Debitura's documented limits per API key (REFERENCE.md §4) and the default reserve: the SDK's.
const (
	DefaultPerMinute   = debitura.DefaultPerMinute
	DefaultPerHour     = debitura.DefaultPerHour
	DefaultPerDay      = debitura.DefaultPerDay
	DefaultSegment     = debitura.DefaultSegment
	DefaultBulkReserve = debitura.DefaultBulkReserve
)

// DefaultLimits returns Debitura's documented windows: [debitura.DefaultLimits].
func DefaultLimits() Limits { return debitura.DefaultLimits() }

// validateLimits is [debitura.Limits.Validate] and what the Lua scripts add to it: they count
// in milliseconds (PEXPIRE) and microseconds, so Segment, Hour and Day must be whole numbers of
// milliseconds.
func validateLimits(l Limits) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if l.Segment%time.Millisecond != 0 || l.Hour%time.Millisecond != 0 || l.Day%time.Millisecond != 0 {
		return fmt.Errorf("segment %v, hour %v and day %v must be whole numbers of milliseconds", l.Segment, l.Hour, l.Day)
	}
	return nil
}

// Budget is the shared request budget of one API key across a fleet: the three windows and the
// 429 gate, in Redis. It is safe for concurrent use.
type Budget struct {
	f      *Fleet
	limits Limits
	keys   []string // minute, hour, day, gate
	// now, when set (tests only), replaces Redis TIME in the scripts, in µs since the epoch.
	now func() int64
}

// Budget returns the fleet's budget with the given limits (start from DefaultLimits).
func (f *Fleet) Budget(l Limits) (*Budget, error) {
	if err := validateLimits(l); err != nil {
		return nil, fmt.Errorf("redisfleet: Budget: %w", err)
	}
	return &Budget{
		f: f, limits: l,
		keys: []string{f.key("b", "min"), f.key("b", "hour"), f.key("b", "day"), f.key("b", "gate")},
	}, nil
}

// Limits returns the budget's limits.
func (b *Budget) Limits() Limits { return b.limits }

// Grant is the answer of Take.
type Grant struct {
	// Admitted reports whether a slot was taken.
	Admitted bool
	// At is Redis's time when the script ran: the instant of admission, or of the refusal.
	At time.Time
	// Wait is, when not Admitted, how long after At the first slot can free for the lane: the
	// longest of the waits of the windows (and the gate) that refused. A slot is not reserved:
	// call Take again after Wait, when another caller may have taken it first.
	Wait time.Duration
	// Window is what refused (the longest wait), or WindowNone when Admitted.
	Window Window
}

// luaNow is the scripts' prelude: it sets now to Redis's own time (TIME) in µs, or to the
// override in ARGV[arg] (tests) when that is given.
func luaNow(arg int) string {
	return fmt.Sprintf(`if redis.replicate_commands then pcall(redis.replicate_commands) end
local now
if ARGV[%[1]d] and ARGV[%[1]d] ~= '' then
  now = tonumber(ARGV[%[1]d])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end`, arg)
}

// takeScript checks the gate and every window for the lane and, only if all have room, counts
// the request in each (all or nothing). Time is Redis's own (TIME), in µs.
//
// KEYS: minute hash (field: segment index, value: count), hour hash and day hash (fields i:
// window index, n: count), gate (hold-until, µs).
// ARGV: segment µs, segments per sliding window, hour µs, day µs, limits per minute, hour, day
// for the lane, and an optional time override (tests).
var takeScript = redis.NewScript(luaNow(8) + `
local seg, nseg = tonumber(ARGV[1]), tonumber(ARGV[2])
local hourUs, dayUs = tonumber(ARGV[3]), tonumber(ARGV[4])
local limMin, limHour, limDay = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local wait, why = 0, 0

local g = tonumber(redis.call('GET', KEYS[4]) or '0') or 0
if g > now then wait, why = g - now, 1 end

-- Sliding minute: the sum of the last nseg segments. When full, a slot frees when enough of
-- the oldest segments have slid out (ASP.NET Core's SlidingWindowRateLimiter).
local cur = math.floor(now / seg)
local first = cur - nseg + 1
local fields = redis.call('HGETALL', KEYS[1])
local segs, sum = {}, 0
for i = 1, #fields, 2 do
  local idx, n = tonumber(fields[i]), tonumber(fields[i + 1])
  if idx < first then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    sum = sum + n
    segs[#segs + 1] = {idx, n}
  end
end
if sum >= limMin then
  table.sort(segs, function(a, b) return a[1] < b[1] end)
  local freed = 0
  for _, s in ipairs(segs) do
    freed = freed + s[2]
    if sum - freed < limMin then
      local w = (s[1] + nseg) * seg - now
      if w > wait then wait, why = w, 2 end
      break
    end
  end
end

-- Fixed windows: one counter per window index; a new index starts from zero.
local function fixed(key, size, lim, code)
  local idx = math.floor(now / size)
  local h = redis.call('HMGET', key, 'i', 'n')
  local n = 0
  if tonumber(h[1]) == idx then n = tonumber(h[2]) or 0 end
  if n >= lim then
    local w = (idx + 1) * size - now
    if w > wait then wait, why = w, code end
  end
  return idx, n
end
local hidx, hn = fixed(KEYS[2], hourUs, limHour, 3)
local didx, dn = fixed(KEYS[3], dayUs, limDay, 4)

if wait > 0 then return {0, now, wait, why} end

-- Admit: count the request in every window; each key lives a segment past its window.
redis.call('HINCRBY', KEYS[1], string.format('%.0f', cur), 1)
redis.call('PEXPIRE', KEYS[1], math.ceil((nseg + 1) * seg / 1000))
local function count(key, idx, n, size)
  if n == 0 then
    redis.call('DEL', key)
    redis.call('HSET', key, 'i', string.format('%.0f', idx), 'n', 1)
  else
    redis.call('HINCRBY', key, 'n', 1)
  end
  redis.call('PEXPIRE', key, math.ceil(((idx + 1) * size - now + seg) / 1000))
end
count(KEYS[2], hidx, hn, hourUs)
count(KEYS[3], didx, dn, dayUs)
return {1, now, 0, 0}
`)

// holdScript sets the gate to now+ARGV[1] µs unless it already holds later; returns the gate.
var holdScript = redis.NewScript(luaNow(2) + `
local untilUs = now + tonumber(ARGV[1])
local g = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if untilUs > g then
  redis.call('SET', KEYS[1], string.format('%.0f', untilUs), 'PX', math.ceil((untilUs - now) / 1000) + 1000)
  return {now, untilUs}
end
return {now, g}
`)

func (b *Budget) nowArg() string {
	if b.now == nil {
		return ""
	}
	return fmt.Sprint(b.now())
}

// Take tries to take one slot for lane, atomically across the fleet: it is admitted only if the
// 429 gate is open and every window has room for the lane. Otherwise the Grant says how long
// until a slot may free. Errors wrap ErrUnavailable (Redis failed or was too slow) or the
// caller's ctx.Err().
func (b *Budget) Take(ctx context.Context, lane Lane) (Grant, error) {
	m, h, d := b.limits.PerMinute, b.limits.PerHour, b.limits.PerDay
	switch lane {
	case Interactive:
	case Bulk:
		m, h, d = b.limits.BulkLimits()
	default:
		return Grant{}, fmt.Errorf("redisfleet: Take: unknown lane %d", int(lane))
	}
	l := b.limits
	res, err := run(ctx, b.f, "take", func(ctx context.Context) ([]int64, error) {
		return takeScript.Run(ctx, b.f.rdb, b.keys,
			l.Segment.Microseconds(), int64(l.Minute/l.Segment), l.Hour.Microseconds(), l.Day.Microseconds(),
			m, h, d, b.nowArg()).Int64Slice()
	})
	if err == nil && len(res) != 4 {
		err = fmt.Errorf("redisfleet: take: %w: unexpected script answer %v", ErrUnavailable, res)
	}
	if err != nil {
		if errors.Is(err, redis.Nil) {
			err = fmt.Errorf("redisfleet: take: %w: %w", ErrUnavailable, err)
		}
		return Grant{}, err
	}
	return Grant{
		Admitted: res[0] == 1,
		At:       time.UnixMicro(res[1]),
		Wait:     time.Duration(res[2]) * time.Microsecond,
		Window:   Window(res[3]),
	}, nil
}

// Wait takes a slot for lane, waiting (bounded by ctx) as long as Take says, and returns the
// Grant of admission. It returns ctx's error when ctx ends first, and the error of Take when
// Redis fails.
func (b *Budget) Wait(ctx context.Context, lane Lane) (Grant, error) {
	for {
		g, err := b.Take(ctx, lane)
		if err != nil || g.Admitted {
			return g, err
		}
		if err := sleep(ctx, g.Wait); err != nil {
			return Grant{}, fmt.Errorf("redisfleet: wait: %w", err)
		}
	}
}

// Hold shuts the gate for d from now (Redis time): Take admits no slot of either lane before
// then. Of two holds the later end wins. Call it with a 429's retryAfter so that the whole fleet
// waits, not only the replica that met the 429. It returns the instant (Redis time) the gate
// opens.
func (b *Budget) Hold(ctx context.Context, d time.Duration) (time.Time, error) {
	if d <= 0 {
		return time.Time{}, fmt.Errorf("redisfleet: Hold: %v is not positive", d)
	}
	res, err := run(ctx, b.f, "hold", func(ctx context.Context) ([]int64, error) {
		return holdScript.Run(ctx, b.f.rdb, b.keys[3:4], d.Microseconds(), b.nowArg()).Int64Slice()
	})
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("redisfleet: hold: %w: unexpected script answer %v", ErrUnavailable, res)
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMicro(res[1]), nil
}
