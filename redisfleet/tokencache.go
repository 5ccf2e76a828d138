package redisfleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of TokenCacheConfig.
const (
	// DefaultRefreshMargin matches the SDK's DefaultRefreshBefore: a cached value leaves Redis a
	// minute before its expiry, so nobody is handed a token about to expire.
	DefaultRefreshMargin = 60 * time.Second
	// DefaultFillLease bounds how long the other replicas wait for a refresher that died.
	DefaultFillLease = 15 * time.Second
)

// TokenCacheConfig configures Fleet.TokenCache. Zero fields mean the defaults.
type TokenCacheConfig struct {
	// RefreshMargin: a value is stored until its expiry minus RefreshMargin
	// (DefaultRefreshMargin).
	RefreshMargin time.Duration
	// FillLease is the refresher's lease (DefaultFillLease). It should outlast a fill; if the
	// refresher dies, the others wait until it expires and then fill themselves.
	FillLease time.Duration
}

// TokenCache is a fleet-wide cache of short-lived secrets (Customer API tokens), with one
// refresher at a time across the fleet. Values are sealed with AES-256-GCM (WithSealingKey)
// before they reach Redis. It is safe for concurrent use.
type TokenCache struct {
	f      *Fleet
	seal   *sealer
	margin time.Duration
	lease  time.Duration
}

// TokenCache returns the fleet's token cache. It needs the Fleet to have a sealing key
// (WithSealingKey).
func (f *Fleet) TokenCache(cfg TokenCacheConfig) (*TokenCache, error) {
	if f.sealKey == nil {
		return nil, errors.New("redisfleet: TokenCache: no sealing key (use WithSealingKey)")
	}
	if cfg.RefreshMargin < 0 || (cfg.FillLease != 0 && cfg.FillLease < time.Millisecond) {
		return nil, fmt.Errorf("redisfleet: TokenCache: RefreshMargin must not be negative, FillLease 0 (default) or at least 1ms: %+v", cfg)
	}
	s, err := newSealer(f.sealKey)
	if err != nil {
		return nil, err
	}
	c := &TokenCache{f: f, seal: s, margin: cfg.RefreshMargin, lease: cfg.FillLease}
	if c.margin == 0 {
		c.margin = DefaultRefreshMargin
	}
	if c.lease == 0 {
		c.lease = DefaultFillLease
	}
	return c, nil
}

// FillFunc produces a value for the cache and the instant it expires (a token and its Expiry).
type FillFunc func(ctx context.Context) (value []byte, expiry time.Time, err error)

// valueKey is the Redis key of name's value; name is hashed, never stored.
func (c *TokenCache) valueKey(name string) string { return c.f.key("tok", c.f.nameDigest("tok", name)) }

// GetOrFill returns name's value from Redis, or fills it: one caller across the fleet runs fill
// at a time (it holds a lease), the others poll for its result and fill themselves only if the
// lease ends without a value (the refresher failed or died). A filled value is stored sealed,
// with a TTL of its expiry minus the refresh margin; a value that would live less than a
// millisecond is returned but not stored. A stored value that does not open (corrupt, another
// sealing key, copied from another name) is a miss.
//
// Errors: fill's error as is; ctx's error (wrapped) when ctx ends while waiting; an error
// wrapping ErrUnavailable when Redis fails. If fill succeeded but the value could not be stored,
// GetOrFill returns the value AND an error wrapping ErrUnavailable: the value is good to use.
func (c *TokenCache) GetOrFill(ctx context.Context, name string, fill FillFunc) ([]byte, error) {
	key := c.valueKey(name)
	leaseKey := key + ":lease"
	var bo backoff
	for {
		v, err := c.get(ctx, key)
		if err != nil || v != nil {
			return v, err
		}
		holder := leaseValue()
		got, err := c.f.tryLease(ctx, "token lease", leaseKey, holder, c.lease)
		if err != nil {
			return nil, err
		}
		if got {
			return c.fill(ctx, key, leaseKey, holder, fill)
		}
		if err := bo.wait(ctx, "token wait"); err != nil {
			return nil, err
		}
	}
}

// fill runs with the lease held: it checks once more for a value (stored by the previous holder
// between our read and our lease), runs fill, stores the sealed value and releases the lease.
func (c *TokenCache) fill(ctx context.Context, key, leaseKey, holder string, fill FillFunc) ([]byte, error) {
	// A failed release only makes the others wait for the lease to expire.
	defer func() { _, _ = c.f.releaseLease(ctx, "token lease release", leaseKey, holder) }()
	if v, err := c.get(ctx, key); err != nil || v != nil {
		return v, err
	}
	v, expiry, err := fill(ctx)
	if err != nil {
		return nil, err
	}
	ttl := time.Until(expiry) - c.margin
	if ttl < time.Millisecond {
		return v, nil
	}
	sealed, err := c.seal.seal(key, v)
	if err != nil {
		return v, fmt.Errorf("redisfleet: token store: %w: %w", ErrUnavailable, err)
	}
	_, err = run(ctx, c.f, "token store", func(ctx context.Context) (string, error) {
		return c.f.rdb.Set(ctx, key, sealed, ttl).Result()
	})
	return v, err
}

// get returns the opened value at key, or nil when there is none or it does not open.
func (c *TokenCache) get(ctx context.Context, key string) ([]byte, error) {
	raw, err := run(ctx, c.f, "token get", func(ctx context.Context) ([]byte, error) {
		return c.f.rdb.Get(ctx, key).Bytes()
	})
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := c.seal.open(key, raw)
	if err != nil {
		return nil, nil // unreadable: a miss, and the next fill overwrites it
	}
	return v, nil
}

// Forget deletes name's value, for example after the API rejected the token, so that the next
// GetOrFill fills a fresh one.
func (c *TokenCache) Forget(ctx context.Context, name string) error {
	key := c.valueKey(name)
	_, err := run(ctx, c.f, "token forget", func(ctx context.Context) (int64, error) {
		return c.f.rdb.Del(ctx, key).Result()
	})
	return err
}
