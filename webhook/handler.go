package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// Handler returns an http.Handler that receives Debitura's webhook deliveries: it reads the body
// (at most 1 MiB by default), verifies the signature with secret (see [Verifier.Verify]),
// decodes the event, drops events it has processed before (by id), and calls fn with the
// request's context. fn runs at most once at a time per event id, and once per id when it
// succeeds. Debitura waits 10 s for an answer: do slow work elsewhere.
//
// It answers:
//   - 200 when fn returned nil, and for an event already processed (a redelivery);
//   - 500 when fn returned an error or panicked: the id is not marked processed, so Debitura's
//     retry is handled; also when the deduper fails or secret is not Base64 (a panic with
//     [net/http.ErrAbortHandler] is the exception: it still aborts the response, as net/http
//     intends);
//   - 409 with Retry-After while another delivery of the same event is being processed, so
//     that Debitura tries again later instead of taking it as delivered (the first delivery
//     may still fail);
//   - 401 for a missing or wrong signature ([ErrSignature]) or a timestamp outside the
//     tolerance ([ErrTimestamp]): the delivery cannot be trusted;
//   - 400 for a malformed signature header or a body that is not an event ([ErrMalformed]);
//   - 413 for a body over the limit, 405 for a method other than POST.
//
// Answers carry a short plain-text reason and never the text of fn's error. The handler is safe
// for concurrent use.
func Handler(secret string, fn func(ctx context.Context, ev *Event) error, opts ...Option) http.Handler {
	cfg := config{dedupe: NewMemoryDeduper(0, 0), maxBody: DefaultMaxBody}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.maxBody <= 0 {
		cfg.maxBody = DefaultMaxBody
	}
	v := NewVerifier(secret, cfg.older...)
	v.Tolerance, v.Now = cfg.tolerance, cfg.now
	return &handler{verifier: v, dedupe: cfg.dedupe, maxBody: cfg.maxBody, logger: cfg.logger, fn: fn}
}

type handler struct {
	verifier *Verifier
	dedupe   Deduper
	maxBody  int64
	logger   *slog.Logger
	fn       func(ctx context.Context, ev *Event) error
}

// retryAfter is the Retry-After of the 409 for a delivery already in flight.
const retryAfter = "30"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log(ctx, slog.LevelWarn, "debitura: webhook body over the limit", nil, "limit", h.maxBody)
			reply(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		reply(w, http.StatusBadRequest, "cannot read body")
		return
	}
	ev, err := h.verifier.Parse(r.Header, body)
	if err != nil {
		status, msg := http.StatusBadRequest, "malformed delivery"
		level := slog.LevelWarn
		switch {
		case errors.Is(err, ErrSecret):
			status, msg, level = http.StatusInternalServerError, "receiver misconfigured", slog.LevelError
		case errors.Is(err, ErrSignature):
			status, msg = http.StatusUnauthorized, "invalid signature"
		case errors.Is(err, ErrTimestamp):
			status, msg = http.StatusUnauthorized, "signature timestamp outside the tolerance"
		}
		h.log(ctx, level, "debitura: webhook refused", nil, "status", status, "error", err.Error())
		reply(w, status, msg)
		return
	}

	if h.dedupe != nil {
		claim, err := h.dedupe.Claim(ctx, ev.ID)
		if err != nil {
			h.log(ctx, slog.LevelError, "debitura: webhook deduper failed", ev, "error", err.Error())
			reply(w, http.StatusInternalServerError, "internal error")
			return
		}
		switch claim {
		case Done:
			h.log(ctx, slog.LevelDebug, "debitura: webhook already processed", ev)
			reply(w, http.StatusOK, "duplicate")
			return
		case InFlight:
			h.log(ctx, slog.LevelInfo, "debitura: webhook delivery already in flight", ev)
			w.Header().Set("Retry-After", retryAfter)
			reply(w, http.StatusConflict, "delivery in progress")
			return
		}
	}

	if err := h.call(ctx, ev); err != nil {
		h.log(ctx, slog.LevelError, "debitura: webhook handler failed", ev, "error", err.Error())
		reply(w, http.StatusInternalServerError, "handler failed")
		return
	}
	reply(w, http.StatusOK, "ok")
}

// errPanicked is what call returns when fn panicked.
var errPanicked = errors.New("debitura: webhook handler panicked")

// call runs fn and settles the claim: Complete on success, Release on an error or a panic. A
// panic becomes an error, so the delivery is answered 500 rather than dropped with no answer
// (which Debitura would also retry, but after a timeout and with nothing in the receiver's
// logs); only http.ErrAbortHandler is re-raised, as net/http's way to abort on purpose.
func (h *handler) call(ctx context.Context, ev *Event) (err error) {
	ok := false
	defer func() {
		p := recover()
		h.settle(ctx, ev, ok)
		switch {
		case p == nil:
		case p == http.ErrAbortHandler: // compared as net/http does
			panic(p)
		default:
			h.log(ctx, slog.LevelError, "debitura: webhook handler panicked", ev, "panic", fmt.Sprint(p))
			err = errPanicked
		}
	}()
	if h.fn == nil {
		return errors.New("debitura: webhook.Handler: nil handler function")
	}
	if err := h.fn(ctx, ev); err != nil {
		return err
	}
	ok = true
	return nil
}

// settle records the outcome of fn in the deduper: Complete when it succeeded, Release otherwise.
func (h *handler) settle(ctx context.Context, ev *Event, ok bool) {
	if h.dedupe == nil {
		return
	}
	// Settle the claim even when the request's ctx has ended.
	sctx := context.WithoutCancel(ctx)
	if ok {
		if err := h.dedupe.Complete(sctx, ev.ID); err != nil {
			// The event was processed: answering 200 is right; a redelivery may run fn again.
			h.log(ctx, slog.LevelError, "debitura: webhook deduper failed to record a processed event", ev, "error", err.Error())
		}
		return
	}
	if err := h.dedupe.Release(sctx, ev.ID); err != nil {
		h.log(ctx, slog.LevelError, "debitura: webhook deduper failed to release an event", ev, "error", err.Error())
	}
}

func (h *handler) log(ctx context.Context, level slog.Level, msg string, ev *Event, args ...any) {
	if h.logger == nil {
		return
	}
	if ev != nil {
		args = append(args, "event_id", ev.ID, "event", string(ev.Event), "test", ev.Test)
	}
	h.logger.Log(ctx, level, msg, args...)
}

func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
