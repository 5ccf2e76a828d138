package debitura

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// CallOption changes one call of an operation; every service method takes them last. Options
// given to [New] are the defaults of every call, and a CallOption overrides them for its call
// only. Options are applied in order, so the last of two conflicting ones wins. An invalid
// option makes the call return a *[ValidationError] before anything is sent.
type CallOption func(*callSettings) error

// callSettings are the settings of one call: the Client's defaults, then its CallOptions.
type callSettings struct {
	header         http.Header // extra headers (WithHeader)
	maxRetries     int
	attemptTimeout time.Duration
	idempotencyKey string
	response       *Response // filled when the call returns (WithResponse)
	lane           Lane      // WithLane; LaneInteractive by default
}

// refusedHeaders are the headers WithHeader cannot set: the credentials, and the headers the
// SDK sets itself (with the option that controls them, if any).
var refusedHeaders = map[string]string{
	"Xapikey":             "it carries the API key, which the SDK sends",
	"Authorization":       "it carries credentials",
	"Proxy-Authorization": "it carries credentials",
	"Cookie":              "it carries credentials",
	"Idempotency-Key":     "use WithIdempotencyKey",
	"User-Agent":          "use WithUserAgent or WithAppInfo",
	"Accept":              "the SDK sets it",
	"Content-Type":        "the SDK sets it",
	"Content-Length":      "the SDK sets it",
	"Host":                "the SDK sets it",
}

// WithHeader adds a header to every attempt of the call, for example a tracing or correlation
// id. The name must be a valid header name and the value printable ASCII without line breaks.
// Repeating WithHeader with the same name adds another value. It refuses the headers that carry
// credentials (XApiKey, Authorization, Proxy-Authorization, Cookie) and the ones the SDK sets
// itself (Idempotency-Key: use WithIdempotencyKey; User-Agent: use WithUserAgent or
// WithAppInfo; Accept, Content-Type, Content-Length, Host).
func WithHeader(name, value string) CallOption {
	return func(s *callSettings) error {
		if name == "" || !tokenChars(name) || strings.ContainsAny(name, "()<>@,;:\\\"[]?={}") {
			return fmt.Errorf("WithHeader: %q is not a valid header name", name)
		}
		canon := http.CanonicalHeaderKey(name)
		if why, refused := refusedHeaders[canon]; refused {
			return fmt.Errorf("WithHeader: the SDK does not let a call set %s: %s", name, why)
		}
		for i := 0; i < len(value); i++ {
			if (value[i] < 0x20 && value[i] != '\t') || value[i] == 0x7f {
				return fmt.Errorf("WithHeader: the value of %s has a control character", name)
			}
		}
		if s.header == nil {
			s.header = http.Header{}
		}
		s.header.Add(canon, value)
		return nil
	}
}

// WithCallMaxRetries overrides [WithMaxRetries] for one call: how many times a failed attempt
// may be retried (0 to 10; 0 turns retries off). The operation's retry class still decides what
// may be retried, and an interactive call retries 429s beyond the count while its rate-limit
// waits stay within WithMaxRetryWait (see WithMaxRetries).
func WithCallMaxRetries(n int) CallOption {
	return option(failIf(n < 0 || n > maxMaxRetries, "WithCallMaxRetries: %d is outside 0..%d", n, maxMaxRetries), func(s *callSettings) { s.maxRetries = n })
}

// WithCallAttemptTimeout overrides the per-attempt timeout for one call (d must be positive):
// it replaces the bound that [WithAttemptTimeout], the Timeout of the http.Client given with
// [WithHTTPClient], or [DefaultAttemptTimeout] sets for the Client. The rules of
// WithAttemptTimeout apply: a timed-out attempt's outcome is unknown, and the call's error
// matches ErrAttemptTimeout when the last attempt timed out.
func WithCallAttemptTimeout(d time.Duration) CallOption {
	return option(failIf(d <= 0, "WithCallAttemptTimeout: %s is not positive", d), func(s *callSettings) { s.attemptTimeout = d })
}

// WithIdempotencyKey sends key as the call's Idempotency-Key header, on every attempt, instead
// of one the SDK generates. Only the operations that take one accept it:
// [ClientsService.SubmitKYC] and [TokensService.Rotate]; a later call with the same key (and the
// same body) is a replay of the first instead of a second submission or rotation. Any other
// operation refuses the option with a *ValidationError naming the operation. The key is at most
// 255 printable ASCII characters without spaces; "" means "generate one".
func WithIdempotencyKey(key string) CallOption {
	return option(nil, func(s *callSettings) { s.idempotencyKey = key })
}

// WithResponse fills *dst with the call's [Response] (status, headers, request id, attempts,
// the time spent waiting, whether the outcome was uncertain, the Idempotency-Key sent) when the
// call returns, whether it succeeded or not. dst must not be nil.
func WithResponse(dst *Response) CallOption {
	return option(failIf(dst == nil, "WithResponse: nil *Response"), func(s *callSettings) { s.response = dst })
}
