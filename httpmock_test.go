package debitura_test

import (
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"

	"github.com/debitura-go/debitura"
)

// The SDK sends through the transport of the *http.Client it is given: here a per-test httpmock
// transport (never httpmock's global one, which would fight parallel tests). It also shows that
// a caller's client is copied, not changed.
func TestWithHTTPClientUsesTheCallersTransport(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodGet, "https://referral-api.example/me", func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("XApiKey") != "mock_httpmock_key" {
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		}
		return httpmock.NewJsonResponse(http.StatusOK, map[string]any{"companyName": "Transported ApS", "isActive": true})
	})
	hc := &http.Client{Transport: mt}
	c, err := debitura.New("mock_httpmock_key", debitura.WithBaseURL("https://referral-api.example"), debitura.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.Partner.Me(t.Context())
	if err != nil {
		t.Fatalf("Partner.Me: %v", err)
	}
	if me.CompanyName != "Transported ApS" {
		t.Errorf("Partner.Me().CompanyName = %q, want %q", me.CompanyName, "Transported ApS")
	}
	if n := mt.GetCallCountInfo()["GET https://referral-api.example/me"]; n != 1 {
		t.Errorf("calls through the caller's transport = %d, want 1", n)
	}
	if hc.Transport != mt || hc.CheckRedirect != nil || hc.Timeout != 0 {
		t.Errorf("the caller's *http.Client was changed: %+v", hc)
	}
}
