package redisfleet

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable marks an error caused by Redis: unreachable, too slow (the per-operation timeout
// ran out) or answering with an error. A caller that sees it should fall back to its in-process
// mechanism (see the package doc's failure policy); errors.Is(err, ErrUnavailable) matches it.
var ErrUnavailable = errors.New("redisfleet: redis unavailable")

// Defaults of New.
const (
	// DefaultOpTimeout bounds every Redis call. It is short on purpose: a slow Redis must not
	// slow every request of the SDK, which falls back to in-process state instead.
	DefaultOpTimeout = 100 * time.Millisecond
	// DefaultPrefix starts every key name.
	DefaultPrefix = "debitura"
)

// Fleet is the handle of one API key's namespace in Redis. Its Budget, TokenCache, Locker and
// Deduper share the namespace. A Fleet is safe for concurrent use and immutable after New. Its
// String, GoString, Format and LogValue never print the API key or the sealing key.
type Fleet struct {
	rdb       redis.UniversalClient
	ns        string // "<prefix>:{<digest>}:"
	digest    string // hex digest of the API key, the hash tag
	nameKey   []byte // HMAC key for hashing names (tenant ids, event ids, lock names)
	opTimeout time.Duration
	sealKey   []byte    // nil unless WithSealingKey
	fo        *failover // the SDK adapters' failure policy, shared by all of them
}

// Option configures New.
type Option func(*Fleet) error

// WithOpTimeout sets the timeout of each Redis operation (default DefaultOpTimeout). A call
// that runs out of it returns an error wrapping ErrUnavailable. The timeout holds even when the
// caller's redis client ignores context deadlines (go-redis does unless its
// ContextTimeoutEnabled option is set): the call then returns on time and the client's own read
// timeout ends the abandoned command in the background.
func WithOpTimeout(d time.Duration) Option {
	return func(f *Fleet) error {
		if d <= 0 {
			return fmt.Errorf("redisfleet: WithOpTimeout: %v is not positive", d)
		}
		f.opTimeout = d
		return nil
	}
}

// WithSealingKey sets the 32-byte AES-256 key that seals the values of the TokenCache. It is
// required by [Fleet.TokenCache]. Every replica must use the same key; rotating it makes the
// cached values unreadable, which the cache treats as misses. The key is copied.
func WithSealingKey(key []byte) Option {
	return func(f *Fleet) error {
		if len(key) != 32 {
			return fmt.Errorf("redisfleet: WithSealingKey: the key has %d bytes, want 32 (AES-256)", len(key))
		}
		f.sealKey = append([]byte(nil), key...)
		return nil
	}
}

// WithPrefix sets the first part of every key name (default DefaultPrefix), for example to keep
// a test environment's keys apart from production's in one Redis. It must not contain '{' or
// '}', which would break the hash tag.
func WithPrefix(prefix string) Option {
	return func(f *Fleet) error {
		for _, r := range prefix {
			if r == '{' || r == '}' {
				return fmt.Errorf("redisfleet: WithPrefix: %q contains a brace", prefix)
			}
		}
		if prefix == "" {
			return errors.New("redisfleet: WithPrefix: empty prefix")
		}
		f.ns = prefix
		return nil
	}
}

// New returns the Fleet of apiKey's namespace on rdb (a single node, Sentinel or Cluster client;
// the caller keeps ownership and closes it). apiKey never reaches Redis: key names carry a
// digest of it.
func New(rdb redis.UniversalClient, apiKey string, opts ...Option) (*Fleet, error) {
	if rdb == nil {
		return nil, errors.New("redisfleet: New: nil redis client")
	}
	if apiKey == "" {
		return nil, errors.New("redisfleet: New: empty API key")
	}
	f := &Fleet{rdb: rdb, ns: DefaultPrefix, opTimeout: DefaultOpTimeout, fo: newFailover()}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(f); err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256([]byte("debitura-redisfleet/namespace/v1\x00" + apiKey))
	f.digest = hex.EncodeToString(sum[:16])
	f.ns = f.ns + ":{" + f.digest + "}:"
	// Names (tenant ids may be customer data) are hashed under a key derived from the API key, so
	// a dump of Redis cannot be matched against a list of guessed ids.
	nk := sha256.Sum256([]byte("debitura-redisfleet/names/v1\x00" + apiKey))
	f.nameKey = nk[:]
	return f, nil
}

// String describes f without secrets: the namespace (a digest of the API key) only. String,
// GoString, Format and LogValue have value receivers so that a copy of a Fleet (fmt.Print(*f))
// is redacted as well.
func (f Fleet) String() string { return "redisfleet.Fleet{ns: " + f.ns + "}" }

// GoString is String, so %#v cannot print the keys either.
func (f Fleet) GoString() string { return f.String() }

// Format prints String for every verb, so no verb or flag reaches the fields.
func (f Fleet) Format(s fmt.State, _ rune) { _, _ = fmt.Fprint(s, f.String()) }

// LogValue keeps the keys out of slog output.
func (f Fleet) LogValue() slog.Value { return slog.StringValue(f.String()) }

// Namespace returns the common start of every key name of f, "<prefix>:{<digest>}:", for
// operators who want to inspect or delete them (SCAN MATCH "<namespace>*").
func (f *Fleet) Namespace() string { return f.ns }

// key returns a key name under the namespace: ns + parts joined by ':'.
func (f *Fleet) key(parts ...string) string {
	k := f.ns
	for i, p := range parts {
		if i > 0 {
			k += ":"
		}
		k += p
	}
	return k
}

// nameDigest hashes a caller's name (a tenant id, an event id, a lock name) for a key name:
// HMAC-SHA256 under the namespace's name key, truncated to 16 bytes, in hex. kind separates
// the uses so equal names of different kinds never share a digest.
func (f *Fleet) nameDigest(kind, name string) string {
	m := hmac.New(sha256.New, f.nameKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(name))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// run runs op against Redis under the per-operation timeout and returns its result. A
// redis.Nil answer is passed through unchanged; any other failure is wrapped with
// ErrUnavailable, except that the caller's own cancellation is returned as ctx.Err() (wrapped),
// since that is not Redis's fault. run returns on time even if op ignores its context (go-redis
// without ContextTimeoutEnabled): op then finishes in the background, bounded by the client's
// own timeouts, and its result is dropped (it travels only through the channel, so an abandoned
// op cannot write into the caller's variables).
func run[T any](ctx context.Context, f *Fleet, what string, op func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("redisfleet: %s: %w", what, err)
	}
	octx, cancel := context.WithTimeout(ctx, f.opTimeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			// A client that panics must not take the caller's process down with it.
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("panic in redis client: %v", r)}
			}
		}()
		v, err := op(octx)
		done <- result{v, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-octx.Done():
		r.err = octx.Err()
	}
	switch {
	case r.err == nil, errors.Is(r.err, redis.Nil):
		return r.v, r.err
	case ctx.Err() != nil:
		return zero, fmt.Errorf("redisfleet: %s: %w", what, ctx.Err())
	default:
		return zero, fmt.Errorf("redisfleet: %s: %w: %w", what, ErrUnavailable, r.err)
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
