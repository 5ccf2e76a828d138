package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// otherPartnerKey is the key of a second partner, for creditors linked to someone else.
const otherPartnerKey = "mock_linking_other_partner"

// withOtherPartner seeds the mock with the partner of otherPartnerKey.
func withOtherPartner() mockserver.Option {
	return mockserver.WithPartner(mockserver.PartnerSpec{APIKey: otherPartnerKey, CompanyName: "Other Partner A/S"})
}

// linkView is what the tests compare of an outcome.
type linkView struct {
	State         debitura.LinkState
	ClientExt     string // Client.ExternalTenantID, "" for a nil Client
	OnboardingURL string
	ApprovalURL   string
}

func viewOf(o *debitura.LinkOutcome) linkView {
	if o == nil {
		return linkView{}
	}
	v := linkView{State: o.State, OnboardingURL: o.OnboardingURL, ApprovalURL: o.ApprovalURL}
	if o.Client != nil {
		v.ClientExt = o.Client.ExternalTenantID
		if v.ClientExt == "" {
			v.ClientExt = "<client without id>"
		}
	}
	return v
}

// wantOnboarding is the view of an outcome that needs onboarding at the link's page.
func wantOnboarding(t *testing.T, srv *mockserver.Server, ext string) linkView {
	info, err := srv.LinkedClient(mockserver.DefaultAPIKey, ext)
	if err != nil {
		t.Fatalf("LinkedClient(%q): %v", ext, err)
	}
	return linkView{State: debitura.LinkOnboardingRequired, ClientExt: ext,
		OnboardingURL: srv.URL + "/onboarding/companydetails/" + info.LinkID}
}

// seedLinked returns a seed that creates the request's client (onboarded or not) and then
// clears the journal.
func seedLinked(onboarded bool) func(t *testing.T, srv *mockserver.Server, c *debitura.Client, ext, email string) {
	return func(t *testing.T, srv *mockserver.Server, c *debitura.Client, ext, email string) {
		if _, err := c.Clients.Create(t.Context(), createReq(ext, email)); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if onboarded {
			if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, ext); err != nil {
				t.Fatalf("CompleteOnboarding: %v", err)
			}
		}
		srv.ResetJournal()
	}
}

func TestEnsureLinked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// seed prepares the mock; ext and email are the request's.
		seed func(t *testing.T, srv *mockserver.Server, c *debitura.Client, ext, email string)
		// want builds the expected view (it may read the mock).
		want         func(t *testing.T, srv *mockserver.Server, ext string) linkView
		wantGet      []int // statuses of GET /clients/{id} in the journal
		wantPost     []int // statuses of POST /clients
		wantCreated  int   // EffectCount(client.created)
		wantApproval bool  // ApprovalURL must be an approval page of the mock
	}{
		{
			name:        "new tenant needs onboarding",
			want:        wantOnboarding,
			wantGet:     []int{404},
			wantPost:    []int{202},
			wantCreated: 1,
		},
		{
			name: "linked and onboarded is ready without a POST",
			seed: seedLinked(true),
			want: func(t *testing.T, srv *mockserver.Server, ext string) linkView {
				return linkView{State: debitura.LinkReady, ClientExt: ext}
			},
			wantGet: []int{200},
		},
		{
			name:    "linked but not onboarded gets the URL from GET",
			seed:    seedLinked(false),
			want:    wantOnboarding,
			wantGet: []int{200},
		},
		{
			name: "existing unlinked Debitura creditor needs approval",
			seed: func(t *testing.T, srv *mockserver.Server, c *debitura.Client, ext, email string) {
				addCreditor(t, srv, email, "")
			},
			want: func(t *testing.T, srv *mockserver.Server, ext string) linkView {
				return linkView{State: debitura.LinkApprovalRequired}
			},
			wantGet:      []int{404},
			wantPost:     []int{409},
			wantApproval: true,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setupMock(t)
			ext, email := fmt.Sprintf("tenant-%d", i), fmt.Sprintf("owner%d@customer%d.example", i, i)
			if tt.seed != nil {
				tt.seed(t, srv, c, ext, email)
			}
			got, err := c.Clients.EnsureLinked(t.Context(), createReq(ext, email))
			if err != nil {
				t.Fatalf("EnsureLinked(%q) error = %v", ext, err)
			}
			want := tt.want(t, srv, ext)
			gotView := viewOf(got)
			if tt.wantApproval {
				if !strings.HasPrefix(got.ApprovalURL, srv.URL+"/ReferralPartner/Approve?token=") {
					t.Errorf("EnsureLinked(%q).ApprovalURL = %q, want an approval page of the mock", ext, got.ApprovalURL)
				}
				want.ApprovalURL = got.ApprovalURL
			}
			if diff := cmp.Diff(want, gotView); diff != "" {
				t.Errorf("EnsureLinked(%q) outcome mismatch (-want +got):\n%s", ext, diff)
			}
			if diff := cmp.Diff(tt.wantGet, statuses(srv, mockserver.OpGetClient)); diff != "" {
				t.Errorf("GET /clients/{id} statuses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPost, statuses(srv, mockserver.OpPostClients)); diff != "" {
				t.Errorf("POST /clients statuses (-want +got):\n%s", diff)
			}
			if got := srv.EffectCount(mockserver.EffectClientCreated); got != tt.wantCreated {
				t.Errorf("EffectCount(%s) = %d, want %d", mockserver.EffectClientCreated, got, tt.wantCreated)
			}
		})
	}
}

// TestEnsureLinkedJourneys follows a client through its states: new -> onboarding -> ready, and
// existing -> approval -> ready.
func TestEnsureLinkedJourneys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ext, email string
		existing         bool               // the e-mail is an unlinked Debitura creditor's
		wantFirst        debitura.LinkState // the first call's state
		step             string             // what happens between the calls (for messages)
		attributed       bool               // the ready client's IsAttributedClient
	}{
		{name: "onboarding then ready", ext: "jit-new", email: "finance@new.example",
			wantFirst: debitura.LinkOnboardingRequired, step: "onboarding", attributed: true},
		{name: "approval then ready", ext: "jit-existing", email: "cfo@existing.example", existing: true,
			wantFirst: debitura.LinkApprovalRequired, step: "approval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setupMock(t)
			if tt.existing {
				addCreditor(t, srv, tt.email, "")
			}
			req := createReq(tt.ext, tt.email)
			first, err := c.Clients.EnsureLinked(t.Context(), req)
			// Approval required comes without a client: the link does not exist yet.
			if err != nil || first.State != tt.wantFirst || (first.Client == nil) != tt.existing {
				t.Fatalf("EnsureLinked(%s) = %+v, %v; want %v, with a client only for a new tenant", tt.ext, viewOf(first), err, tt.wantFirst)
			}
			if tt.existing {
				err = srv.ApproveLink(approvalToken(t, first.ApprovalURL))
			} else {
				err = srv.CompleteOnboarding(mockserver.DefaultAPIKey, tt.ext)
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.step, err)
			}
			second, err := c.Clients.EnsureLinked(t.Context(), req)
			if err != nil {
				t.Fatalf("EnsureLinked(after %s) error = %v", tt.step, err)
			}
			if diff := cmp.Diff(linkView{State: debitura.LinkReady, ClientExt: tt.ext}, viewOf(second)); diff != "" {
				t.Errorf("EnsureLinked(after %s) (-want +got):\n%s", tt.step, diff)
			}
			if !second.Client.OnboardingDone || second.Client.IsAttributedClient != tt.attributed {
				t.Errorf("EnsureLinked(after %s).Client: OnboardingDone = %v, IsAttributedClient = %v; want true, %v",
					tt.step, second.Client.OnboardingDone, second.Client.IsAttributedClient, tt.attributed)
			}
		})
	}
}

func TestEnsureLinkedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		seed     func(t *testing.T, srv *mockserver.Server, email string)
		req      func(email string) *debitura.ClientCreateRequest
		check    func(t *testing.T, err error)
		wantPost int // POST /clients requests sent
	}{
		{
			name: "linked to another partner",
			seed: func(t *testing.T, srv *mockserver.Server, email string) {
				addCreditor(t, srv, email, otherPartnerKey)
			},
			check: func(t *testing.T, err error) {
				var other *debitura.AlreadyLinkedToAnotherPartnerError
				if !errors.As(err, &other) {
					t.Fatalf("EnsureLinked error = %v, want *AlreadyLinkedToAnotherPartnerError", err)
				}
				if !errors.Is(err, debitura.ErrConflict) {
					t.Errorf("errors.Is(%v, ErrConflict) = false, want true", err)
				}
			},
			wantPost: 1,
		},
		{
			name: "invalid client type",
			seed: func(t *testing.T, srv *mockserver.Server, email string) {
				if _, err := srv.AddCreditor(mockserver.CreditorSpec{CompanyName: "Collector", Emails: []string{email}, Kind: mockserver.KindCollectionPartner}); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, err error) {
				var ce *debitura.ConflictError
				if !errors.As(err, &ce) || ce.Type != debitura.InvalidClientType {
					t.Fatalf("EnsureLinked error = %v, want *ConflictError of type InvalidClientType", err)
				}
			},
			wantPost: 1,
		},
		{
			name: "invalid request is not sent",
			req: func(email string) *debitura.ClientCreateRequest {
				r := createReq("bad", email)
				r.Users[0].Email = "not an e-mail"
				return r
			},
			check: func(t *testing.T, err error) {
				var ve *debitura.ValidationError
				if !errors.As(err, &ve) || ve.Op != "Clients.EnsureLinked" || ve.Field != "users[0].email" {
					t.Fatalf("EnsureLinked error = %v, want *ValidationError of Clients.EnsureLinked on users[0].email", err)
				}
			},
		},
		{
			name: "nil request",
			req:  func(string) *debitura.ClientCreateRequest { return nil },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, debitura.ErrValidation) {
					t.Fatalf("EnsureLinked(nil) error = %v, want ErrValidation", err)
				}
			},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setupMock(t, withOtherPartner())
			email := fmt.Sprintf("boss%d@taken%d.example", i, i)
			if tt.seed != nil {
				tt.seed(t, srv, email)
			}
			req := createReq(fmt.Sprintf("err-%d", i), email)
			if tt.req != nil {
				req = tt.req(email)
			}
			out, err := c.Clients.EnsureLinked(t.Context(), req)
			if out != nil {
				t.Errorf("EnsureLinked outcome = %+v, want nil with an error", viewOf(out))
			}
			tt.check(t, err)
			if got := srv.Count(mockserver.OpPostClients); got != tt.wantPost {
				t.Errorf("Count(postClients) = %d, want %d", got, tt.wantPost)
			}
		})
	}
}

// checkCounts checks how many requests of each operation (mockserver.Op...) the mock served.
func checkCounts(t testing.TB, srv *mockserver.Server, want map[string]int) {
	t.Helper()
	got := make(map[string]int, len(want))
	for op := range want {
		got[op] = srv.Count(op)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests per operation (-want +got):\n%s", diff)
	}
}

// TestEnsureLinkedSingleflight: 50 concurrent calls for one new id make one GET and one POST.
func TestEnsureLinkedSingleflight(t *testing.T) {
	t.Parallel()
	srv, c := setupMock(t)
	// A slow GET keeps the flight open while every goroutine joins it.
	srv.InjectFault(mockserver.Fault{Operation: mockserver.OpGetClient, Latency: 300 * time.Millisecond})
	const n = 50
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		outs  = make([]*debitura.LinkOutcome, n)
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			outs[i], errs[i] = c.Clients.EnsureLinked(t.Context(), createReq("same-tenant", "owner@same.example"))
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: EnsureLinked error = %v", i, errs[i])
		}
		if outs[i].State != debitura.LinkOnboardingRequired || outs[i].OnboardingURL == "" {
			t.Errorf("caller %d: EnsureLinked = %+v, want onboarding required with a URL", i, viewOf(outs[i]))
		}
		if i > 0 && outs[i] == outs[0] {
			t.Errorf("callers 0 and %d got the same *LinkOutcome, want copies", i)
		}
	}
	if diff := cmp.Diff(viewOf(outs[0]), viewOf(outs[n-1])); diff != "" {
		t.Errorf("callers disagree (-first +last):\n%s", diff)
	}
	checkCounts(t, srv, map[string]int{mockserver.OpGetClient: 1, mockserver.OpPostClients: 1})
}

// TestEnsureLinkedCancelledWaiter: the caller that started the flight gives up; the others
// still get the result, and the shared work is not cancelled.
func TestEnsureLinkedCancelledWaiter(t *testing.T) {
	t.Parallel()
	srv, c := setupMock(t)
	srv.InjectFault(mockserver.Fault{Operation: mockserver.OpGetClient, Latency: 400 * time.Millisecond})
	req := createReq("patient-tenant", "owner@patient.example")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type result struct {
		out     *debitura.LinkOutcome
		err     error
		elapsed time.Duration
	}
	firstDone := make(chan result, 1)
	go func() {
		start := time.Now()
		out, err := c.Clients.EnsureLinked(ctx, req)
		firstDone <- result{out, err, time.Since(start)}
	}()
	time.Sleep(50 * time.Millisecond) // the first caller's flight is now waiting on the slow GET

	var wg sync.WaitGroup
	others := make([]result, 5)
	for i := range others {
		wg.Go(func() {
			out, err := c.Clients.EnsureLinked(t.Context(), req)
			others[i] = result{out: out, err: err}
		})
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	first := <-firstDone
	if !errors.Is(first.err, context.Canceled) || first.out != nil {
		t.Errorf("cancelled EnsureLinked = %+v, %v; want nil, context.Canceled", viewOf(first.out), first.err)
	}
	if first.elapsed > 300*time.Millisecond {
		t.Errorf("cancelled EnsureLinked returned after %v, want promptly after its cancel (~100ms)", first.elapsed)
	}
	wg.Wait()
	for i, r := range others {
		if r.err != nil || r.out == nil || r.out.State != debitura.LinkOnboardingRequired {
			t.Errorf("waiter %d: EnsureLinked = %+v, %v; want onboarding required", i, viewOf(r.out), r.err)
		}
	}
	checkCounts(t, srv, map[string]int{mockserver.OpGetClient: 1, mockserver.OpPostClients: 1})

	// A caller whose ctx has already ended starts nothing.
	srv.ResetJournal()
	if _, err := c.Clients.EnsureLinked(ctx, createReq("never-sent", "x@never.example")); !errors.Is(err, context.Canceled) {
		t.Errorf("EnsureLinked(done ctx) error = %v, want context.Canceled", err)
	}
	if got := len(srv.Journal()); got != 0 {
		t.Errorf("journal after EnsureLinked(done ctx) has %d entries, want 0", got)
	}
}

// linkBatch builds n inputs with a mix of outcomes and seeds the mock for them. It returns the
// inputs and the outcome expected for each ("" for a failure).
func linkBatch(t *testing.T, srv *mockserver.Server, n int) ([]*debitura.ClientCreateRequest, []debitura.LinkState) {
	t.Helper()
	reqs := make([]*debitura.ClientCreateRequest, n)
	want := make([]debitura.LinkState, n)
	for i := range n {
		ext, email := fmt.Sprintf("bulk-%03d", i), fmt.Sprintf("ap%03d@bulk%03d.example", i, i)
		reqs[i] = createReq(ext, email)
		switch {
		case i == 100: // nil input
			reqs[i] = nil
		case i == 101: // invalid input
			reqs[i].Client.SupportEmail = ""
		case i%25 == 7: // linked to another partner
			addCreditor(t, srv, email, otherPartnerKey)
		case i%10 == 0: // existing unlinked Debitura client
			addCreditor(t, srv, email, "")
			want[i] = debitura.LinkApprovalRequired
		case i%20 == 3: // already linked to us and onboarded
			if _, err := srv.AddCreditor(mockserver.CreditorSpec{
				CompanyName: "Linked " + ext, Country: "DK", Emails: []string{"old-" + email},
				LinkedToPartner: mockserver.DefaultAPIKey, LinkedAsExternalTenantID: ext,
				Attributed: true, OnboardingDone: true,
			}); err != nil {
				t.Fatalf("AddCreditor(linked %s): %v", ext, err)
			}
			want[i] = debitura.LinkReady
		default:
			want[i] = debitura.LinkOnboardingRequired
		}
	}
	return reqs, want
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestLinkManyRateLimitedMix(t *testing.T) {
	t.Parallel()
	// The mock's clock stands still, so its window of 100 requests per 50 ms cannot roll before
	// 100 requests are in: 200 inputs meet 429s however fast or slow the machine is. Each 429
	// the client reads moves the clock on by one window, so the retries find room and every
	// input gets its answer within the default retries.
	clock := mockserver.NewFakeClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	const period = 50 * time.Millisecond
	srv := mockserver.NewTest(t, withOtherPartner(), mockserver.WithClock(clock), mockserver.WithRateLimit(mockserver.RateLimitConfig{
		Windows: []mockserver.RateWindow{{Limit: 100, Period: period}},
	}))
	hc := *srv.Client()
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		res, err := base.RoundTrip(r)
		if err == nil && res.StatusCode == http.StatusTooManyRequests {
			clock.Advance(period)
		}
		return res, err
	})
	c := newContractClient(t, mockserver.DefaultAPIKey, srv.URL, &hc)
	const n = 200
	reqs, want := linkBatch(t, srv, n)
	srv.ResetJournal()

	var (
		calls    []debitura.LinkProgress
		inside   atomic.Int32
		overlaps atomic.Int32
	)
	progress := func(p debitura.LinkProgress) {
		if inside.Add(1) != 1 {
			overlaps.Add(1)
		}
		calls = append(calls, p)
		inside.Add(-1)
	}
	start := time.Now()
	results, err := c.Clients.LinkMany(t.Context(), reqs, &debitura.LinkManyOptions{Concurrency: 16, Progress: progress})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("LinkMany error = %v", err)
	}
	t.Logf("LinkMany(%d inputs) took %v; %d answers were 429", n, elapsed, count429(srv))

	if len(results) != n {
		t.Fatalf("LinkMany returned %d results, want %d", len(results), n)
	}
	wantCounts := debitura.LinkProgress{Done: n, Total: n}
	newClients := 0
	for i, r := range results {
		if r.Index != i {
			t.Errorf("results[%d].Index = %d, want %d", i, r.Index, i)
		}
		if reqs[i] != nil && r.ExternalTenantID != reqs[i].ExternalTenantID {
			t.Errorf("results[%d].ExternalTenantID = %q, want %q", i, r.ExternalTenantID, reqs[i].ExternalTenantID)
		}
		var got debitura.LinkState
		if r.Outcome != nil {
			got = r.Outcome.State
		}
		if got != want[i] || (want[i] == 0) != (r.Err != nil) {
			t.Errorf("results[%d] = %v, %v; want state %v", i, viewOf(r.Outcome), r.Err, want[i])
		}
		switch want[i] {
		case debitura.LinkReady:
			wantCounts.Ready++
		case debitura.LinkOnboardingRequired:
			wantCounts.OnboardingRequired++
			newClients++
		case debitura.LinkApprovalRequired:
			wantCounts.ApprovalRequired++
		default:
			wantCounts.Failed++
		}
	}
	var other *debitura.AlreadyLinkedToAnotherPartnerError
	if !errors.As(results[7].Err, &other) {
		t.Errorf("results[7].Err = %v, want *AlreadyLinkedToAnotherPartnerError", results[7].Err)
	}
	for _, i := range []int{100, 101} {
		if !errors.Is(results[i].Err, debitura.ErrValidation) {
			t.Errorf("results[%d].Err = %v, want ErrValidation", i, results[i].Err)
		}
	}

	// Progress: serial, Done counts up by one, counts never decrease, final counts match.
	if overlaps.Load() != 0 {
		t.Errorf("Progress was called concurrently %d times", overlaps.Load())
	}
	if len(calls) != n {
		t.Fatalf("Progress called %d times, want %d", len(calls), n)
	}
	for i := 1; i < len(calls); i++ {
		a, b := calls[i-1], calls[i]
		if b.Done != a.Done+1 || b.Total != n || b.Ready < a.Ready || b.OnboardingRequired < a.OnboardingRequired ||
			b.ApprovalRequired < a.ApprovalRequired || b.Failed < a.Failed {
			t.Fatalf("Progress call %d = %+v after %+v: not monotonic", i, b, a)
		}
	}
	last := calls[len(calls)-1]
	last.Last = debitura.LinkResult{}
	if diff := cmp.Diff(wantCounts, last); diff != "" {
		t.Errorf("final progress (-want +got):\n%s", diff)
	}

	// One answered POST per valid input, no duplicated side effect, and 429s did happen.
	valid := n - 2
	answered := 0
	for _, e := range srv.Requests(mockserver.OpPostClients) {
		if e.Status != http.StatusTooManyRequests {
			answered++
		}
	}
	if answered != valid {
		t.Errorf("POST /clients answered (not 429) = %d, want one per valid input (%d)", answered, valid)
	}
	if got := srv.Count(mockserver.OpGetClient); got != 0 {
		t.Errorf("Count(GET /clients/{id}) = %d, want 0 (LinkMany sends no GET)", got)
	}
	if got := srv.EffectCount(mockserver.EffectClientCreated); got != newClients {
		t.Errorf("EffectCount(%s) = %d, want %d", mockserver.EffectClientCreated, got, newClients)
	}
	if count429(srv) == 0 {
		t.Errorf("the mock answered no 429; the rate limit was not exercised")
	}
}

func TestLinkManyCancel(t *testing.T) {
	t.Parallel()
	srv, c := setupMock(t)
	srv.InjectFault(mockserver.Fault{Operation: mockserver.OpPostClients, Latency: 50 * time.Millisecond})
	const n = 100
	reqs := make([]*debitura.ClientCreateRequest, n)
	for i := range reqs {
		reqs[i] = createReq(fmt.Sprintf("cancel-%03d", i), fmt.Sprintf("c%03d@cancel.example", i))
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var cancelledAt time.Time
	progress := func(p debitura.LinkProgress) {
		if p.Done == 8 {
			cancelledAt = time.Now()
			cancel()
		}
	}
	results, err := c.Clients.LinkMany(ctx, reqs, &debitura.LinkManyOptions{Concurrency: 4, Progress: progress})
	if cancelledAt.IsZero() {
		t.Fatalf("Progress never reached Done=8")
	}
	if d := time.Since(cancelledAt); d > 500*time.Millisecond {
		t.Errorf("LinkMany returned %v after its ctx was cancelled, want promptly", d)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("LinkMany error = %v, want context.Canceled", err)
	}
	if len(results) != n {
		t.Fatalf("LinkMany returned %d results, want %d", len(results), n)
	}
	ok, notAttempted := 0, 0
	for i, r := range results {
		if r.Index != i || r.ExternalTenantID != reqs[i].ExternalTenantID {
			t.Errorf("results[%d] = {Index %d, ExternalTenantID %q}, want input order", i, r.Index, r.ExternalTenantID)
		}
		switch {
		case r.Err == nil && r.Outcome != nil:
			ok++
		case errors.Is(r.Err, context.Canceled):
			notAttempted++
		default:
			t.Errorf("results[%d] = %+v, %v; want an outcome or context.Canceled", i, viewOf(r.Outcome), r.Err)
		}
	}
	if ok < 8 || notAttempted == 0 {
		t.Errorf("after cancel: %d linked, %d cancelled; want at least 8 linked and some cancelled", ok, notAttempted)
	}
	if got := srv.Count(mockserver.OpPostClients); got >= n/2 {
		t.Errorf("Count(POST /clients) = %d after an early cancel, want far fewer than %d", got, n)
	}
}

func TestLinkManyInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		reqs      func() []*debitura.ClientCreateRequest
		opts      *debitura.LinkManyOptions
		wantErr   error // of LinkMany itself
		wantPosts int
		check     func(t *testing.T, results []debitura.LinkResult)
	}{
		{
			name: "concurrency too high",
			reqs: func() []*debitura.ClientCreateRequest {
				return []*debitura.ClientCreateRequest{createReq("a", "a@a.example")}
			},
			opts:    &debitura.LinkManyOptions{Concurrency: debitura.MaxLinkConcurrency + 1},
			wantErr: debitura.ErrValidation,
		},
		{
			name: "negative concurrency",
			reqs: func() []*debitura.ClientCreateRequest {
				return []*debitura.ClientCreateRequest{createReq("a", "a@a.example")}
			},
			opts:    &debitura.LinkManyOptions{Concurrency: -1},
			wantErr: debitura.ErrValidation,
		},
		{
			name: "empty batch",
			reqs: func() []*debitura.ClientCreateRequest { return nil },
			check: func(t *testing.T, results []debitura.LinkResult) {
				if len(results) != 0 {
					t.Errorf("LinkMany(nil) = %d results, want 0", len(results))
				}
			},
		},
		{
			name: "duplicates share one request",
			reqs: func() []*debitura.ClientCreateRequest {
				return []*debitura.ClientCreateRequest{
					createReq("dup", "d@dup.example"), createReq("other", "o@other.example"),
					createReq("dup", "d@dup.example"), nil, createReq("dup", "d@dup.example"),
				}
			},
			opts:      &debitura.LinkManyOptions{Concurrency: 1},
			wantPosts: 2,
			check: func(t *testing.T, results []debitura.LinkResult) {
				type row struct {
					Ext       string
					State     debitura.LinkState
					Failed    bool
					Duplicate bool
				}
				var got []row
				for _, r := range results {
					rw := row{Ext: r.ExternalTenantID, Failed: r.Err != nil, Duplicate: r.Duplicate}
					if r.Outcome != nil {
						rw.State = r.Outcome.State
					}
					got = append(got, rw)
				}
				want := []row{
					{"dup", debitura.LinkOnboardingRequired, false, false},
					{"other", debitura.LinkOnboardingRequired, false, false},
					{"dup", debitura.LinkOnboardingRequired, false, true},
					{"", 0, true, false},
					{"dup", debitura.LinkOnboardingRequired, false, true},
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("LinkMany results (-want +got):\n%s", diff)
				}
				if results[0].Outcome == results[2].Outcome {
					t.Errorf("duplicates share one *LinkOutcome, want copies")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setupMock(t)
			results, err := c.Clients.LinkMany(t.Context(), tt.reqs(), tt.opts)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || results != nil {
					t.Fatalf("LinkMany = %d results, %v; want nil, %v", len(results), err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("LinkMany error = %v", err)
			}
			if got := srv.Count(mockserver.OpPostClients); got != tt.wantPosts {
				t.Errorf("Count(POST /clients) = %d, want %d", got, tt.wantPosts)
			}
			if tt.check != nil {
				tt.check(t, results)
			}
		})
	}
}
