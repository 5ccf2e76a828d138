package debitura

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinels matched by (*APIError).Is, so errors.Is(err, ErrNotFound) works on any error the SDK
// returns, whatever the shape of the body was.
var (
	// ErrUnauthorized matches a 401: the API key is missing, wrong or revoked.
	ErrUnauthorized = errors.New("debitura: unauthorized")
	// ErrForbidden matches a 403, for example a test-only operation called in production.
	ErrForbidden = errors.New("debitura: forbidden")
	// ErrNotFound matches a 404.
	ErrNotFound = errors.New("debitura: not found")
	// ErrConflict matches every 409, whether or not it parsed into a *ConflictError.
	ErrConflict = errors.New("debitura: conflict")
	// ErrValidation matches a 400 or a 422 (business validation, IdempotencyConflict).
	ErrValidation = errors.New("debitura: validation failed")
	// ErrRateLimited matches a 429.
	ErrRateLimited = errors.New("debitura: rate limited")
	// ErrServer matches every 5xx.
	ErrServer = errors.New("debitura: server error")
)

// maxErrorBody is how much of an error body the SDK reads; maxBodyExcerpt is how much of it an
// APIError keeps.
const (
	maxErrorBody   = 1 << 20
	maxBodyExcerpt = 2048
	maxMessageLen  = 1000
)

// BusinessError is one entry of the API's businessErrors list.
type BusinessError struct {
	// Type is the machine-readable kind, e.g. "NoPartnerAvailable" or "IdempotencyConflict".
	Type string
	// Message is the human-readable explanation.
	Message string
	// SolutionURL links to a page that explains how to resolve the error, when the API gives one.
	SolutionURL string
}

// APIError is the error of every call that ended in a non-2xx answer. The SDK fills it from
// whichever error shape the API sent (ApiErrorResponseDto, BusinessErrorResponseApiDTO,
// ConflictResponse, a field map, ProblemDetails, the 429 body, the legacy guide's envelopes) and
// falls back to the HTTP status text for bodies that are empty or not JSON. Use errors.Is with
// the Err* sentinels to branch on the kind and errors.As to read the fields. It never contains
// the API key or a bearer token.
type APIError struct {
	// StatusCode is the HTTP status of the final attempt.
	StatusCode int
	// Type is the machine-readable error kind when the body names one (a conflict type, the
	// first business error's type, a legacy error type or code such as "rate_limit_exceeded").
	Type string
	// Message is the human-readable message, or the HTTP status text when the body has none.
	Message string
	// BusinessErrors are the body's businessErrors, in order.
	BusinessErrors []BusinessError
	// FieldErrors maps a request field to its validation messages (ValidationProblemDetails
	// errors, a bare field map, validationErrors, a legacy error.field).
	FieldErrors map[string][]string
	// SigningHandoff is set when the body carries signingHandoff (422 on POST /clients).
	SigningHandoff *SigningHandoff
	// RequestID identifies the request for Debitura support (X-Request-Id, X-Correlation-Id,
	// traceparent header, or the body's traceId).
	RequestID string
	// RetryAfter is the wait the server asked for (body retryAfter, legacy retry_after, or the
	// Retry-After header); zero when it asked for none.
	RetryAfter time.Duration
	// Method, Route and Operation describe the call: Route is the route template, e.g.
	// "/clients/{externalTenantId}", never the URL.
	Method, Route, Operation string
	// Attempts is how many times the request was sent (0 when the Client's request budget held
	// it back and it was never sent).
	Attempts int
	// Body is an excerpt of the response body (at most 2 KiB) with secrets removed; the whole
	// body is redacted before it is cut, so no part of a secret survives the cut.
	Body string

	// conflict is the body's conflict object (a ConflictResponse, unwrapped), nil when the body
	// is not one; Clients.Create turns it into a *ConflictError.
	conflict errorBody
}

// Error returns one line: "debitura: METHOD /route: STATUS Type: message (request_id=...)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("debitura: ")
	if e.Method != "" || e.Route != "" {
		b.WriteString(strings.TrimSpace(e.Method + " " + e.Route))
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Type != "" {
		b.WriteString(" ")
		b.WriteString(oneLine(e.Type, 200))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(oneLine(e.Message, maxMessageLen))
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry_after=")
		b.WriteString(e.RetryAfter.String())
		b.WriteString(")")
	}
	if e.RequestID != "" {
		b.WriteString(" (request_id=")
		b.WriteString(oneLine(e.RequestID, 200))
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's status class (ErrNotFound for a 404, and so
// on).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrValidation:
		return e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}

// LogValue gives slog the error's safe facts as a group.
func (e *APIError) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("status", e.StatusCode),
		slog.String("type", e.Type),
		slog.String("message", e.Message),
		slog.String("method", e.Method),
		slog.String("route", e.Route),
		slog.String("request_id", e.RequestID),
		slog.Int("attempts", e.Attempts),
	)
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// errorBody is the lower-cased-key view of a JSON error object: the API's binder is
// case-insensitive, so "Message", "message" and "MESSAGE" are one key.
type errorBody map[string]json.RawMessage

func parseObject(raw []byte) errorBody {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil
	}
	out := make(errorBody, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

func (o errorBody) has(key string) bool { _, ok := o[key]; return ok }

// str returns the value of key when it is a JSON string.
func (o errorBody) str(key string) string {
	raw, ok := o[key]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// obj returns the value of key when it is a JSON object.
func (o errorBody) obj(key string) errorBody {
	raw, ok := o[key]
	if !ok {
		return nil
	}
	return parseObject(raw)
}

// num returns the value of key when it is a finite number (or a string holding one).
func (o errorBody) num(key string) (float64, bool) {
	raw, ok := o[key]
	if !ok {
		return 0, false
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return 0, false
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// fieldMap decodes {"Field":["msg", ...]} (a string value counts as one message).
func fieldMap(orig map[string]json.RawMessage) map[string][]string {
	out := map[string][]string{}
	for k, v := range orig {
		var list []string
		if json.Unmarshal(v, &list) == nil {
			if len(list) > 0 {
				out[k] = list
			}
			continue
		}
		var s string
		if json.Unmarshal(v, &s) == nil && s != "" {
			out[k] = []string{s}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func rawObject(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// knownErrorKeys are the keys of the documented error shapes; a body with any of them is not a
// bare field map.
var knownErrorKeys = map[string]bool{
	"error": true, "message": true, "businesserrors": true, "signinghandoff": true, "type": true,
	"title": true, "status": true, "detail": true, "instance": true, "errors": true,
	"traceid": true, "retryafter": true, "retry_after": true, "data": true, "code": true,
	"validationerrors": true, "conflictresponse": true,
}

// isBareFieldMap reports whether every value of the body is a list of strings: the field map
// shape {"Users":["At least one user is required"]}.
func isBareFieldMap(orig map[string]json.RawMessage) bool {
	if len(orig) == 0 {
		return false
	}
	for k, v := range orig {
		if knownErrorKeys[strings.ToLower(k)] {
			return false
		}
		var list []string
		if json.Unmarshal(v, &list) != nil {
			return false
		}
	}
	return true
}

func businessErrors(raw json.RawMessage) []BusinessError {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []BusinessError
	for _, it := range items {
		o := parseObject(it)
		if o == nil {
			continue
		}
		out = append(out, BusinessError{
			Type:        o.str("type"),
			Message:     o.str("message"),
			SolutionURL: o.str("solutionurl"),
		})
	}
	return out
}

// looksLikeLabel reports whether s reads like a machine code ("rate_limit_exceeded",
// "MissingUserIdentifier") rather than a sentence.
func looksLikeLabel(s string) bool {
	return s != "" && len(s) <= 100 && !strings.ContainsAny(s, " \t\n.,:")
}

func isURI(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "urn:") || s == "about:blank"
}

// decodeAPIError builds the *APIError of a non-2xx answer from its status, headers and (at most
// 1 MiB of) body. secrets are removed from the message and the body excerpt. When the body is a
// conflict object (a ConflictResponse, unwrapped), it is kept for Clients.Create.
func decodeAPIError(status int, header http.Header, body []byte, now time.Time, secrets ...string) *APIError {
	e := &APIError{StatusCode: status}
	trimmed := bytes.TrimSpace(body)
	e.Body = redactedExcerpt(trimmed, maxBodyExcerpt, secrets...)

	orig := rawObject(trimmed)
	top := parseObject(trimmed)
	if top != nil {
		// The older wrapped conflict {"conflictResponse":{...}}.
		if raw := trimmedRaw(trimmed, "conflictResponse"); raw != nil {
			if inner := parseObject(raw); inner != nil {
				top, orig = inner, rawObject(raw)
			}
		}
		legacy := top.obj("error") // {"error":{...}} envelopes of the legacy guide
		var msgs []string
		add := func(s string) {
			if s != "" {
				msgs = append(msgs, s)
			}
		}
		add(top.str("message"))
		add(top.str("detail"))
		add(top.str("title"))
		if legacy != nil {
			add(legacy.str("message"))
		}
		if errStr := top.str("error"); errStr != "" && !looksLikeLabel(errStr) {
			add(errStr)
		}
		e.BusinessErrors = businessErrors(top["businesserrors"])
		for _, be := range e.BusinessErrors {
			add(be.Message)
		}
		if sh := top.obj("signinghandoff"); sh != nil {
			e.SigningHandoff = &SigningHandoff{CombinedSigningURL: sh.str("combinedsigningurl")}
		}

		// Type: the first machine code the body names.
		var types []string
		if t := top.str("type"); t != "" && !isURI(t) {
			types = append(types, t)
		}
		for _, be := range e.BusinessErrors {
			if be.Type != "" {
				types = append(types, be.Type)
			}
		}
		if legacy != nil {
			types = append(types, legacy.str("type"), legacy.str("code"))
		}
		if errStr := top.str("error"); looksLikeLabel(errStr) {
			types = append(types, errStr)
		}
		types = append(types, top.str("code"))
		for _, t := range types {
			if t != "" {
				e.Type = t
				break
			}
		}

		// Field errors.
		fields := map[string][]string{}
		merge := func(m map[string][]string) {
			for k, v := range m {
				fields[k] = append(fields[k], v...)
			}
		}
		for _, key := range []string{"errors", "validationerrors"} {
			if raw, ok := top[key]; ok {
				merge(fieldMap(rawObject(raw)))
			}
		}
		if legacy != nil {
			if f := legacy.str("field"); f != "" {
				merge(map[string][]string{f: {legacy.str("message")}})
			}
		}
		if isBareFieldMap(orig) {
			merge(fieldMap(orig))
		}
		if len(fields) > 0 {
			e.FieldErrors = fields
			keys := make([]string, 0, len(fields))
			for k := range fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if len(fields[keys[0]]) > 0 {
				add(keys[0] + ": " + fields[keys[0]][0])
			}
		}
		if len(msgs) > 0 {
			e.Message = msgs[0]
		}
		if e.Message == "" {
			if errStr := top.str("error"); errStr != "" {
				e.Message = errStr
			}
		}

		// Retry-After from the body: retryAfter, then the legacy retry_after (top level or inside
		// the error envelope).
		if d, ok := secondsToDuration(top.num("retryafter")); ok {
			e.RetryAfter = d
		} else if d, ok := secondsToDuration(top.num("retry_after")); ok {
			e.RetryAfter = d
		} else if legacy != nil {
			if d, ok := secondsToDuration(legacy.num("retry_after")); ok {
				e.RetryAfter = d
			} else if d, ok := secondsToDuration(legacy.num("retryafter")); ok {
				e.RetryAfter = d
			}
		}

		e.RequestID = top.str("traceid")

		if top.has("type") && (top.has("data") || !top.has("title") && !top.has("status")) && !isURI(top.str("type")) && top.str("type") != "" {
			e.conflict = top
		} else if legacy != nil && strings.EqualFold(legacy.str("type"), "conflict_error") {
			e.conflict = legacy
		}
	}

	if e.RetryAfter == 0 {
		if d, ok := parseRetryAfterHeader(header.Get("Retry-After"), now); ok {
			e.RetryAfter = d
		}
	}
	if id := requestIDFromHeader(header); id != "" {
		e.RequestID = id
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.Message = redact(e.Message, secrets...)
	e.Type, e.RequestID = redact(e.Type, secrets...), redact(e.RequestID, secrets...) // both are in Error()
	for i := range e.BusinessErrors {
		be := &e.BusinessErrors[i]
		be.Type, be.Message = redact(be.Type, secrets...), redact(be.Message, secrets...)
		be.SolutionURL = redactLinks(be.SolutionURL, secrets...)
	}
	if len(e.FieldErrors) > 0 {
		fe := make(map[string][]string, len(e.FieldErrors))
		for k, msgs := range e.FieldErrors {
			out := make([]string, len(msgs))
			for i, m := range msgs {
				out[i] = redact(m, secrets...)
			}
			fe[redact(k, secrets...)] = out
		}
		e.FieldErrors = fe
	}
	if e.SigningHandoff != nil {
		e.SigningHandoff = &SigningHandoff{CombinedSigningURL: redactLinks(e.SigningHandoff.CombinedSigningURL, secrets...)}
	}
	return e
}

// trimmedRaw returns the raw value of key (matched case-insensitively) in the JSON object raw.
func trimmedRaw(raw []byte, key string) json.RawMessage {
	for k, v := range rawObject(raw) {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func requestIDFromHeader(h http.Header) string {
	for _, k := range []string{"X-Request-Id", "Request-Id", "X-Correlation-Id", "Traceparent"} {
		if v := strings.TrimSpace(h.Get(k)); v != "" {
			return v
		}
	}
	return ""
}

// maxServerWait bounds a server-given wait.
const maxServerWait = 24 * time.Hour

// secondsToDuration turns a server-given number of seconds into a Duration; negative values
// are rejected.
func secondsToDuration(f float64, ok bool) (time.Duration, bool) {
	if !ok || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	if f > maxServerWait.Seconds() { // absurd values must not overflow time arithmetic
		return maxServerWait, true
	}
	return time.Duration(f * float64(time.Second)), true
}

// parseRetryAfterHeader reads Retry-After as (possibly fractional) seconds or an HTTP date.
func parseRetryAfterHeader(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return secondsToDuration(f, true)
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// Errors of calls that got no usable answer of the API.

// ErrRedirectRefused matches the error of a call whose answer was a redirect the SDK does not
// follow: one that leaves the origin (scheme, host and port) of the request, which includes
// every https → http downgrade. Test for it with errors.Is; the error's text names the origin the
// redirect pointed to, never its path or query. Such a call is not retried.
var ErrRedirectRefused = errors.New("debitura: redirect refused")

// redirectError is the error CheckRedirect returns for a redirect to another origin. It names
// the target origin only: a path or query could carry data the caller never meant to print.
type redirectError struct {
	from, to string // origins
}

func (e *redirectError) Error() string {
	return "redirect to another origin refused: " + e.to + " (the SDK follows redirects within " + e.from + " only)"
}

func (e *redirectError) Is(target error) bool { return target == ErrRedirectRefused }

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

// Errors of a success (2xx) answer the SDK cannot use. Test for them with errors.Is.
var (
	// ErrResponseTooLarge matches the error of a call whose success body is longer than the
	// limit of WithMaxResponseBytes (default DefaultMaxResponseBytes). The SDK stops reading at
	// the limit and does not retry the call.
	ErrResponseTooLarge = errors.New("debitura: response body too large")
	// ErrEmptyResponse matches the error of a call whose success answer must carry a resource
	// (a client, a page, a token, a subscription, ...) but whose body is empty or the JSON
	// literal null. The call is not retried: the server answered, and may have acted.
	ErrEmptyResponse = errors.New("debitura: empty response")
)

// tooLargeError is the error of a success body over the limit; it names the limit.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("response body exceeds the limit of %d bytes (WithMaxResponseBytes)", e.limit)
}

func (e *tooLargeError) Is(target error) bool { return target == ErrResponseTooLarge }

// emptyResponseError is the error of a success answer without the resource it must carry.
type emptyResponseError struct{ status int }

func (e *emptyResponseError) Error() string {
	return fmt.Sprintf("%d answer has an empty or null body where a resource was expected", e.status)
}

func (e *emptyResponseError) Is(target error) bool { return target == ErrEmptyResponse }

// requestError is a transport or decode failure of a call. Its text names the route template,
// never the URL; Unwrap gives the underlying error (often a *url.Error).
type requestError struct {
	method, route string
	attempts      int
	what          string
	err           error
}

func (e *requestError) Error() string {
	inner := e.err
	var (
		uerr *url.Error
		ate  *attemptTimeoutError
	)
	switch {
	case errors.As(inner, &ate):
		inner = ate // prints without the URL
	case errors.As(inner, &uerr):
		inner = uerr.Err // the *url.Error would print the full URL
	}
	msg := "debitura: " + e.method + " " + e.route + ": "
	if e.what != "" {
		msg += e.what + ": "
	}
	msg += redact(fmt.Sprint(inner))
	if e.attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.attempts)
	}
	return msg
}

func (e *requestError) Unwrap() error { return e.err }

// canceledError is the error of a call whose ctx ended. errors.Is finds context.Canceled or
// context.DeadlineExceeded, and errors.As finds the last *APIError when there was an answer.
type canceledError struct {
	method, route string
	attempts      int
	err           error
	last          *APIError
}

func (e *canceledError) Error() string {
	msg := fmt.Sprintf("debitura: %s %s: %v after %d attempt(s)", e.method, e.route, e.err, e.attempts)
	if e.last != nil {
		msg += fmt.Sprintf(" (last answer: %d %s: %s)", e.last.StatusCode, e.last.Type, oneLine(e.last.Message, 200))
	}
	return msg
}

func (e *canceledError) Unwrap() []error {
	if e.last == nil {
		return []error{e.err}
	}
	return []error{e.err, e.last}
}
