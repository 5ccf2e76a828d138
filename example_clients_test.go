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
