package debitura

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// ErrAttemptTimeout matches the error of a call whose last attempt ran out of its per-attempt
// time (WithAttemptTimeout, the Timeout of the http.Client given with WithHTTPClient, or
// DefaultAttemptTimeout) while the call's ctx was still alive. Test for it with errors.Is.
var ErrAttemptTimeout = errors.New("debitura: attempt timed out")

// attemptTimeoutError says that an attempt timed out and after how long. It unwraps to the
// transport's error (a *url.Error), which net/http makes match context.DeadlineExceeded too.
type attemptTimeoutError struct {
	after time.Duration
	err   error
}

func (e *attemptTimeoutError) Error() string {
	inner := e.err
	var uerr *url.Error
	if errors.As(inner, &uerr) {
		inner = uerr.Err // the *url.Error would print the full URL
	}
	return fmt.Sprintf("attempt timed out after %s (per-attempt timeout, see WithAttemptTimeout): %v", e.after, inner)
}

func (e *attemptTimeoutError) Is(target error) bool { return target == ErrAttemptTimeout }
func (e *attemptTimeoutError) Unwrap() error        { return e.err }

// attemptError marks err as an attempt timeout when it is one: the per-attempt deadline (the
// Timeout of the SDK's *http.Client, which net/http reports as context.DeadlineExceeded) ended
// the attempt while ctx, the bound of the whole call, was alive.
func (c *Client) attemptError(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrAttemptTimeout) {
		return err
	}
	return &attemptTimeoutError{after: c.httpc.Timeout, err: err}
}
