package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// The examples run against the bundled mock server, so they need no network and no API key.
// Against Debitura, pass your key and debitura.WithBaseURL(debitura.TestBaseURL) (or nothing,
// for production) to debitura.New instead.

// acme is the request the examples use to sign up a customer of the partner's platform.
func acme(externalTenantID string) *debitura.ClientCreateRequest {
	return &debitura.ClientCreateRequest{
		ExternalTenantID: externalTenantID,
		Client: debitura.ClientDetails{
			Name:         "Acme ApS",
			Country:      "DK",
			SupportEmail: "support+" + externalTenantID + "@acme.example",
		},
		Users: []debitura.ClientUser{
			{Name: "Ada Lovelace", Email: "ada+" + externalTenantID + "@acme.example"},
		},
	}
}

// onboarded creates a client and completes its onboarding on the mock, as the customer would
// on the hosted onboarding page.
func onboarded(ctx context.Context, c *debitura.Client, srv *mockserver.Server, externalTenantID string) {
	if _, err := c.Clients.Create(ctx, acme(externalTenantID)); err != nil {
		log.Fatal(err)
	}
	if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, externalTenantID); err != nil {
		log.Fatal(err)
	}
}

// shortURL shows where a hosted-page URL points without its host and its generated id or token,
// so the examples' output stays the same from run to run.
func shortURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return fmt.Sprintf("%q", raw)
	}
	if u.RawQuery != "" {
		var keys []string
		for k := range u.Query() {
			keys = append(keys, k+"=…")
		}
		sort.Strings(keys)
		return u.Path + "?" + strings.Join(keys, "&")
	}
	return u.Path[:strings.LastIndex(u.Path, "/")+1] + "…"
}

// Example links a customer of a partner's platform to Debitura: check the key, create the
// client, send the customer to onboarding, and mint a Customer API token once it is done.
func Example() {
	ctx := context.Background()
	srv := mockserver.New(mockserver.WithSeed(1))
	defer srv.Close()

	// Against Debitura: debitura.New(os.Getenv("DEBITURA_API_KEY"), debitura.WithBaseURL(debitura.TestBaseURL))
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	// Check the key.
	me, err := c.Partner.Me(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("partner:", me.CompanyName)

	// Link a customer. A new client answers 202: it must sign Debitura's agreement first.
	req := &debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-42", // your own id for the customer
		Client:           debitura.ClientDetails{Name: "Acme ApS", Country: "DK", SupportEmail: "support@acme.example"},
		Users:            []debitura.ClientUser{{Name: "Ada Lovelace", Email: "ada@acme.example"}},
	}
	lc, err := c.Clients.Create(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("create:", lc.StatusCode, "onboarding done:", lc.OnboardingDone)
	fmt.Println("send the customer to", shortURL(lc.OnboardingURL()))

	// The customer completes onboarding (the mock plays the customer's part).
	if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, "tenant-42"); err != nil {
		log.Fatal(err)
	}

	// Create is idempotent per ExternalTenantID: it now answers 201.
	lc, err = c.Clients.Create(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("create:", lc.StatusCode, "onboarding done:", lc.OnboardingDone)

	// Mint a Customer API token for the client. Never print the token itself.
	tok, err := c.Tokens.Mint(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token valid for", time.Until(tok.Expiry).Round(time.Minute))
	// Output:
	// partner: Mock Referral Partner ApS
	// create: 202 onboarding done: false
	// send the customer to /onboarding/companydetails/…
	// create: 201 onboarding done: true
	// token valid for 30m0s
}

func ExampleNew() {
	ctx := context.Background()
	srv := mockserver.New(mockserver.WithSeed(1))
	defer srv.Close()

	c, err := debitura.New(mockserver.DefaultAPIKey,
		debitura.WithBaseURL(srv.URL), // debitura.TestBaseURL for Debitura's test environment
		debitura.WithAppInfo("billing-sync", "2.1"),
		debitura.WithMaxRetries(2),
		debitura.WithMaxRetryWait(10*time.Second),
		debitura.WithLimits(debitura.DefaultLimits()), // Debitura's windows; raise them if yours were
	)
	if err != nil {
		log.Fatal(err)
	}
	me, err := c.Partner.Me(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("partner active:", me.IsActive)

	// Invalid settings are reported by New; it never panics.
	_, err = debitura.New("")
	fmt.Println(err)
	_, err = debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL("http://referral-api.example.com"))
	fmt.Println(err)
	// Output:
	// partner active: true
	// debitura: New: apiKey is empty
	// debitura: New: base URL "http://referral-api.example.com" must use https (http is allowed on loopback only)
}

func ExamplePartnerService_Me() {
	ctx := context.Background()
	srv := mockserver.New(mockserver.WithSeed(1))
	defer srv.Close()
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	me, err := c.Partner.Me(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(me.CompanyName, me.ReferralFeePercentage, me.InvoicingTriggerMode)

	// A wrong key is ErrUnauthorized.
	bad, err := debitura.New("mock_wrong_key", debitura.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	_, err = bad.Partner.Me(ctx)
	fmt.Println("unauthorized:", errors.Is(err, debitura.ErrUnauthorized))
	// Output:
	// Mock Referral Partner ApS 20 PayWhenPaid
	// unauthorized: true
}

// ExampleAPIError branches on the kind of an error with errors.Is and reads its details with
// errors.As.
func ExampleAPIError() {
	ctx := context.Background()
	srv := mockserver.New(mockserver.WithSeed(1))
	defer srv.Close()
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.Clients.Get(ctx, "no-such-tenant")
	if errors.Is(err, debitura.ErrNotFound) {
		fmt.Println("not linked")
	}
	var apiErr *debitura.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Method, apiErr.Route)
	}

	// A request that breaks the API's schema is refused before sending.
	_, err = c.Clients.List(ctx, &debitura.ClientListOptions{PageSize: 500})
	var verr *debitura.ValidationError
	if errors.As(err, &verr) {
		fmt.Println("refused:", verr.Field, errors.Is(err, debitura.ErrValidation))
	}
	// Output:
	// not linked
	// 404 GET /clients/{externalTenantId}
	// refused: PageSize true
}
