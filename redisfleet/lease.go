package redisfleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"
)

// releaseScript deletes KEYS[1] only if it still holds ARGV[1], the holder's random value, so a
// holder whose lease expired cannot delete the next holder's lease.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// leaseValue returns a random value that identifies one holder of a lease.
func leaseValue() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// tryLease takes the lease key for d with SET NX PX; it reports whether it got it.
func (f *Fleet) tryLease(ctx context.Context, what, key, value string, d time.Duration) (bool, error) {
	return run(ctx, f, what, func(ctx context.Context) (bool, error) {
		return f.rdb.SetNX(ctx, key, value, d).Result()
	})
}

// releaseLease deletes the lease key if value still holds it; it reports whether it did. It runs
// even when ctx has ended (a lease should not outlive its work because the caller gave up).
func (f *Fleet) releaseLease(ctx context.Context, what, key, value string) (bool, error) {
	n, err := run(context.WithoutCancel(ctx), f, what, func(ctx context.Context) (int64, error) {
		return releaseScript.Run(ctx, f.rdb, []string{key}, value).Int64()
	})
	return n == 1, err
}

// Polling of a held lease: from pollMin, doubling to pollMax, with jitter so that waiters do
// not poll in step.
const (
	pollMin = 5 * time.Millisecond
	pollMax = 100 * time.Millisecond
)

// backoff is a waiter's polling interval.
type backoff struct{ d time.Duration }

// wait sleeps the next interval, bounded by ctx.
func (b *backoff) wait(ctx context.Context, what string) error {
	if b.d == 0 {
		b.d = pollMin
	}
	d := b.d/2 + mrand.N(b.d/2+1)
	b.d = min(2*b.d, pollMax)
	if err := sleep(ctx, d); err != nil {
		return fmt.Errorf("redisfleet: %s: %w", what, err)
	}
	return nil
}
