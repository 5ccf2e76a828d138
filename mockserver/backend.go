package mockserver

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultAPIKey is the XApiKey of the partner every Backend starts with ([WithDefaultAPIKey]
// changes it). Prefer keys that start with "mock_", as this one does, so that a key of the mock
// is never mistaken for a real Debitura key, in a config file or in a log.
const DefaultAPIKey = "mock_test_default_partner_key_0001"

// DefaultPartnerID is the id (GET /me) of the default partner.
const DefaultPartnerID = "5b0e3a52-0d5c-4d1e-9a7a-2f1f1c0de001"

// Environment selects which Debitura environment the mock imitates.
type Environment int

const (
	// Test imitates testreferral-api.debitura.com: the test-only routes work.
	Test Environment = iota
	// Production imitates referral-api.debitura.com: DELETE /clients/{id}, GET
	// /clients/{id}/is-deletable and every /__mock/ route answer 403.
	Production
)

func (e Environment) String() string {
	if e == Production {
		return "production"
	}
	return "test"
}

// Option configures a [Backend] (and so a [Server]). Options are applied in order; the last one
// wins. An invalid option value makes NewBackend panic, as setup helpers in httptest do.
type Option func(*settings)

type settings struct {
	clock            Clock
	seed             int64
	seeded           bool
	env              Environment
	partners         []PartnerSpec
	rate             RateLimitConfig
	retryAfterHeader bool
	publicURL        string
	coverage         []string
	journalLimit     int
	webhookTransport http.RoundTripper
	defaultKey       string
	adminHosts       []string // extra Host names the /__mock/ routes accept (admin_guard.go)
}

// WithClock makes the mock read time from c. Use [NewFakeClock] to drive expiry and rate limits
// from a test. The default is an [OffsetClock] (real time that Advance can move forward).
func WithClock(c Clock) Option { return func(s *settings) { s.clock = c } }

// WithSeed makes every generated id, token, secret and fault-probability draw deterministic.
func WithSeed(seed int64) Option { return func(s *settings) { s.seed, s.seeded = seed, true } }

// WithEnvironment selects [Test] (the default) or [Production] behaviour.
func WithEnvironment(e Environment) Option { return func(s *settings) { s.env = e } }

// WithDefaultAPIKey gives the default partner (the one every Backend starts with, and the one
// the /__mock/ routes act for when a request has no XApiKey) another key than [DefaultAPIKey].
// A key is 1-256 printable ASCII characters without spaces; NewBackend panics on another.
func WithDefaultAPIKey(key string) Option { return func(s *settings) { s.defaultKey = key } }

// WithPartner adds a partner (in addition to the default one; a spec whose APIKey is
// DefaultAPIKey replaces the default partner).
func WithPartner(p PartnerSpec) Option {
	return func(s *settings) { s.partners = append(s.partners, p) }
}

// WithRateLimit replaces the rate-limit windows (default [DefaultRateLimits]).
func WithRateLimit(c RateLimitConfig) Option { return func(s *settings) { s.rate = c } }

// WithRetryAfterHeader makes 429 answers carry a Retry-After header (whole seconds, rounded up)
// besides the body's retryAfter. Off by default: the newest rate-limiting docs say Debitura does
// not send it.
func WithRetryAfterHeader(on bool) Option { return func(s *settings) { s.retryAfterHeader = on } }

// WithPublicURL sets the base of the hosted-page URLs the mock hands out (onboarding, contract
// upgrade, link approval). The default is the URL the request came in on (a [Server]'s URL).
func WithPublicURL(u string) Option {
	return func(s *settings) { s.publicURL = strings.TrimRight(u, "/") }
}

// WithCoverage sets the ISO alpha-2 codes of the jurisdictions where a collection partner is
// available; a case whose debtor is elsewhere fails with NoPartnerAvailable. The default covers
// every ISO country except a short list of sanctioned or unserved ones (see doc.go).
func WithCoverage(codes ...string) Option {
	return func(s *settings) { s.coverage = append([]string{}, codes...) }
}

// WithJournalLimit caps how many requests the journal keeps (oldest dropped first; counts are
// kept regardless). The default is 100,000; 0 or less means no limit. Each entry keeps at most
// [MaxJournalPath] bytes of its request's path, so the cap also bounds the journal's bytes.
func WithJournalLimit(n int) Option { return func(s *settings) { s.journalLimit = n } }

// Backend is the mock Referral Partner API as an http.Handler, with all of its state in memory.
// It is safe for concurrent use. Build one with [NewBackend]; serve it with any http.Server or use
// [New] / [NewTest] for a loopback server.
type Backend struct {
	set   settings
	clock Clock
	ids   *idGen
	env   Environment

	mu       stateMutex // guards st and coverage; counts changes (generation.go)
	st       *store
	coverage map[string]bool

	idemLimit int // idempotency records kept per partner (IdempotencyKeysPerPartner; tests lower it)

	limiter *rateLimiter
	faults  *faultSet
	journal *journal
	wh      *webhookQueue // webhook deliveries (webhooks_delivery.go)

	api   *http.ServeMux
	admin *http.ServeMux

	pubMu     sync.RWMutex
	publicURL string
}

// NewBackend returns a Backend with the default partner ([DefaultAPIKey]) and the partners of
// any [WithPartner] options. It panics when an option is invalid (for example an empty partner
// key), as setup helpers in httptest do.
func NewBackend(opts ...Option) *Backend {
	s := settings{rate: DefaultRateLimits(), journalLimit: 100000}
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	b := &Backend{set: s, env: s.env, publicURL: s.publicURL, idemLimit: IdempotencyKeysPerPartner}
	b.clock = s.clock
	if b.clock == nil {
		b.clock = NewOffsetClock()
	}
	b.ids = newIDGen(s.seed, s.seeded)
	b.limiter = newRateLimiter(s.rate)
	b.faults = &faultSet{}
	b.journal = newJournal(s.journalLimit)
	b.wh = newWebhookQueue(s.env, s.webhookTransport)
	if err := b.resetState(); err != nil {
		panic("mockserver: NewBackend: " + err.Error())
	}
	b.routes()
	return b
}

// Close stops the Backend's background work: the timer that retries webhook deliveries on
// their schedule. The API keeps answering; deliveries still happen through FlushWebhooks. A
// [Server] closes its Backend; close a Backend you serve yourself when you are done with it.
func (b *Backend) Close() { b.wh.close() }

// resetState replaces the store with a fresh one seeded with the configured partners.
func (b *Backend) resetState() error {
	secret := []byte(b.ids.token(32))
	st := newStore(secret)
	cov := defaultCoverage()
	if b.set.coverage != nil {
		cov = map[string]bool{}
		for _, c := range b.set.coverage {
			code, _, ok := resolveCountry(c)
			if !ok {
				return fmt.Errorf("WithCoverage: unknown country %q", c)
			}
			cov[code] = true
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st = st
	b.coverage = cov
	def := defaultPartnerSpec()
	def.APIKey = b.defaultKey()
	specs := append([]PartnerSpec{def}, b.set.partners...)
	for _, p := range specs {
		if p.APIKey == b.defaultKey() {
			if old := st.partnerByKey[p.APIKey]; old != nil {
				st.removePartner(old)
			}
		}
		if _, err := b.addPartnerLocked(p); err != nil {
			return err
		}
	}
	return nil
}

// defaultKey is the XApiKey of the default partner.
func (b *Backend) defaultKey() string {
	if b.set.defaultKey != "" {
		return b.set.defaultKey
	}
	return DefaultAPIKey
}

func defaultPartnerSpec() PartnerSpec {
	return PartnerSpec{
		ID:                    DefaultPartnerID,
		APIKey:                DefaultAPIKey,
		CompanyName:           "Mock Referral Partner ApS",
		ShortName:             "mockpartner",
		ContactEmail:          "partners@mock-referral.example",
		ReferralFeePercentage: 20,
		BackgroundColorCode:   "#FFFFFF",
		FontColor:             "#1A1A1A",
		FontFamily:            "Arial, sans-serif",
		InvoicingTriggerMode:  "PayWhenPaid",
		ApprovalTTLDays:       7,
	}
}

func (b *Backend) now() time.Time { return b.clock.Now().UTC() }

// Clock returns the clock the backend reads.
func (b *Backend) Clock() Clock { return b.clock }

// Environment reports the environment the backend imitates.
func (b *Backend) Environment() Environment { return b.env }

// SetPublicURL changes the base of the hosted-page URLs (what [WithPublicURL] sets).
func (b *Backend) SetPublicURL(u string) {
	b.pubMu.Lock()
	b.publicURL = strings.TrimRight(u, "/")
	b.pubMu.Unlock()
}

// PublicURL reports the configured base of hosted-page URLs ("" means: the request's own host).
func (b *Backend) PublicURL() string {
	b.pubMu.RLock()
	defer b.pubMu.RUnlock()
	return b.publicURL
}

func (b *Backend) baseURL(r *http.Request) string {
	if u := b.PublicURL(); u != "" {
		return u
	}
	if r == nil || r.Host == "" {
		return "http://localhost"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ServeHTTP routes a request: /__mock/ to the control API, /onboarding/ and /ReferralPartner/ to
// the hosted pages, everything else to the Referral Partner API (and the Customer API check).
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == HealthPath:
		serveHealth(w, r) // no key, no Host check, also in Production (health.go)
	case strings.HasPrefix(p, "/__mock/") || p == "/__mock":
		if b.env == Production {
			writeAPIError(w, http.StatusForbidden, "Forbidden", "The mock control API is not available in the production environment.")
			return
		}
		if b.guardAdmin(w, r) {
			return
		}
		b.admin.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/onboarding/") || strings.HasPrefix(p, "/ReferralPartner/"):
		b.servePages(w, r)
	default:
		b.api.ServeHTTP(w, r)
	}
}
