package redisfleet

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestNewValidates(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = rdb.Close() })
	tests := []struct {
		name   string
		rdb    redis.UniversalClient
		apiKey string
		opts   []Option
	}{
		{"nil client", nil, testAPIKey, nil},
		{"empty API key", rdb, "", nil},
		{"short sealing key", rdb, testAPIKey, []Option{WithSealingKey([]byte("too short"))}},
		{"zero timeout", rdb, testAPIKey, []Option{WithOpTimeout(0)}},
		{"brace in prefix", rdb, testAPIKey, []Option{WithPrefix("a{b")}},
		{"empty prefix", rdb, testAPIKey, []Option{WithPrefix("")}},
	}
	for _, tt := range tests {
		if _, err := New(tt.rdb, tt.apiKey, tt.opts...); err == nil {
			t.Errorf("%s: New accepted it", tt.name)
		} else if strings.Contains(err.Error(), testAPIKey) {
			t.Errorf("%s: the error shows the API key: %v", tt.name, err)
		}
	}
	f, err := New(rdb, testAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.TokenCache(TokenCacheConfig{}); err == nil {
		t.Error("TokenCache without a sealing key was accepted")
	}
}

// TestFleetOutputHidesSecrets: no fmt verb and no slog handler prints the API key or the sealing key.
func TestFleetOutputHidesSecrets(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = rdb.Close() })
	f, err := New(rdb, testAPIKey, WithSealingKey(testSealingKey))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		fmt.Fprintf(&out, verb+"\n", f)
		fmt.Fprintf(&out, verb+"\n", *f) // a copy of the struct too
	}
	slog.New(slog.NewJSONHandler(&out, nil)).Info("fleet", "fleet", f)
	slog.New(slog.NewTextHandler(&out, nil)).Info("fleet", "fleet", f)
	s := out.String()
	for _, secret := range []string{testAPIKey, string(testSealingKey), hex.EncodeToString(testSealingKey), "TESTKEY"} {
		if strings.Contains(s, secret) {
			t.Fatalf("output shows a secret %q:\n%s", secret, s)
		}
	}
	if !regexp.MustCompile(`^debitura:\{[0-9a-f]{32}\}:$`).MatchString(f.Namespace()) {
		t.Fatalf("Namespace() = %q, want debitura:{<32 hex>}:", f.Namespace())
	}
}

// TestKeyLayout uses every primitive, then checks every key Redis holds: under the one hash tag
// (so the scripts work on Cluster), with a TTL, and free of the API key, the names and the token.
func TestKeyLayout(t *testing.T) {
	f := fleetOn(t, fleetSrv(t), WithSealingKey(testSealingKey))
	useEveryPrimitive(t, f)
	keys, err := f.rdb.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	checkKeyLayout(t, f, keys)
}

// layoutTenant is the name useEveryPrimitive gives the token cache, the lock and the deduper.
const layoutTenant = "customer-4711@example.com"

// useEveryPrimitive has f write each of its keys once: a Take, a Hold, a holder's heartbeat, a
// token, a held lock and a claimed webhook event (8 keys).
func useEveryPrimitive(t *testing.T, f *Fleet) {
	t.Helper()
	ctx := context.Background()
	b := mustBudget(t, f)
	if _, err := b.Take(ctx, Bulk); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Hold(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.beat(ctx, newHolderID(), time.Minute); err != nil {
		t.Fatal(err)
	}
	c := tokenCache(t, f)
	if _, err := c.GetOrFill(ctx, layoutTenant, func(context.Context) ([]byte, time.Time, error) {
		return []byte(testToken), time.Now().Add(time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Locks().Acquire(ctx, layoutTenant, time.Minute); err != nil {
		t.Fatal(err)
	}
	d, err := f.Deduper(DeduperConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Claim(ctx, "evt_"+layoutTenant); err != nil {
		t.Fatal(err)
	}
}

// checkKeyLayout checks the keys useEveryPrimitive left: under f's namespace and its one hash
// tag, with a TTL, free of the API key, the names and the token, and no lease left behind.
func checkKeyLayout(t *testing.T, f *Fleet, keys []string) {
	t.Helper()
	ctx := context.Background()
	for _, k := range keys {
		if !strings.HasPrefix(k, f.Namespace()) {
			t.Errorf("key %q is outside the namespace %q", k, f.Namespace())
		}
		if hashTag(k) != hashTag(f.Namespace()) {
			t.Errorf("key %q has hash tag %q, want %q", k, hashTag(k), hashTag(f.Namespace()))
		}
		for _, secret := range []string{testAPIKey, "TESTKEY", layoutTenant, "4711", testToken} {
			if strings.Contains(k, secret) {
				t.Errorf("key %q contains %q", k, secret)
			}
		}
		if ttl, err := f.rdb.PTTL(ctx, k).Result(); err != nil || ttl <= 0 {
			t.Errorf("key %q has no TTL (%v, %v)", k, ttl, err)
		}
	}
	if len(keys) != 8 { // no lease is left behind
		t.Errorf("got %d keys %q, want 8 (minute, hour, day, gate, holders, token, lock, webhook)", len(keys), keys)
	}
}

// hashTag returns what Redis Cluster hashes of key: the part between the first '{' and the next
// '}', when not empty.
func hashTag(key string) string {
	i := strings.IndexByte(key, '{')
	if i < 0 {
		return key
	}
	j := strings.IndexByte(key[i+1:], '}')
	if j <= 0 {
		return key
	}
	return key[i+1 : i+1+j]
}
