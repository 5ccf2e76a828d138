package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/spf13/cobra"
)

// keyEnv names the environment variable that holds the API key.
const keyEnv = "DEBITURA_API_KEY"

// Tenants of the embedded mock that --mock seeds.
const (
	mockTenantReady      = "demo-ready"
	mockTenantOnboarding = "demo-onboarding"
	mockExistingEmail    = "owner@existing.example"
	mockTakenEmail       = "cfo@taken.example"
	// mockOtherPartnerKey is another partner's key in the embedded mock (its customer is "taken").
	mockOtherPartnerKey = "mock_other_partner_key"
)

// globals are the flags every subcommand has.
type globals struct {
	baseURL string
	mock    bool
}

// newRootCmd builds the command tree.
func newRootCmd(e env) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "debitura",
		Short: "Link your customers to Debitura and inspect the links, from the command line",
		Long: `debitura talks to Debitura's Referral Partner API.

The API key comes from the environment variable ` + keyEnv + ` (never from a flag, so it stays
out of shell history and process lists; it is never printed). --base-url picks the API (default
production, ` + debitura.ProductionBaseURL + `; the test environment is ` + debitura.TestBaseURL + `).

--mock runs the command against an embedded, seeded mock instead, offline and without a key.
The mock lives as long as the command: its partner key is ` + mockserver.DefaultAPIKey + `,
it has the clients "` + mockTenantReady + `" (onboarding done) and "` + mockTenantOnboarding + `" (onboarding pending),
an existing Debitura account with the user e-mail ` + mockExistingEmail + ` (a row with that
user e-mail ends approval_required) and one linked to another partner, ` + mockTakenEmail + `
(a row with it fails: AlreadyLinkedToAnotherPartner). Its rate limits are Debitura's documented
ones.

Exit status: 0 success; 1 a runtime error (bad input, unsettled rows, API or network error);
2 a command-line error; 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetIn(e.stdin)
	pf := root.PersistentFlags()
	pf.StringVar(&g.baseURL, "base-url", debitura.ProductionBaseURL, "base URL of the Referral Partner API (https, or http on loopback)")
	pf.BoolVar(&g.mock, "mock", false, "run against an embedded, seeded mock instead of the API (see above)")
	root.AddCommand(newLinkCmd(g, e), newClientsCmd(g, e), newTokensCmd(g, e), newWebhooksCmd(g, e), newMockCmd(e))
	return root
}

// connect returns a Client for the command and a function that releases what it holds (the
// embedded mock). opts are added to the Client's options.
func (g *globals) connect(e env, opts ...debitura.Option) (*debitura.Client, func(), error) {
	if g.mock {
		srv, err := startEmbeddedMock()
		if err != nil {
			return nil, nil, fail(err)
		}
		c, err := debitura.New(mockserver.DefaultAPIKey, append([]debitura.Option{debitura.WithBaseURL(srv.URL)}, opts...)...)
		if err != nil {
			srv.Close()
			return nil, nil, fail(err)
		}
		return c, srv.Close, nil
	}
	key := strings.TrimSpace(e.getenv(keyEnv))
	if key == "" {
		return nil, nil, usageErr("%s is not set: export your API key in it (or use --mock)", keyEnv)
	}
	c, err := debitura.New(key, append([]debitura.Option{debitura.WithBaseURL(g.baseURL)}, opts...)...)
	if err != nil {
		return nil, nil, usageErr("%v", err)
	}
	return c, func() {}, nil
}

// startEmbeddedMock starts the --mock backend with its seed data.
func startEmbeddedMock() (srv *mockserver.Server, err error) {
	srv = mockserver.New(mockserver.WithSeed(1))
	defer func() {
		if err != nil {
			srv.Close()
		}
	}()
	if _, err := srv.AddPartner(mockserver.PartnerSpec{APIKey: mockOtherPartnerKey, CompanyName: "Other Referral Partner ApS"}); err != nil {
		return nil, fmt.Errorf("seed the embedded mock: %w", err)
	}
	for _, c := range []mockserver.CreditorSpec{
		{CompanyName: "Ready Demo ApS", Country: "DK", SupportEmail: "support@ready.example",
			Users:           []mockserver.UserSpec{{Name: "Ada Ready", Email: "ada@ready.example"}},
			LinkedToPartner: mockserver.DefaultAPIKey, LinkedAsExternalTenantID: mockTenantReady, Attributed: true, OnboardingDone: true},
		{CompanyName: "Onboarding Demo ApS", Country: "DK", SupportEmail: "support@onboarding.example",
			Users:           []mockserver.UserSpec{{Name: "Otto Pending", Email: "otto@onboarding.example"}},
			LinkedToPartner: mockserver.DefaultAPIKey, LinkedAsExternalTenantID: mockTenantOnboarding, Attributed: true},
		{CompanyName: "Existing Customer ApS", Country: "DK", Emails: []string{mockExistingEmail}},
		{CompanyName: "Taken Customer ApS", Country: "DK", Emails: []string{mockTakenEmail},
			LinkedToPartner: mockOtherPartnerKey, Attributed: true, OnboardingDone: true},
	} {
		if _, err := srv.AddCreditor(c); err != nil {
			return nil, fmt.Errorf("seed the embedded mock: %w", err)
		}
	}
	return srv, nil
}

// apiFailure turns an API or network error into a runtime failure; the SDK's errors never
// contain the key or a token.
func apiFailure(err error) error {
	var ve *debitura.ValidationError
	if errors.As(err, &ve) {
		return usageErr("%s: %s", ve.Field, ve.Message)
	}
	return fail(err)
}

// callAPI connects, makes one call with the Client and releases the connection. Its error is
// connect's, or the call's through apiFailure.
func callAPI[T any](g *globals, e env, call func(*debitura.Client) (T, error)) (T, error) {
	c, release, err := g.connect(e)
	if err != nil {
		var zero T
		return zero, err
	}
	defer release()
	v, err := call(c)
	if err != nil {
		return v, apiFailure(err)
	}
	return v, nil
}

// formatTime prints a time for tables: RFC 3339 in UTC, "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
