package debitura

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/debitura-go/debitura/internal/redaction"
	"golang.org/x/sync/singleflight"
)

// Version is the version of this SDK, sent in the User-Agent header as "debitura-go/<Version>".
const Version = "0.1.0"

// Base URLs of the two Debitura environments. They are fully isolated: keys, clients, tokens
// and webhook subscriptions of one never work in the other.
const (
	// ProductionBaseURL is the Referral Partner API of the production environment.
	ProductionBaseURL = "https://referral-api.debitura.com"
	// TestBaseURL is the Referral Partner API of the test environment.
	TestBaseURL = "https://testreferral-api.debitura.com"
)

// Client is a handle on the Debitura Referral Partner API. Build one with [New]; it is safe for
// concurrent use by many goroutines and immutable after New. Operations hang off its services.
type Client struct {
	cfg       config
	httpc     *http.Client
	baseURL   *url.URL
	gate      *rateGate
	budget    Budget // every attempt takes a slot of it (budget.go)
	userAgent string
	rndMu     *sync.Mutex
	rnd       *mrand.Rand

	tokens *tokenState // sources handed out by Tokens.Source

	linkFlights *singleflight.Group // Clients.EnsureLinked calls in flight, by externalTenantId

	// Clients links, reads, lists and manages the partner's clients.
	Clients *ClientsService
	// Tokens mints Customer API bearer tokens for linked clients.
	Tokens *TokensService
	// Partner reads the authenticated partner's profile.
	Partner *PartnerService
	// Webhooks manages the partner's webhook subscriptions.
	Webhooks *WebhooksService
}

// service is the common base of every service: the Client, and the name the service prints as
// (services_print.go).
type service struct {
	client *Client
	name   string
}

// PartnerService reads the authenticated partner's profile.
type PartnerService struct{ service }

// New returns a Client that authenticates with apiKey (sent in the XApiKey header). Invalid
// options or an empty key make New return an error; New never panics. The Client uses its own
// *http.Client (a copy of the one given with WithHTTPClient, or a new one over
// http.DefaultTransport) and never prints or logs apiKey.
func New(apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("debitura: New: apiKey is empty")
	}
	if !printableASCII(apiKey) {
		return nil, errors.New("debitura: New: apiKey contains characters that are not printable ASCII")
	}
	if len(apiKey) < minSecretLen {
		// A key this short could not be told apart from ordinary text, so it could not be
		// removed from error bodies and logs.
		return nil, fmt.Errorf("debitura: New: apiKey is %d characters long; an API key has at least %d", len(apiKey), minSecretLen)
	}
	cfg := defaultConfig()
	cfg.apiKey = NewSecret(apiKey)
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("debitura: New: %w", err)
		}
	}
	u, err := parseBaseURL(cfg.baseURL)
	if err != nil {
		return nil, fmt.Errorf("debitura: New: %w", err)
	}
	c := &Client{cfg: cfg, baseURL: u, httpc: cfg.httpClient(), gate: &rateGate{}, tokens: &tokenState{}, linkFlights: &singleflight.Group{}, userAgent: cfg.userAgentString()}
	var seed [16]byte
	_, _ = rand.Read(seed[:])
	c.rndMu = &sync.Mutex{}
	c.rnd = mrand.New(mrand.NewPCG(
		uint64(seed[0])|uint64(seed[1])<<8|uint64(seed[2])<<16|uint64(seed[3])<<24|uint64(seed[4])<<32|uint64(seed[5])<<40|uint64(seed[6])<<48|uint64(seed[7])<<56,
		uint64(seed[8])|uint64(seed[9])<<8|uint64(seed[10])<<16|uint64(seed[11])<<24|uint64(seed[12])<<32|uint64(seed[13])<<40|uint64(seed[14])<<48|uint64(seed[15])<<56))
	if err := c.setBudget(); err != nil {
		return nil, fmt.Errorf("debitura: New: %w", err)
	}
	c.Clients = &ClientsService{service{c, "ClientsService"}}
	c.Tokens = &TokensService{service{c, "TokensService"}}
	c.Partner = &PartnerService{service{c, "PartnerService"}}
	c.Webhooks = &WebhooksService{service{c, "WebhooksService"}}
	return c, nil
}

// String describes the Client without its API key. The printing methods have value receivers
// so that a copied Client value prints safely too.
func (c Client) String() string {
	if c.baseURL == nil {
		return "debitura.Client{}"
	}
	return fmt.Sprintf("debitura.Client{baseURL: %s, apiKey: %s, userAgent: %q}", c.baseURL.Redacted(), redactedMark, c.userAgent)
}

// GoString is String, so %#v never prints the API key.
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb, so %v, %+v, %#v, %s and %q never print the API key.
func (c Client) Format(f fmt.State, verb rune) { redaction.Format(f, verb, c.String()) }

// LogValue keeps the API key out of slog output.
func (c Client) LogValue() slog.Value { return slog.StringValue(c.String()) }
