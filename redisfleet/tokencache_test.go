package redisfleet

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// testSealingKey is a made-up 32-byte sealing key.
var testSealingKey = []byte("0123456789abcdef0123456789ABCDEF")

const testToken = "eyJhbGciOi.TOKEN-SECRET.sig"

func tokenCache(t *testing.T, f *Fleet) *TokenCache {
	t.Helper()
	c, err := f.TokenCache(TokenCacheConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// countingFill returns a fill that counts its calls and answers testToken valid for 30 minutes.
func countingFill(calls *atomic.Int32, delay time.Duration) FillFunc {
	return func(ctx context.Context) ([]byte, time.Time, error) {
		calls.Add(1)
		if err := sleep(ctx, delay); err != nil {
			return nil, time.Time{}, err
		}
		return []byte(testToken), time.Now().Add(30 * time.Minute), nil
	}
}

// TestTokenCacheOneRefresher: replicas with their own connections ask for one name at once; one
// fills, the others get its value; later calls read it from Redis.
func TestTokenCacheOneRefresher(t *testing.T) { tokenCacheOneRefresher(t, onServer(t)) }

func tokenCacheOneRefresher(t *testing.T, fleet fleetFunc) {
	const replicas = 8
	caches := make([]*TokenCache, replicas)
	for i := range caches {
		caches[i] = tokenCache(t, fleet(t, WithSealingKey(testSealingKey)))
	}
	var calls atomic.Int32
	fill := countingFill(&calls, 50*time.Millisecond)
	ctx := context.Background()
	for round := range 2 {
		onReplicas(replicas, func(i int) {
			v, err := caches[i].GetOrFill(ctx, "tenant-42", fill)
			if err != nil || string(v) != testToken {
				t.Errorf("round %d: GetOrFill = %q, %v", round, v, err)
			}
		})
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("fill ran %d times for %d replicas × 2 rounds, want 1", n, replicas)
	}
	// Another name is another value.
	if _, err := caches[0].GetOrFill(ctx, "tenant-43", fill); err != nil || calls.Load() != 2 {
		t.Fatalf("second name: err %v, fills %d; want a fill of its own", err, calls.Load())
	}
}

// TestTokenCacheSealing: Redis holds no plaintext; a value copied to another name, corrupted, or
// sealed under another key does not open and is refilled.
func TestTokenCacheSealing(t *testing.T) { tokenCacheSealing(t, onServer(t)) }

func tokenCacheSealing(t *testing.T, fleet fleetFunc) {
	f := fleet(t, WithSealingKey(testSealingKey))
	c := tokenCache(t, f)
	ctx := context.Background()
	var calls atomic.Int32
	fill := countingFill(&calls, 0)
	if _, err := c.GetOrFill(ctx, "tenant-a", fill); err != nil {
		t.Fatal(err)
	}
	keyA, keyB := c.valueKey("tenant-a"), c.valueKey("tenant-b")
	raw, err := f.rdb.Get(ctx, keyA).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(testToken)) || bytes.Contains(raw, []byte("TOKEN-SECRET")) {
		t.Fatalf("the stored value contains the plaintext: %q", raw)
	}
	if want := 1 + 12 + len(testToken) + 16; len(raw) != want {
		t.Fatalf("stored %d bytes, want version+nonce+ciphertext+tag = %d", len(raw), want)
	}

	// Two seals of one value differ (fresh nonce).
	s2, _ := c.seal.seal(keyA, []byte(testToken))
	if bytes.Equal(s2[1:13], raw[1:13]) {
		t.Fatal("two seals used the same nonce")
	}

	refills := func(name string) bool {
		t.Helper()
		before := calls.Load()
		v, err := c.GetOrFill(ctx, name, fill)
		if err != nil || string(v) != testToken {
			t.Fatalf("GetOrFill(%s) = %q, %v", name, v, err)
		}
		return calls.Load() > before
	}
	if refills("tenant-a") {
		t.Fatal("an intact value was refilled")
	}
	// Moved to another tenant's key: the key name is the additional data, so it does not open.
	if err := f.rdb.Set(ctx, keyB, raw, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if !refills("tenant-b") {
		t.Fatal("a value copied from another name was accepted")
	}
	// Corrupt (one flipped bit) and truncated values are misses.
	bad := append([]byte(nil), raw...)
	bad[len(bad)-1] ^= 1
	for _, v := range [][]byte{bad, raw[:10], nil} {
		if err := f.rdb.Set(ctx, keyA, v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		if !refills("tenant-a") {
			t.Fatalf("a corrupt value %x was accepted", v)
		}
	}
	// Another sealing key (a replica misconfigured, or a rotated key) reads a miss.
	other := tokenCache(t, fleet(t, WithSealingKey(bytes.Repeat([]byte{7}, 32))))
	before := calls.Load()
	if _, err := other.GetOrFill(ctx, "tenant-a", fill); err != nil || calls.Load() != before+1 {
		t.Fatalf("other sealing key: err %v, fills %d → %d; want a refill", err, before, calls.Load())
	}
}

// TestTokenCacheTTL: a value lives in Redis until its expiry minus the margin; one too close to
// its expiry is returned but not stored.
func TestTokenCacheTTL(t *testing.T) {
	f := fleetOn(t, fleetSrv(t), WithSealingKey(testSealingKey))
	c, err := f.TokenCache(TokenCacheConfig{RefreshMargin: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fillFor := func(d time.Duration) FillFunc {
		return func(context.Context) ([]byte, time.Time, error) { return []byte(testToken), time.Now().Add(d), nil }
	}
	if _, err := c.GetOrFill(ctx, "t1", fillFor(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	ttl, err := f.rdb.PTTL(ctx, c.valueKey("t1")).Result()
	if err != nil || ttl > 8*time.Second || ttl < 7*time.Second {
		t.Fatalf("PTTL = %v, %v; want expiry (10s) − margin (2s) ≈ 8s", ttl, err)
	}
	v, err := c.GetOrFill(ctx, "t2", fillFor(time.Second))
	if err != nil || string(v) != testToken {
		t.Fatalf("short-lived value: %q, %v", v, err)
	}
	if n, _ := f.rdb.Exists(ctx, c.valueKey("t2")).Result(); n != 0 {
		t.Fatal("a value expiring within the margin was stored")
	}
	// Forget drops a value.
	if err := c.Forget(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.rdb.Exists(ctx, c.valueKey("t1")).Result(); n != 0 {
		t.Fatal("Forget left the value")
	}
}

// TestTokenCacheLease: a waiter takes over when the refresher's lease ends without a value, gives
// up with its ctx, and a failed fill releases the lease at once.
func TestTokenCacheLease(t *testing.T) {
	f := fleetOn(t, fleetSrv(t), WithSealingKey(testSealingKey))
	c := tokenCache(t, f)
	ctx := context.Background()
	var calls atomic.Int32
	fill := countingFill(&calls, 0)
	leaseKey := c.valueKey("t") + ":lease"

	// A refresher that died: its lease stays for 150ms.
	const deadLease = 150 * time.Millisecond
	leaseSet := time.Now()
	if err := f.rdb.Set(ctx, leaseKey, "dead-holder", deadLease).Err(); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 40*time.Millisecond)
	defer cancel()
	if _, err := c.GetOrFill(short, "t", fill); !errors.Is(err, context.DeadlineExceeded) || calls.Load() != 0 {
		t.Fatalf("waiting past ctx: err %v, fills %d; want DeadlineExceeded and no fill", err, calls.Load())
	}
	var filledAt time.Time
	v, err := c.GetOrFill(ctx, "t", func(ctx context.Context) ([]byte, time.Time, error) {
		filledAt = time.Now()
		return countingFill(&calls, 0)(ctx)
	})
	if err != nil || string(v) != testToken || calls.Load() != 1 {
		t.Fatalf("after the lease: %q, %v, fills %d", v, err, calls.Load())
	}
	// The lease was set after leaseSet, so it cannot have ended before leaseSet+deadLease.
	if after := filledAt.Sub(leaseSet); after < deadLease || after > deadLease+2*time.Second {
		t.Fatalf("took over %v after the dead holder's lease was set; want just after it ended (%v)", after, deadLease)
	}

	// A fill that fails returns its error and frees the lease for the next caller.
	errMint := errors.New("mint failed")
	if _, err := c.GetOrFill(ctx, "u", func(context.Context) ([]byte, time.Time, error) {
		return nil, time.Time{}, errMint
	}); !errors.Is(err, errMint) {
		t.Fatalf("failed fill: %v", err)
	}
	if n, _ := f.rdb.Exists(ctx, c.valueKey("u")+":lease").Result(); n != 0 {
		t.Fatal("a failed fill kept its lease")
	}
}

// TestTokenCacheStoreFails: when Redis stops taking writes after fill ran, GetOrFill still
// returns the filled value, with an error wrapping ErrUnavailable, on time.
func TestTokenCacheStoreFails(t *testing.T) {
	srv := fleetSrv(t)
	const timeout = 80 * time.Millisecond
	f := fleetOn(t, srv, WithSealingKey(testSealingKey), WithOpTimeout(timeout))
	c := tokenCache(t, f)
	admin := srv.Client(t)
	ctx := context.Background()
	start := time.Now()
	v, err := c.GetOrFill(ctx, "t", func(ctx context.Context) ([]byte, time.Time, error) {
		// Writes (the store, the lease release) now block for 500ms: past the timeout.
		if err := admin.Do(ctx, "CLIENT", "PAUSE", 500, "WRITE").Err(); err != nil {
			return nil, time.Time{}, err
		}
		return []byte(testToken), time.Now().Add(time.Hour), nil
	})
	if string(v) != testToken || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("GetOrFill = %q, %v; want the value and ErrUnavailable", v, err)
	}
	if took := time.Since(start); took > 2*timeout+opSlack {
		t.Fatalf("took %v, want about two timeouts (store, release)", took)
	}
}
