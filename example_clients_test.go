package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

func ExampleClientsService_Create() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()

	req := &debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-42", // your own, case-sensitive id for the customer
		Client: debitura.ClientDetails{
			Name:               "Acme ApS",
			RegistrationNumber: "DK12345678",
			Country:            "DK",
			SupportEmail:       "support@acme.example",
		},
		Users: []debitura.ClientUser{
			{Name: "Ada Lovelace", Email: "ada@acme.example", IsOnboardingUser: true},
			{Name: "Charles Babbage", Email: "charles@acme.example"},
		},
	}
	lc, err := c.Clients.Create(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	switch lc.StatusCode {
	case 202: // onboarding required
		fmt.Println("202: send the customer to", lc.OnboardingURL())
	case 201: // linked and onboarded
		fmt.Println("201: ready")
	}
	fmt.Println("attributed:", lc.IsAttributedClient, "users:", len(lc.Users))

	// Calling Create again is safe: it returns the client's current state.
	if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, "tenant-42"); err != nil {
		log.Fatal(err)
	}
	lc, err = c.Clients.Create(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lc.StatusCode, lc.OnboardingDone, lc.OnboardingURL() == "")
	// Output:
	// 202: send the customer to https://mock.debitura.example/onboarding/companydetails/5a8c5284-3324-49a4-84a6-a66a40a811a8
	// attributed: true users: 2
	// 201 true true
}

func ExampleClientsService_Get() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	lc, err := c.Clients.Get(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lc.ExternalTenantID, lc.Client.CompanyName, lc.OnboardingDone, lc.KYCStatus)

	// The id is case-sensitive.
	_, err = c.Clients.Get(ctx, "TENANT-42")
	fmt.Println("found:", !errors.Is(err, debitura.ErrNotFound))
	// Output:
	// tenant-42 Acme ApS true not_required
	// found: false
}

func ExampleClientsService_List() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-1")
	for _, id := range []string{"tenant-2", "tenant-3"} {
		if _, err := c.Clients.Create(ctx, acme(id)); err != nil {
			log.Fatal(err)
		}
	}

	page, err := c.Clients.List(ctx, &debitura.ClientListOptions{PageSize: 2, Sort: debitura.SortDateCreatedAsc})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("page %d of %d, %d of %d clients\n",
		page.Page.CurrentPage, page.Page.TotalPages, page.Page.ResponseCount, page.Page.TotalResults)
	for _, lc := range page.Clients {
		fmt.Println(lc.ExternalTenantID, lc.OnboardingDone)
	}
	s := page.Summary
	fmt.Println("total:", s.TotalClients, "onboarded:", s.OnboardingComplete, "pending:", s.OnboardingPending)

	// Filters: the clients still waiting for onboarding.
	pending, err := c.Clients.List(ctx, &debitura.ClientListOptions{OnboardingDone: debitura.Ptr(false)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pending:", pending.Page.TotalResults)
	// Output:
	// page 1 of 2, 2 of 3 clients
	// tenant-1 true
	// tenant-2 false
	// total: 3 onboarded: 1 pending: 2
	// pending: 2
}

func ExampleClientsService_All() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	for i := 1; i <= 5; i++ {
		if _, err := c.Clients.Create(ctx, acme(fmt.Sprintf("tenant-%d", i))); err != nil {
			log.Fatal(err)
		}
	}

	// All walks every page lazily; the loop ends at the first error.
	n := 0
	for lc, err := range c.Clients.All(ctx, &debitura.ClientListOptions{PageSize: 2, Sort: debitura.SortDateCreatedAsc}) {
		if err != nil {
			log.Fatal(err)
		}
		n++
		if n <= 2 {
			fmt.Println(lc.ExternalTenantID, lc.OnboardingURL())
		}
	}
	fmt.Println("clients:", n, "GET /clients requests:", srv.Count(mockserver.OpGetClients))
	// Output:
	// tenant-1 https://mock.debitura.example/onboarding/companydetails/5a8c5284-3324-49a4-84a6-a66a40a811a8
	// tenant-2 https://mock.debitura.example/onboarding/companydetails/da441805-541e-458c-9a5c-57a5aa3b5198
	// clients: 5 GET /clients requests: 3
}

func ExampleClientsService_Withdraw() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	if _, err := c.Clients.Create(ctx, acme("tenant-42")); err != nil {
		log.Fatal(err)
	}

	// Withdraw an attributed client that never finished onboarding: the link is archived.
	if err := c.Clients.Withdraw(ctx, "tenant-42"); err != nil {
		log.Fatal(err)
	}
	_, err := c.Clients.Get(ctx, "tenant-42")
	fmt.Println("still linked:", !errors.Is(err, debitura.ErrNotFound))

	// The same id can be created again, as a new client.
	lc, err := c.Clients.Create(ctx, acme("tenant-42"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created again:", lc.StatusCode)
	// Output:
	// still linked: false
	// created again: 202
}

func ExampleClientsService_Reset() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	// Reset deletes a client and its data (test environment only; production answers 403).
	if err := c.Clients.Reset(ctx, "tenant-42"); err != nil {
		log.Fatal(err)
	}
	_, err := c.Clients.Get(ctx, "tenant-42")
	fmt.Println("still linked:", !errors.Is(err, debitura.ErrNotFound))

	// Creating it again makes a brand-new client that must onboard again.
	lc, err := c.Clients.Create(ctx, acme("tenant-42"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lc.StatusCode, lc.OnboardingDone, lc.IsAttributedClient)
	// Output:
	// still linked: false
	// 202 false true
}

func ExampleClientsService_IsDeletable() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	d, err := c.Clients.IsDeletable(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deletable:", d.IsDeletable, "blockers:", len(d.Blockers))

	// In production the test-only operations answer 403.
	prod := mockserver.New(mockserver.WithSeed(1), mockserver.WithEnvironment(mockserver.Production))
	defer prod.Close()
	pc, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(prod.URL))
	if err != nil {
		log.Fatal(err)
	}
	_, err = pc.Clients.IsDeletable(ctx, "tenant-42")
	fmt.Println("forbidden:", errors.Is(err, debitura.ErrForbidden))
	// Output:
	// deletable: true blockers: 0
	// forbidden: true
}

func ExampleClientsService_SubmitKYC() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	kyc, err := c.Clients.SubmitKYC(ctx, "tenant-42", &debitura.KYCRequest{
		DirectorFullName:     "Ada Lovelace",
		DirectorHomeAddress:  "12 St James's Square, London",
		DirectorDateOfBirth:  debitura.Date{Year: 1985, Month: 12, Day: 10},
		SendChatNotification: debitura.Ptr(false),
	}, debitura.WithIdempotencyKey("kyc-tenant-42-2025-01")) // optional: the SDK generates one per call
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(kyc.DirectorFullName, kyc.DirectorDateOfBirth, kyc.VerificationStatus == "")

	lc, err := c.Clients.Get(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kyc status:", lc.KYCStatus)
	// Output:
	// Ada Lovelace 1985-12-10 true
	// kyc status: pending
}

// The guide operations (Update, Profile, Suspend, Reactivate, Tokens.Rotate) are not listed by
// the published v1 API; the bundled mock serves them.

func ExampleClientsService_Update() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	p, err := c.Clients.Update(ctx, "tenant-42", &debitura.ClientUpdateRequest{
		SupportPhone: debitura.Ptr("+45 70 20 30 40"),
		Metadata:     map[string]any{"plan": "pro", "seats": 12},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.SupportPhone, p.Metadata["plan"], p.Metadata["seats"])

	// Metadata is merged key by key; nil removes a key.
	p, err = c.Clients.Update(ctx, "tenant-42", &debitura.ClientUpdateRequest{
		Metadata: map[string]any{"seats": nil, "region": "eu"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(p.Metadata), p.Metadata["plan"], p.Metadata["region"])
	// Output:
	// +45 70 20 30 40 pro 12
	// 2 pro eu
}

func ExampleClientsService_Profile() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	if _, err := c.Clients.Create(ctx, acme("tenant-42")); err != nil {
		log.Fatal(err)
	}

	p, err := c.Clients.Profile(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status)

	if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, "tenant-42"); err != nil {
		log.Fatal(err)
	}
	p, err = c.Clients.Profile(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status, p.SupportEmail)
	// Output:
	// pending_onboarding
	// active support+tenant-42@acme.example
}

func ExampleClientsService_Suspend() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	p, err := c.Clients.Suspend(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status, !p.SuspendedAt.IsZero())

	// A suspended client gets no new tokens.
	_, err = c.Tokens.Mint(ctx, "tenant-42")
	fmt.Println("mint forbidden:", errors.Is(err, debitura.ErrForbidden))
	// Output:
	// suspended true
	// mint forbidden: true
}

func ExampleClientsService_Reactivate() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")
	if _, err := c.Clients.Suspend(ctx, "tenant-42"); err != nil {
		log.Fatal(err)
	}

	p, err := c.Clients.Reactivate(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status, p.SuspendedAt.IsZero())

	_, err = c.Tokens.Mint(ctx, "tenant-42")
	fmt.Println("mint ok:", err == nil)
	// Output:
	// active true
	// mint ok: true
}

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
	ensure(existingAccount(srv, "tenant-7", mockserver.CreditorSpec{CompanyName: "Nordic Widgets A/S", Emails: []string{"finance@nordicwidgets.example"}}))
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

// Create's 409 outcomes, when the customer already has a Debitura account (EnsureLinked reports
// the first as LinkApprovalRequired and returns the second as its error).

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
