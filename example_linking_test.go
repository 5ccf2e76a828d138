package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// ExampleClientsService_EnsureLinked is just-in-time linking: call it when a customer first
// needs Debitura, and act on the outcome.
func ExampleClientsService_EnsureLinked() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()

	ensure := func(req *debitura.ClientCreateRequest) {
		out, err := c.Clients.EnsureLinked(ctx, req) // GET, then POST only when not linked
		var linkedElsewhere *debitura.AlreadyLinkedToAnotherPartnerError
		switch {
		case errors.As(err, &linkedElsewhere):
			fmt.Println(req.ExternalTenantID, "blocked: contact Debitura support")
			return
		case err != nil:
			log.Fatal(err)
		}
		switch out.State {
		case debitura.LinkReady:
			fmt.Println(req.ExternalTenantID, "ready: mint a token") // c.Tokens.Source(req.ExternalTenantID)
		case debitura.LinkOnboardingRequired:
			fmt.Println(req.ExternalTenantID, "onboarding required:", out.OnboardingURL)
		case debitura.LinkApprovalRequired: // the customer already has a Debitura account
			fmt.Println(req.ExternalTenantID, "approval required:", out.ApprovalURL)
		}
	}

	ensure(acme("tenant-42")) // a new customer
	if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, "tenant-42"); err != nil {
		log.Fatal(err)
	}
	ensure(acme("tenant-42")) // after onboarding

	// A customer that already has a Debitura account.
	if _, err := srv.AddCreditor(mockserver.CreditorSpec{CompanyName: "Nordic Widgets A/S", Emails: []string{"finance@nordicwidgets.example"}}); err != nil {
		log.Fatal(err)
	}
	ensure(&debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-7",
		Client:           debitura.ClientDetails{Name: "Nordic Widgets", Country: "DK", SupportEmail: "finance@nordicwidgets.example"},
		Users:            []debitura.ClientUser{{Name: "Freja Holm", Email: "finance@nordicwidgets.example"}},
	})
	// Output:
	// tenant-42 onboarding required: https://mock.debitura.example/onboarding/companydetails/5a8c5284-3324-49a4-84a6-a66a40a811a8
	// tenant-42 ready: mint a token
	// tenant-7 approval required: https://mock.debitura.example/ReferralPartner/Approve?token=da441805541ec58c9a5c57a5aa3b5198e076c2ee305be2b0
}

// ExampleClientsService_LinkMany back-fills many customers in one batch.
func ExampleClientsService_LinkMany() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()

	var reqs []*debitura.ClientCreateRequest
	for i := 1; i <= 20; i++ {
		reqs = append(reqs, acme(fmt.Sprintf("tenant-%d", i)))
	}
	reqs = append(reqs, &debitura.ClientCreateRequest{ExternalTenantID: "tenant-bad"}) // invalid: no details

	var last debitura.LinkProgress
	results, err := c.Clients.LinkMany(ctx, reqs, &debitura.LinkManyOptions{
		Concurrency: 4,
		Progress:    func(p debitura.LinkProgress) { last = p },
	})
	if err != nil {
		log.Fatal(err) // only ctx ending or bad options; per-input failures are in results
	}
	fmt.Printf("done %d/%d: %d need onboarding, %d failed\n", last.Done, last.Total, last.OnboardingRequired, last.Failed)
	// One LinkResult per input, in input order; one failure never aborts the batch.
	for _, r := range results {
		if r.Err != nil {
			fmt.Println(r.Index, r.ExternalTenantID, "failed:", errors.Is(r.Err, debitura.ErrValidation))
			continue
		}
		if r.Index == 0 {
			fmt.Println(r.Index, r.ExternalTenantID, r.Outcome.State)
		}
	}
	// Output:
	// done 21/21: 20 need onboarding, 1 failed
	// 0 tenant-1 onboarding_required
	// 20 tenant-bad failed: true
}
