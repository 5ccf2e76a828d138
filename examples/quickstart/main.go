// Command quickstart links one customer to Debitura from start to finish: it checks the API key,
// creates the client, has it onboarded, creates it again (now 201), mints a Customer API token
// and lists the partner's clients.
//
// By default it runs offline against an embedded mock server:
//
//	go run ./examples/quickstart
//
// To run it against a Debitura environment, give the base URL and the API key:
//
//	DEBITURA_API_KEY=... go run ./examples/quickstart -base-url https://testreferral-api.debitura.com
//
// Against a real environment the customer has to onboard in a browser: the program prints the
// onboarding URL and stops; open the URL, complete onboarding, then run it again.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/examples/internal/cli"
)

func main() {
	baseURL := flag.String("base-url", "", "Referral Partner API base URL (e.g. "+debitura.TestBaseURL+"); needs DEBITURA_API_KEY. Empty: an embedded mock server")
	tenant := flag.String("tenant", "quickstart-tenant-1", "your own id for the customer (externalTenantId)")
	company := flag.String("company", "Quickstart Demo ApS", "the customer's company name")
	email := flag.String("email", "owner@quickstart-demo.example", "the customer's e-mail address (support e-mail and onboarding user)")
	country := flag.String("country", "DK", "the customer's country (ISO 3166-1 alpha-2 code)")
	flag.Parse()

	cli.Main("quickstart", func(ctx context.Context) error { return run(ctx, *baseURL, *tenant, *company, *email, *country) })
}

func run(ctx context.Context, baseURL, tenant, company, email, country string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	// Pick the environment: a real one only when asked for, with its key from the environment.
	env, err := cli.Environment(baseURL, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Println("Using", env)

	c, err := debitura.New(env.APIKey,
		debitura.WithBaseURL(env.BaseURL),
		debitura.WithAppInfo("debitura-quickstart", debitura.Version),
		debitura.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
	)
	if err != nil {
		return err
	}

	// 1. Check the key.
	me, err := c.Partner.Me(ctx)
	if err != nil {
		if errors.Is(err, debitura.ErrUnauthorized) {
			return fmt.Errorf("the API key was refused: %w", err)
		}
		return err
	}
	fmt.Printf("1. API key OK: partner %q, referral fee %g%%\n", me.CompanyName, me.ReferralFeePercentage)

	// 2. Create (or look up) the client.
	req := &debitura.ClientCreateRequest{
		ExternalTenantID: tenant,
		Client:           debitura.ClientDetails{Name: company, Country: country, SupportEmail: email},
		Users:            []debitura.ClientUser{{Name: "Quickstart Owner", Email: email}},
	}
	lc, err := c.Clients.Create(ctx, req)
	var needsLinking *debitura.ClientExistsNeedsLinkingError
	var linkedElsewhere *debitura.AlreadyLinkedToAnotherPartnerError
	switch {
	case errors.As(err, &needsLinking):
		fmt.Printf("2. %q already has a Debitura account: it must approve the link first.\n", tenant)
		fmt.Println("   Open this URL, approve, then re-run:", needsLinking.ApprovalURL)
		return nil
	case errors.As(err, &linkedElsewhere):
		return fmt.Errorf("%q is linked to another referral partner; only Debitura support can change that: %w", tenant, err)
	case err != nil:
		return err
	}
	fmt.Printf("2. Create %q: %d %s, onboarding done: %t\n", tenant, lc.StatusCode, http.StatusText(lc.StatusCode), lc.OnboardingDone)

	// 3. Onboarding: the customer signs Debitura's agreement on the hosted page.
	if !lc.OnboardingDone {
		if env.Mock == nil {
			fmt.Println("3. Open this URL, complete onboarding, then re-run:", lc.OnboardingURL())
			return nil
		}
		fmt.Println("   onboarding URL:", lc.OnboardingURL())
		if err := env.Mock.CompleteOnboarding(env.APIKey, tenant); err != nil {
			return fmt.Errorf("complete onboarding on the mock: %w", err)
		}
		fmt.Println("3. Onboarding completed (the embedded mock played the customer)")
	} else {
		fmt.Println("3. Onboarding was already done")
	}

	// 4. Create again: idempotent per externalTenantId, it now answers 201.
	lc, err = c.Clients.Create(ctx, req)
	if err != nil {
		return err
	}
	fmt.Printf("4. Create again: %d %s, onboarding done: %t\n", lc.StatusCode, http.StatusText(lc.StatusCode), lc.OnboardingDone)
	if !lc.OnboardingDone {
		fmt.Println("   Onboarding is not done yet (a new agreement version?). Open this URL, then re-run:", lc.OnboardingURL())
		return nil
	}

	// 5. Mint a Customer API token. Never print or log the token itself.
	tok, err := c.Tokens.Mint(ctx, tenant)
	if err != nil {
		return err
	}
	fmt.Printf("5. Minted a Customer API token for %q: expires %s (in %s)\n",
		tok.ExternalTenantID, tok.Expiry.UTC().Format(time.RFC3339), time.Until(tok.Expiry).Round(time.Second))

	// 6. List the partner's clients.
	page, err := c.Clients.List(ctx, &debitura.ClientListOptions{PageSize: 10})
	if err != nil {
		return err
	}
	s := page.Summary
	fmt.Printf("6. Clients: %d total, %d onboarded, %d pending, %d attributed\n",
		s.TotalClients, s.OnboardingComplete, s.OnboardingPending, s.AttributedClients)
	for _, lc := range page.Clients {
		fmt.Printf("   - %s %q onboarding done: %t\n", lc.ExternalTenantID, lc.Client.CompanyName, lc.OnboardingDone)
	}
	return nil
}
