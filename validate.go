package debitura

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// ValidationError reports a request that the SDK refused to send because it breaks a rule of the
// API's schema (a missing required field, a string that is too long, a page size out of range,
// metadata over its limits). Field names the offending field in the API's JSON spelling, for
// example "client.supportEmail", "users[1].email", "PageSize" or "metadata[\"plan\"]". No request
// was sent when a method returns a *ValidationError.
type ValidationError struct {
	// Op is the SDK method that refused the request, e.g. "Clients.Create".
	Op string
	// Field is the offending field, in the API's spelling.
	Field string
	// Message says what is wrong with it.
	Message string
}

// Is makes errors.Is(err, ErrValidation) true for a request refused before sending, as for one
// the API refused with 400 or 422.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// Error returns a one-line description naming the method and the field.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("debitura: %s: invalid request: %s: %s", e.Op, e.Field, e.Message)
}

func invalid(op, field, format string, args ...any) *ValidationError {
	return &ValidationError{Op: op, Field: field, Message: fmt.Sprintf(format, args...)}
}

// checkLen checks that s has between lo and hi characters (hi < 0: no upper bound). Lengths are
// counted in Unicode code points, as JSON Schema counts them.
func checkLen(op, field, s string, lo, hi int) error {
	n := utf8.RuneCountInString(s)
	switch {
	case lo > 0 && n < lo && n == 0:
		return invalid(op, field, "is required")
	case n < lo:
		return invalid(op, field, "must be at least %d characters, got %d", lo, n)
	case hi >= 0 && n > hi:
		return invalid(op, field, "must be at most %d characters, got %d", hi, n)
	}
	return nil
}

// checkEmail checks that s is a plain e-mail address (no display name, no angle brackets).
func checkEmail(op, field, s string) error {
	if s == "" {
		return invalid(op, field, "is required")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || strings.ContainsAny(s, " <>") {
		return invalid(op, field, "%q is not an e-mail address", s)
	}
	return nil
}

// maxTokenTenantIDLen is the longest externalTenantId POST /oauth/token accepts
// (CreateAccessTokenRequest); the other operations state no maximum.
const maxTokenTenantIDLen = 255

// checkExternalTenantID checks a path or body externalTenantId: at least one character, at most
// max (max < 0: no limit), no control characters.
func checkExternalTenantID(op, field, id string, max int) error {
	if err := checkLen(op, field, id, 1, max); err != nil {
		return err
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return invalid(op, field, "must not contain control characters")
		}
	}
	if id == "." || id == ".." {
		// As a path segment, servers and proxies resolve them to another resource.
		return invalid(op, field, "must not be %q", id)
	}
	return nil
}

// idempotencyKeyMax is the longest Idempotency-Key the API accepts.
const idempotencyKeyMax = 255

// checkIdempotencyKey checks a caller-supplied Idempotency-Key: at most 255 characters of
// printable ASCII (it travels in an HTTP header). Empty means "let the SDK generate one".
func checkIdempotencyKey(op, key string) error {
	if len(key) > idempotencyKeyMax {
		return invalid(op, "Idempotency-Key", "must be at most %d characters, got %d", idempotencyKeyMax, len(key))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return invalid(op, "Idempotency-Key", "must be printable ASCII without spaces")
		}
	}
	return nil
}
