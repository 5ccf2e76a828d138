package debitura

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/debitura-go/debitura/internal/redaction"
)

// Secret holds a credential: a Customer API access token ([Token].AccessToken) or a webhook
// signing secret ([Webhook].Secret, [WebhookVerifier].Secret). Only [Secret.Reveal] returns
// the value. Every way of printing a Secret shows "[REDACTED]" instead (an empty Secret shows
// nothing): String, GoString, Format (every fmt verb), LogValue (slog) and MarshalJSON.
//
// The value lives behind a pointer to a string, which fmt never follows: a Secret reached by
// reflection, where fmt does not call Format (a field of an unexported struct field, an
// unexported field of the caller's own struct, under any verb), prints as an address. So a
// struct that holds a Token, a Webhook or a Client prints no secret, whatever the verb and
// however deep it sits.
//
// A Secret is a small immutable value, safe to copy and to share between goroutines. The zero
// value is the empty secret. Decode one from a JSON string with UnmarshalJSON (the API's
// answers are decoded so). Compare two with Equal: == does not compile, since it would compare
// where the values are stored rather than the values.
type Secret struct {
	_ [0]func() // makes Secret incomparable with ==
	v *string   // never a plain string: see the type's doc comment
}

// NewSecret returns a Secret holding s. An empty s gives the zero Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the secret value, "" for the zero Secret. Use it only where the value goes on
// the wire or into secure storage; never print or log the result.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether s is empty. It makes `json:",omitzero"` leave an empty Secret out.
func (s Secret) IsZero() bool { return s.v == nil || *s.v == "" }

// Equal reports whether s and o hold the same value, compared in constant time. go-cmp uses
// it, so cmp.Diff works on structs that hold a Secret.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.Reveal()), []byte(o.Reveal())) == 1
}

// String returns "[REDACTED]", or "" for an empty Secret.
func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return redactedMark
}

// GoString is String, so %#v never prints the value.
func (s Secret) GoString() string { return s.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, %X, %d, ...).
func (s Secret) Format(f fmt.State, verb rune) { redaction.Format(f, verb, s.String()) }

// LogValue makes slog log s as String.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes s as the JSON string "[REDACTED]" ("" for an empty Secret), so JSON
// loggers and encoders cannot leak it either. Store Reveal's result, not a JSON encoding.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON decodes a JSON string (or null, the empty Secret) into s.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v *string
	if err := json.Unmarshal(b, &v); err != nil {
		// Keep the value out of the error: json's errors quote only the type, never the input.
		return fmt.Errorf("debitura: a secret must be a JSON string: %w", err)
	}
	if v == nil {
		*s = Secret{}
		return nil
	}
	*s = NewSecret(*v)
	return nil
}
