package redisfleet

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrLockLost is returned by a lock's release function when the lease had already expired (and
// another holder may have taken the lock meanwhile).
var ErrLockLost = errors.New("redisfleet: lock lease expired before release")

// Locks are named locks with a lease across the fleet: for example one per tenant, so that
// concurrent EnsureLinked calls for one customer on several replicas send one POST /clients.
// A holder that dies loses the lock when its lease ends. Names are hashed in the key names.
//
// The lease is not a fence: a holder paused longer than its lease (a GC pause, a stopped VM)
// can still be running when the next holder starts. Use the lock to save duplicate work, not
// for correctness (POST /clients is idempotent per externalTenantId, so this is harmless).
type Locks struct{ f *Fleet }

// Locks returns the fleet's named locks.
func (f *Fleet) Locks() *Locks { return &Locks{f: f} }

// Acquire takes the lock name for lease, waiting (bounded by ctx) while another holder has it.
// It returns the function that releases it; release reports ErrLockLost if the lease had
// already ended. Errors: ctx's (wrapped) when ctx ends while waiting, or one wrapping
// ErrUnavailable when Redis fails.
func (l *Locks) Acquire(ctx context.Context, name string, lease time.Duration) (release func(context.Context) error, err error) {
	if lease < time.Millisecond {
		return nil, fmt.Errorf("redisfleet: Acquire: lease %v is shorter than a millisecond", lease)
	}
	key := l.f.key("lock", l.f.nameDigest("lock", name))
	holder := leaseValue()
	var bo backoff
	for {
		got, err := l.f.tryLease(ctx, "lock", key, holder, lease)
		if err != nil {
			return nil, err
		}
		if got {
			return func(ctx context.Context) error {
				ok, err := l.f.releaseLease(ctx, "unlock", key, holder)
				if err == nil && !ok {
					err = ErrLockLost
				}
				return err
			}, nil
		}
		if err := bo.wait(ctx, "lock wait"); err != nil {
			return nil, err
		}
	}
}
