package redisfleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/webhook"
)

// The SDK adapters: the primitives of this package behind the SDK's interfaces
// (debitura.Budget, debitura.TokenCache, debitura.Locker, webhook.Deduper). Each one falls back
// to the in-process equivalent when Redis is unavailable (an error wrapping ErrUnavailable):
// the call goes on without Redis, a Warn record is logged at most once per warn interval
// (WithLogger, WithFailover), and after the probe interval one call tries Redis again; when it
// answers, every adapter of the Fleet goes back to it. No call fails, hangs or panics because
// Redis did: every Redis call is bounded by WithOpTimeout.

// Options returns the SDK options that put every replica of the API key on this fleet: the
// shared budget with limits l (WithBudget), the shared token cache (WithTokenCache; only when
// the Fleet has a sealing key, WithSealingKey) and the link lock around EnsureLinked
// (WithLinkLocker, with DefaultLinkLease). Pass them to debitura.New:
//
//	opts, err := fleet.Options(debitura.DefaultLimits())
//	c, err := debitura.New(apiKey, opts...)
func (f *Fleet) Options(l debitura.Limits) ([]debitura.Option, error) {
	b, err := f.SDKBudget(l)
	if err != nil {
		return nil, err
	}
	opts := []debitura.Option{debitura.WithBudget(b), debitura.WithLinkLocker(f.SDKLinkLocker(0))}
	if f.sealKey != nil {
		tc, err := f.SDKTokenCache()
		if err != nil {
			return nil, err
		}
		opts = append(opts, debitura.WithTokenCache(tc))
	}
	return opts, nil
}

// ---- the budget ----

// SDKBudget returns the fleet's budget with limits l as a debitura.Budget (pass it to
// debitura.WithBudget): Take and Hold run the Lua scripts of [Budget] atomically across the
// fleet.
//
// While Redis answers, the budget also records itself as an active holder of the API key's
// budget (a heartbeat once per segment of l; a holder counts as active for two sliding windows
// after its last one) and learns how many holders are active, and it counts its own admitted
// requests in an in-process budget of its share: l with every window's limit divided by the
// number of active holders (rounded down, never below the fewest slots that leave the bulk
// lane one: 2 at the default reserve). While Redis is unavailable, that in-process budget admits this replica's
// requests, so the fleet as a whole stays within l: each holder continues from what it took
// of the current windows, within its share. Every Hold is recorded in it as well, so a 429
// holds the fallback too. A budget that never reached Redis counts itself alone (the full l).
// When Redis answers again, the budget credits the shared windows with what it admitted
// without Redis. The excess this still allows, and why, is in the package doc's failure policy.
func (f *Fleet) SDKBudget(l debitura.Limits) (debitura.Budget, error) {
	rb, err := f.Budget(l)
	if err != nil {
		return nil, err
	}
	mem, err := debitura.NewMemoryBudget(l)
	if err != nil {
		return nil, fmt.Errorf("redisfleet: SDKBudget: %w", err)
	}
	return &sdkBudget{f: f, rb: rb, limits: l, id: newHolderID(), beatEvery: holderBeat(l), ttl: holderTTL(l), mem: mem, holders: 1}, nil
}

type sdkBudget struct {
	f              *Fleet
	rb             *Budget
	limits         debitura.Limits
	id             string // this holder's entry in the holders' set
	beatEvery, ttl time.Duration
	mu             sync.Mutex
	mem            debitura.Budget // this holder's share: the fallback
	holders        int             // active holders when Redis last answered
	nextBeat       time.Time
	beating        bool
	registered     bool      // a heartbeat reached Redis
	holdUntil      time.Time // the latest Hold's end, carried into a new share
	// own counts this holder's admissions in the current windows (a new share is given the
	// hour's again); unseen those Redis did not see (admitted by the fallback), to be credited to
	// the shared windows when Redis answers again.
	own, unseen counts
}

func (b *sdkBudget) fallback() debitura.Budget {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mem
}

// heartbeat renews this holder's entry when it is due (one caller at a time) and, when the
// number of active holders changed, replaces the fallback with a budget of the new share. A
// failed heartbeat changes nothing: the last known count stays. It reports whether Redis had
// lost this holder's entry after an earlier heartbeat (restarted, or an outage longer than
// the entry lasts), so it lost the windows' counts too.
func (b *sdkBudget) heartbeat(ctx context.Context) (lost bool) {
	now := time.Now()
	b.mu.Lock()
	if b.beating || now.Before(b.nextBeat) {
		b.mu.Unlock()
		return false
	}
	b.beating = true
	b.mu.Unlock()
	n, added, err := b.rb.beat(context.WithoutCancel(ctx), b.id, b.ttl)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.beating = false
	b.nextBeat = now.Add(b.beatEvery)
	if err != nil {
		return false
	}
	lost = added && b.registered
	b.registered = true
	if n == b.holders {
		return lost
	}
	mem, err := debitura.NewMemoryBudget(shareLimits(b.limits, n))
	if err != nil {
		return lost
	}
	// Carry over what this holder took of the current hour (counted now: conservative for the
	// sliding minute, which it may fill until it slides out), then the hold.
	if b.own.hour.idx == now.UnixMicro()/b.limits.Hour.Microseconds() {
		for range b.own.hour.n {
			if w, _ := mem.Take(ctx, debitura.LaneInteractive); w > 0 {
				break
			}
		}
	}
	if d := time.Until(b.holdUntil); d > 0 {
		_ = mem.Hold(ctx, d)
	}
	b.mem, b.holders = mem, n
	return lost
}

// counted records an admission of this holder; unseen: the fallback admitted it, not Redis.
func (b *sdkBudget) counted(unseen bool) {
	now := time.Now().UnixMicro()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.own.add(now, b.limits)
	if unseen {
		b.unseen.add(now, b.limits)
	}
}

// upkeep runs the heartbeat when it is due and the credit when the fallback admitted requests
// Redis has not seen, in the background: Take never waits for them (each is bounded by the
// op timeout, and one heartbeat runs at a time).
func (b *sdkBudget) upkeep(ctx context.Context) {
	now := time.Now()
	b.mu.Lock()
	beat := !b.beating && !now.Before(b.nextBeat)
	credit := !b.unseen.empty()
	b.mu.Unlock()
	if !beat && !credit {
		return
	}
	ctx = context.WithoutCancel(ctx)
	go func() {
		lost := false
		if beat {
			lost = b.heartbeat(ctx)
		}
		b.settle(ctx, lost)
	}()
}

// settle credits the shared windows, once Redis answers again, with what they missed: this
// holder's admissions during the outage, or all of its admissions in the current windows when
// Redis lost its state (lost). Otherwise a fleet back on a restarted Redis would
// see empty windows and admit a whole hour's worth again. A failed credit is dropped.
func (b *sdkBudget) settle(ctx context.Context, lost bool) {
	b.mu.Lock()
	c := b.unseen
	if lost {
		c = b.own
	}
	c.segs = slices.Clone(c.segs)
	b.unseen = counts{}
	b.mu.Unlock()
	if !c.empty() {
		_ = b.rb.credit(context.WithoutCancel(ctx), c)
	}
}

func (b *sdkBudget) Take(ctx context.Context, lane debitura.Lane) (time.Duration, error) {
	if lane != Interactive && lane != Bulk {
		return 0, fmt.Errorf("redisfleet: Take: unknown lane %d", int(lane))
	}
	if b.f.fo.try() {
		g, err := b.rb.Take(ctx, lane)
		if !b.f.fo.result("budget take", err) {
			if err != nil {
				return 0, err
			}
			b.upkeep(ctx)
			if g.Admitted {
				// Count it in this holder's share too, so a fallback starts from what this
				// replica already took of the current windows (a full share counts no more).
				_, _ = b.fallback().Take(ctx, lane)
				b.counted(false)
				return 0, nil
			}
			return max(g.Wait, time.Microsecond), nil
		}
	}
	w, err := b.fallback().Take(ctx, lane)
	if err == nil && w == 0 {
		b.counted(true)
	}
	return w, err
}

func (b *sdkBudget) Hold(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	b.mu.Lock()
	if until := time.Now().Add(d); until.After(b.holdUntil) {
		b.holdUntil = until
	}
	mem := b.mem
	b.mu.Unlock()
	_ = mem.Hold(ctx, d) // the fallback honours every hold, in case Redis goes away
	if b.f.fo.try() {
		_, err := b.rb.Hold(ctx, d)
		if !b.f.fo.result("budget hold", err) {
			return err
		}
	}
	return nil
}

// ---- the token cache ----

// SDKTokenCache returns the fleet's token cache as a debitura.TokenCache (pass it to
// debitura.WithTokenCache): one mint per client per token lifetime across the fleet, tokens
// sealed with the Fleet's sealing key (required: WithSealingKey) and stored until their expiry
// minus DefaultRefreshMargin. The sealed value is the JSON of the token with its access token
// revealed; it never appears in a key name or a log. While Redis is unavailable, Token mints
// itself (the SDK's sources still cache in process).
func (f *Fleet) SDKTokenCache() (debitura.TokenCache, error) {
	tc, err := f.TokenCache(TokenCacheConfig{})
	if err != nil {
		return nil, err
	}
	return &sdkTokenCache{f: f, tc: tc}, nil
}

type sdkTokenCache struct {
	f  *Fleet
	tc *TokenCache
}

// sealedToken is the plain text of a cached token, sealed before it reaches Redis.
type sealedToken struct {
	AccessToken      string    `json:"access_token"`
	TokenType        string    `json:"token_type"`
	Expiry           time.Time `json:"expiry"`
	CreditorID       string    `json:"creditor_id,omitempty"`
	ExternalTenantID string    `json:"external_tenant_id"`
}

func (c *sdkTokenCache) Token(ctx context.Context, id string, mint func(ctx context.Context) (*debitura.Token, error)) (*debitura.Token, error) {
	if !c.f.fo.try() {
		return mint(ctx)
	}
	var minted *debitura.Token
	fill := func(ctx context.Context) ([]byte, time.Time, error) {
		tok, err := mint(ctx)
		if err != nil {
			return nil, time.Time{}, err
		}
		minted = tok
		v, err := json.Marshal(sealedToken{
			AccessToken: tok.AccessToken.Reveal(), TokenType: tok.TokenType, Expiry: tok.Expiry,
			CreditorID: tok.CreditorID, ExternalTenantID: tok.ExternalTenantID,
		})
		return v, tok.Expiry, err
	}
	v, err := c.tc.GetOrFill(ctx, id, fill)
	if c.f.fo.result("token cache", err) {
		if minted != nil {
			return minted, nil // minted, but Redis could not store it: good to use
		}
		return mint(ctx)
	}
	if minted != nil {
		return minted, nil
	}
	if err != nil {
		return nil, err // mint's error, or ctx's
	}
	var st sealedToken
	if json.Unmarshal(v, &st) != nil || st.AccessToken == "" {
		return mint(ctx) // unreadable: mint (the next fill overwrites it)
	}
	return &debitura.Token{
		AccessToken: debitura.NewSecret(st.AccessToken), TokenType: st.TokenType, Expiry: st.Expiry,
		CreditorID: st.CreditorID, ExternalTenantID: st.ExternalTenantID,
	}, nil
}

func (c *sdkTokenCache) Forget(ctx context.Context, id string) error {
	if !c.f.fo.try() {
		return nil
	}
	err := c.tc.Forget(ctx, id)
	if c.f.fo.result("token forget", err) {
		return nil // nothing to forget in process; the stale value expires with its TTL
	}
	return err
}

// ---- the link lock ----

// DefaultLinkLease is the lease of SDKLinkLocker's locks when none is given: longer than an
// EnsureLinked's GET and POST /clients with their retries take in practice.
const DefaultLinkLease = 30 * time.Second

// SDKLinkLocker returns the fleet's named locks as a debitura.Locker (pass it to
// debitura.WithLinkLocker), each lock held for at most lease (DefaultLinkLease when lease is
// not positive). While Redis is unavailable, Lock returns at once without a lock: EnsureLinked
// already collapses concurrent calls inside one Client, and POST /clients is idempotent per
// externalTenantId, so a second replica's POST is a wasted request, not an error.
func (f *Fleet) SDKLinkLocker(lease time.Duration) debitura.Locker {
	if lease < time.Millisecond {
		lease = DefaultLinkLease
	}
	return &sdkLocker{f: f, locks: f.Locks(), lease: lease}
}

type sdkLocker struct {
	f     *Fleet
	locks *Locks
	lease time.Duration
}

func (l *sdkLocker) Lock(ctx context.Context, name string) (func(), error) {
	noop := func() {}
	if !l.f.fo.try() {
		return noop, nil
	}
	release, err := l.locks.Acquire(ctx, name, l.lease)
	if l.f.fo.result("link lock", err) {
		return noop, nil
	}
	if err != nil {
		return nil, err
	}
	return func() {
		// A failed release only makes the next holder wait for the lease to end.
		_ = release(context.Background())
	}, nil
}

// ---- webhook de-duplication ----

// WebhookDeduper returns the fleet's webhook de-dupe store as a webhook.Deduper (for the
// webhook package's handler), so a redelivery that lands on another replica is handled once.
// While Redis is unavailable it uses an in-memory webhook.MemoryDeduper (this replica's
// deliveries only); Complete and Release are recorded in it as well, so an id completed during
// an outage stays completed in this replica.
func (f *Fleet) WebhookDeduper(cfg DeduperConfig) (webhook.Deduper, error) {
	d, err := f.Deduper(cfg)
	if err != nil {
		return nil, err
	}
	return &sdkDeduper{f: f, d: d, mem: webhook.NewMemoryDeduper(0, d.retention)}, nil
}

type sdkDeduper struct {
	f   *Fleet
	d   *Deduper
	mem *webhook.MemoryDeduper
}

func (d *sdkDeduper) Claim(ctx context.Context, id string) (webhook.Claim, error) {
	if d.f.fo.try() {
		c, err := d.d.Claim(ctx, id)
		if !d.f.fo.result("webhook claim", err) {
			if err != nil {
				return 0, err
			}
			switch c {
			case Claimed:
				return webhook.Claimed, nil
			case InProgress:
				return webhook.InFlight, nil
			case Done:
				return webhook.Done, nil
			}
			return 0, fmt.Errorf("redisfleet: webhook claim: unexpected answer %v", c)
		}
	}
	return d.mem.Claim(ctx, id)
}

func (d *sdkDeduper) Complete(ctx context.Context, id string) error {
	return d.both(ctx, id, "webhook complete", d.mem.Complete, d.d.Complete)
}

func (d *sdkDeduper) Release(ctx context.Context, id string) error {
	return d.both(ctx, id, "webhook release", d.mem.Release, d.d.Release)
}

// both records a Complete or Release in the in-memory deduper and, while Redis is available, in
// Redis; an error of either is returned.
func (d *sdkDeduper) both(ctx context.Context, id, what string, inMem, inRedis func(context.Context, string) error) error {
	merr := inMem(ctx, id)
	if d.f.fo.try() {
		err := inRedis(ctx, id)
		if !d.f.fo.result(what, err) {
			return errors.Join(err, merr)
		}
	}
	return merr
}
