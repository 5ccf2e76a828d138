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
	srv, c := startMock()
	defer srv.Close()
	// Seed an account that exists in Debitura before any link; POST /clients matches it by e-mail.
	req := existingAccount(srv, "tenant-7", mockserver.CreditorSpec{
		CompanyName: "Nordic Widgets A/S",
		Emails:      []string{"finance@nordicwidgets.example"},
	})

	_, err := c.Clients.Create(ctx, req)
	var needsLinking *debitura.ClientExistsNeedsLinkingError
	if errors.As(err, &needsLinking) {
		fmt.Println("approval required for", needsLinking.ExternalTenantID)
		fmt.Println("send the customer to", needsLinking.ApprovalURL)
	}
	fmt.Println("conflict:", errors.Is(err, debitura.ErrConflict))

	// Until the customer approves, the client is not linked.
	_, err = c.Clients.Get(ctx, "tenant-7")
	fmt.Println("linked:", !errors.Is(err, debitura.ErrNotFound))
	// Output:
	// approval required for tenant-7
	// send the customer to https://mock.debitura.example/ReferralPartner/Approve?token=5a8c52843324f9a484a6a66a40a811a8a6adc4585dd8bfe7
	// conflict: true
	// linked: false
}

// ExampleAlreadyLinkedToAnotherPartnerError handles the 409 of a customer already linked to
// another referral partner: a hard block that only Debitura support can lift.
func ExampleAlreadyLinkedToAnotherPartnerError() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	// Seed another partner and an account linked to it.
	other, err := srv.AddPartner(mockserver.PartnerSpec{APIKey: "mock_other_partner_key", CompanyName: "Other Platform Ltd"})
	if err != nil {
		log.Fatal(err)
	}
	req := existingAccount(srv, "tenant-9", mockserver.CreditorSpec{
		CompanyName:     "Taken Trading Ltd",
		Emails:          []string{"ap@taken.example"},
		LinkedToPartner: other.APIKey,
		OnboardingDone:  true,
	})

	_, err = c.Clients.Create(ctx, req)
	var linkedElsewhere *debitura.AlreadyLinkedToAnotherPartnerError
	if errors.As(err, &linkedElsewhere) {
		fmt.Println("blocked:", linkedElsewhere.Err.Type)
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
	srv, c := startMock()
	defer srv.Close()
	req := existingAccount(srv, "tenant-11", mockserver.CreditorSpec{
		CompanyName: "Collect-It Agency",
		Emails:      []string{"desk@collectit.example"},
		Kind:        mockserver.KindCollectionPartner,
	})

	_, err := c.Clients.Create(ctx, req)
	var conflict *debitura.ConflictError
	if errors.As(err, &conflict) {
		fmt.Println("conflict:", conflict.Type, conflict.Type == debitura.InvalidClientType)
	}
	// Output:
	// conflict: InvalidClientType true
}

// Example_errorHandling branches on every outcome of Create: success, the two typed conflicts,
// any other conflict, a 429 whose wait is longer than the Client sleeps, and everything else.
func Example_errorHandling() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	// Debitura accounts that exist before any link: one nobody has linked, one linked to another
	// partner, and one that is not a creditor.
	other, err := srv.AddPartner(mockserver.PartnerSpec{APIKey: "mock_other_partner_key", CompanyName: "Other Platform Ltd"})
	if err != nil {
		log.Fatal(err)
	}
	for _, spec := range []mockserver.CreditorSpec{
		{CompanyName: "Nordic Widgets A/S", Emails: []string{"finance@nordicwidgets.example"}},
		{CompanyName: "Taken Trading Ltd", Emails: []string{"ap@taken.example"}, LinkedToPartner: other.APIKey, OnboardingDone: true},
		{CompanyName: "Collect-It Agency", Emails: []string{"desk@collectit.example"}, Kind: mockserver.KindCollectionPartner},
	} {
		if _, err := srv.AddCreditor(spec); err != nil {
			log.Fatal(err)
		}
	}

	create := func(req *debitura.ClientCreateRequest) error {
		lc, err := c.Clients.Create(ctx, req)
		var needsLinking *debitura.ClientExistsNeedsLinkingError
		var linkedElsewhere *debitura.AlreadyLinkedToAnotherPartnerError
		var apiErr *debitura.APIError
		switch {
		case err == nil:
			fmt.Println(req.ExternalTenantID, "created:", lc.StatusCode)
		case errors.As(err, &needsLinking):
			// a link request was created: the customer approves it at needsLinking.ApprovalURL
			fmt.Println(req.ExternalTenantID, "approval required:", needsLinking.ApprovalURL)
		case errors.As(err, &linkedElsewhere):
			// hard block: the customer must contact Debitura support
			fmt.Println(req.ExternalTenantID, "linked to another partner")
		case errors.Is(err, debitura.ErrConflict):
			// another conflict type (InvalidClientType, ...), kept verbatim in *ConflictError
			fmt.Println(req.ExternalTenantID, "conflict")
		case errors.Is(err, debitura.ErrRateLimited) && errors.As(err, &apiErr):
			// the server asked for a wait longer than WithMaxRetryWait: reschedule after apiErr.RetryAfter
			fmt.Println(req.ExternalTenantID, "rate limited: retry after", apiErr.RetryAfter)
		default:
			return err
		}
		return nil
	}

	customer := func(externalTenantID, email string) *debitura.ClientCreateRequest {
		return &debitura.ClientCreateRequest{
			ExternalTenantID: externalTenantID,
			Client:           debitura.ClientDetails{Name: "Customer " + externalTenantID, Country: "DK", SupportEmail: email},
			Users:            []debitura.ClientUser{{Name: "Sam Reed", Email: email}},
		}
	}
	for _, req := range []*debitura.ClientCreateRequest{
		customer("tenant-1", "owner@new-customer.example"),
		customer("tenant-2", "finance@nordicwidgets.example"),
		customer("tenant-3", "ap@taken.example"),
		customer("tenant-4", "desk@collectit.example"),
		customer("tenant-5", "not-an-email"),
	} {
		if err := create(req); err != nil {
			fmt.Println(req.ExternalTenantID, "error:", errors.Is(err, debitura.ErrValidation), err)
		}
	}

	// The server asks for a wait of two minutes; the Client sleeps at most 30 s (WithMaxRetryWait).
	srv.InjectFault(mockserver.Fault{Operation: mockserver.OpPostClients, Status: 429, Shape: mockserver.ShapeRateLimit, RetryAfter: 120, Times: 1})
	if err := create(customer("tenant-6", "owner@later.example")); err != nil {
		log.Fatal(err)
	}
	// Output:
	// tenant-1 created: 202
	// tenant-2 approval required: https://mock.debitura.example/ReferralPartner/Approve?token=05588d5da3a88584ddb5d6cd4d8ee1c1bd60cf566689eaf9
	// tenant-3 linked to another partner
	// tenant-4 conflict
	// tenant-5 error: true debitura: Clients.Create: invalid request: client.supportEmail: "not-an-email" is not an e-mail address (and 1 more problem: users[0].email)
	// tenant-6 rate limited: retry after 2m0s
}
