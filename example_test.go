package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"log"
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

// startMock starts the bundled mock with seed 1 and a fixed public URL (so that the printed ids
// and hosted-page URLs are stable) and returns it with a Client pointed at it; the caller closes
// the mock. Example spells these steps out.
func startMock() (*mockserver.Server, *debitura.Client) {
	srv := mockserver.New(mockserver.WithSeed(1), mockserver.WithPublicURL("https://mock.debitura.example"))
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	return srv, c
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

// existingAccount seeds the mock with an account that exists in Debitura before any link (the
// customer signed up to Debitura on its own) and returns the request that links it as
// externalTenantID: POST /clients matches the account by its first e-mail.
func existingAccount(srv *mockserver.Server, externalTenantID string, spec mockserver.CreditorSpec) *debitura.ClientCreateRequest {
	if _, err := srv.AddCreditor(spec); err != nil {
		log.Fatal(err)
	}
	email := spec.Emails[0]
	return &debitura.ClientCreateRequest{
		ExternalTenantID: externalTenantID,
		Client:           debitura.ClientDetails{Name: spec.CompanyName, Country: "DK", SupportEmail: email},
		Users:            []debitura.ClientUser{{Name: "Freja Holm", Email: email}},
	}
}

// Example links a customer of a partner's platform to Debitura: check the key, create the
// client, send the customer to onboarding, and mint a Customer API token once it is done.
func Example() {
	ctx := context.Background()
	srv := mockserver.New(mockserver.WithSeed(1), mockserver.WithPublicURL("https://mock.debitura.example"))
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
	fmt.Println("send the customer to", lc.OnboardingURL())

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
	// send the customer to https://mock.debitura.example/onboarding/companydetails/5a8c5284-3324-49a4-84a6-a66a40a811a8
	// create: 201 onboarding done: true
	// token valid for 30m0s
}

func ExampleNew() {
	ctx := context.Background()
	srv := mockserver.New(mockserver.WithSeed(1), mockserver.WithPublicURL("https://mock.debitura.example"))
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
	srv, c := startMock()
	defer srv.Close()

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
	srv, c := startMock()
	defer srv.Close()

	_, err := c.Clients.Get(ctx, "no-such-tenant")
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

func ExampleWithResponse() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")
	// The next GET is answered 429 once; the SDK waits the 0.1 s the server asks for and retries.
	srv.InjectFault(mockserver.Fault{Operation: mockserver.OpGetClient, Status: 429, Shape: mockserver.ShapeRateLimit, RetryAfter: 0.1, Times: 1})

	var resp debitura.Response
	lc, err := c.Clients.Get(ctx, "tenant-42",
		debitura.WithHeader("X-Correlation-Id", "order-7"), // sent on every attempt
		debitura.WithCallMaxRetries(2),                     // instead of the Client's WithMaxRetries
		debitura.WithResponse(&resp))                       // filled when the call returns
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lc.ExternalTenantID, "status:", resp.StatusCode)
	fmt.Println("attempts:", resp.Attempts, "waited on 429s:", resp.RateLimitWait, "uncertain:", resp.Uncertain)
	// Output:
	// tenant-42 status: 200
	// attempts: 2 waited on 429s: 100ms uncertain: false
}

func ExampleWithIdempotencyKey() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	// Your own key makes a repeat of this call (after a crash, say) a replay, not a second rotation.
	var resp debitura.Response
	rot, err := c.Tokens.Rotate(ctx, "tenant-42", debitura.WithIdempotencyKey("rotate-tenant-42-2025-06"), debitura.WithResponse(&resp))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rotated:", rot.Token.Valid(), "key sent:", resp.IdempotencyKey)

	// Only SubmitKYC and Rotate take a key; other operations refuse it before sending.
	_, err = c.Clients.Get(ctx, "tenant-42", debitura.WithIdempotencyKey("k"))
	fmt.Println("refused:", errors.Is(err, debitura.ErrValidation))
	// Output:
	// rotated: true key sent: rotate-tenant-42-2025-06
	// refused: true
}
