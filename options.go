package debitura

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/debitura-go/debitura/internal/redaction"
)

// Option configures a Client. Options are applied in order, so the last of two conflicting
// options wins; an invalid value makes New return an error. Options never panic.
type Option func(*config) error

// Defaults of the retry pipeline.
const (
	defaultMaxRetries   = 3
	maxMaxRetries       = 10
	defaultMaxRetryWait = 30 * time.Second
	backoffBase         = 500 * time.Millisecond
	backoffCap          = 8 * time.Second
	waitFloor           = 100 * time.Millisecond
)

// Defaults of the limits on each attempt; WithAttemptTimeout and WithMaxResponseBytes change
// them.
const (
	// DefaultAttemptTimeout bounds one attempt (sending the request, following its redirects
	// and reading the whole answer) when neither WithAttemptTimeout nor the Timeout of the
	// http.Client given with WithHTTPClient sets a bound.
	DefaultAttemptTimeout = 30 * time.Second
	// DefaultMaxResponseBytes is the largest success body the SDK reads unless
	// WithMaxResponseBytes says otherwise. The largest real answer, a page of 100 clients, is a
	// small fraction of it.
	DefaultMaxResponseBytes = 16 << 20
)

// config is the settled configuration of a Client. It holds the API key, so it has its own
// String, GoString, Format and LogValue methods that leave the key out.
type config struct {
	apiKey       Secret // a Secret, so that fmt cannot print it even where it ignores config.Format
	baseURL      string
	userAgent    string // extra product tokens from WithUserAgent
	appName      string
	appVersion   string
	baseClient   *http.Client // the caller's client; copied, never mutated
	maxRetries   int
	maxRetryWait time.Duration
	rateLimit    float64 // requests per second; 0 means no client-side limiter
	rateBurst    int
	noPacing     bool         // WithAdaptivePacing(false): no correction of the budget's limits
	logger       *slog.Logger // nil logs nothing

	limits      Limits        // WithLimits; DefaultLimits() otherwise
	limitsSet   bool          // WithLimits was given
	budget      Budget        // WithBudget; nil means an in-memory budget of limits
	bulkMaxWait time.Duration // WithBulkMaxWait; 0 means maxRetryWait
	tokenCache  TokenCache    // WithTokenCache
	linkLocker  Locker        // WithLinkLocker

	attemptTimeout   time.Duration // WithAttemptTimeout; 0 means not given
	maxResponseBytes int64         // WithMaxResponseBytes

	// Injected by tests only (unexported option withClock); nil means the real clock.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	// jitter returns a random duration in [0, max]; nil means the Client's own random source.
	jitter func(max time.Duration) time.Duration
}

func defaultConfig() config {
	return config{
		baseURL:      ProductionBaseURL,
		maxRetries:   defaultMaxRetries,
		maxRetryWait: defaultMaxRetryWait,
		limits:       DefaultLimits(),

		maxResponseBytes: DefaultMaxResponseBytes,
	}
}

// effectiveAttemptTimeout is the Timeout of the SDK's *http.Client: the shorter of
// WithAttemptTimeout and the caller's http.Client.Timeout when both are set, whichever one is
// set otherwise, and DefaultAttemptTimeout when neither is.
func (cfg *config) effectiveAttemptTimeout() time.Duration {
	var callers time.Duration
	if cfg.baseClient != nil && cfg.baseClient.Timeout > 0 {
		callers = cfg.baseClient.Timeout
	}
	switch {
	case cfg.attemptTimeout > 0 && callers > 0:
		return min(cfg.attemptTimeout, callers)
	case cfg.attemptTimeout > 0:
		return cfg.attemptTimeout
	case callers > 0:
		return callers
	}
	return DefaultAttemptTimeout
}

// String describes the configuration without its API key.
func (cfg config) String() string {
	return fmt.Sprintf("debitura.config{baseURL: %s, apiKey: %s, maxRetries: %d, maxRetryWait: %s}",
		cfg.baseURL, redactedMark, cfg.maxRetries, cfg.maxRetryWait)
}

// GoString is String, so %#v never prints the API key.
func (cfg config) GoString() string { return cfg.String() }

// Format prints String for every verb, so %v, %+v, %#v, %s and %q never print the API key.
func (cfg config) Format(f fmt.State, verb rune) { redaction.Format(f, verb, cfg.String()) }

// LogValue keeps the API key out of slog output.
func (cfg config) LogValue() slog.Value { return slog.StringValue(cfg.String()) }

// httpClient returns the *http.Client the SDK owns: a copy of the caller's, or a new one. Its
// transport is wrapped so that go-retryablehttp's CloseIdleConnections calls do not reach the
// caller's (or net/http's default) connection pool; its redirect policy is redirectPolicy
// (same origin only, the caller's CheckRedirect as an extra restriction); its Timeout is the
// per-attempt timeout (attemptTimeout).
func (cfg *config) httpClient() *http.Client {
	var hc http.Client
	if cfg.baseClient != nil {
		hc = *cfg.baseClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = keepIdleTransport{base}
	hc.CheckRedirect = redirectPolicy(hc.CheckRedirect)
	hc.Timeout = cfg.effectiveAttemptTimeout()
	return &hc
}

// keepIdleTransport forwards RoundTrip only; it deliberately has no CloseIdleConnections.
type keepIdleTransport struct{ rt http.RoundTripper }

func (t keepIdleTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.rt.RoundTrip(req)
}

// WithBaseURL points the Client at another environment or at the mock server. The URL must use
// https, except on a loopback host (127.0.0.0/8, ::1, localhost), where http is allowed.
func WithBaseURL(raw string) Option {
	_, err := parseBaseURL(raw)
	return option(err, func(cfg *config) { cfg.baseURL = raw })
}

// WithHTTPClient sets the *http.Client whose transport, timeout, cookie jar and redirect policy
// the SDK uses. The SDK keeps a copy and never changes the caller's client; it never closes the
// idle connections of the caller's transport. The client's Timeout applies to each attempt (see
// WithAttemptTimeout for how it combines with that option); the ctx passed to an operation
// bounds the whole call, retries and waits included. The client's CheckRedirect is an extra
// restriction on top of the SDK's redirect policy, never a relaxation: a redirect is followed
// only when it stays on the origin of the request (scheme, host and port; so https → http
// never is) and the caller's CheckRedirect allows it too. A refused redirect ends the call with
// an error matching ErrRedirectRefused (another origin) or wrapping the caller's error.
func WithHTTPClient(hc *http.Client) Option {
	return option(failIf(hc == nil, "WithHTTPClient: client is nil"), func(cfg *config) { cfg.baseClient = hc })
}

// WithAttemptTimeout bounds each attempt of a call: sending the request, following its
// redirects and reading the whole answer (d must be positive). Without it an attempt is bounded
// by the Timeout of the http.Client given with WithHTTPClient, if that is set, and otherwise by
// DefaultAttemptTimeout (30s). When both this option and the caller's Timeout are set, the
// shorter one applies.
//
// An attempt that times out counts as an attempt whose outcome is unknown (the server may have
// acted on it), so it is retried only by the rules of the operation's retry class. When it is the
// last attempt, the call's error matches ErrAttemptTimeout and says that the attempt timed out.
// The ctx passed to an operation still bounds the whole call, retries and waits included; when
// ctx ends first, the error wraps ctx.Err() instead. WithCallAttemptTimeout overrides the bound
// for one call.
func WithAttemptTimeout(d time.Duration) Option {
	return option(failIf(d <= 0, "WithAttemptTimeout: %s is not positive", d), func(cfg *config) { cfg.attemptTimeout = d })
}

// WithMaxResponseBytes sets the largest success (2xx) body the SDK reads, in bytes (default
// DefaultMaxResponseBytes, 16 MiB; n must be positive). A longer answer is not read further: the
// call fails with an error that matches ErrResponseTooLarge and names the limit. It is not
// retried, since the server answered and would answer the same again; an operation that
// changes state may have had its effect. Error bodies are read up to 1 MiB regardless.
func WithMaxResponseBytes(n int64) Option {
	return option(failIf(n <= 0, "WithMaxResponseBytes: %d is not positive", n), func(cfg *config) { cfg.maxResponseBytes = n })
}

// WithUserAgent adds product tokens (for example "billing-sync/2.1 (+https://example.com)") to
// the User-Agent header, after the SDK's own "debitura-go/<Version>" token and any WithAppInfo
// token. The value must be non-empty printable ASCII of at most 256 bytes.
func WithUserAgent(ua string) Option {
	ua = strings.TrimSpace(ua)
	bad := ua == "" || len(ua) > 256 || !printableASCII(ua)
	return option(failIf(bad, "WithUserAgent: user agent must be 1-256 printable ASCII characters"), func(cfg *config) { cfg.userAgent = ua })
}

// WithAppInfo names the application that embeds the SDK. The User-Agent becomes
// "debitura-go/<Version> <name>/<version>" (just "<name>" when version is empty). Name and
// version must be printable ASCII without spaces or slashes.
func WithAppInfo(name, version string) Option {
	err := failIf(name == "" || len(name) > 64 || !tokenChars(name),
		"WithAppInfo: name %q must be 1-64 printable ASCII characters without spaces or slashes", name)
	if err == nil {
		err = failIf(len(version) > 64 || (version != "" && !tokenChars(version)),
			"WithAppInfo: version %q must be at most 64 printable ASCII characters without spaces or slashes", version)
	}
	return option(err, func(cfg *config) { cfg.appName, cfg.appVersion = name, version })
}

// WithMaxRetries sets how many times a failed attempt may be retried (0 to 10; default 3, so at
// most 4 attempts). 0 turns retries off. Only operations whose retry is safe are retried; see
// the package documentation. WithCallMaxRetries overrides it for one call.
//
// A 429 is the exception once the count is used up: the server refused the request before it
// did anything, so an interactive call (not [LaneBulk]) whose retries are not turned off keeps
// retrying 429s, each after the wait the server asked for, as long as the call's rate-limit
// waits in all ([Response].RateLimitWait) stay within WithMaxRetryWait. Time bounds it, not a
// count: a busy key (for example a fleet whose shared budget fell back to per-process shares)
// delays a call instead of failing it.
func WithMaxRetries(n int) Option {
	return option(failIf(n < 0 || n > maxMaxRetries, "WithMaxRetries: %d is outside 0..%d", n, maxMaxRetries), func(cfg *config) { cfg.maxRetries = n })
}

// WithMaxRetryWait sets the longest wait the SDK sleeps before a retry (default 30s; must be
// positive). When the server asks for a longer wait (a 429's retryAfter or a Retry-After
// header), the call does not sleep: it returns the answer as an *APIError whose RetryAfter says
// how long the server asked for, so the caller can reschedule. The SDK's own exponential backoff
// is capped at the smaller of 8s and this value.
func WithMaxRetryWait(d time.Duration) Option {
	return option(failIf(d <= 0, "WithMaxRetryWait: %s is not positive", d), func(cfg *config) { cfg.maxRetryWait = d })
}

// WithRateLimit adds a client-side limit to the Client's in-memory budget: at most burst
// requests in any burst/perSecond seconds (a sliding window counted in up to 10 segments), on
// top of the budget's windows. perSecond must be positive and finite and burst at least 1. A
// wait for it follows the budget's rules (see WithLimits and WithMaxRetryWait). It cannot be
// combined with WithBudget.
//
// Deprecated: the Client's [Budget] models Debitura's own windows (WithLimits); use it, or a
// Budget of your own with WithBudget. WithRateLimit is kept as a shim onto the budget.
func WithRateLimit(perSecond float64, burst int) Option {
	err := failIf(math.IsNaN(perSecond) || math.IsInf(perSecond, 0) || perSecond <= 0,
		"WithRateLimit: perSecond %v must be positive and finite", perSecond)
	if err == nil {
		err = failIf(burst < 1, "WithRateLimit: burst %d must be at least 1", burst)
	}
	return option(err, func(cfg *config) { cfg.rateLimit, cfg.rateBurst = perSecond, burst })
}

// WithAdaptivePacing turns on (the default) or off the correction of the in-memory budget for a
// server stricter than the configured limits. A 429 that the budget did not expect (it had
// admitted the request and no hold was in force) shows the server's real rate: the requests it
// let through since the budget last started counting, over the time until the 429's retryAfter
// ends. The budget then also paces a little below that rate, and relaxes the learned limit
// gradually until the configured limits alone apply again; a further unexpected 429 lowers it
// once more. Turning it off leaves the budget at its configured limits, with the shared 429 gate
// alone handling a server that is stricter.
//
// Deprecated: the adaptive pacer is replaced by the [Budget], which paces to the configured
// windows from the first request; this option now only turns the budget's correction on or off.
func WithAdaptivePacing(on bool) Option {
	return option(nil, func(cfg *config) { cfg.noPacing = !on })
}

// WithLogger makes the Client log to l: one record at the end of each call, with its duration,
// and one Debug record per retried attempt or wait for a slot of the request budget. A successful call is logged
// at Debug; a call that ended with a 4xx answer other than 429 at Info; a call that failed
// otherwise (429 or 5xx after its retries, transport error, timeout, ctx ended) at Warn.
// Records carry the operationId (op), method, route template, attempt number, status, the wait
// or duration and the request id; never URLs with their query, headers, bodies, API keys or
// tokens. A nil l (the default) logs nothing.
func WithLogger(l *slog.Logger) Option {
	return option(nil, func(cfg *config) { cfg.logger = l })
}

// withClock injects the clock and the sleeper; tests use it so that no test sleeps for real.
// sleep must return ctx.Err() when ctx ends first.
func withClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) Option {
	return option(failIf(now == nil || sleep == nil, "withClock: nil clock or sleeper"), func(cfg *config) { cfg.now, cfg.sleep = now, sleep })
}

// withJitter injects the random source of the backoff (tests).
func withJitter(j func(max time.Duration) time.Duration) Option {
	return option(failIf(j == nil, "withJitter: nil jitter"), func(cfg *config) { cfg.jitter = j })
}

// option returns an Option or a CallOption (S is config or callSettings) that fails with err
// when err is not nil and applies set otherwise. An option function checks its arguments when it
// is called, with failIf, and hands the outcome here; New or the call reports the error.
func option[S any](err error, set func(*S)) func(*S) error {
	return func(s *S) error {
		if err != nil {
			return err
		}
		set(s)
		return nil
	}
}

// failIf returns the error that format and args describe when bad is true, and nil otherwise.
func failIf(bad bool, format string, args ...any) error {
	if !bad {
		return nil
	}
	return fmt.Errorf(format, args...)
}

// userAgentString is the User-Agent header of every request.
func (cfg *config) userAgentString() string {
	ua := "debitura-go/" + Version
	if cfg.appName != "" {
		ua += " " + cfg.appName
		if cfg.appVersion != "" {
			ua += "/" + cfg.appVersion
		}
	}
	if cfg.userAgent != "" {
		ua += " " + cfg.userAgent
	}
	return ua
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func tokenChars(s string) bool {
	return printableASCII(s) && !strings.ContainsAny(s, " /")
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("base URL %q is not an absolute URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q must not carry user info, a query or a fragment", u.Redacted())
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("base URL %q must use https (http is allowed on loopback only)", raw)
		}
	default:
		return nil, fmt.Errorf("base URL %q must use https", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxRedirects is how many redirects one attempt follows, as net/http's default policy.
const maxRedirects = 10

// redirectStopped wraps every other error of the redirect policy (too many redirects, the
// caller's own CheckRedirect), so the retry engine knows the call must end: the same request
// would be redirected the same way again.
type redirectStopped struct{ err error }

func (e *redirectStopped) Error() string { return e.err.Error() }
func (e *redirectStopped) Unwrap() error { return e.err }

// redirectPolicy is the CheckRedirect of the SDK's *http.Client. A redirect is followed only
// when it stays on the origin of the first request of the chain (so https → http never is), at
// most maxRedirects times in a row whatever the caller's CheckRedirect says, and only when the
// caller's own CheckRedirect (prev, may be nil) allows it too. A refused cross-origin redirect
// sends nothing to the other origin: neither the XApiKey header nor the request body.
func redirectPolicy(prev func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !sameOrigin(req.URL, via[0].URL) {
			return &redirectError{from: origin(via[0].URL), to: origin(req.URL)}
		}
		if len(via) >= maxRedirects {
			return &redirectStopped{errors.New("stopped after 10 redirects")}
		}
		if prev != nil {
			if err := prev(req, via); err != nil {
				if err == http.ErrUseLastResponse { // net/http compares it with ==, so pass it on as is
					return err
				}
				return &redirectStopped{err}
			}
		}
		return nil
	}
}

// origin returns u's scheme://host[:port], lower-cased, with the scheme's default port left
// out: never user info, path, query or fragment.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && p != defaultPort(scheme) {
		host += ":" + p
	}
	return scheme + "://" + host
}

func defaultPort(scheme string) string {
	switch scheme {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool { return origin(a) == origin(b) }
