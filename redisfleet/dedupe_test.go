package redisfleet

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestDeduperSemantics follows the in-memory WebhookDeduper's semantics across two replicas.
func TestDeduperSemantics(t *testing.T) { deduperSemantics(t, onServer(t)) }

func deduperSemantics(t *testing.T, fleet fleetFunc) {
	ctx := context.Background()
	newD := func(cfg DeduperConfig) *Deduper {
		d, err := fleet(t).Deduper(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b := newD(DeduperConfig{}), newD(DeduperConfig{})
	claim := func(d *Deduper, id string, want Claim) {
		t.Helper()
		got, err := d.Claim(ctx, id)
		if err != nil || got != want {
			t.Fatalf("Claim(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	claim(a, "evt_1", Claimed)
	claim(b, "evt_1", InProgress)
	must(a.Release(ctx, "evt_1")) // processing failed: a redelivery runs again
	claim(b, "evt_1", Claimed)
	must(b.Complete(ctx, "evt_1"))
	claim(a, "evt_1", Done)
	must(a.Release(ctx, "evt_1")) // a Release never forgets a processed id
	claim(b, "evt_1", Done)
	must(a.Complete(ctx, "evt_2")) // Complete without a claim marks it done, as in memory
	claim(b, "evt_2", Done)

	// Of concurrent claims from several replicas, exactly one wins.
	var won atomic.Int32
	ds := make([]*Deduper, 8)
	for i := range ds {
		ds[i] = newD(DeduperConfig{})
	}
	onReplicas(len(ds), func(i int) {
		if c, err := ds[i].Claim(ctx, "evt_3"); err != nil {
			t.Error(err)
		} else if c == Claimed {
			won.Add(1)
		}
	})
	if won.Load() != 1 {
		t.Fatalf("%d concurrent claims won, want 1", won.Load())
	}

	// The processing lease ends (the replica died mid-event) and the done-retention ends.
	short := newD(DeduperConfig{ProcessingLease: 50 * time.Millisecond, DoneRetention: 50 * time.Millisecond})
	claim(short, "evt_4", Claimed)
	must(short.Complete(ctx, "evt_5"))
	time.Sleep(80 * time.Millisecond)
	claim(short, "evt_4", Claimed)
	claim(short, "evt_5", Claimed)

	if _, err := fleet(t).Deduper(DeduperConfig{ProcessingLease: time.Microsecond}); err == nil {
		t.Fatal("a sub-millisecond lease was accepted")
	}
}
