package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// ExampleClientExistsNeedsLinkingError handles the 409 of a customer that already has a
// Debitura account: a link request was created, and the customer approves it at ApprovalURL.
func ExampleClientExistsNeedsLinkingError() {
	ctx := context.Background()
	srv := mockserver.New(mockserver.WithSeed(1))
	defer srv.Close()
	// Seed an account that exists in Debitura before any link; POST /clients matches it by e-mail.
	if _, err := srv.AddCreditor(mockserver.CreditorSpec{
		CompanyName: "Nordic Widgets A/S",
		Emails:      []string{"finance@nordicwidgets.example"},
	}); err != nil {
		log.Fatal(err)
	}
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.Clients.Create(ctx, &debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-7",
		Client:           debitura.ClientDetails{Name: "Nordic Widgets", Country: "DK", SupportEmail: "finance@nordicwidgets.example"},
		Users:            []debitura.ClientUser{{Name: "Freja Holm", Email: "finance@nordicwidgets.example"}},
	})
	var needsLinking *debitura.ClientExistsNeedsLinkingError
	if errors.As(err, &needsLinking) {
		fmt.Println("approval required for", needsLinking.ExternalTenantID)
		fmt.Println("send the customer to", shortURL(needsLinking.ApprovalURL))
	}
	fmt.Println("conflict:", errors.Is(err, debitura.ErrConflict))

	// Until the customer approves, the client is not linked.
	_, err = c.Clients.Get(ctx, "tenant-7")
	fmt.Println("linked:", !errors.Is(err, debitura.ErrNotFound))
	// Output:
	// approval required for tenant-7
	// send the customer to /ReferralPartner/Approve?token=…
	// conflict: true
	// linked: false
}

// ExampleAlreadyLinkedToAnotherPartnerError handles the 409 of a customer already linked to
// another referral partner: a hard block that only Debitura support can lift.
func ExampleAlreadyLinkedToAnotherPartnerError() {
	ctx := context.Background()
	srv := mockserver.New(mockserver.WithSeed(1))
	defer srv.Close()
	// Seed another partner and an account linked to it.
	other, err := srv.AddPartner(mockserver.PartnerSpec{APIKey: "mock_other_partner_key", CompanyName: "Other Platform Ltd"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := srv.AddCreditor(mockserver.CreditorSpec{
		CompanyName:     "Taken Trading Ltd",
		Emails:          []string{"ap@taken.example"},
		LinkedToPartner: other.APIKey,
		OnboardingDone:  true,
	}); err != nil {
		log.Fatal(err)
	}
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.Clients.Create(ctx, &debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-9",
		Client:           debitura.ClientDetails{Name: "Taken Trading", Country: "GB", SupportEmail: "ap@taken.example"},
		Users:            []debitura.ClientUser{{Name: "Sam Reed", Email: "ap@taken.example"}},
	})
	var linkedElsewhere *debitura.AlreadyLinkedToAnotherPartnerError
	if errors.As(err, &linkedElsewhere) {
		fmt.Println("blocked:", linkedElsewhere.Conflict.Type)
		fmt.Println("ask the customer to contact Debitura support")
	}
	// Both conflict types are a *ConflictError and match ErrConflict.
	var conflict *debitura.ConflictError
	fmt.Println(errors.As(err, &conflict), errors.Is(err, debitura.ErrConflict))
	// Output:
	// blocked: ClientAlreadyLinkedToAnotherPartner
	// ask the customer to contact Debitura support
	// true true
}

// ExampleConflictError handles a conflict type that has no type of its own: the e-mail matched
// a Debitura account that is not a creditor.
func ExampleConflictError() {
	ctx := context.Background()
	srv := mockserver.New(mockserver.WithSeed(1))
	defer srv.Close()
	if _, err := srv.AddCreditor(mockserver.CreditorSpec{
		CompanyName: "Collect-It Agency",
		Emails:      []string{"desk@collectit.example"},
		Kind:        mockserver.KindCollectionPartner,
	}); err != nil {
		log.Fatal(err)
	}
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.Clients.Create(ctx, &debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-11",
		Client:           debitura.ClientDetails{Name: "Collect-It", Country: "SE", SupportEmail: "desk@collectit.example"},
		Users:            []debitura.ClientUser{{Name: "Lars Berg", Email: "desk@collectit.example"}},
	})
	var conflict *debitura.ConflictError
	if errors.As(err, &conflict) {
		fmt.Println("conflict:", conflict.Type, conflict.Type == debitura.InvalidClientType)
	}
	// Output:
	// conflict: InvalidClientType true
}
