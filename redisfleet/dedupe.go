package redisfleet

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Claim is the answer of Deduper.Claim. Its values mirror the SDK's WebhookClaim.
type Claim int

const (
	// Claimed: the id is new and the caller now holds it: it processes the event, then calls
	// Complete, or Release if processing failed.
	Claimed Claim = iota
	// InProgress: another delivery of the id is being processed right now (on any replica).
	InProgress
	// Done: the id was processed successfully before.
	Done
)

// String returns the claim's name.
func (c Claim) String() string {
	switch c {
	case Claimed:
		return "claimed"
	case InProgress:
		return "in progress"
	case Done:
		return "done"
	}
	return fmt.Sprintf("Claim(%d)", int(c))
}

// Defaults of DeduperConfig.
const (
	// DefaultProcessingLease bounds how long the claim of a replica that died mid-event blocks
	// the id; it should outlast the handler's longest run.
	DefaultProcessingLease = 5 * time.Minute
	// DefaultDoneRetention matches the SDK's DefaultWebhookDedupeTTL: longer than Debitura's
	// retries of one delivery (8 attempts with exponential backoff).
	DefaultDoneRetention = 72 * time.Hour
)

// DeduperConfig configures Fleet.Deduper. Zero fields mean the defaults.
type DeduperConfig struct {
	// ProcessingLease: a claim not completed or released within it ends (DefaultProcessingLease).
	ProcessingLease time.Duration
	// DoneRetention: how long a processed id is remembered (DefaultDoneRetention).
	DoneRetention time.Duration
}

// Deduper remembers, across the fleet, which webhook event ids are being processed or were
// processed, so a redelivery that lands on another replica is handled once. Claim is atomic: of
// concurrent Claims of one id, one gets Claimed. Event ids are hashed in the key names.
type Deduper struct {
	f                *Fleet
	lease, retention time.Duration
}

// Deduper returns the fleet's webhook de-dupe store.
func (f *Fleet) Deduper(cfg DeduperConfig) (*Deduper, error) {
	for _, d := range []time.Duration{cfg.ProcessingLease, cfg.DoneRetention} {
		if d != 0 && d < time.Millisecond {
			return nil, fmt.Errorf("redisfleet: Deduper: durations must be 0 (default) or at least 1ms: %+v", cfg)
		}
	}
	d := &Deduper{f: f, lease: cfg.ProcessingLease, retention: cfg.DoneRetention}
	if d.lease == 0 {
		d.lease = DefaultProcessingLease
	}
	if d.retention == 0 {
		d.retention = DefaultDoneRetention
	}
	return d, nil
}

const (
	dedupeInflight = "inflight"
	dedupeDone     = "done"
)

// claimScript: SET NX the in-flight mark with the processing lease; otherwise answer by the
// stored mark (in one script, so the mark cannot vanish between the SET and the GET).
var claimScript = redis.NewScript(`
if redis.call('SET', KEYS[1], 'inflight', 'NX', 'PX', ARGV[1]) then return 0 end
if redis.call('GET', KEYS[1]) == 'done' then return 2 end
return 1
`)

// releaseInflightScript deletes the mark only while it says in flight: a Release never forgets
// a completed id.
var releaseInflightScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == 'inflight' then return redis.call('DEL', KEYS[1]) end
return 0
`)

func (d *Deduper) key(id string) string { return d.f.key("wh", d.f.nameDigest("wh", id)) }

// Claim reports whether id is new (and then claims it for the processing lease), in progress,
// or done. Errors wrap ErrUnavailable or the caller's ctx.Err().
func (d *Deduper) Claim(ctx context.Context, id string) (Claim, error) {
	n, err := run(ctx, d.f, "dedupe claim", func(ctx context.Context) (int64, error) {
		return claimScript.Run(ctx, d.f.rdb, []string{d.key(id)}, d.lease.Milliseconds()).Int64()
	})
	if err != nil {
		return 0, err
	}
	return Claim(n), nil
}

// Complete marks id processed, remembered for the done-retention (whether or not it was claimed,
// as the in-memory deduper does).
func (d *Deduper) Complete(ctx context.Context, id string) error {
	_, err := run(ctx, d.f, "dedupe complete", func(ctx context.Context) (string, error) {
		return d.f.rdb.Set(ctx, d.key(id), dedupeDone, d.retention).Result()
	})
	return err
}

// Release drops the in-progress claim of id (its processing failed), so that a redelivery is
// processed. A completed id stays completed.
func (d *Deduper) Release(ctx context.Context, id string) error {
	_, err := run(ctx, d.f, "dedupe release", func(ctx context.Context) (any, error) {
		return releaseInflightScript.Run(ctx, d.f.rdb, []string{d.key(id)}).Result()
	})
	return err
}
