package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/debitura-go/debitura"
)

// linker is the linking engine of `debitura link`: it links the rows as it pulls them from rows
// (never holding more than its in-flight rows) and calls emit once per row it settles or gives
// up on, never concurrently. Link returns when rows is exhausted and every started row has been
// emitted, or earlier when stop ends (rows not yet started are then left alone) or a window
// asks for a wait longer than the engine may sit through (the returned error says so).
//
// The SDK's streaming bulk form of LinkMany will implement this in one place; until then
// poolLinker does.
type linker interface {
	Link(stop context.Context, rows iter.Seq[row], emit func(linkResult)) error
}

// linkResult is what the engine says about one row: an outcome, or the error of its last attempt.
type linkResult struct {
	Row     row
	Outcome *debitura.LinkOutcome
	Err     error
}

// waitReporter hears about window waits: started (until is when it ends) and over.
type waitReporter interface {
	WindowWait(d time.Duration, until time.Time)
	WindowWaitOver()
}

// errWaitTooLong ends a run whose window asks for a wait over --max-wait.
var errWaitTooLong = errors.New("rate-limit window wait longer than --max-wait")

// maxWindowWaits bounds how often one row waits for a window before it is given up as unsettled
// (a server that keeps answering 429 must not hold a row forever).
const maxWindowWaits = 50

// poolLinker links rows with a bounded pool of workers, one POST /clients per row
// (Clients.Create, idempotent per externalTenantId; no GET first, as LinkMany). A 429 whose wait
// is longer than the Client's WithMaxRetryWait comes back as an *APIError with RetryAfter; then
// the whole pool pauses until the window reopens (up to maxWait per wait) and the row is sent
// again.
type poolLinker struct {
	c           *debitura.Client
	concurrency int
	maxWait     time.Duration
	waits       waitReporter
	now         func() time.Time
}

// Link implements linker. In-flight requests run under context.WithoutCancel(stop), so a stop
// lets them finish; a row still waiting for a window when stop ends is given up (emitted with
// stop's error).
func (l *poolLinker) Link(stop context.Context, rows iter.Seq[row], emit func(linkResult)) error {
	reqCtx := context.WithoutCancel(stop)
	g := &windowGate{now: l.now, waits: l.waits}
	// abort ends waiting (not requests) when a window asks for more than maxWait.
	abortCtx, abort := context.WithCancelCause(stop)
	defer abort(nil)

	jobs := make(chan row)
	var emitMu sync.Mutex
	var wg sync.WaitGroup
	for range l.concurrency {
		wg.Go(func() {
			for r := range jobs {
				res := l.linkRow(reqCtx, abortCtx, abort, g, r)
				emitMu.Lock()
				emit(res)
				emitMu.Unlock()
			}
		})
	}
feed:
	for r := range rows {
		select {
		case jobs <- r:
		case <-abortCtx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(abortCtx); errors.Is(err, errWaitTooLong) {
		return err
	}
	return nil
}

// linkRow sends one row until it settles, sitting through window waits.
func (l *poolLinker) linkRow(reqCtx, abortCtx context.Context, abort context.CancelCauseFunc, g *windowGate, r row) linkResult {
	for waits := 0; ; waits++ {
		if err := g.wait(abortCtx); err != nil {
			return linkResult{Row: r, Err: err}
		}
		if err := abortCtx.Err(); err != nil {
			return linkResult{Row: r, Err: context.Cause(abortCtx)}
		}
		lc, err := l.c.Clients.Create(reqCtx, r.Req)
		out, err := createOutcome(lc, err)
		var ae *debitura.APIError
		if err == nil || !errors.Is(err, debitura.ErrRateLimited) || !errors.As(err, &ae) || ae.RetryAfter <= 0 || waits >= maxWindowWaits {
			return linkResult{Row: r, Outcome: out, Err: err}
		}
		if ae.RetryAfter > l.maxWait {
			abort(fmt.Errorf("%w: the API asks for %s (--max-wait is %s); run the same command again after %s",
				errWaitTooLong, ae.RetryAfter.Round(time.Second), l.maxWait, l.now().Add(ae.RetryAfter).Format(time.TimeOnly)))
			return linkResult{Row: r, Err: err}
		}
		g.hold(ae.RetryAfter)
	}
}

// createOutcome turns the answer of Clients.Create into an outcome as LinkMany does: 201 ready,
// 202 onboarding required, the 409 ClientExistsNeedsLinking approval required; any other error
// is returned.
func createOutcome(lc *debitura.LinkedClient, err error) (*debitura.LinkOutcome, error) {
	if err == nil {
		if lc.OnboardingDone {
			return &debitura.LinkOutcome{State: debitura.LinkReady, Client: lc}, nil
		}
		return &debitura.LinkOutcome{State: debitura.LinkOnboardingRequired, Client: lc, OnboardingURL: lc.OnboardingURL()}, nil
	}
	var needs *debitura.ClientExistsNeedsLinkingError
	if errors.As(err, &needs) {
		return &debitura.LinkOutcome{State: debitura.LinkApprovalRequired, ApprovalURL: needs.ApprovalURL}, nil
	}
	return nil, err
}

// windowGate holds every worker of a pool until a rate-limit window reopens.
type windowGate struct {
	now   func() time.Time
	waits waitReporter

	mu    sync.Mutex
	until time.Time
	ended time.Time // the until of the last wait reported over
}

// hold closes the gate for d from now (or keeps a later end).
func (g *windowGate) hold(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	until := g.now().Add(d)
	if until.After(g.until) {
		g.until = until
		g.waits.WindowWait(d, until)
	}
}

// wait returns when the gate is open, or with ctx's cause when ctx ends first.
func (g *windowGate) wait(ctx context.Context) error {
	for {
		g.mu.Lock()
		d := g.until.Sub(g.now())
		if d <= 0 && !g.until.IsZero() && !g.ended.Equal(g.until) {
			g.ended = g.until
			g.waits.WindowWaitOver()
		}
		g.mu.Unlock()
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}
