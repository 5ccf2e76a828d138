package debitura

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"sync"
	"time"
)

// MaxLinkWait is the largest [LinkStreamOptions].MaxWait: a little more than Debitura's longest
// window (a day), so a back-fill can sit through any window but never waits without bound.
const MaxLinkWait = 25 * time.Hour

// maxStreamWaits bounds how often one input waits for a window and is sent again, so a server
// that keeps refusing cannot hold an input for ever.
const maxStreamWaits = 50

// LinkStreamOptions configure [ClientsService.LinkStream]. A nil *LinkStreamOptions means the
// defaults.
type LinkStreamOptions struct {
	// Concurrency is how many requests are in flight at once, 1 to MaxLinkConcurrency; 0 means
	// DefaultLinkConcurrency.
	Concurrency int
	// MaxWait is the longest single rate-limit wait the stream sits through, 0 to MaxLinkWait.
	// When a request of the stream is refused with a wait longer than the Client's
	// WithMaxRetryWait (Debitura's hourly and daily windows ask for minutes or hours) and that
	// wait is at most MaxWait, the stream holds every request until the wait ends, reports the
	// wait through Progress (WaitStarted, WaitUntil), and sends the input again; the input does
	// not fail. A wait that would outlive ctx's deadline is not started. 0 (the default) sits
	// through nothing beyond WithMaxRetryWait: such an input fails with an *APIError matching
	// ErrRateLimited whose RetryAfter says when to run it again, as LinkMany's do.
	MaxWait time.Duration
	// Total is the number of inputs when the caller knows it, reported as LinkProgress.Total;
	// 0 means unknown (Total then reports 0).
	Total int
	// Progress, when non-nil, is called after each input is settled and when a window wait
	// starts, never concurrently with itself, on the goroutine that ranges over the stream, just
	// before the result is yielded. It should return quickly.
	Progress func(LinkProgress)
}

// LinkStream is the streaming form of [ClientsService.LinkMany], for back-fills too large to
// hold in memory or long enough to span Debitura's hourly and daily windows. It reads inputs
// from in as it has room for them, sends one POST /clients per input through
// [ClientsService.Create] with up to opts.Concurrency requests in flight, and yields each
// input's [LinkResult] as soon as it is settled. Memory stays constant in the number of
// inputs: at most Concurrency inputs are in flight and at most Concurrency more wait for an
// in-flight duplicate; nothing of a settled input is kept.
//
// Ordering: results come in the order the inputs settle, not in input order;
// LinkResult.Index is the input's position in in (0-based), so a caller that needs input order
// (or a checkpoint: every input below the lowest unsettled Index is done) keeps its own
// bookkeeping. An input whose ExternalTenantID equals that of an input still in flight is not
// sent: it waits for that request and is yielded right after it, with a copy of its outcome,
// marked Duplicate. A repeat of an input that already settled is sent again (harmless: POST
// /clients is idempotent per externalTenantId); LinkMany, which holds its whole batch,
// de-duplicates the whole batch instead.
//
// The requests use the bulk lane of the Client's rate-limit budget, which leaves a share of
// every window to interactive calls (EnsureLinked, Tokens) so a back-fill cannot starve the
// live signup path. Rate-limit waits up to the Client's WithMaxRetryWait happen inside each
// request as for any call; longer ones are sat through up to opts.MaxWait (see
// LinkStreamOptions.MaxWait) instead of failing the input.
//
// A nil or invalid input (the checks of Create) is yielded at once with a *[ValidationError]
// and not sent. No single failure stops the stream: every other error of a request is that
// input's LinkResult.Err. The yielded error is nil for every input's result; it is non-nil
// only in a last pair whose LinkResult has Index -1: a *ValidationError for invalid opts or
// callOpts (nothing is read from in), or ctx's error, wrapped, when ctx ended before in was
// exhausted (the inputs in flight are yielded first, with errors that wrap ctx's error; inputs
// not yet read are not read).
//
// Stopping the range early (break) stops reading in, cancels the requests in flight and waits
// for them, so no goroutine of the stream outlives the loop. in is read only on the goroutine
// that ranges over the stream.
//
// callOpts apply to every request; LinkStream refuses [WithResponse], since it sends many
// requests at once.
func (s *ClientsService) LinkStream(ctx context.Context, in iter.Seq[*ClientCreateRequest], opts *LinkStreamOptions, callOpts ...CallOption) iter.Seq2[LinkResult, error] {
	return s.linkStreamNamed("Clients.LinkStream", ctx, in, opts, callOpts)
}

// linkStreamNamed is LinkStream with the operation name its errors carry.
func (s *ClientsService) linkStreamNamed(name string, ctx context.Context, in iter.Seq[*ClientCreateRequest], opts *LinkStreamOptions, callOpts []CallOption) iter.Seq2[LinkResult, error] {
	return func(yield func(LinkResult, error) bool) {
		st, err := s.newLinkStream(name, ctx, opts, callOpts)
		if err != nil {
			yield(LinkResult{Index: -1}, err)
			return
		}
		st.run(in, yield)
	}
}

// linkSetup checks the options shared by LinkMany and LinkStream and returns the concurrency.
func (s *ClientsService) linkSetup(name string, ctx context.Context, conc int, callOpts []CallOption) (int, error) {
	if ctx == nil {
		return 0, errors.New("debitura: " + name + ": nil context")
	}
	if set, err := s.client.settle(name, callOpts); err != nil {
		return 0, err
	} else if set.response != nil {
		return 0, invalid(name, "call options", "WithResponse: %s sends one request per input at once; it takes no WithResponse", name)
	}
	if conc < 0 || conc > MaxLinkConcurrency {
		return 0, invalid(name, "Concurrency", "must be between 1 and %d (0 for %d), got %d",
			MaxLinkConcurrency, DefaultLinkConcurrency, conc)
	}
	if conc == 0 {
		conc = DefaultLinkConcurrency
	}
	return conc, nil
}

// bulkLane puts the requests of a back-fill on the budget's bulk lane; the caller's own
// options come after it, so they may override it.
func bulkLane(callOpts []CallOption) []CallOption {
	return append([]CallOption{WithLane(LaneBulk)}, callOpts...)
}

// linkStream is the state of one LinkStream run. Only run's goroutine touches the fields
// above mu; the workers share the hold below it.
type linkStream struct {
	s        *ClientsService
	name     string
	ctx      context.Context
	conc     int
	maxWait  time.Duration
	callOpts []CallOption
	progress func(LinkProgress)
	p        LinkProgress

	mu        sync.Mutex
	holdUntil time.Time // no request of the stream starts before it
}

func (s *ClientsService) newLinkStream(name string, ctx context.Context, opts *LinkStreamOptions, callOpts []CallOption) (*linkStream, error) {
	var o LinkStreamOptions
	if opts != nil {
		o = *opts
	}
	conc, err := s.linkSetup(name, ctx, o.Concurrency, callOpts)
	if err != nil {
		return nil, err
	}
	if o.MaxWait < 0 || o.MaxWait > MaxLinkWait {
		return nil, invalid(name, "MaxWait", "must be between 0 and %v, got %v", MaxLinkWait, o.MaxWait)
	}
	if o.Total < 0 {
		return nil, invalid(name, "Total", "must not be negative, got %d", o.Total)
	}
	return &linkStream{s: s, name: name, ctx: ctx, conc: conc, maxWait: o.MaxWait,
		callOpts: bulkLane(callOpts), progress: o.Progress, p: LinkProgress{Total: o.Total}}, nil
}

// streamEvent is what a worker reports: a settled input, or the start of a window wait.
type streamEvent struct {
	i     int
	out   *LinkOutcome
	err   error
	until time.Time // non-zero: a wait until then started; i, out and err are unset
}

// streamJob is one input handed to a worker.
type streamJob struct {
	i   int
	req *ClientCreateRequest
}

// inFlight is an input being sent and the inputs that share its result.
type inFlight struct {
	followers []LinkResult
}

func (st *linkStream) run(in iter.Seq[*ClientCreateRequest], yield func(LinkResult, error) bool) {
	ctx, cancel := context.WithCancel(st.ctx)
	defer cancel()
	next, stop := iter.Pull(in)
	defer stop()

	jobs := make(chan streamJob, st.conc)     // never blocks: at most conc leaders in flight
	events := make(chan streamEvent, st.conc) // the workers' reports
	var wg sync.WaitGroup
	defer func() {
		close(jobs)
		cancel()
		go func() {
			for range events { // drain the workers that were cut short
			}
		}()
		wg.Wait()
		close(events)
	}()

	flights := map[string]*inFlight{} // by ExternalTenantID
	leaders := map[int]string{}       // in-flight index → ExternalTenantID
	workers, followers, index := 0, 0, 0
	exhausted, stopped := false, false

	// emit settles one result: progress, then the consumer. It reports whether to go on.
	emit := func(r LinkResult) bool {
		st.count(r)
		if st.progress != nil {
			st.progress(st.p)
		}
		return yield(r, nil)
	}

	for {
		if !stopped && ctx.Err() != nil {
			stopped = true
		}
		if (exhausted || stopped) && len(leaders) == 0 {
			break
		}
		if !exhausted && !stopped && len(leaders) < st.conc && followers < st.conc {
			// Deliver what has settled before reading more, so results are not held back.
			select {
			case ev := <-events:
				if !st.handle(ev, leaders, flights, &followers, emit) {
					return
				}
				continue
			default:
			}
			req, ok := next()
			if !ok {
				exhausted = true
				continue
			}
			i := index
			index++
			r := LinkResult{Index: i}
			if req == nil {
				r.Err = invalid(st.name, fmt.Sprintf("input[%d]", i), "is nil")
				if !emit(r) {
					return
				}
				continue
			}
			r.ExternalTenantID = req.ExternalTenantID
			if err := req.validate(st.name); err != nil {
				r.Err = err
				if !emit(r) {
					return
				}
				continue
			}
			if f, dup := flights[req.ExternalTenantID]; dup {
				r.Duplicate = true
				f.followers = append(f.followers, r)
				followers++
				continue
			}
			flights[req.ExternalTenantID] = &inFlight{}
			leaders[i] = req.ExternalTenantID
			if workers < len(leaders) {
				workers++
				wg.Go(func() { st.work(ctx, jobs, events) })
			}
			jobs <- streamJob{i, req}
			continue
		}
		var done <-chan struct{}
		if !stopped {
			done = ctx.Done()
		}
		select {
		case ev := <-events:
			if !st.handle(ev, leaders, flights, &followers, emit) {
				return
			}
		case <-done:
			stopped = true
		}
	}
	if stopped && !exhausted {
		yield(LinkResult{Index: -1}, fmt.Errorf("debitura: %s: stopped after %d inputs: %w", st.name, index, ctx.Err()))
	}
}

// handle applies one worker event; it reports whether the consumer wants more.
func (st *linkStream) handle(ev streamEvent, leaders map[int]string, flights map[string]*inFlight, followers *int, emit func(LinkResult) bool) bool {
	if !ev.until.IsZero() {
		if st.progress != nil {
			p := st.p
			p.Last = LinkResult{Index: -1}
			p.WaitStarted = true
			st.stampWait(&p)
			st.progress(p)
		}
		return true
	}
	ext := leaders[ev.i]
	delete(leaders, ev.i)
	f := flights[ext]
	delete(flights, ext)
	if !emit(LinkResult{Index: ev.i, ExternalTenantID: ext, Outcome: ev.out, Err: ev.err}) {
		return false
	}
	for _, r := range f.followers {
		*followers--
		r.Outcome, r.Err = ev.out.clone(), ev.err
		if !emit(r) {
			return false
		}
	}
	return true
}

// count adds a settled result to the progress counts.
func (st *linkStream) count(r LinkResult) {
	p := &st.p
	p.count(r)
	st.stampWait(p)
}

// stampWait sets the wait fields of p from the stream's hold.
func (st *linkStream) stampWait(p *LinkProgress) {
	st.mu.Lock()
	until := st.holdUntil
	st.mu.Unlock()
	now := st.s.client.now()
	if until.After(now) {
		p.WaitUntil, p.Waiting = until, until.Sub(now)
	} else {
		p.WaitUntil, p.Waiting = time.Time{}, 0
	}
}

// work sends the inputs handed to it until jobs closes.
func (st *linkStream) work(ctx context.Context, jobs <-chan streamJob, events chan<- streamEvent) {
	for j := range jobs {
		out, err := st.link(ctx, j.req, events)
		events <- streamEvent{i: j.i, out: out, err: err}
	}
}

// link sends one input, sitting through window waits up to maxWait.
func (st *linkStream) link(ctx context.Context, req *ClientCreateRequest, events chan<- streamEvent) (*LinkOutcome, error) {
	for waits := 0; ; waits++ {
		if err := st.waitHold(ctx); err != nil {
			return nil, fmt.Errorf("debitura: %s: waiting for a rate-limit window: %w", st.name, err)
		}
		out, err := createOutcome(st.s.Create(ctx, req, st.callOpts...))
		var ae *APIError
		if err == nil || st.maxWait <= 0 || waits >= maxStreamWaits || !errors.As(err, &ae) ||
			ae.StatusCode != http.StatusTooManyRequests || ae.RetryAfter <= 0 || ae.RetryAfter > st.maxWait {
			return out, err
		}
		until := st.s.client.now().Add(ae.RetryAfter)
		if dl, ok := ctx.Deadline(); ok && until.After(dl) {
			return out, err // the wait would outlive ctx: fail now rather than at the deadline
		}
		if st.hold(until) {
			select {
			case events <- streamEvent{until: until}:
			case <-ctx.Done():
			}
		}
	}
}

// hold keeps every request of the stream back until until; it reports whether that extended
// the hold (a new wait to report).
func (st *linkStream) hold(until time.Time) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !until.After(st.holdUntil) {
		return false
	}
	st.holdUntil = until
	return true
}

// waitHold sleeps until the stream's hold has passed.
func (st *linkStream) waitHold(ctx context.Context) error {
	for {
		st.mu.Lock()
		until := st.holdUntil
		st.mu.Unlock()
		d := until.Sub(st.s.client.now())
		if d <= 0 {
			return ctx.Err()
		}
		if err := st.s.client.sleep(ctx, d); err != nil {
			return err
		}
	}
}
