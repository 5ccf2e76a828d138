package redisfleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/internal/redistest"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/debitura-go/debitura/webhook"
)

// sdkSealingKey is the made-up sealing key of the SDK tests.
var sdkSealingKey = []byte("0123456789abcdef0123456789abcdef")

// sdkLimits are Debitura's windows scaled down for tests: 50 ms segments, a 500 ms sliding
// window, a 10 s "hour" and a 60 s "day".
func sdkLimits(perMinute int) debitura.Limits {
	return debitura.Limits{
		PerMinute: perMinute, PerHour: 1 << 20, PerDay: 1 << 20,
		Segment: 50 * time.Millisecond, Minute: 500 * time.Millisecond,
		Hour: 10 * time.Second, Day: time.Minute, BulkReserve: 0.25,
	}
}

// logRecorder is a slog.Handler that keeps every record's level and message.
type logRecorder struct {
	mu   sync.Mutex
	recs []string // "LEVEL message"
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Level.String()+" "+rec.Message)
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

// count returns how many records start with prefix.
func (r *logRecorder) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.recs {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// fleetClient returns a Client of baseURL with apiKey whose fleet options (limits l) run on a
// Fleet of its own go-redis client to srv.
func fleetClient(t *testing.T, srv *redistest.Server, apiKey, baseURL string, hc *http.Client, l debitura.Limits, fopts []Option, opts ...debitura.Option) *debitura.Client {
	t.Helper()
	c, _ := fleetClientOf(t, srv, apiKey, baseURL, hc, l, fopts, opts...)
	return c
}

// fleetClientOf is fleetClient that also returns the Client's Fleet.
func fleetClientOf(t *testing.T, srv *redistest.Server, apiKey, baseURL string, hc *http.Client, l debitura.Limits, fopts []Option, opts ...debitura.Option) (*debitura.Client, *Fleet) {
	t.Helper()
	f, err := New(srv.Client(t), apiKey, append([]Option{WithOpTimeout(testOpTimeout), WithSealingKey(sdkSealingKey)}, fopts...)...)
	if err != nil {
		t.Fatal(err)
	}
	fo, err := f.Options(l)
	if err != nil {
		t.Fatal(err)
	}
	all := append([]debitura.Option{debitura.WithBaseURL(baseURL)}, fo...)
	if hc != nil {
		all = append(all, debitura.WithHTTPClient(hc))
	}
	c, err := debitura.New(apiKey, append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

// A 429 met by one Client holds the other Client of the fleet (another process's, in
// production) for the server's retryAfter.
func TestSDKBudgetSharesA429(t *testing.T) {
	t.Parallel()
	srv := fleetSrv(t)
	var (
		hits    atomic.Int32
		mu      sync.Mutex
		arrived []time.Time
	)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived = append(arrived, time.Now())
		mu.Unlock()
		if hits.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":"rate_limit_exceeded","message":"Too many requests.","retryAfter":0.4}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"p1","name":"Partner"}`)
	}))
	t.Cleanup(api.Close)
	a := fleetClient(t, srv, testAPIKey, api.URL, nil, sdkLimits(1000), nil, debitura.WithMaxRetries(0))
	b := fleetClient(t, srv, testAPIKey, api.URL, nil, sdkLimits(1000), nil)

	if _, err := a.Partner.Me(t.Context()); !errors.Is(err, debitura.ErrRateLimited) {
		t.Fatalf("A: Partner.Me = %v, want the 429", err)
	}
	var resp debitura.Response
	if _, err := b.Partner.Me(t.Context(), debitura.WithResponse(&resp)); err != nil {
		t.Fatalf("B: Partner.Me = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrived) != 2 {
		t.Fatalf("the server saw %d requests, want 2 (B's only after the hold)", len(arrived))
	}
	if gap := arrived[1].Sub(arrived[0]); gap < 350*time.Millisecond {
		t.Errorf("B's request came %v after A's 429, want it held for the 400ms retryAfter", gap)
	}
	if resp.RateLimitWait < 300*time.Millisecond {
		t.Errorf("B's RateLimitWait = %v, want the shared hold", resp.RateLimitWait)
	}
}

// With a bulk load saturating its share of the shared budget on one Client, interactive calls
// on another Client are admitted within the reserve: no refusal, little wait.
func TestSDKBudgetLanes(t *testing.T) {
	t.Parallel()
	srv := fleetSrv(t)
	var served atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"p1","name":"Partner"}`)
	}))
	t.Cleanup(api.Close)
	l := sdkLimits(40) // bulk: 30 per 500 ms; interactive: the other 10
	bulk := fleetClient(t, srv, testAPIKey, api.URL, nil, l, nil, debitura.WithBulkMaxWait(2*time.Second))
	inter := fleetClient(t, srv, testAPIKey, api.URL, nil, l, nil, debitura.WithMaxRetryWait(time.Second))

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var bulkDone atomic.Int32
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := bulk.Partner.Me(ctx, debitura.WithLane(debitura.LaneBulk)); err == nil {
					bulkDone.Add(1)
				}
			}
		})
	}
	time.Sleep(600 * time.Millisecond) // the bulk lane has filled its share
	var worst time.Duration
	for i := range 8 {
		var resp debitura.Response
		if _, err := inter.Partner.Me(t.Context(), debitura.WithResponse(&resp)); err != nil {
			t.Errorf("interactive call %d: %v", i, err)
		}
		worst = max(worst, resp.RateLimitWait)
		time.Sleep(60 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if bulkDone.Load() < 30 {
		t.Errorf("the bulk load made %d calls, want it to saturate its share", bulkDone.Load())
	}
	if worst > 100*time.Millisecond {
		t.Errorf("the slowest interactive call waited %v for a slot, want it within the reserve", worst)
	}
}

// mockPair returns a mock and two Clients of it on one fleet, each with its own go-redis client.
func mockPair(t *testing.T, fopts ...Option) (*mockserver.Server, *debitura.Client, *debitura.Client, *redistest.Server) {
	t.Helper()
	srv := fleetSrv(t)
	mock := mockserver.NewTest(t)
	a := fleetClient(t, srv, mockserver.DefaultAPIKey, mock.URL, mock.Client(), debitura.DefaultLimits(), fopts)
	b := fleetClient(t, srv, mockserver.DefaultAPIKey, mock.URL, mock.Client(), debitura.DefaultLimits(), fopts)
	return mock, a, b, srv
}

func newTenant(ext string) *debitura.ClientCreateRequest {
	email := ext + "@tenant.example"
	return &debitura.ClientCreateRequest{
		ExternalTenantID: ext,
		Client:           debitura.ClientDetails{Name: "Company " + ext, Country: "DK", SupportEmail: email},
		Users:            []debitura.ClientUser{{Name: "Ann Hansen", Email: email}},
	}
}

// Tokens.Source on two Clients of the fleet mints one token per tenant in all.
func TestSDKTokenCacheOneMintPerTenant(t *testing.T) {
	t.Parallel()
	mock, a, b, _ := mockPair(t)
	tenants := []string{"tok-1", "tok-2", "tok-3"}
	for _, ext := range tenants {
		if _, err := a.Clients.Create(t.Context(), newTenant(ext)); err != nil {
			t.Fatal(err)
		}
		if err := mock.CompleteOnboarding(mockserver.DefaultAPIKey, ext); err != nil {
			t.Fatal(err)
		}
	}
	mock.ResetJournal()
	var wg sync.WaitGroup
	got := make(map[string][]string)
	var mu sync.Mutex
	for _, c := range []*debitura.Client{a, b, a, b} {
		for _, ext := range tenants {
			wg.Go(func() {
				tok, err := c.Tokens.Source(ext).Token(t.Context())
				if err != nil {
					t.Errorf("Token(%s): %v", ext, err)
					return
				}
				mu.Lock()
				got[ext] = append(got[ext], tok.AccessToken.Reveal())
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if n := mock.Count("postOauthToken"); n != len(tenants) {
		t.Errorf("POST /oauth/token sent %d times, want %d (one per tenant)", n, len(tenants))
	}
	for ext, toks := range got {
		for _, tok := range toks[1:] {
			if tok != toks[0] {
				t.Errorf("tenant %s: the Clients got different tokens", ext)
			}
		}
	}
}

// EnsureLinked for one new tenant on two Clients at once sends one POST /clients.
func TestSDKLinkLockerOneCreate(t *testing.T) {
	t.Parallel()
	mock, a, b, _ := mockPair(t)
	for round := range 3 {
		ext := fmt.Sprintf("link-%d", round)
		var wg sync.WaitGroup
		for _, c := range []*debitura.Client{a, b} {
			wg.Go(func() {
				out, err := c.Clients.EnsureLinked(t.Context(), newTenant(ext))
				if err != nil || out.State != debitura.LinkOnboardingRequired {
					t.Errorf("EnsureLinked(%s) = %v, %v; want onboarding required", ext, out, err)
				}
			})
		}
		wg.Wait()
	}
	if n := mock.Count("postClients"); n != 3 {
		t.Errorf("POST /clients sent %d times for 3 tenants, want 3", n)
	}
}

// A delivery de-duplicated on one replica is not processed again on another.
func TestSDKWebhookDeduperAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := fleetSrv(t)
	da, err := fleetOn(t, srv).WebhookDeduper(DeduperConfig{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := fleetOn(t, srv).WebhookDeduper(DeduperConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	steps := []struct {
		d    webhook.Deduper
		op   string
		want webhook.Claim
	}{
		{da, "claim", webhook.Claimed},
		{db, "claim", webhook.InFlight},
		{da, "release", 0},
		{db, "claim", webhook.Claimed},
		{db, "complete", 0},
		{da, "claim", webhook.Done},
	}
	for i, s := range steps {
		switch s.op {
		case "claim":
			got, err := s.d.Claim(ctx, "evt-1")
			if err != nil || got != s.want {
				t.Fatalf("step %d: Claim = %v, %v; want %v", i, got, err, s.want)
			}
		case "release":
			if err := s.d.Release(ctx, "evt-1"); err != nil {
				t.Fatalf("step %d: Release: %v", i, err)
			}
		case "complete":
			if err := s.d.Complete(ctx, "evt-1"); err != nil {
				t.Fatalf("step %d: Complete: %v", i, err)
			}
		}
	}
}

// Redis paused, then stopped mid-run: no call fails or hangs, one Warn is logged, and the
// adapters go back to Redis once it answers again.
func TestSDKRedisStoppedMidRun(t *testing.T) {
	t.Parallel()
	srv := fleetSrv(t)
	mock := mockserver.NewTest(t)
	rec := &logRecorder{}
	fopts := []Option{WithLogger(slog.New(rec)), WithFailover(50*time.Millisecond, time.Minute), WithOpTimeout(200 * time.Millisecond)}
	c, f := fleetClientOf(t, srv, mockserver.DefaultAPIKey, mock.URL, mock.Client(), debitura.DefaultLimits(), fopts)
	dd, err := f.WebhookDeduper(DeduperConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	work := func(phase string, i int) {
		ext := fmt.Sprintf("%s-%d", phase, i)
		if _, err := c.Clients.EnsureLinked(ctx, newTenant(ext)); err != nil {
			t.Errorf("%s: EnsureLinked: %v", phase, err)
		}
		if err := mock.CompleteOnboarding(mockserver.DefaultAPIKey, ext); err != nil && phase != "back" {
			t.Errorf("%s: CompleteOnboarding: %v", phase, err)
		}
		if _, err := c.Tokens.Source(ext).Token(ctx); err != nil {
			t.Errorf("%s: Token: %v", phase, err)
		}
		if cl, err := dd.Claim(ctx, ext); err != nil || cl != webhook.Claimed {
			t.Errorf("%s: Claim = %v, %v", phase, cl, err)
		}
	}
	work("up", 0)
	if n := rec.count("WARN"); n != 0 {
		t.Fatalf("%d Warn records while Redis was up", n)
	}

	// A Redis that hangs (paused) costs each call at most the op timeout.
	srv.Pause()
	start := time.Now()
	work("paused", 0)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the calls while Redis hung took %v, want them bounded by the op timeout", d)
	}
	srv.Resume()

	srv.Stop()
	start = time.Now()
	for i := range 4 {
		work("down", i)
		time.Sleep(60 * time.Millisecond) // past the probe interval: every round probes again
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the calls during the outage took %v, want them bounded by the op timeout", d)
	}
	if n := rec.count("WARN redisfleet"); n != 1 {
		t.Errorf("%d Warn records during the outages, want exactly 1 (one per warn interval)", n)
	}

	srv.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for rec.count("INFO redisfleet: redis answers again") == 0 && time.Now().Before(deadline) {
		work("back", 0)
		time.Sleep(60 * time.Millisecond)
	}
	if rec.count("INFO redisfleet: redis answers again") == 0 {
		t.Fatal("the adapters never went back to Redis after the restart")
	}
	// Back on Redis: the budget's counters are in Redis again.
	work("again", 0)
	if n, err := f.rdb.Exists(ctx, f.key("b", "min")).Result(); err != nil || n != 1 {
		t.Errorf("after the restart the budget's minute key exists = %d, %v; want 1", n, err)
	}
}

// Two replicas' webhook handlers on the fleet's de-dupe store: a redelivery that lands on the
// other replica is acknowledged without running the handler again.
func TestSDKWebhookHandlersAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := fleetSrv(t)
	const secret = "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMDA=" // Base64, made up
	var ran atomic.Int32
	handler := func() http.Handler {
		d, err := fleetOn(t, srv).WebhookDeduper(DeduperConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return webhook.Handler(secret, func(context.Context, *webhook.Event) error {
			ran.Add(1)
			return nil
		}, webhook.WithDeduper(d))
	}
	replicas := []http.Handler{handler(), handler()}
	body := []byte(`{"id":"evt-redelivered","specVersion":"1.0","event":"client.linked","data":{"externalTenantId":"t-1"}}`)
	for i, h := range []http.Handler{replicas[0], replicas[1], replicas[1]} {
		sig, err := webhook.Sign(secret, time.Now(), body)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(string(body)))
		req.Header.Set(webhook.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			t.Fatalf("delivery %d: status %d, want 2xx", i, rec.Code)
		}
	}
	if n := ran.Load(); n != 1 {
		t.Errorf("the handler ran %d times for one event delivered three times to two replicas, want 1", n)
	}
}
