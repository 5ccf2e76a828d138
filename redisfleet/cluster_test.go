package redisfleet

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/debitura-go/debitura/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// TestFleetOnRedisCluster runs every primitive on a real 3-master Redis Cluster, through
// go-redis's cluster client, with the assertions of the single-server tests (which take the Redis
// they run on), and checks the claim of the package doc: every key of a fleet lives in one slot,
// so no script meets CROSSSLOT.
func TestFleetOnRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	fleet := func(t *testing.T, opts ...Option) *Fleet { t.Helper(); return fleetOnClient(t, cl.Client(t), opts...) }

	t.Run("one slot", func(t *testing.T) {
		// A prefix of its own keeps the other subtests' keys out of its namespace.
		f := fleet(t, WithSealingKey(testSealingKey), WithPrefix("layout"))
		useEveryPrimitive(t, f)
		keys, nodes := scanCluster(t, f.rdb.(*redis.ClusterClient), f.Namespace()+"*")
		checkKeyLayout(t, f, keys)
		if len(nodes) != 1 {
			t.Errorf("the fleet's keys are on %d nodes %q, want 1", len(nodes), nodes)
		}
		ctx := context.Background()
		want, err := f.rdb.ClusterKeySlot(ctx, hashTag(f.Namespace())).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if slot, err := f.rdb.ClusterKeySlot(ctx, k).Result(); err != nil || slot != want {
				t.Errorf("key %q: CLUSTER KEYSLOT = %d, %v; want the hash tag's slot %d", k, slot, err, want)
			}
		}
	})
	t.Run("budget windows", func(t *testing.T) {
		for _, tt := range budgetCases() { // one API key each: their slots are spread over the nodes
			t.Run(tt.name, func(t *testing.T) { tt.run(t, cl.Client(t)) })
		}
	})
	t.Run("gate", func(t *testing.T) { gateShared(t, fleet) })
	// On the fake clock: a prefix of its own keeps the gate subtest's real-time hold out.
	t.Run("holders", func(t *testing.T) { holdersAndCredit(t, fleet(t, WithPrefix("holders"))) })
	t.Run("token cache one refresher", func(t *testing.T) { tokenCacheOneRefresher(t, fleet) })
	t.Run("token cache sealing", func(t *testing.T) { tokenCacheSealing(t, fleet) })
	t.Run("lock", func(t *testing.T) { lockExclusive(t, fleet) })
	t.Run("deduper", func(t *testing.T) { deduperSemantics(t, fleet) })
}

// scanCluster returns the keys matching pattern on every master of c (SCAN on each), and the
// addresses of the masters that hold any.
func scanCluster(t *testing.T, c *redis.ClusterClient, pattern string) (keys, nodes []string) {
	t.Helper()
	var mu sync.Mutex
	err := c.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		var found []string
		it := m.Scan(ctx, 0, pattern, 100).Iterator()
		for it.Next(ctx) {
			found = append(found, it.Val())
		}
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, found...)
		if len(found) > 0 {
			nodes = append(nodes, m.Options().Addr)
		}
		return it.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys, nodes
}

// holdersAndCredit checks the holders' heartbeat (b:holders) and the credit of a fallback's
// admissions to the shared windows (the minute, hour and day in one script), on the fake clock.
func holdersAndCredit(t *testing.T, f *Fleet) {
	l := scaledLimits()
	l.PerMinute, l.PerHour = 3, 5
	b, clock := budgetOnFakeClock(t, f, l)
	ctx := context.Background()
	beat := func(id string, wantN int, wantAdded bool) {
		t.Helper()
		n, added, err := b.beat(ctx, id, time.Second)
		if err != nil || n != wantN || added != wantAdded {
			t.Fatalf("beat(%s) = %d, %v, %v; want %d, %v", id, n, added, err, wantN, wantAdded)
		}
	}
	clock.set(clockBase)
	beat("a", 1, true)
	beat("b", 2, true)
	beat("a", 2, false)
	clock.set(clockBase.Add(2 * time.Second)) // both entries ran out: a's is new again
	beat("a", 1, true)

	// A fallback admitted 3 in the current segment: the minute is full, then the hour.
	var c counts
	now := clockBase.Add(2 * time.Second)
	for range 3 {
		c.add(now.UnixMicro(), l)
	}
	if err := b.credit(ctx, c); err != nil {
		t.Fatal(err)
	}
	take := func(at time.Duration, want Window) {
		t.Helper()
		clock.set(now.Add(at))
		g, err := b.Take(ctx, Interactive)
		if err != nil || g.Admitted != (want == WindowNone) || g.Window != want {
			t.Fatalf("Take at +%v = %+v, %v; want window %v", at, g, err, want)
		}
	}
	take(0, WindowMinute)
	take(600*time.Millisecond, WindowNone) // the credited segment slid out; the hour has 4
	take(600*time.Millisecond, WindowNone)
	take(600*time.Millisecond, WindowHour)
}
