package redisfleet

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/debitura-go/debitura/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// TestMain silences go-redis's package logger, which prints every failed dial of the outage
// tests to stderr.
func TestMain(m *testing.M) {
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// testAPIKey is a made-up API key; tests check it never reaches Redis or output.
const testAPIKey = "dbt_live_TESTKEY-0123456789abcdef"

// newFleet starts a redis-server for t and returns a Fleet on a client of its own.
func newFleet(t *testing.T, opts ...Option) (*Fleet, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	return fleetOn(t, srv, opts...), srv
}

// fleetSrv starts a redis-server for t.
func fleetSrv(t *testing.T) *redistest.Server { t.Helper(); return redistest.Start(t) }

// testOpTimeout replaces the 100 ms default in tests that are not about timeouts: a loaded
// 2-core machine under -race can take longer than that for a first dial.
const testOpTimeout = 2 * time.Second

// fleetOn returns a Fleet on a new client (new connections) to srv, with testOpTimeout unless
// opts set another.
func fleetOn(t *testing.T, srv *redistest.Server, opts ...Option) *Fleet {
	t.Helper()
	return fleetOnClient(t, srv.Client(t), opts...)
}

// fleetOnClient returns testAPIKey's Fleet on rdb, with testOpTimeout unless opts set another.
func fleetOnClient(t *testing.T, rdb redis.UniversalClient, opts ...Option) *Fleet {
	t.Helper()
	f, err := New(rdb, testAPIKey, append([]Option{WithOpTimeout(testOpTimeout)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// fleetFunc returns testAPIKey's Fleet on a new client (new connections, as another replica
// would have) to one Redis deployment: a single server (onServer) or a cluster
// (TestFleetOnRedisCluster). Tests written against a fleetFunc run on both.
type fleetFunc func(t *testing.T, opts ...Option) *Fleet

// onServer starts a redis-server for t and returns the fleetFunc of it.
func onServer(t *testing.T) fleetFunc {
	t.Helper()
	srv := fleetSrv(t)
	return func(t *testing.T, opts ...Option) *Fleet { t.Helper(); return fleetOn(t, srv, opts...) }
}

// scaledLimits are small windows for tests: 100 ms segments, a 600 ms sliding window, a 2 s
// "hour" and a 6 s "day", with large limits that the test lowers where it needs to.
func scaledLimits() Limits {
	return Limits{
		PerMinute: 1000, PerHour: 1000, PerDay: 1000,
		Segment: 100 * time.Millisecond, Minute: 600 * time.Millisecond,
		Hour: 2 * time.Second, Day: 6 * time.Second,
		BulkReserve: DefaultBulkReserve,
	}
}

// onReplicas runs f(0) … f(n-1) on n goroutines at once, as n replicas racing for one shared
// thing would, and waits for them all.
func onReplicas(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}
