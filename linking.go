package debitura

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// LinkState says where a client stands after [ClientsService.EnsureLinked] or one item of
// [ClientsService.LinkMany]. The zero value is not a state the SDK returns.
type LinkState int

const (
	// LinkReady: the client is linked to the partner and has finished onboarding; a Customer
	// API token can be minted for it ([TokensService.Mint]).
	LinkReady LinkState = iota + 1
	// LinkOnboardingRequired: the client is linked but has not signed Debitura's agreement (a
	// new client, or one that must sign a new agreement version). Send it to
	// [LinkOutcome].OnboardingURL; Debitura sends no e-mail in referral flows.
	LinkOnboardingRequired
	// LinkApprovalRequired: the e-mail matched a client that already exists in Debitura and is
	// not linked to anyone (the 409 ClientExistsNeedsLinking). A link request was created; the
	// existing client must approve it at [LinkOutcome].ApprovalURL. Until it does, the client is
	// not linked and [LinkOutcome].Client is nil.
	LinkApprovalRequired
)

// String returns "ready", "onboarding_required" or "approval_required".
func (s LinkState) String() string { return enumString(s, "LinkState", linkStateNames) }

var linkStateNames = map[LinkState]string{
	LinkReady:              "ready",
	LinkOnboardingRequired: "onboarding_required",
	LinkApprovalRequired:   "approval_required",
}

// enumString is the String of an int enum: its name in names, or "typ(v)" for a value without
// one.
func enumString[E ~int](v E, typ string, names map[E]string) string {
	if name, ok := names[v]; ok {
		return name
	}
	return fmt.Sprintf("%s(%d)", typ, int(v))
}

// LinkOutcome is the typed answer of the linking helpers: the client's [LinkState] and what the
// partner needs for the next step.
type LinkOutcome struct {
	// State is where the client stands.
	State LinkState
	// Client is the linked client as the API returned it; nil when State is
	// LinkApprovalRequired (there is no link yet).
	Client *LinkedClient
	// OnboardingURL is the hosted onboarding (or contract upgrade) page when State is
	// LinkOnboardingRequired; "" otherwise.
	OnboardingURL string
	// ApprovalURL is the page where the existing Debitura client approves the link when State is
	// LinkApprovalRequired; "" otherwise.
	ApprovalURL string
}

// clone returns a copy of o whose Client is a copy too (slices inside the client are shared).
func (o *LinkOutcome) clone() *LinkOutcome {
	if o == nil {
		return nil
	}
	c := *o
	if o.Client != nil {
		lc := *o.Client
		c.Client = &lc
	}
	return &c
}

// outcomeOf classifies a linked client: onboarded means ready, otherwise onboarding required.
func outcomeOf(lc *LinkedClient) *LinkOutcome {
	if lc.OnboardingDone {
		return &LinkOutcome{State: LinkReady, Client: lc}
	}
	return &LinkOutcome{State: LinkOnboardingRequired, Client: lc, OnboardingURL: lc.OnboardingURL()}
}

// createOutcome turns the answer of Clients.Create into an outcome: 201 ready, 202 onboarding
// required, the 409 ClientExistsNeedsLinking approval required. Every other error is returned.
func createOutcome(lc *LinkedClient, err error) (*LinkOutcome, error) {
	if err == nil {
		return outcomeOf(lc), nil
	}
	var needs *ClientExistsNeedsLinkingError
	if errors.As(err, &needs) {
		return &LinkOutcome{State: LinkApprovalRequired, ApprovalURL: needs.ApprovalURL}, nil
	}
	return nil, err
}

// linkFlightTimeout bounds the shared work of one EnsureLinked flight. The flight runs apart
// from its callers' contexts, so this is what keeps it from running forever. It leaves room for
// the default retries of two requests (3 retries, waits of up to 30 s each).
const linkFlightTimeout = 2 * time.Minute

// EnsureLinked is the just-in-time linking pattern in one call: it reads the client linked under
// req.ExternalTenantID (GET /clients/{externalTenantId}) and, when there is none (404), creates or
// links it with req (POST /clients). Call it when a customer first needs Debitura, for example
// before its first case.
//
// The outcome says what to do next: [LinkReady] (mint a token), [LinkOnboardingRequired] (send
// the client to OnboardingURL) or [LinkApprovalRequired] (the e-mail matched an existing
// Debitura client, which must approve the link at ApprovalURL; Client is nil). A client that is
// linked but whose GET answer carries no onboarding URL is sent through POST /clients (idempotent
// per externalTenantId) to get one.
//
// Concurrent calls for the same ExternalTenantID on one Client share one round of requests
// (golang.org/x/sync/singleflight): the first caller starts the work, later callers wait for
// its result, and all of them get copies of the same outcome (slices inside Client are shared;
// treat them as read-only). The later callers' req is not sent; callers that race to link one
// tenant are expected to describe it alike, and their callOpts are not applied either (the
// first caller's apply to both requests; a [WithResponse] destination of any caller receives the
// Response of the last request of the shared work). A call that starts after the shared work
// ended sends its own requests: nothing is cached.
//
// The shared work does not end when its callers' contexts do. It runs under
// context.WithoutCancel of the first caller's ctx (so values such as trace spans carry over)
// with a timeout of two minutes of its own. A caller whose ctx ends stops waiting at once and
// gets ctx's error, while the others keep waiting for the result; if every caller has gone, the
// work still runs to its end (at most the two minutes), which is harmless because both requests
// are idempotent. EnsureLinked works on a copy of req (its Users and Cases slices are copied;
// pointers inside cases are shared), so req may be reused once EnsureLinked returns.
//
// Errors: *[ValidationError] before sending (the checks of [ClientsService.Create]); the error of
// ctx, wrapped, when ctx ends before the result is there (errors.Is context.Canceled or
// context.DeadlineExceeded); the link conflicts that block linking as returned by Create:
// *[AlreadyLinkedToAnotherPartnerError] (errors.As; a hard block, contact Debitura support) and
// *[ConflictError] for InvalidClientType and other types, all matching ErrConflict; and every
// other *[APIError] of the GET or the POST (ErrUnauthorized, ErrValidation, ErrRateLimited,
// ErrServer; a 404 of the GET is not an error) or transport error.
func (s *ClientsService) EnsureLinked(ctx context.Context, req *ClientCreateRequest, callOpts ...CallOption) (*LinkOutcome, error) {
	const name = "Clients.EnsureLinked"
	if ctx == nil {
		return nil, errors.New("debitura: " + name + ": nil context")
	}
	if err := req.validate(name); err != nil {
		return nil, err
	}
	set, err := s.client.settle(name, callOpts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("debitura: %s: %w", name, err)
	}
	// The flight runs on its own goroutine: it reports its Response in its result, and the
	// caller fills its own WithResponse destination.
	dst := set.response
	set.response = nil
	shared := func(cs *callSettings) error { *cs = set; return nil }
	r := *req
	r.Users = slices.Clone(req.Users)
	r.Cases = slices.Clone(req.Cases)
	ch := s.client.linkFlights.DoChan(r.ExternalTenantID, func() (any, error) {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), linkFlightTimeout)
		defer cancel()
		f := new(linkFlight)
		f.out, f.err = s.ensureLinked(wctx, &r, shared, WithResponse(&f.resp))
		return f, f.err
	})
	select {
	case res := <-ch:
		f := res.Val.(*linkFlight)
		if dst != nil {
			*dst = f.resp
		}
		if f.err != nil {
			return nil, f.err
		}
		return f.out.clone(), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("debitura: %s: stopped waiting: %w", name, ctx.Err())
	}
}

// linkFlight is the result of one EnsureLinked flight: the outcome or error, and the Response
// of its last request.
type linkFlight struct {
	out  *LinkOutcome
	err  error
	resp Response
}

// ensureLinked is the work of one EnsureLinked flight.
func (s *ClientsService) ensureLinked(ctx context.Context, req *ClientCreateRequest, callOpts ...CallOption) (*LinkOutcome, error) {
	return s.readOrCreate(ctx, req, callOpts, func() (*LinkOutcome, error) {
		if l := s.client.cfg.linkLocker; l != nil {
			return s.ensureLinkedLocked(ctx, l, req, callOpts)
		}
		return createOutcome(s.Create(ctx, req, callOpts...))
	})
}

// readOrCreate reads the tenant of req and returns its outcome when it is linked and onboarded
// or has an onboarding link; when it is not found (or has neither), it returns create's result.
func (s *ClientsService) readOrCreate(ctx context.Context, req *ClientCreateRequest, callOpts []CallOption, create func() (*LinkOutcome, error)) (*LinkOutcome, error) {
	lc, err := s.Get(ctx, req.ExternalTenantID, callOpts...)
	switch {
	case err == nil && (lc.OnboardingDone || lc.OnboardingURL() != ""):
		return outcomeOf(lc), nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return nil, err
	}
	return create()
}

// ensureLinkedLocked creates the client under the tenant's lock of l (WithLinkLocker), so that
// concurrent replicas send one POST /clients: under the lock it reads the tenant again, and
// creates only when the holder before it did not. A lock that cannot be taken (other than ctx
// ending) is done without: POST /clients is idempotent per externalTenantId.
func (s *ClientsService) ensureLinkedLocked(ctx context.Context, l Locker, req *ClientCreateRequest, callOpts []CallOption) (*LinkOutcome, error) {
	create := func() (*LinkOutcome, error) { return createOutcome(s.Create(ctx, req, callOpts...)) }
	unlock, err := l.Lock(ctx, "ensure-linked\x00"+req.ExternalTenantID)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("debitura: Clients.EnsureLinked: waiting for the link lock: %w", ctx.Err())
		}
		return create()
	}
	defer unlock()
	return s.readOrCreate(ctx, req, callOpts, create)
}

// Bounds of [LinkManyOptions].Concurrency.
const (
	// DefaultLinkConcurrency is how many requests LinkMany keeps in flight when
	// LinkManyOptions.Concurrency is 0.
	DefaultLinkConcurrency = 8
	// MaxLinkConcurrency is the largest LinkManyOptions.Concurrency.
	MaxLinkConcurrency = 64
)

// LinkManyOptions configure [ClientsService.LinkMany]. A nil *LinkManyOptions means the
// defaults.
type LinkManyOptions struct {
	// Concurrency is how many requests are in flight at once, 1 to MaxLinkConcurrency; 0 means
	// DefaultLinkConcurrency.
	Concurrency int
	// MaxWait is the longest single rate-limit wait the batch sits through instead of failing
	// the inputs that meet it, 0 to MaxLinkWait; see [LinkStreamOptions].MaxWait. 0 (the
	// default) sits through nothing beyond the Client's WithMaxRetryWait.
	MaxWait time.Duration
	// Progress, when non-nil, is called after each input is settled (its outcome or error is
	// known) and when a window wait starts (WaitStarted), never concurrently with itself, on
	// the goroutine that called LinkMany. It should return quickly: results are collected
	// while it runs.
	Progress func(LinkProgress)
}

// LinkProgress reports how far a [ClientsService.LinkMany] batch or a
// [ClientsService.LinkStream] has come. The counts are of inputs, so a duplicate
// ExternalTenantID counts once per input.
type LinkProgress struct {
	// Done is how many inputs are settled; Total is how many there are (for LinkStream, its
	// LinkStreamOptions.Total: 0 when unknown).
	Done, Total int
	// Ready, OnboardingRequired and ApprovalRequired count the settled inputs by outcome;
	// Failed counts those that ended with an error (invalid inputs included).
	Ready, OnboardingRequired, ApprovalRequired, Failed int
	// Last is the result of the input that was settled just now (Index -1 in a call that
	// reports the start of a wait).
	Last LinkResult
	// WaitStarted is true when this call reports that the batch started to sit through a
	// rate-limit window (MaxWait) rather than a settled input; Done and the counts are
	// unchanged.
	WaitStarted bool
	// WaitUntil is when the window wait the batch sits through ends, and Waiting how long that
	// is from the moment of the call; zero when no such wait is under way. They are set on
	// every call while the wait lasts, so a progress display can show it.
	WaitUntil time.Time
	Waiting   time.Duration
}

// count adds the settled result r to p: Done and the count of its outcome, Last = r, and no
// wait started.
func (p *LinkProgress) count(r LinkResult) {
	p.Done++
	switch {
	case r.Err != nil || r.Outcome == nil:
		p.Failed++
	case r.Outcome.State == LinkReady:
		p.Ready++
	case r.Outcome.State == LinkOnboardingRequired:
		p.OnboardingRequired++
	case r.Outcome.State == LinkApprovalRequired:
		p.ApprovalRequired++
	}
	p.Last, p.WaitStarted = r, false
}

// LinkResult is the result of one input of [ClientsService.LinkMany] or
// [ClientsService.LinkStream]. Exactly one of Outcome and Err is set.
type LinkResult struct {
	// Index is the input's position in the slice given to LinkMany (in the sequence given to
	// LinkStream).
	Index int
	// ExternalTenantID is the input's ExternalTenantID ("" for a nil input).
	ExternalTenantID string
	// Outcome is the linking outcome, as [ClientsService.EnsureLinked] describes it.
	Outcome *LinkOutcome
	// Err is why the input failed: a *ValidationError for a nil or invalid input (not sent), the
	// error of Clients.Create (for example *AlreadyLinkedToAnotherPartnerError), or ctx's error
	// for an input that was not attempted because ctx ended.
	Err error
	// Duplicate is true when an earlier input had the same ExternalTenantID: no request was
	// sent for this input, and it shares that input's Outcome or Err.
	Duplicate bool
}

// LinkMany links many clients in one batch (the bulk back-fill pattern): one POST /clients per
// distinct ExternalTenantID, through [ClientsService.Create]. It is the slice form of
// [ClientsService.LinkStream], which does the work: see there for the bulk lane of the rate-limit
// budget and for sitting through long window waits (opts.MaxWait). No GET is sent first,
// because POST /clients is idempotent per externalTenantId and answers an existing client's
// current state. Up to opts.Concurrency requests are in flight at once; all of them pass
// through the Client's [Budget] in the bulk lane ([LaneBulk]: it leaves the budget's reserve to
// interactive calls) and its shared 429 gate, so a rate-limited batch runs at the rate the
// windows allow instead of failing. A wait longer than the bulk lane's maximum wait
// (WithBulkMaxWait, by default WithMaxRetryWait; Debitura's hourly and daily windows can ask
// for one) and longer than opts.MaxWait is not sat through:
// the inputs that meet it fail with an *[APIError] matching ErrRateLimited, whose RetryAfter
// says when to run the batch again (a repeat is harmless: POST /clients is idempotent).
//
// LinkMany returns one [LinkResult] per input, in input order. No single failure aborts the
// batch: a nil or invalid input (the checks of Create) and every failed request become that
// input's Err, with the counts in [LinkProgress].Failed. Inputs that repeat an earlier
// input's ExternalTenantID are not sent again: they share the first one's outcome (its request
// is the one that counts) and are marked Duplicate, so one batch never sends two concurrent
// requests for one client. LinkMany holds every input and result in memory; for very large
// back-fills use LinkStream.
//
// When ctx ends, LinkMany stops starting requests, lets the ones in flight end (they see the
// same ctx, so they end at once), and returns promptly with every result: settled inputs keep
// their outcome or error (a request cut short by ctx has an error that wraps ctx's error),
// inputs that were not attempted get ctx's error itself as Err, and the returned error wraps
// ctx's error. Progress is not called for inputs that were not attempted.
//
// callOpts apply to every request; LinkMany refuses [WithResponse], since it sends many
// requests at once (each LinkResult carries its own outcome).
//
// Errors: the returned error is nil when every input was settled, even if some failed (see
// each LinkResult.Err); a *[ValidationError] (with nil results) for a Concurrency outside
// 0..MaxLinkConcurrency, a MaxWait outside 0..MaxLinkWait or invalid callOpts; or ctx's error,
// wrapped, when ctx ended before every input was settled.
func (s *ClientsService) LinkMany(ctx context.Context, reqs []*ClientCreateRequest, opts *LinkManyOptions, callOpts ...CallOption) ([]LinkResult, error) {
	const name = "Clients.LinkMany"
	var o LinkManyOptions
	if opts != nil {
		o = *opts
	}
	if _, err := s.linkSetup(name, ctx, o.Concurrency, callOpts); err != nil {
		return nil, err
	}
	if o.MaxWait < 0 || o.MaxWait > MaxLinkWait {
		return nil, invalid(name, "MaxWait", "must be between 0 and %v, got %v", MaxLinkWait, o.MaxWait)
	}

	results := make([]LinkResult, len(reqs))
	p := LinkProgress{Total: len(reqs)}
	report := func() {
		if o.Progress != nil {
			o.Progress(p)
		}
	}
	settle := func(i int) {
		p.count(results[i])
		report()
	}

	// Check every input first; the first valid input of each ExternalTenantID leads.
	var leaders []int
	followers := map[int][]int{}
	first := map[string]int{}
	for i, r := range reqs {
		results[i].Index = i
		if r == nil {
			results[i].Err = invalid(name, fmt.Sprintf("requests[%d]", i), "is nil")
			continue
		}
		results[i].ExternalTenantID = r.ExternalTenantID
		if err := r.validate(name); err != nil {
			results[i].Err = err
			continue
		}
		if j, dup := first[r.ExternalTenantID]; dup {
			results[i].Duplicate = true
			followers[j] = append(followers[j], i)
			continue
		}
		first[r.ExternalTenantID] = i
		leaders = append(leaders, i)
	}
	for i := range results {
		if results[i].Err != nil {
			settle(i)
		}
	}

	// The leaders go through the stream; its index k is leaders[k].
	in := func(yield func(*ClientCreateRequest) bool) {
		for _, i := range leaders {
			if !yield(reqs[i]) {
				return
			}
		}
	}
	sopts := &LinkStreamOptions{Concurrency: o.Concurrency, MaxWait: o.MaxWait, Total: len(leaders),
		Progress: func(sp LinkProgress) {
			if sp.WaitStarted { // settled inputs are reported below, with the batch's counts
				p.Last, p.WaitStarted, p.WaitUntil, p.Waiting = LinkResult{Index: -1}, true, sp.WaitUntil, sp.Waiting
				report()
			} else {
				p.WaitUntil, p.Waiting = sp.WaitUntil, sp.Waiting
			}
		}}
	got := make([]bool, len(leaders))
	var streamErr error
	for r, err := range s.linkStreamNamed(name, ctx, in, sopts, callOpts) {
		if err != nil {
			streamErr = err
			break
		}
		i := leaders[r.Index]
		got[r.Index] = true
		results[i].Outcome, results[i].Err = r.Outcome, r.Err
		settle(i)
		for _, f := range followers[i] {
			results[f].Outcome, results[f].Err = r.Outcome.clone(), r.Err
			settle(f)
		}
	}
	if streamErr == nil {
		return results, nil
	}
	interrupted := ctx.Err()
	if interrupted == nil {
		return nil, streamErr // not expected: the options were checked above
	}
	missing := false
	for k, i := range leaders {
		if got[k] {
			continue
		}
		missing = true
		results[i].Err = interrupted
		for _, f := range followers[i] {
			results[f].Err = interrupted
		}
	}
	if !missing {
		// ctx ended just as the last requests succeeded: the batch is complete.
		return results, nil
	}
	return results, fmt.Errorf("debitura: %s: stopped after %d of %d inputs: %w", name, p.Done, p.Total, interrupted)
}
