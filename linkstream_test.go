package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// endless is an input sequence that never ends; pulled counts the inputs read from it.
func endless(prefix string, pulled *int) iter.Seq[*debitura.ClientCreateRequest] {
	return func(yield func(*debitura.ClientCreateRequest) bool) {
		for i := 0; ; i++ {
			*pulled++
			if !yield(createReq(fmt.Sprintf("%s-%05d", prefix, i), "")) {
				return
			}
		}
	}
}

// TestLinkStreamLazy: the stream reads its input only as it has room (constant memory: an
// endless input works), delivers results as they settle, and a break stops it for good.
func TestLinkStreamLazy(t *testing.T) {
	t.Parallel()
	srv, c := setupMock(t)
	const conc, want = 4, 25
	pulled := 0
	var got []int
	for r, err := range c.Clients.LinkStream(t.Context(), endless("lazy", &pulled), &debitura.LinkStreamOptions{Concurrency: conc}) {
		if err != nil {
			t.Fatalf("LinkStream yielded error %v", err)
		}
		if r.Err != nil || r.Outcome == nil || r.Outcome.State != debitura.LinkOnboardingRequired {
			t.Fatalf("result %d = %+v, %v; want onboarding required", r.Index, viewOf(r.Outcome), r.Err)
		}
		if pulled > len(got)+1+2*conc {
			t.Fatalf("after %d results the stream had read %d inputs; want at most %d (results + in flight + waiting)", len(got), pulled, len(got)+1+2*conc)
		}
		got = append(got, r.Index)
		if len(got) == want {
			break
		}
	}
	slices.Sort(got)
	if len(got) != want || len(slices.Compact(slices.Clone(got))) != want || got[want-1] >= pulled {
		t.Errorf("indices %v: want %d distinct indices below %d (the inputs read)", got, want, pulled)
	}
	// Requests cut short by the break may still reach the mock's journal a moment later.
	time.Sleep(50 * time.Millisecond)
	posts := srv.Count(mockserver.OpPostClients)
	if posts > pulled || posts < want {
		t.Errorf("POST /clients = %d, want between %d and %d (the inputs read)", posts, want, pulled)
	}
	time.Sleep(100 * time.Millisecond)
	if again := srv.Count(mockserver.OpPostClients); again != posts {
		t.Errorf("POST /clients went from %d to %d after the loop ended: the stream outlived its loop", posts, again)
	}
}

// TestLinkStreamInputs: invalid inputs are yielded with their error and not sent, a duplicate of
// an input in flight shares its request, every input is yielded once with its Index, and bad
// options yield one error before reading anything.
func TestLinkStreamInputs(t *testing.T) {
	t.Parallel()
	srv, c := setupMock(t)
	// Slow answers keep the first "dup" in flight while its repeats are read (two leaders leave
	// room for a third, so every input is read before the first answer).
	srv.InjectFault(mockserver.Fault{Operation: mockserver.OpPostClients, Latency: 100 * time.Millisecond})
	bad := createReq("bad", "")
	bad.Client.Country = ""
	in := []*debitura.ClientCreateRequest{
		createReq("dup", ""), createReq("dup", ""), nil, bad, createReq("other", ""), createReq("dup", ""),
	}
	type row struct {
		Index     int
		Ext       string
		State     debitura.LinkState
		Invalid   bool
		Duplicate bool
	}
	var got []row
	var progress []debitura.LinkProgress
	opts := &debitura.LinkStreamOptions{Concurrency: 3, Total: len(in), Progress: func(p debitura.LinkProgress) { progress = append(progress, p) }}
	for r, err := range c.Clients.LinkStream(t.Context(), slices.Values(in), opts) {
		if err != nil {
			t.Fatalf("LinkStream yielded error %v", err)
		}
		rw := row{Index: r.Index, Ext: r.ExternalTenantID, Invalid: errors.Is(r.Err, debitura.ErrValidation), Duplicate: r.Duplicate}
		if r.Outcome != nil {
			rw.State = r.Outcome.State
		}
		got = append(got, rw)
	}
	slices.SortFunc(got, func(a, b row) int { return a.Index - b.Index })
	on := debitura.LinkOnboardingRequired
	want := []row{
		{0, "dup", on, false, false}, {1, "dup", on, false, true}, {2, "", 0, true, false},
		{3, "bad", 0, true, false}, {4, "other", on, false, false}, {5, "dup", on, false, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results by index (-want +got):\n%s", diff)
	}
	if n := srv.Count(mockserver.OpPostClients); n != 2 {
		t.Errorf("POST /clients = %d, want 2 (one per distinct valid tenant)", n)
	}
	if len(progress) != len(in) || progress[len(progress)-1].Done != len(in) || progress[len(progress)-1].Total != len(in) ||
		progress[len(progress)-1].Failed != 2 || progress[len(progress)-1].OnboardingRequired != 4 {
		t.Errorf("progress = %+v, want %d calls ending at Done=Total=%d, Failed 2, OnboardingRequired 4", progress, len(in), len(in))
	}

	t.Run("bad options", func(t *testing.T) {
		for _, o := range []*debitura.LinkStreamOptions{{Concurrency: debitura.MaxLinkConcurrency + 1}, {MaxWait: -time.Second}, {MaxWait: debitura.MaxLinkWait + 1}, {Total: -1}} {
			pulled, n := 0, 0
			for r, err := range c.Clients.LinkStream(t.Context(), endless("opts", &pulled), o) {
				n++
				if !errors.Is(err, debitura.ErrValidation) || r.Index != -1 {
					t.Errorf("%+v: yielded %+v, %v; want Index -1 and ErrValidation", o, r, err)
				}
			}
			if n != 1 || pulled != 0 {
				t.Errorf("%+v: %d pairs yielded, %d inputs read; want 1 and 0", o, n, pulled)
			}
		}
	})
}

// TestLinkStreamCancel: when ctx ends, the stream yields what was in flight, then one error
// wrapping ctx's error, and reads no more input.
func TestLinkStreamCancel(t *testing.T) {
	t.Parallel()
	srv, c := setupMock(t)
	srv.InjectFault(mockserver.Fault{Operation: mockserver.OpPostClients, Latency: 30 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pulled, results := 0, 0
	var last error
	start := time.Now()
	for r, err := range c.Clients.LinkStream(ctx, endless("cancel", &pulled), &debitura.LinkStreamOptions{Concurrency: 4}) {
		if err != nil {
			if r.Index != -1 {
				t.Errorf("error pair has Index %d, want -1", r.Index)
			}
			last = err
			continue
		}
		if last != nil {
			t.Errorf("a result came after the stream's error")
		}
		results++
		if results == 6 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("last error = %v, want context.Canceled", last)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stream took %v to stop after cancel", d)
	}
	if results > pulled || pulled > results+4+4+1 {
		t.Errorf("%d results, %d inputs read: want every read input yielded and no reading after cancel", results, pulled)
	}
}

// TestLinkStreamSitsThroughWindow: a window wait longer than WithMaxRetryWait is sat through
// (reported through Progress) when MaxWait allows it, instead of failing the inputs; without
// MaxWait the inputs that meet it fail with ErrRateLimited, as before. LinkMany passes its
// MaxWait on.
func TestLinkStreamSitsThroughWindow(t *testing.T) {
	t.Parallel()
	// An hour-like fixed window scaled down: 6 requests per 400 ms, while the Client sleeps at
	// most 10 ms itself, so each new window is a wait it refuses.
	window := mockserver.WithRateLimit(mockserver.RateLimitConfig{Windows: []mockserver.RateWindow{{Limit: 6, Period: 400 * time.Millisecond}}})
	const n = 15
	reqs := func(prefix string) []*debitura.ClientCreateRequest {
		var r []*debitura.ClientCreateRequest
		for i := range n {
			r = append(r, createReq(fmt.Sprintf("%s-%02d", prefix, i), ""))
		}
		return r
	}
	run := func(t *testing.T, maxWait time.Duration, many bool) (failed, rateLimited int, waits []debitura.LinkProgress) {
		srv := mockserver.NewTest(t, window)
		c := newContractClient(t, mockserver.DefaultAPIKey, srv.URL, srv.Client(), debitura.WithMaxRetryWait(10*time.Millisecond))
		progress := func(p debitura.LinkProgress) {
			if p.WaitStarted {
				waits = append(waits, p)
			}
		}
		var results []debitura.LinkResult
		if many {
			var err error
			results, err = c.Clients.LinkMany(t.Context(), reqs("many"), &debitura.LinkManyOptions{MaxWait: maxWait, Progress: progress})
			if err != nil {
				t.Fatalf("LinkMany: %v", err)
			}
		} else {
			for r, err := range c.Clients.LinkStream(t.Context(), slices.Values(reqs("stream")), &debitura.LinkStreamOptions{MaxWait: maxWait, Progress: progress}) {
				if err != nil {
					t.Fatalf("LinkStream yielded error %v", err)
				}
				results = append(results, r)
			}
		}
		if len(results) != n {
			t.Fatalf("%d results, want %d", len(results), n)
		}
		for _, r := range results {
			if r.Err != nil {
				failed++
				if errors.Is(r.Err, debitura.ErrRateLimited) {
					rateLimited++
				}
			}
		}
		return failed, rateLimited, waits
	}
	for _, many := range []bool{false, true} {
		t.Run(fmt.Sprintf("LinkMany=%v", many), func(t *testing.T) {
			t.Parallel()
			failed, _, waits := run(t, time.Second, many)
			if failed != 0 {
				t.Errorf("with MaxWait 1s: %d inputs failed, want 0 (the window waits are sat through)", failed)
			}
			if len(waits) == 0 {
				t.Fatalf("with MaxWait 1s: no wait was reported through Progress")
			}
			for _, w := range waits {
				if w.Waiting <= 0 || w.Waiting > 400*time.Millisecond || w.WaitUntil.IsZero() || w.Last.Index != -1 {
					t.Errorf("wait progress = %+v, want 0 < Waiting <= 400ms, WaitUntil set, Last.Index -1", w)
				}
			}
			failed, rateLimited, waits := run(t, 0, many)
			if failed == 0 || rateLimited != failed || len(waits) != 0 {
				t.Errorf("without MaxWait: %d failed (%d rate-limited), %d waits; want some inputs failed with ErrRateLimited and no waits", failed, rateLimited, len(waits))
			}
		})
	}
}

// TestLinkStreamRefusesWithResponse: like LinkMany, the stream takes no WithResponse.
func TestLinkStreamRefusesWithResponse(t *testing.T) {
	t.Parallel()
	_, c := setupMock(t)
	var resp debitura.Response
	for r, err := range c.Clients.LinkStream(t.Context(), slices.Values([]*debitura.ClientCreateRequest{createReq("x", "")}), nil, debitura.WithResponse(&resp)) {
		if !errors.Is(err, debitura.ErrValidation) || r.Index != -1 {
			t.Errorf("yielded %+v, %v; want ErrValidation", r, err)
		}
	}
}

// TestLinkStreamSlidingWindow: under a sliding window (the documented minute's shape, scaled
// to 20 per 300 ms in six segments) that the Client's budget knows (WithLimits, no reserve), a
// stream whose waits exceed WithMaxRetryWait sits through them and links every input. (A few
// 429s can remain: a request the budget admits at the end of a 50 ms segment may reach the mock
// in the next one; they are retried, and the count is only logged.)
func TestLinkStreamSlidingWindow(t *testing.T) {
	t.Parallel()
	srv := mockserver.NewTest(t, mockserver.WithRateLimit(mockserver.RateLimitConfig{Windows: []mockserver.RateWindow{
		{Limit: 20, Period: 300 * time.Millisecond, Segments: 6},
		{Limit: 1000, Period: time.Hour},
	}}))
	limits := debitura.Limits{PerMinute: 20, Segment: 50 * time.Millisecond, Minute: 300 * time.Millisecond,
		PerHour: 1000, Hour: time.Hour, PerDay: 10000, Day: 24 * time.Hour}
	c := newContractClient(t, mockserver.DefaultAPIKey, srv.URL, srv.Client(),
		debitura.WithMaxRetryWait(10*time.Millisecond), debitura.WithLimits(limits))
	const n = 50
	reqs := make([]*debitura.ClientCreateRequest, n)
	for i := range reqs {
		reqs[i] = createReq(fmt.Sprintf("sliding-%02d", i), "")
	}
	waits, linked := 0, 0
	opts := &debitura.LinkStreamOptions{MaxWait: time.Second, Progress: func(p debitura.LinkProgress) {
		if p.WaitStarted {
			waits++
		}
	}}
	start := time.Now()
	for r, err := range c.Clients.LinkStream(t.Context(), slices.Values(reqs), opts) {
		if err != nil {
			t.Fatalf("LinkStream yielded error %v", err)
		}
		if r.Err != nil {
			t.Errorf("input %d: %v", r.Index, r.Err)
			continue
		}
		linked++
	}
	// 20 at once, 20 when the first segment leaves (300 ms), the last 10 at 600 ms.
	if d := time.Since(start); d < 550*time.Millisecond {
		t.Errorf("50 inputs under 20 per 300 ms took %v; the windows allow no less than ~600 ms", d)
	}
	if linked != n || waits == 0 {
		t.Errorf("linked %d of %d, %d waits reported; want all linked and some waits", linked, n, waits)
	}
	t.Logf("%d waits reported, %d answers 429", waits, count429(srv))
}
