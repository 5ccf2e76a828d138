package webhook

import (
	"errors"
	"fmt"
)

// Errors of verification and decoding, matched with errors.Is. Their text never contains a
// secret.
var (
	// ErrSignature: the delivery carries no signature, or none of its v1 values matches the
	// body under any of the secrets.
	ErrSignature = errors.New("debitura: webhook signature does not match")
	// ErrTimestamp: the signature is valid but its timestamp is further than the tolerance
	// from now, in the past (a replay, or a delivery that waited too long) or in the future (a
	// skewed clock).
	ErrTimestamp = errors.New("debitura: webhook timestamp outside the tolerance")
	// ErrMalformed: the signature header cannot be parsed (no t, no v1, t not a number, v1 not
	// 64 hex digits), or the signed body is not an event envelope, or an event's data is not of
	// the documented shape.
	ErrMalformed = errors.New("debitura: malformed webhook")
	// ErrSecret: the secret given to the verifier is empty or not Base64. This is a
	// configuration error of the receiver, not a fault of the delivery.
	ErrSecret = errors.New("debitura: webhook secret is not valid Base64")
)

// verifyError is an error of this package: a sentinel and a reason that never holds a secret.
type verifyError struct {
	kind   error
	reason string
}

func (e *verifyError) Error() string {
	if e.reason == "" {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.reason
}

func (e *verifyError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &verifyError{kind: kind, reason: fmt.Sprintf(format, args...)}
}
