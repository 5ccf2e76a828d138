package debitura_test

// The external tests' harness: a mock with an SDK client that talks to it over the contract
// check, the request builder, the seeding helpers and the journal readers the tests share. A
// new test starts with
//
//	srv, c := setupMock(t)
//	got, err := c.Clients.Create(t.Context(), createReq("tenant-1", ""))
//
// and asserts on got, err and the mock's journal (srv.Requests, statuses).

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/internal/contract"
	"github.com/debitura-go/debitura/mockserver"
)

// contractHTTPClient returns a copy of hc (nil: a zero http.Client) whose transport validates
// every request the SDK sends and every response it receives against the API documents, with
// the mock's three documented deviations (contract.Mock), reporting violations with t.Errorf.
// Traffic to paths the documents do not describe (/__mock/..., hosted pages) passes unchecked;
// responses marked contract.FaultHeader (injected faults) are not checked. Every SDK client in
// the tests that talks to a server goes through it (or through newContractClient).
func contractHTTPClient(t testing.TB, hc *http.Client) *http.Client {
	t.Helper()
	var c http.Client
	if hc != nil {
		c = *hc
	}
	c.Transport = contract.MockTransport(t, c.Transport)
	return &c
}

// newContractClient is debitura.New(key) pointed at baseURL over contractHTTPClient(t, hc);
// opts come after (a later WithHTTPClient in opts would bypass validation: don't).
func newContractClient(t testing.TB, key, baseURL string, hc *http.Client, opts ...debitura.Option) *debitura.Client {
	t.Helper()
	all := append([]debitura.Option{debitura.WithBaseURL(baseURL), debitura.WithHTTPClient(contractHTTPClient(t, hc))}, opts...)
	c, err := debitura.New(key, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// setupMock starts a mock with opts (closed when the test ends) and returns it with an SDK
// client for its default partner over the contract check. A test that needs another key or
// client options calls newContractClient(t, key, srv.URL, srv.Client(), ...) itself.
func setupMock(t testing.TB, opts ...mockserver.Option) (*mockserver.Server, *debitura.Client) {
	t.Helper()
	srv := mockserver.NewTest(t, opts...)
	return srv, newContractClient(t, mockserver.DefaultAPIKey, srv.URL, srv.Client())
}

// createReq is a valid request for the client ext with one user; email is the user's and the
// support address ("": ext@tenant.example).
func createReq(ext, email string) *debitura.ClientCreateRequest {
	if email == "" {
		email = strings.ToLower(ext) + "@tenant.example"
	}
	return &debitura.ClientCreateRequest{
		ExternalTenantID: ext,
		Client:           debitura.ClientDetails{Name: "Company " + ext, Country: "DK", SupportEmail: email},
		Users:            []debitura.ClientUser{{Name: "Ann Hansen", Email: email}},
	}
}

// addCreditor seeds an onboarded Debitura creditor with one e-mail; linkedTo is the key of the
// partner it is linked to ("": unlinked).
func addCreditor(t testing.TB, srv *mockserver.Server, email, linkedTo string) {
	t.Helper()
	if _, err := srv.AddCreditor(mockserver.CreditorSpec{
		CompanyName:     "Existing " + email,
		Country:         "DK",
		Emails:          []string{email},
		LinkedToPartner: linkedTo,
		OnboardingDone:  true,
	}); err != nil {
		t.Fatalf("AddCreditor(%s): %v", email, err)
	}
}

// hookURL is a webhook subscription URL whose deliveries sinkTransport answers.
const hookURL = "https://hooks.tenant.example/debitura"

// sinkTransport is a mock's webhook transport (mockserver.WithWebhookTransport) that answers
// every delivery 204 in memory.
type sinkTransport struct{}

func (sinkTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
}

// flush makes the mock deliver every due webhook and wait for the attempts, bounded in time.
func flush(t testing.TB, srv *mockserver.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.FlushWebhooks(ctx); err != nil {
		t.Fatalf("FlushWebhooks: %v", err)
	}
}

// statuses lists the statuses the journal recorded for an operation, in order.
func statuses(srv *mockserver.Server, op string) []int {
	var s []int
	for _, e := range srv.Requests(op) {
		s = append(s, e.Status)
	}
	return s
}

// count429 is how many requests of any operation the mock answered 429.
func count429(srv *mockserver.Server) int {
	n := 0
	for _, e := range srv.Journal() {
		if e.Status == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}

// journalText renders journal entries for a failure message, one per line.
func journalText(entries []mockserver.JournalEntry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "\n  %s %s %d fault=%q effects=%v", e.Method, e.Path, e.Status, e.Fault, e.Effects)
	}
	return b.String()
}

// approvalToken returns the token query parameter of a link-approval URL.
func approvalToken(t testing.TB, approvalURL string) string {
	t.Helper()
	u, err := url.Parse(approvalURL)
	if err != nil {
		t.Fatalf("approval URL %q: %v", approvalURL, err)
	}
	tok := u.Query().Get("token")
	if tok == "" {
		t.Fatalf("approval URL %q has no token", approvalURL)
	}
	return tok
}
