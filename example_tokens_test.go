package debitura_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// whoami calls the mock's stand-in for the Customer API and returns the status and the
// externalTenantId the bearer token belongs to.
func whoami(hc *http.Client, customerAPI string) (int, string) {
	resp, err := hc.Get(customerAPI + mockserver.CustomerAPIWhoamiPath)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		ExternalTenantID string `json:"externalTenantId"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.ExternalTenantID
}

func ExampleTokensService_Mint() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	tok, err := c.Tokens.Mint(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType, tok.ExternalTenantID, tok.Valid())
	fmt.Println("expires in", time.Until(tok.Expiry).Round(time.Minute))
	// A Token never prints its access token.
	fmt.Println(strings.Contains(fmt.Sprint(tok), tok.AccessToken.Reveal()))
	// Output:
	// Bearer tenant-42 true
	// expires in 30m0s
	// false
}

func ExampleTokensService_Source() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	// The source mints on first use, then serves the cached token until shortly before it
	// expires. It is safe for concurrent use.
	src := c.Tokens.Source("tenant-42")
	first, err := src.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	second, err := src.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same token:", first.AccessToken.Equal(second.AccessToken))
	fmt.Println("tokens minted:", srv.Count(mockserver.OpToken))
	// Output:
	// same token: true
	// tokens minted: 1
}

func ExampleTokensService_Transport() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	// An *http.Client for the Customer API that acts as the client linked under "tenant-42".
	// Against Debitura, send its requests to https://customer-api.debitura.com (or the test host).
	customerAPI := &http.Client{Transport: c.Tokens.Transport("tenant-42", nil), Timeout: 30 * time.Second}
	status, tenant := whoami(customerAPI, srv.URL)
	fmt.Println(status, tenant)
	// Output:
	// 200 tenant-42
}

func ExampleTokensService_Rotate() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")
	src := c.Tokens.Source("tenant-42")
	old, err := src.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}

	rot, err := c.Tokens.Rotate(ctx, "tenant-42", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new token:", rot.Token.Valid(), !rot.Token.AccessToken.Equal(old.AccessToken))
	// Earlier tokens keep working until PreviousTokenExpiresAt (at most 24 hours).
	fmt.Println("grace ends within 24h:", time.Until(rot.PreviousTokenExpiresAt) <= 24*time.Hour)
	fmt.Println("old token:", srv.CheckToken(old.AccessToken.Reveal()).Reason)

	// The client's source now serves the rotated token.
	cur, err := src.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("source serves it:", cur.AccessToken.Equal(rot.Token.AccessToken))
	// Output:
	// new token: true true
	// grace ends within 24h: true
	// old token: ok
	// source serves it: true
}

// ExampleOAuth2TokenSource calls the Customer API with golang.org/x/oauth2's HTTP client.
func ExampleOAuth2TokenSource() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	// The adapter holds ctx for its lifetime: use one that lives as long as the HTTP client.
	ts := debitura.OAuth2TokenSource(ctx, c.Tokens.Source("tenant-42"))
	hc := oauth2.NewClient(ctx, ts)
	status, tenant := whoami(hc, srv.URL)
	fmt.Println(status, tenant)
	// Output:
	// 200 tenant-42
}
