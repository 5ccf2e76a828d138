package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/debitura-go/debitura/internal/redaction"
)

// The headers of a webhook delivery.
const (
	// SignatureHeader carries "t={unix seconds},v1={lower-case hex HMAC-SHA256}"; several v1
	// values may be present.
	SignatureHeader = "X-Debitura-Signature"
	// EventHeader carries the event name. It is not covered by the signature.
	EventHeader = "X-Debitura-Event"
	// TimestampHeader carries the delivery time.
	TimestampHeader = "X-Debitura-Timestamp"
	// TestHeader is "true" on deliveries triggered with the SDK's WebhooksService.Test.
	TestHeader = "X-Debitura-Test"
)

// DefaultTolerance is how far the signature's timestamp may be from the receiver's clock, in
// either direction, before a delivery is refused as a replay (or a badly skewed clock).
const DefaultTolerance = 300 * time.Second

// Verifier checks the signatures of webhook deliveries against one or more secrets. Build it
// with [NewVerifier]; the zero value refuses every delivery with [ErrSecret]. A Verifier is safe
// for concurrent use as long as its fields are not changed, and copies of it share its secrets.
// It never prints them: not through String, %v, %#v or slog, and not when fmt prints a struct
// that holds a Verifier in an unexported field (the secrets sit behind an unexported pointer).
type Verifier struct {
	// Tolerance is how far the signature's timestamp may be from Now in either direction. Zero
	// or less means DefaultTolerance (300 s).
	Tolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	keys *keyring
}

// NewVerifier returns a Verifier that accepts deliveries signed with secret, the
// subscription's Base64 secret as Create or Update returned it, or with any of older. After a
// secret regeneration, pass the new secret as secret and the old one in older until deliveries
// signed with it have stopped arriving; empty entries of older are ignored. A secret that is
// empty or not Base64 makes every Verify fail with [ErrSecret].
func NewVerifier(secret string, older ...string) *Verifier {
	return &Verifier{keys: newKeyring(secret, older)}
}

// String describes v without its secrets.
func (v Verifier) String() string {
	extra := 0
	if v.keys != nil {
		extra = v.keys.extra
	}
	return fmt.Sprintf("webhook.Verifier{Secret: %s, Secrets: %d more, Tolerance: %s}", redaction.Mark, extra, v.Tolerance)
}

// GoString is String, so %#v never prints the secrets.
func (v Verifier) GoString() string { return v.String() }

// Format prints String for every verb.
func (v Verifier) Format(f fmt.State, verb rune) { redaction.Format(f, verb, v.String()) }

// LogValue keeps the secrets out of slog output.
func (v Verifier) LogValue() slog.Value {
	extra := 0
	if v.keys != nil {
		extra = v.keys.extra
	}
	return slog.GroupValue(slog.Int("extraSecrets", extra), slog.Duration("tolerance", v.Tolerance))
}

// Verify checks sigHeader (the value of the X-Debitura-Signature header) against body, the raw
// request body exactly as received. It computes HMAC-SHA256 over "{t}.{body}" keyed with the
// Base64-decoded secret, compares it in constant time with every v1 value of the header, and
// accepts a match under any of the verifier's secrets when t is within Tolerance of Now. It
// returns the time t of the signature.
//
// Errors (errors.Is): [ErrSignature] (no header, or no match), [ErrTimestamp] (a match whose t
// is too old or too far in the future), [ErrMalformed] (a header that cannot be parsed),
// [ErrSecret] (a secret that is empty or not Base64).
func (v *Verifier) Verify(sigHeader string, body []byte) (time.Time, error) {
	if v.keys == nil {
		return time.Time{}, errorf(ErrSecret, "the secret is empty")
	}
	if v.keys.err != nil {
		return time.Time{}, v.keys.err
	}
	sig, err := parseSignatureHeader(sigHeader)
	if err != nil {
		return time.Time{}, err
	}
	matched := false
	for _, k := range v.keys.keys {
		want := computeSignature(k, sig.ts, body)
		for _, got := range sig.v1 {
			if hmac.Equal(want, got) {
				matched = true
			}
		}
	}
	if !matched {
		return time.Time{}, errorf(ErrSignature, "no v1 signature matches the body")
	}
	at := time.Unix(sig.ts, 0)
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if d := now.Sub(at); d > tol || d < -tol {
		return time.Time{}, errorf(ErrTimestamp, "signed at %s, %s from now (tolerance %s)",
			at.UTC().Format(time.RFC3339), d.Round(time.Second), tol)
	}
	return at, nil
}

// Parse verifies a delivery (its header h and raw body) and decodes the event envelope. The
// event's Test and SignatureTime fields come from the headers.
//
// Errors: those of Verify, and [ErrMalformed] for a body that is not a JSON envelope with an id
// and an event.
func (v *Verifier) Parse(h http.Header, body []byte) (*Event, error) {
	at, err := v.Verify(h.Get(SignatureHeader), body)
	if err != nil {
		return nil, err
	}
	ev := new(Event)
	if err := json.Unmarshal(body, ev); err != nil {
		return nil, errorf(ErrMalformed, "body is not an event envelope: %v", err)
	}
	// The event name comes from the signed body only: the X-Debitura-Event header is not
	// covered by the signature.
	if ev.ID == "" || ev.Event == "" {
		return nil, errorf(ErrMalformed, "the envelope has no id or no event")
	}
	ev.Test, _ = strconv.ParseBool(strings.TrimSpace(h.Get(TestHeader)))
	ev.SignatureTime = at
	return ev, nil
}

// Verify checks the X-Debitura-Signature value sigHeader of a delivery against its raw body
// with secret (Base64, as Create returned it), at time now, with the default tolerance of
// 300 s. It is [Verifier.Verify] with one secret; see there for the errors.
func Verify(secret, sigHeader string, body []byte, now time.Time) error {
	v := NewVerifier(secret)
	v.Now = func() time.Time { return now }
	_, err := v.Verify(sigHeader, body)
	return err
}

// Parse verifies a delivery (its headers h and raw body) with secret at time now, with the
// default tolerance, and decodes its envelope. It is [Verifier.Parse] with one secret; see
// there for the errors. Read the body whole and unchanged before calling it: any re-encoding
// breaks the signature.
func Parse(secret string, h http.Header, body []byte, now time.Time) (*Event, error) {
	v := NewVerifier(secret)
	v.Now = func() time.Time { return now }
	return v.Parse(h, body)
}

type signatureHeader struct {
	ts int64
	v1 [][]byte
}

// parseSignatureHeader parses "t=1700000000,v1=ab12...[,v1=...]". Unknown keys (a future v2
// scheme) are ignored.
func parseSignatureHeader(h string) (*signatureHeader, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil, errorf(ErrSignature, "no %s header", SignatureHeader)
	}
	sig := &signatureHeader{}
	haveT := false
	for part := range strings.SplitSeq(h, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errorf(ErrMalformed, "signature header element without '='")
		}
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		switch k {
		case "t":
			if haveT {
				return nil, errorf(ErrMalformed, "signature header has two t values")
			}
			if val == "" || strings.TrimLeft(val, "0123456789") != "" {
				return nil, errorf(ErrMalformed, "signature timestamp t is not a number of seconds")
			}
			ts, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return nil, errorf(ErrMalformed, "signature timestamp t is out of range")
			}
			sig.ts, haveT = ts, true
		case "v1":
			b, err := hex.DecodeString(val)
			if err != nil || len(b) != sha256.Size {
				return nil, errorf(ErrMalformed, "v1 signature is not %d hex digits", 2*sha256.Size)
			}
			sig.v1 = append(sig.v1, b)
		}
	}
	switch {
	case !haveT:
		return nil, errorf(ErrMalformed, "signature header has no t")
	case len(sig.v1) == 0:
		return nil, errorf(ErrMalformed, "signature header has no v1 signature")
	}
	return sig, nil
}
