// Command tokens calls Debitura's Customer API as a linked client, three ways: with
// golang.org/x/oauth2's HTTP client fed by the SDK's cached token source, with the SDK's own
// Transport, and across a token rotation (Tokens.Rotate), after which the old token keeps working
// for its grace period.
//
// By default it runs offline against an embedded mock server, whose GET /customer-api/whoami
// stands in for the Customer API:
//
//	go run ./examples/tokens
//
// Against a Debitura environment, the client must already be linked and onboarded (run
// examples/quickstart first), and the Customer API is on another host:
//
//	DEBITURA_API_KEY=... go run ./examples/tokens \
//		-base-url https://testreferral-api.debitura.com \
//		-customer-api-url https://testcustomer-api.debitura.com -check-path /some/get/route \
//		-tenant quickstart-tenant-1
//
// Tokens.Rotate is a guide operation that the published v1 API does not list; when the
// environment does not serve it, that step is skipped.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/examples/internal/cli"
	"github.com/debitura-go/debitura/mockserver"
)

type config struct {
	baseURL, customerAPIURL, checkPath, tenant string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.baseURL, "base-url", "", "Referral Partner API base URL (e.g. "+debitura.TestBaseURL+"); needs DEBITURA_API_KEY and -customer-api-url. Empty: an embedded mock server")
	flag.StringVar(&cfg.customerAPIURL, "customer-api-url", "", "Customer API base URL (e.g. https://testcustomer-api.debitura.com); required with -base-url")
	flag.StringVar(&cfg.checkPath, "check-path", mockserver.CustomerAPIWhoamiPath, "a GET route of the Customer API to call as the client")
	flag.StringVar(&cfg.tenant, "tenant", "tokens-tenant-1", "externalTenantId of a linked, onboarded client (created on the embedded mock)")
	flag.Parse()

	cli.Main("tokens", func(ctx context.Context) error { return run(ctx, cfg) })
}

func run(ctx context.Context, cfg config) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	env, err := cli.Environment(cfg.baseURL, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	mock, apiKey := env.Mock, env.APIKey
	if mock != nil {
		cfg.baseURL, cfg.customerAPIURL = mock.URL, mock.URL
		fmt.Println("Using", env)
	} else {
		if cfg.customerAPIURL == "" {
			return cli.UsageError("-base-url needs -customer-api-url: the Customer API is on another host than the Referral Partner API")
		}
		fmt.Println("Using", cfg.baseURL, "and the Customer API at", cfg.customerAPIURL)
	}
	checkURL := strings.TrimSuffix(cfg.customerAPIURL, "/") + cfg.checkPath

	c, err := debitura.New(apiKey, debitura.WithBaseURL(cfg.baseURL), debitura.WithAppInfo("debitura-tokens-example", debitura.Version))
	if err != nil {
		return err
	}

	if mock != nil {
		// Setup: a linked client that finished onboarding (the mock plays the customer).
		if _, err := c.Clients.Create(ctx, &debitura.ClientCreateRequest{
			ExternalTenantID: cfg.tenant,
			Client:           debitura.ClientDetails{Name: "Token Demo ApS", Country: "DK", SupportEmail: "it@token-demo.example"},
			Users:            []debitura.ClientUser{{Name: "Tove Jensen", Email: "it@token-demo.example"}},
		}); err != nil {
			return err
		}
		if err := mock.CompleteOnboarding(apiKey, cfg.tenant); err != nil {
			return err
		}
		fmt.Printf("0. Linked and onboarded %q on the mock\n", cfg.tenant)
	}

	// 1. golang.org/x/oauth2: the SDK's cached source, adapted. The adapter holds ctx for its
	// lifetime, so give it one that lives as long as the HTTP client.
	src := c.Tokens.Source(cfg.tenant)
	oauthClient := oauth2.NewClient(ctx, src.OAuth2(ctx))
	for i := range 2 {
		status, body, err := get(ctx, oauthClient, checkURL)
		if err != nil {
			return err
		}
		fmt.Printf("1. oauth2.NewClient call %d: %d %s\n", i+1, status, body)
	}
	if mock != nil {
		fmt.Printf("   tokens minted for those 2 calls: %d (the source caches)\n", mock.Count(mockserver.OpToken))
	}

	// 2. The SDK's own Transport: same source, and after a 401 it re-mints once and retries.
	sdkClient := &http.Client{Transport: c.Tokens.Transport(cfg.tenant, nil), Timeout: 30 * time.Second}
	status, body, err := get(ctx, sdkClient, checkURL)
	if err != nil {
		return err
	}
	fmt.Printf("2. Tokens.Transport: %d %s\n", status, body)

	// 3. Rotation: a new token; the earlier ones keep working until PreviousTokenExpiresAt.
	old, err := src.Token(ctx)
	if err != nil {
		return err
	}
	rot, err := c.Tokens.Rotate(ctx, cfg.tenant)
	var apiErr *debitura.APIError
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusNotFound || apiErr.StatusCode == http.StatusMethodNotAllowed) && mock == nil {
		fmt.Println("3. Tokens.Rotate is not served by this environment (a guide operation the published v1 API does not list); skipped")
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Printf("3. Rotated: earlier tokens stop working at %s (in %s); the new one expires in %s\n",
		rot.PreviousTokenExpiresAt.UTC().Format(time.RFC3339),
		time.Until(rot.PreviousTokenExpiresAt).Round(time.Minute),
		time.Until(rot.Token.Expiry).Round(time.Minute))
	oldClient := oauth2.NewClient(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: old.AccessToken.Reveal(), TokenType: "Bearer"}))
	if status, _, err = get(ctx, oldClient, checkURL); err != nil {
		return err
	}
	fmt.Printf("   old token, within the grace period: %d\n", status)
	if status, _, err = get(ctx, sdkClient, checkURL); err != nil {
		return err
	}
	fmt.Printf("   Transport (now serving the rotated token): %d\n", status)

	if mock != nil {
		// 4. Move the mock's clock past the tokens' 30 minutes: the old token is refused, and the
		// Transport recovers by minting a new token after the 401.
		clock, ok := mock.Clock().(mockserver.AdvanceableClock)
		if !ok {
			return errors.New("the mock's clock cannot be advanced")
		}
		clock.Advance(31 * time.Minute)
		before := mock.Count(mockserver.OpToken)
		if status, _, err = get(ctx, oldClient, checkURL); err != nil {
			return err
		}
		fmt.Printf("4. 31 minutes later (mock clock): old token %d", status)
		if status, _, err = get(ctx, sdkClient, checkURL); err != nil {
			return err
		}
		fmt.Printf(", Transport %d (re-minted %d token after the 401)\n", status, mock.Count(mockserver.OpToken)-before)
	}
	return nil
}

// get sends GET url with hc and returns the status and the body's first line.
func get(ctx context.Context, hc *http.Client, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 512))
	if err != nil {
		return 0, "", err
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return resp.StatusCode, line, nil
}
