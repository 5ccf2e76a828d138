package debitura_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/internal/testenv"
	"github.com/debitura-go/debitura/mockserver"
)

const (
	// soakRequests is the number of SDK calls of the long soak (DEBITURA_LONG_TESTS set, as in
	// .ci/run): 100,000 in a plain run. Under the race detector (about 5-10x slower per request,
	// and CI runs `go test -race` on 2 cores) it is scaled down to soakRaceRequests so that the
	// suite stays within its time budget. A default `go test` runs soakShortRequests, which keeps
	// the suite within its 60 s budget (CONTRIBUTING.md). The concurrency (32 goroutines) and the
	// mix are the same in every size, so races and leaks are still exercised.
	soakRequests      = 100_000
	soakRaceRequests  = 20_000
	soakShortRequests = 3_000
	soakWorkers       = 32
	soakClients       = 40
	// soakBudget bounds the load phase; the soak fails when it takes longer.
	soakBudget = 90 * time.Second
	// soakHeapSlack is how far HeapAlloc after Reset may stay above the baseline taken before
	// the load. What legitimately remains is runtime and library caches (sync.Pools of
	// net/http and encoding/json, timer heaps): measured at about 0.2 MiB. The load itself
	// holds about 28 MiB (mostly the mock's 100,000-entry journal and the Create-repeat
	// bodies) until Reset, so a Reset that kept the journal or state, or per-request SDK state
	// that leaked, would overshoot by far more than 8 MiB, while GC noise stays well below it.
	// Under -race the load is 20,000 calls (about 7 MiB held), so this check has teeth in the
	// normal run only; the goroutine check is as strict in both.
	soakHeapSlack = 8 << 20
)

// TestSoak drives one mock with 100,000 mixed SDK calls from 32 goroutines (reads, repeated
// creates, token mints, profiles, partner reads), then checks that every call succeeded in time,
// that the heap returns to its baseline after the mock's Reset, and that no goroutine leaks once
// the SDK's idle connections and the mock are closed. It is not parallel: it measures the
// process's goroutines and heap, which parallel tests would disturb.
func TestSoak(t *testing.T) {
	total := soakRequests
	switch {
	case !testenv.Long():
		total = soakShortRequests
		t.Logf("short soak of %d calls; set %s=1 for the full one", total, testenv.LongEnv)
	case soakRaceEnabled:
		total = soakRaceRequests
	}

	goroutinesBefore := runtime.NumGoroutine()
	srv := mockserver.New(mockserver.WithSeed(99), mockserver.WithRateLimit(mockserver.RateLimitConfig{Disabled: true}))
	closed := false
	defer func() {
		if !closed {
			srv.Close()
		}
	}()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = soakWorkers * 2 // keep-alive for every worker: no port churn
	c := newContractClient(t, mockserver.DefaultAPIKey, srv.URL, &http.Client{Transport: tr, Timeout: 10 * time.Second},
		debitura.WithMaxRetries(2), debitura.WithMaxRetryWait(200*time.Millisecond),
		// The mock's rate limit is off, so the Client's budget must not enforce Debitura's.
		debitura.WithLimits(unlimited()))
	ctx, cancel := context.WithTimeout(t.Context(), soakBudget)
	defer cancel()

	exts := make([]string, soakClients)
	for i := range exts {
		exts[i] = fmt.Sprintf("soak-%03d", i)
		if _, err := c.Clients.Create(ctx, createReq(exts[i], "")); err != nil {
			t.Fatalf("setup Create: %v", err)
		}
		if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, exts[i]); err != nil {
			t.Fatalf("setup CompleteOnboarding: %v", err)
		}
	}
	srv.ResetJournal()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapAlloc

	ops := []struct {
		name string
		call func(ctx context.Context, ext string) error
	}{
		{"Get", func(ctx context.Context, ext string) error { _, err := c.Clients.Get(ctx, ext); return err }},
		{"List", func(ctx context.Context, _ string) error {
			_, err := c.Clients.List(ctx, &debitura.ClientListOptions{PageSize: 10})
			return err
		}},
		{"Create-repeat", func(ctx context.Context, ext string) error {
			_, err := c.Clients.Create(ctx, createReq(ext, ""))
			return err
		}},
		{"Mint", func(ctx context.Context, ext string) error { _, err := c.Tokens.Mint(ctx, ext); return err }},
		{"Profile", func(ctx context.Context, ext string) error { _, err := c.Clients.Profile(ctx, ext); return err }},
		{"Me", func(ctx context.Context, _ string) error { _, err := c.Partner.Me(ctx); return err }},
		{"IsDeletable", func(ctx context.Context, ext string) error {
			_, err := c.Clients.IsDeletable(ctx, ext)
			return err
		}},
	}
	var (
		next     atomic.Int64
		failures atomic.Int64
		firstErr sync.Once
		perOp    = make([]atomic.Int64, len(ops))
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range soakWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(total) || ctx.Err() != nil {
					return
				}
				k := int(i % int64(len(ops)))
				if err := ops[k].call(ctx, exts[int(i/int64(len(ops)))%len(exts)]); err != nil {
					failures.Add(1)
					firstErr.Do(func() { t.Errorf("%s: %v", ops[k].name, err) })
					continue
				}
				perOp[k].Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("the soak did not finish within %s: %d of %d calls started", soakBudget, next.Load(), total)
	}
	done := int64(0)
	for k := range ops {
		done += perOp[k].Load()
	}
	t.Logf("soak: %d calls (%d failed) from %d goroutines in %s: %.0f calls/s (race detector: %v)",
		total, failures.Load(), soakWorkers, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), soakRaceEnabled)
	if failures.Load() != 0 || done != int64(total) {
		t.Errorf("%d calls failed, %d succeeded, want %d successes", failures.Load(), done, total)
	}
	// Every call reached the mock exactly once (no retries were needed), and the repeated
	// creates created nothing.
	var served int
	for _, n := range srv.Counts() {
		served += n
	}
	if served != total {
		t.Errorf("the mock served %d requests, want %d", served, total)
	}
	if n := srv.EffectCount(mockserver.EffectClientCreated); n != 0 {
		t.Errorf("repeated creates created %d clients", n)
	}

	runtime.GC()
	runtime.ReadMemStats(&ms)
	heapLoaded := ms.HeapAlloc

	// Memory: Reset drops the state and the 100,000-entry journal; with the SDK's idle
	// connections closed the heap must come back to the baseline.
	srv.Reset()
	tr.CloseIdleConnections()
	var heapAfter uint64
	for range 5 { // GC twice per round: finalizers and pooled objects go in the second cycle
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heapAfter = ms.HeapAlloc
		if heapAfter <= heapBefore+soakHeapSlack {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("soak heap: baseline %.1f MiB, after the load %.1f MiB, after Reset %.1f MiB (slack %d MiB)",
		mib(heapBefore), mib(heapLoaded), mib(heapAfter), soakHeapSlack>>20)
	if heapAfter > heapBefore+soakHeapSlack {
		t.Errorf("heap after Reset %.1f MiB, baseline %.1f MiB: more than %d MiB above", mib(heapAfter), mib(heapBefore), soakHeapSlack>>20)
	}

	// Goroutines: close the mock (it waits for its handlers) and the SDK's idle connections,
	// then the count must come back to what it was before the mock started.
	srv.Close()
	closed = true
	tr.CloseIdleConnections()
	var goroutinesAfter int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		goroutinesAfter = runtime.NumGoroutine()
		if goroutinesAfter <= goroutinesBefore || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("soak goroutines: %d before, %d after", goroutinesBefore, goroutinesAfter)
	if goroutinesAfter > goroutinesBefore {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before, %d after closing everything:\n%s", goroutinesBefore, goroutinesAfter, buf[:runtime.Stack(buf, true)])
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// unlimited returns budget limits no test reaches, for Clients of a mock whose rate limit is
// off.
func unlimited() debitura.Limits {
	l := debitura.DefaultLimits()
	l.PerMinute, l.PerHour, l.PerDay = 1<<30, 1<<30, 1<<30
	return l
}
