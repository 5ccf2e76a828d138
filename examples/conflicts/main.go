// Command conflicts shows how a partner handles the two 409 conflicts of POST /clients:
//
//   - ClientExistsNeedsLinking (*debitura.ClientExistsNeedsLinkingError): the customer already has
//     a Debitura account; Debitura created a link request and the customer approves it at the
//     approval URL. After the approval, Create answers with the linked client.
//   - ClientAlreadyLinkedToAnotherPartner (*debitura.AlreadyLinkedToAnotherPartnerError): the
//     customer is linked to another referral partner. That is a hard block: only Debitura
//     support can move the customer.
//
// By default it runs offline against an embedded mock server seeded with both situations:
//
//	go run ./examples/conflicts
//
// A real environment cannot be seeded with Debitura accounts, so there the program takes the
// e-mail addresses to try: for each -email it calls POST /clients for a client whose users and
// support e-mail are that address, with the externalTenantId <tenant>-1, <tenant>-2, ..., and
// prints what it gets: the approval URL of a link request, the hard block, another conflict,
// or, when no Debitura account has that e-mail, the new client (202, with its onboarding URL):
//
//	DEBITURA_API_KEY=... go run ./examples/conflicts -base-url https://testreferral-api.debitura.com \
//		-email finance@existing-customer.example -email ap@other-partners-customer.example
//
// Use the test environment: a try that matches no account creates a client there (withdraw it
// with Clients.Withdraw if it was only a test). Create is idempotent per externalTenantId, so
// running the program again returns the same clients' current state. Without -base-url, -email
// tries the addresses against the seeded mock instead of running the scripted walk-through
// (finance@nordicwidgets.example and ap@taken.example are its two seeded accounts).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/examples/internal/cli"
	"github.com/debitura-go/debitura/mockserver"
)

// config is what the flags say.
type config struct {
	baseURL string
	emails  []string
	tenant  string
	company string
	country string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.baseURL, "base-url", "", "Referral Partner API base URL (e.g. "+debitura.TestBaseURL+"); needs DEBITURA_API_KEY and -email. Empty: an embedded, seeded mock server")
	flag.Func("email", "an e-mail address to try POST /clients with; repeat the flag for several (required with -base-url, which cannot be seeded)", func(s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			return errors.New("empty e-mail address")
		}
		cfg.emails = append(cfg.emails, s)
		return nil
	})
	flag.StringVar(&cfg.tenant, "tenant", "conflicts-tenant", "prefix of the externalTenantId of each -email try: <prefix>-1, <prefix>-2, ...")
	flag.StringVar(&cfg.company, "company", "Conflicts Demo ApS", "the company name sent with each -email try")
	flag.StringVar(&cfg.country, "country", "DK", "the country (ISO 3166-1 alpha-2) sent with each -email try")
	flag.Parse()

	cli.Main("conflicts", func(ctx context.Context) error { return run(ctx, cfg, flag.Args()) })
}

func run(ctx context.Context, cfg config, args []string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if len(args) > 0 {
		return cli.UsageError(fmt.Sprintf("unexpected arguments %q (e-mail addresses go in -email flags)", args))
	}

	// A real environment only when asked for, with its key from the environment and the e-mails
	// from the flags; otherwise the seeded mock.
	env, err := cli.Environment(cfg.baseURL, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	if env.Mock == nil {
		if len(cfg.emails) == 0 {
			return cli.UsageError("-base-url needs at least one -email: a real environment cannot be seeded with Debitura accounts, so give the e-mail address of the customer to try (repeat -email for several)")
		}
		fmt.Println("Using", env)
	} else {
		if err := seed(env.Mock); err != nil {
			return err
		}
		fmt.Println("Seeded the mock: one unlinked Debitura customer, one linked to another partner")
	}
	c, err := env.Client("debitura-conflicts-example")
	if err != nil {
		return err
	}
	if env.Mock == nil || len(cfg.emails) > 0 {
		return try(ctx, c, cfg)
	}
	return walkThrough(ctx, c, env.Mock)
}

// seed gives the mock an existing Debitura customer nobody has linked yet, and one that another
// referral partner has already linked.
func seed(mock *mockserver.Server) error {
	if _, err := mock.AddCreditor(mockserver.CreditorSpec{
		CompanyName:    "Nordic Widgets A/S",
		Country:        "DK",
		Emails:         []string{"finance@nordicwidgets.example"},
		OnboardingDone: true, // it signed Debitura's agreement long ago
	}); err != nil {
		return err
	}
	other, err := mock.AddPartner(mockserver.PartnerSpec{APIKey: "mock_other_platform_key", CompanyName: "Other Platform Ltd"})
	if err != nil {
		return err
	}
	_, err = mock.AddCreditor(mockserver.CreditorSpec{
		CompanyName:     "Taken Trading Ltd",
		Country:         "GB",
		Emails:          []string{"ap@taken.example"},
		LinkedToPartner: other.APIKey,
		OnboardingDone:  true,
	})
	return err
}

// walkThrough is the offline default: both conflicts on the seeded mock, the approval played by
// the mock.
func walkThrough(ctx context.Context, c *debitura.Client, mock *mockserver.Server) error {
	// 1. The customer already exists in Debitura: approval required.
	nordic := &debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-nordic",
		Client:           debitura.ClientDetails{Name: "Nordic Widgets", Country: "DK", SupportEmail: "finance@nordicwidgets.example"},
		Users:            []debitura.ClientUser{{Name: "Freja Holm", Email: "finance@nordicwidgets.example"}},
	}
	_, err := c.Clients.Create(ctx, nordic)
	var needsLinking *debitura.ClientExistsNeedsLinkingError
	if !errors.As(err, &needsLinking) {
		return fmt.Errorf("step 1: want a ClientExistsNeedsLinking conflict, got %v", err)
	}
	fmt.Printf("1. %s: 409 %s (errors.Is ErrConflict: %t)\n", needsLinking.ExternalTenantID, needsLinking.Err.Type, errors.Is(err, debitura.ErrConflict))
	fmt.Println("   send the customer to the approval URL:", needsLinking.ApprovalURL)

	// The customer approves the link on the hosted page; here the mock plays the customer.
	u, err := url.Parse(needsLinking.ApprovalURL)
	if err != nil {
		return err
	}
	if err := mock.ApproveLink(u.Query().Get("token")); err != nil {
		return fmt.Errorf("approve the link on the mock: %w", err)
	}
	lc, err := c.Clients.Create(ctx, nordic)
	if err != nil {
		return err
	}
	fmt.Printf("   after approval, Create again: %d, attributed to us: %t (an existing customer), onboarding done: %t\n",
		lc.StatusCode, lc.IsAttributedClient, lc.OnboardingDone)

	// 2. The customer is linked to another partner: a hard block.
	_, err = c.Clients.Create(ctx, &debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-taken",
		Client:           debitura.ClientDetails{Name: "Taken Trading", Country: "GB", SupportEmail: "ap@taken.example"},
		Users:            []debitura.ClientUser{{Name: "Sam Reed", Email: "ap@taken.example"}},
	})
	var linkedElsewhere *debitura.AlreadyLinkedToAnotherPartnerError
	if !errors.As(err, &linkedElsewhere) {
		return fmt.Errorf("step 2: want an AlreadyLinkedToAnotherPartner conflict, got %v", err)
	}
	fmt.Printf("2. %s: 409 %s (errors.Is ErrConflict: %t)\n", "tenant-taken", linkedElsewhere.Err.Type, errors.Is(err, debitura.ErrConflict))
	fmt.Println("   hard block: the customer is linked to another referral partner; only Debitura support can change that.")
	fmt.Println("   Do not retry: tell the customer to contact Debitura support.")

	// 3. Every conflict, typed or not, is a *ConflictError over an *APIError.
	var conflict *debitura.ConflictError
	var apiErr *debitura.APIError
	fmt.Printf("3. errors.As *ConflictError: %t, *APIError: %t (status %d, route %s)\n",
		errors.As(err, &conflict), errors.As(err, &apiErr), apiErr.StatusCode, apiErr.Route)
	return nil
}

// try calls POST /clients once for each -email and prints what the API answers. A conflict is an
// answer, not a failure; the program fails (exit status 1) when any try got another error.
func try(ctx context.Context, c *debitura.Client, cfg config) error {
	failed := 0
	for i, email := range cfg.emails {
		tenant := fmt.Sprintf("%s-%d", cfg.tenant, i+1)
		lc, err := c.Clients.Create(ctx, &debitura.ClientCreateRequest{
			ExternalTenantID: tenant,
			Client:           debitura.ClientDetails{Name: cfg.company, Country: cfg.country, SupportEmail: email},
			Users:            []debitura.ClientUser{{Name: "Conflicts Example", Email: email}},
		})
		var needsLinking *debitura.ClientExistsNeedsLinkingError
		var linkedElsewhere *debitura.AlreadyLinkedToAnotherPartnerError
		var conflict *debitura.ConflictError
		fmt.Printf("%d. %s (externalTenantId %s): ", i+1, email, tenant)
		switch {
		case err == nil:
			fmt.Printf("%d %s: no conflict (no Debitura account has this e-mail, or it is linked to us already)\n", lc.StatusCode, http.StatusText(lc.StatusCode))
			fmt.Printf("   attributed to us: %t, onboarding done: %t\n", lc.IsAttributedClient, lc.OnboardingDone)
			if u := lc.OnboardingURL(); u != "" {
				fmt.Println("   send the customer to the onboarding URL:", u)
			}
		case errors.As(err, &needsLinking):
			fmt.Printf("409 %s: the customer has a Debitura account\n", needsLinking.Err.Type)
			fmt.Println("   send the customer to the approval URL:", needsLinking.ApprovalURL)
		case errors.As(err, &linkedElsewhere):
			fmt.Printf("409 %s: hard block\n", linkedElsewhere.Err.Type)
			fmt.Println("   Do not retry: tell the customer to contact Debitura support.")
		case errors.As(err, &conflict):
			fmt.Printf("409 %s: %s\n", conflict.Type, conflict.Message)
		default:
			failed++
			fmt.Println("error:", err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d tries failed", failed, len(cfg.emails))
	}
	return nil
}
