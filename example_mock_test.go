package debitura_test

import (
	"errors"
	"testing"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// TestSignup is the README's in-process mock test: a test of your own signup code looks like
// this, with c passed to the code under test.
func TestSignup(t *testing.T) {
	ctx := t.Context()
	srv := mockserver.NewTest(t, mockserver.WithSeed(1)) // closed when the test ends
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	req := func(externalTenantID, email string) *debitura.ClientCreateRequest {
		return &debitura.ClientCreateRequest{
			ExternalTenantID: externalTenantID,
			Client:           debitura.ClientDetails{Name: "Customer " + externalTenantID, Country: "DK", SupportEmail: email},
			Users:            []debitura.ClientUser{{Name: "Ada Lovelace", Email: email}},
		}
	}

	// A customer that already has a Debitura account: Create answers 409 ClientExistsNeedsLinking.
	if _, err := srv.AddCreditor(mockserver.CreditorSpec{CompanyName: "Existing ApS", Emails: []string{"cfo@existing.example"}}); err != nil {
		t.Fatal(err)
	}
	var needsLinking *debitura.ClientExistsNeedsLinkingError
	if _, err := c.Clients.Create(ctx, req("tenant-2", "cfo@existing.example")); !errors.As(err, &needsLinking) {
		t.Fatalf("Create(existing account) = %v, want ClientExistsNeedsLinking", err)
	}

	// A new customer: 202 until it signs the agreement, 201 after, 202 again for a new version.
	create := func(wantStatus int) {
		t.Helper()
		lc, err := c.Clients.Create(ctx, req("tenant-1", "owner@new.example"))
		if err != nil || lc.StatusCode != wantStatus {
			t.Fatalf("Create(tenant-1) = %v, %v; want %d", lc, err, wantStatus)
		}
	}
	create(202)
	if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, "tenant-1"); err != nil { // the customer signs
		t.Fatal(err)
	}
	create(201)
	srv.ReleaseAgreement() // 201 becomes 202 (contract upgrade)
	create(202)

	// Two 503s in a row are retried; the journal shows what was asked and what it did.
	srv.InjectFault(mockserver.Fault{Operation: mockserver.OpPostClients, Status: 503, Times: 2})
	create(202)
	reqs := srv.Requests(mockserver.OpPostClients)
	if last := reqs[len(reqs)-3:]; last[0].Status != 503 || last[1].Status != 503 || last[2].Status != 202 {
		t.Errorf("the last three POST /clients answered %d, %d, %d; want 503, 503, 202", last[0].Status, last[1].Status, last[2].Status)
	}
}
