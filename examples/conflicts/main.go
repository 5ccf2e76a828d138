// Command conflicts shows how a partner handles the two 409 conflicts of POST /clients:
//
//   - ClientExistsNeedsLinking (*debitura.ClientExistsNeedsLinkingError): the customer already has
//     a Debitura account; Debitura created a link request and the customer approves it at the
//     approval URL. After the approval, Create answers with the linked client.
//   - ClientAlreadyLinkedToAnotherPartner (*debitura.AlreadyLinkedToAnotherPartnerError): the
//     customer is linked to another referral partner. That is a hard block: only Debitura
//     support can move the customer.
//
// It runs offline against an embedded mock server seeded with both situations:
//
//	go run ./examples/conflicts
package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "conflicts:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	mock := mockserver.New()
	defer mock.Close()

	// Seed the mock: an existing Debitura customer nobody has linked yet, and one that another
	// referral partner has already linked.
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
	if _, err := mock.AddCreditor(mockserver.CreditorSpec{
		CompanyName:     "Taken Trading Ltd",
		Country:         "GB",
		Emails:          []string{"ap@taken.example"},
		LinkedToPartner: other.APIKey,
		OnboardingDone:  true,
	}); err != nil {
		return err
	}
	fmt.Println("Seeded the mock: one unlinked Debitura customer, one linked to another partner")

	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(mock.URL))
	if err != nil {
		return err
	}

	// 1. The customer already exists in Debitura: approval required.
	nordic := &debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-nordic",
		Client:           debitura.ClientDetails{Name: "Nordic Widgets", Country: "DK", SupportEmail: "finance@nordicwidgets.example"},
		Users:            []debitura.ClientUser{{Name: "Freja Holm", Email: "finance@nordicwidgets.example"}},
	}
	_, err = c.Clients.Create(ctx, nordic)
	var needsLinking *debitura.ClientExistsNeedsLinkingError
	if !errors.As(err, &needsLinking) {
		return fmt.Errorf("step 1: want a ClientExistsNeedsLinking conflict, got %v", err)
	}
	fmt.Printf("1. %s: 409 %s (errors.Is ErrConflict: %t)\n", needsLinking.ExternalTenantID, needsLinking.Conflict.Type, errors.Is(err, debitura.ErrConflict))
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
	fmt.Printf("2. %s: 409 %s (errors.Is ErrConflict: %t)\n", "tenant-taken", linkedElsewhere.Conflict.Type, errors.Is(err, debitura.ErrConflict))
	fmt.Println("   hard block: the customer is linked to another referral partner; only Debitura support can change that.")
	fmt.Println("   Do not retry: tell the customer to contact Debitura support.")

	// 3. Every conflict, typed or not, is a *ConflictError over an *APIError.
	var conflict *debitura.ConflictError
	var apiErr *debitura.APIError
	fmt.Printf("3. errors.As *ConflictError: %t, *APIError: %t (status %d, route %s)\n",
		errors.As(err, &conflict), errors.As(err, &apiErr), apiErr.StatusCode, apiErr.Route)
	return nil
}
