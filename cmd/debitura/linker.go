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

// streamLinker links rows through the SDK's streaming bulk form, Clients.LinkStream: one POST
// /clients per row (idempotent per externalTenantId) in the bulk lane of the Client's request
// budget, up to concurrency in flight, each result as it settles. The SDK sits through a window
// wait longer than the Client's WithMaxRetryWait up to maxWait (LinkStreamOptions.MaxWait) and
// reports it through LinkProgress, which streamLinker passes on to waits.
type streamLinker struct {
	c           *debitura.Client
	concurrency int
	maxWait     time.Duration
	waits       waitReporter
	now         func() time.Time
}

// Link implements linker. The stream runs under context.WithoutCancel(stop), so a stop only
// ends the input: the requests in flight finish and are emitted. The one exception is a window
// wait: rows the stream holds back for a window are not in flight, so a stop during such a wait
// (or a wait that starts after the stop) ends the stream at once, and those rows are emitted
// with the stop's error (unsettled: they run again next time).
//
// A row refused with a wait longer than maxWait ends the input too, and Link returns an
// error wrapping errWaitTooLong that says when to run again.
func (l *streamLinker) Link(stop context.Context, rows iter.Seq[row], emit func(linkResult)) error {
	streamCtx, cancel := context.WithCancelCause(context.WithoutCancel(stop))
	defer cancel(nil)

	var mu sync.Mutex
	var waitUntil time.Time // end of the window wait the stream sits in; zero when none
	// giveUp ends the stream when stop has ended and the stream sits in a window wait.
	giveUp := func() {
		mu.Lock()
		defer mu.Unlock()
		if stop.Err() != nil && waitUntil.After(l.now()) {
			cancel(context.Cause(stop))
		}
	}
	defer context.AfterFunc(stop, giveUp)()

	// pending holds the rows the stream has read and not yet settled, by LinkResult.Index: at
	// most 2×concurrency (LinkStream's in-flight rows and their duplicates).
	pending := map[int]row{}
	var tooLong error // set when a wait over maxWait ended the input
	index := 0
	in := func(yield func(*debitura.ClientCreateRequest) bool) {
		for r := range rows {
			if stop.Err() != nil || tooLong != nil {
				return
			}
			pending[index] = r
			index++
			if !yield(r.Req) {
				return
			}
		}
	}
	opts := &debitura.LinkStreamOptions{
		Concurrency: l.concurrency,
		MaxWait:     l.maxWait,
		Progress: func(p debitura.LinkProgress) {
			mu.Lock()
			was := waitUntil
			waitUntil = p.WaitUntil
			mu.Unlock()
			switch {
			case p.WaitStarted:
				l.waits.WindowWait(p.Waiting, p.WaitUntil)
			case p.WaitUntil.IsZero() && !was.IsZero():
				l.waits.WindowWaitOver()
			}
			giveUp()
		},
	}
	for res, err := range l.c.Clients.LinkStream(streamCtx, in, opts) {
		if res.Index < 0 {
			// The stream's own error: invalid options, or streamCtx ended (by giveUp, which the
			// caller knows of through stop).
			if err != nil && streamCtx.Err() == nil {
				return err
			}
			continue
		}
		r := pending[res.Index]
		delete(pending, res.Index)
		if tooLong == nil {
			tooLong = l.waitTooLong(res.Err)
		}
		emit(linkResult{Row: r, Outcome: res.Outcome, Err: res.Err})
	}
	return tooLong
}

// waitTooLong returns the error that ends a run when err is a rate-limit refusal whose wait is
// over maxWait (the stream did not sit through it), else nil.
func (l *streamLinker) waitTooLong(err error) error {
	var ae *debitura.APIError
	if !errors.Is(err, debitura.ErrRateLimited) || !errors.As(err, &ae) || ae.RetryAfter <= l.maxWait {
		return nil
	}
	return fmt.Errorf("%w: the API asks for %s (--max-wait is %s); run the same command again after %s",
		errWaitTooLong, ae.RetryAfter.Round(time.Second), l.maxWait, l.now().Add(ae.RetryAfter).Format(time.TimeOnly))
}
