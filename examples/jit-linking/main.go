// Command jit-linking shows just-in-time linking with Clients.EnsureLinked: a platform links a
// customer to Debitura the moment the customer first needs it (for example when it submits its
// first collection case), and acts on the typed outcome:
//
//   - a new customer: onboarding required -> send it to the onboarding URL -> ready;
//   - a customer that already has a Debitura account: approval required -> it approves the link
//     at the approval URL -> ready;
//   - a customer linked to another referral partner: an error (errors.As
//     *debitura.AlreadyLinkedToAnotherPartnerError); only Debitura support can resolve it.
//
// By default it runs offline against an embedded mock server, seeded with the existing account
// and the other partner's customer, and plays the customers' part (onboarding, approval) through
// the mock's control API:
//
//	go run ./examples/jit-linking
//
// To run it against a Debitura environment, give the base URL and the API key:
//
//	DEBITURA_API_KEY=... go run ./examples/jit-linking -base-url https://testreferral-api.debitura.com
//
// Against a real environment the customers act in a browser: the program prints each URL; open
// it, complete the step, then run the program again.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/examples/internal/cli"
	"github.com/debitura-go/debitura/mockserver"
)

// otherPartnerKey is the API key of the competing partner the embedded mock knows.
const otherPartnerKey = "mock_jit_example_other_partner"

// customer is one customer of the partner's platform.
type customer struct {
	label   string // what the program calls it
	id      string // the platform's id: externalTenantId
	company string
	country string
	email   string
	user    string
}

var customers = []customer{
	{"new customer", "tenant-1001", "Fjordline Logistics ApS", "DK", "ap@fjordline-logistics.example", "Mette Kjær"},
	{"existing Debitura customer", "tenant-1002", "Nordlys Revision A/S", "DK", "finance@nordlys-revision.example", "Lars Holm"},
	{"another partner's customer", "tenant-1003", "Brightwater Foods Ltd", "GB", "accounts@brightwater-foods.example", "Amelia Clarke"},
}

func main() {
	baseURL := flag.String("base-url", "", "Referral Partner API base URL (e.g. "+debitura.TestBaseURL+"); needs DEBITURA_API_KEY. Empty: an embedded mock server")
	flag.Parse()

	cli.Main("jit-linking", func(ctx context.Context) error { return run(ctx, *baseURL) })
}

func run(ctx context.Context, baseURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	env, err := cli.Environment(baseURL, startMock)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Println("Using", env)
	c, err := env.Client("debitura-jit-linking-example")
	if err != nil {
		return err
	}

	for _, cu := range customers {
		fmt.Printf("\n%s %q (%s)\n", cu.label, cu.company, cu.id)
		if err := link(ctx, c, env.Mock, cu); err != nil {
			return fmt.Errorf("%s: %w", cu.id, err)
		}
	}
	return nil
}

// startMock starts the embedded mock with a competing partner, one Debitura account that is
// not linked to anyone (the second customer's e-mail) and one linked to the competing partner
// (the third customer's e-mail).
func startMock() (*mockserver.Server, error) {
	mock := mockserver.New()
	if _, err := mock.AddPartner(mockserver.PartnerSpec{APIKey: otherPartnerKey, CompanyName: "Competing Platform Inc."}); err != nil {
		mock.Close()
		return nil, err
	}
	for _, spec := range []mockserver.CreditorSpec{
		{CompanyName: customers[1].company, Country: customers[1].country, Emails: []string{customers[1].email}, OnboardingDone: true},
		{CompanyName: customers[2].company, Country: customers[2].country, Emails: []string{customers[2].email}, OnboardingDone: true,
			LinkedToPartner: otherPartnerKey, LinkedAsExternalTenantID: "their-42"},
	} {
		if _, err := mock.AddCreditor(spec); err != nil {
			mock.Close()
			return nil, err
		}
	}
	return mock, nil
}

// link makes sure one customer is linked, playing the customer's part on the mock. It returns
// only unexpected errors: the other-partner conflict is an answer, handled here.
func link(ctx context.Context, c *debitura.Client, mock *mockserver.Server, cu customer) error {
	req := &debitura.ClientCreateRequest{
		ExternalTenantID: cu.id,
		Client:           debitura.ClientDetails{Name: cu.company, Country: cu.country, SupportEmail: cu.email},
		Users:            []debitura.ClientUser{{Name: cu.user, Email: cu.email}},
	}
	for step := 1; step <= 3; step++ {
		out, err := c.Clients.EnsureLinked(ctx, req)
		var elsewhere *debitura.AlreadyLinkedToAnotherPartnerError
		switch {
		case errors.As(err, &elsewhere):
			fmt.Println("  blocked: linked to another referral partner; only Debitura support can move it.")
			fmt.Println("  (handled: errors.As found *debitura.AlreadyLinkedToAnotherPartnerError)")
			return nil
		case err != nil:
			return err
		}

		switch out.State {
		case debitura.LinkReady:
			tok, err := c.Tokens.Mint(ctx, cu.id)
			if err != nil {
				return err
			}
			fmt.Printf("  ready: linked (attributed: %t) and onboarded; minted a Customer API token valid until %s\n",
				out.Client.IsAttributedClient, tok.Expiry.UTC().Format(time.TimeOnly))
			return nil
		case debitura.LinkOnboardingRequired:
			fmt.Println("  onboarding required: send the customer to", out.OnboardingURL)
			if mock == nil {
				fmt.Println("  open the URL, complete onboarding, then run again")
				return nil
			}
			if err := mock.CompleteOnboarding(mockserver.DefaultAPIKey, cu.id); err != nil {
				return fmt.Errorf("complete onboarding on the mock: %w", err)
			}
			fmt.Println("  (mock) the customer completed onboarding")
		case debitura.LinkApprovalRequired:
			fmt.Println("  approval required: the customer already has a Debitura account; it approves the link at", out.ApprovalURL)
			if mock == nil {
				fmt.Println("  ask the customer to approve, then run again")
				return nil
			}
			u, err := url.Parse(out.ApprovalURL)
			if err != nil {
				return fmt.Errorf("approval URL: %w", err)
			}
			if err := mock.ApproveLink(u.Query().Get("token")); err != nil {
				return fmt.Errorf("approve on the mock: %w", err)
			}
			fmt.Println("  (mock) the customer approved the link")
		default:
			return fmt.Errorf("unexpected link state %v", out.State)
		}
	}
	return errors.New("still not ready after onboarding and approval")
}
