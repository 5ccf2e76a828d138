package redisfleet

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestLockExclusive: replicas with their own connections hold a lock one at a time, and a waiter
// gives up with its ctx.
func TestLockExclusive(t *testing.T) { lockExclusive(t, onServer(t)) }

func lockExclusive(t *testing.T, fleet fleetFunc) {
	ctx := context.Background()
	a, b := fleet(t).Locks(), fleet(t).Locks()
	release, err := a.Acquire(ctx, "tenant-1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := b.Acquire(short, "tenant-1", time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire of a held lock: %v, want DeadlineExceeded", err)
	}
	if _, err := b.Acquire(short, "tenant-1", time.Minute); err == nil {
		t.Fatal("Acquire with an ended ctx succeeded")
	}
	other, err := b.Acquire(ctx, "tenant-2", time.Minute)
	if err != nil {
		t.Fatalf("another name: %v", err)
	}
	_ = other(ctx)
	if err := release(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := b.Acquire(ctx, "tenant-1", time.Minute); err != nil {
		t.Fatalf("after release: %v", err)
	} else {
		_ = r(ctx)
	}

	// Under contention from several replicas, at most one holds the lock at any time.
	var inside, maxInside, total atomic.Int32
	locks := make([]*Locks, 6)
	for i := range locks {
		locks[i] = fleet(t).Locks()
	}
	onReplicas(len(locks), func(i int) {
		for range 5 {
			rel, err := locks[i].Acquire(ctx, "tenant-3", time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			if n > maxInside.Load() {
				maxInside.Store(n)
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			total.Add(1)
			if err := rel(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	if maxInside.Load() != 1 || total.Load() != 30 {
		t.Fatalf("max holders at once %d (want 1), sections %d (want 30)", maxInside.Load(), total.Load())
	}
}

// TestLockLeaseExpiry: a holder that dies loses the lock at lease end; its late release reports
// ErrLockLost and leaves the new holder's lock alone.
func TestLockLeaseExpiry(t *testing.T) {
	srv := fleetSrv(t)
	ctx := context.Background()
	dead, live := fleetOn(t, srv).Locks(), fleetOn(t, srv).Locks()
	const lease = 150 * time.Millisecond
	before := time.Now()
	lateRelease, err := dead.Acquire(ctx, "tenant", lease)
	if err != nil {
		t.Fatal(err)
	}
	release, err := live.Acquire(ctx, "tenant", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The lease was set after before, so it cannot have ended earlier than before+lease.
	if waited := time.Since(before); waited < lease || waited > lease+2*time.Second {
		t.Fatalf("acquired %v after the dead holder; want just after its lease (%v) ended", waited, lease)
	}
	if err := lateRelease(ctx); !errors.Is(err, ErrLockLost) {
		t.Fatalf("late release: %v, want ErrLockLost", err)
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := dead.Acquire(short, "tenant", time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the late release freed the new holder's lock: %v", err)
	}
	if err := release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := live.Acquire(ctx, "tenant", 0); err == nil {
		t.Fatal("a zero lease was accepted")
	}
}
