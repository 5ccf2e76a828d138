package redisfleet

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// opSlack is what a loaded 2-core machine (and -race) may add to an operation's timeout.
const opSlack = 400 * time.Millisecond

// fleetOps runs one call of every primitive and returns their errors by name.
func fleetOps(ctx context.Context, t *testing.T, f *Fleet, fills *atomic.Int32) map[string]error {
	t.Helper()
	b, err := f.Budget(DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	c := tokenCache(t, f)
	d, err := f.Deduper(DeduperConfig{})
	if err != nil {
		t.Fatal(err)
	}
	errs := map[string]error{}
	_, errs["Take"] = b.Take(ctx, Interactive)
	_, errs["Wait"] = b.Wait(ctx, Bulk)
	_, errs["Hold"] = b.Hold(ctx, time.Millisecond)
	_, errs["GetOrFill"] = c.GetOrFill(ctx, "tenant", countingFill(fills, 0))
	errs["Forget"] = c.Forget(ctx, "other tenant")
	var release func(context.Context) error
	release, errs["Acquire"] = f.Locks().Acquire(ctx, "tenant", time.Second)
	if release != nil {
		errs["release"] = release(ctx)
	}
	_, errs["Claim"] = d.Claim(ctx, "evt")
	errs["Complete"] = d.Complete(ctx, "evt")
	errs["Release"] = d.Release(ctx, "evt")
	return errs
}

// TestRedisStoppedAndRestarted: with redis-server gone every call returns an ErrUnavailable
// error within the operation timeout (no hang, no panic, no fill), also under concurrent load,
// and everything works again after a restart on the same port.
func TestRedisStoppedAndRestarted(t *testing.T) {
	srv := fleetSrv(t)
	const timeout = 100 * time.Millisecond
	f := fleetOn(t, srv, WithSealingKey(testSealingKey), WithOpTimeout(timeout))
	ctx := context.Background()
	var fills atomic.Int32
	for op, err := range fleetOps(ctx, t, f, &fills) {
		if err != nil {
			t.Fatalf("%s with Redis up: %v", op, err)
		}
	}

	// Background load from other replicas through the outage: no call may take much longer
	// than the timeout, whatever it answers.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var slowest atomic.Int64
	var failed, admitted atomic.Int32
	for range 4 {
		b, err := fleetOn(t, srv, WithOpTimeout(timeout)).Budget(DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				g, err := b.Take(ctx, Bulk)
				if d := int64(time.Since(start)); d > slowest.Load() {
					slowest.Store(d)
				}
				switch {
				case err == nil && g.Admitted:
					admitted.Add(1)
				case errors.Is(err, ErrUnavailable):
					failed.Add(1)
				case err != nil:
					t.Errorf("Take: %v, want nil or ErrUnavailable", err)
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	var once sync.Once
	stopLoad := func() { once.Do(func() { close(stop); wg.Wait() }) }
	defer stopLoad()

	srv.Stop()
	fillsBefore := fills.Load()
	start := time.Now()
	errs := fleetOps(ctx, t, f, &fills)
	for op, err := range errs {
		if op == "release" {
			continue // no lock was taken
		}
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s with Redis down: %v, want ErrUnavailable", op, err)
		}
	}
	// 9 calls, each bounded by the timeout.
	if took := time.Since(start); took > 9*(timeout+opSlack/4) {
		t.Errorf("the calls with Redis down took %v", took)
	}
	if fills.Load() != fillsBefore {
		t.Error("GetOrFill ran fill although Redis was down (the caller's fallback decides)")
	}
	// The caller's own cancellation is not Redis's failure.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := mustBudget(t, f).Take(cctx, Interactive); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Errorf("Take with a cancelled ctx: %v, want context.Canceled only", err)
	}
	time.Sleep(50 * time.Millisecond)

	srv.Restart()
	// go-redis notices dead pooled connections on use: allow a few failed calls, then all succeed.
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := mustBudget(t, f).Take(ctx, Interactive)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Take still failing a while after the restart: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for op, err := range fleetOps(ctx, t, f, &fills) {
		if err != nil {
			t.Errorf("%s after the restart: %v", op, err)
		}
	}
	// Let the background replicas reconnect too.
	admittedAtRestart := admitted.Load()
	for i := 0; i < 200 && admitted.Load() == admittedAtRestart; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	stopLoad()
	if admitted.Load() == admittedAtRestart {
		t.Error("the background replicas did not recover after the restart")
	}
	if failed.Load() == 0 {
		t.Error("the background replicas saw no failure: was Redis really stopped?")
	}
	if s := time.Duration(slowest.Load()); s > timeout+opSlack {
		t.Errorf("slowest Take during the outage took %v, want within the %v timeout", s, timeout)
	}
}

// TestRedisHangs: a Redis that accepts but never answers (SIGSTOP) makes calls return
// ErrUnavailable at the operation timeout, although the client's own read timeout is longer.
func TestRedisHangs(t *testing.T) {
	srv := fleetSrv(t)
	const timeout = 80 * time.Millisecond
	f := fleetOn(t, srv, WithOpTimeout(timeout))
	b := mustBudget(t, f)
	ctx := context.Background()
	if _, err := b.Take(ctx, Interactive); err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	for range 3 {
		start := time.Now()
		_, err := b.Take(ctx, Interactive)
		took := time.Since(start)
		if !errors.Is(err, ErrUnavailable) || took > timeout+opSlack {
			t.Fatalf("Take on a hung Redis: %v after %v, want ErrUnavailable within %v", err, took, timeout)
		}
	}
	srv.Resume()
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, err := b.Take(ctx, Interactive); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("Take still failing after the resume: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustBudget(t *testing.T, f *Fleet) *Budget {
	t.Helper()
	b, err := f.Budget(DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
