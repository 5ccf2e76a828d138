package debitura

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Fake operations of each retry class, sent through do as the services do, with bodies the API
// accepts.
func opGet() *apiRequest {
	return &apiRequest{op: "getClient", method: http.MethodGet, route: "/clients/{externalTenantId}", path: "/clients/t-1", retry: retrySafe}
}

func opKYC() *apiRequest {
	return &apiRequest{op: "postKyc", method: http.MethodPost, route: "/clients/{externalTenantId}/kyc-verification",
		path: "/clients/t-1/kyc-verification", body: map[string]string{
			"directorFullName": "Ada Lovelace", "directorHomeAddress": "1 Analytical Row, London", "directorDateOfBirth": "1815-12-10",
		}, retry: retryWithKey}
}

func opReset() *apiRequest {
	return &apiRequest{op: "deleteClient", method: http.MethodDelete, route: "/clients/{externalTenantId}", path: "/clients/t-1", retry: retryDelete}
}

func opCreate() *apiRequest {
	return &apiRequest{op: "postClients", method: http.MethodPost, route: "/clients", path: "/clients",
		body: map[string]any{
			"externalTenantId": "t-1",
			"client":           map[string]string{"name": "Acme ApS", "country": "DK", "supportEmail": "support@acme.example"},
			"users":            []map[string]string{{"name": "Ada Lovelace", "email": "ada@acme.example"}},
		}, retry: retrySafe}
}

func opWithdraw() *apiRequest {
	return &apiRequest{op: "withdrawClient", method: http.MethodPost, route: "/clients/{externalTenantId}/withdraw",
		path: "/clients/t-1/withdraw", retry: retryDelete}
}

func TestDoSendsHeadersPathQueryAndDecodes(t *testing.T) {
	t.Parallel()
	c, h := setup(t, WithAppInfo("billing-sync", "2.1"))
	h.script(status(200, `{"Name":"Acme","id":"42"}`))
	r := &apiRequest{op: "getClients", method: http.MethodGet, route: "/clients", path: "/clients",
		query: map[string][]string{"Page": {"2"}, "PageSize": {"100"}}, retry: retrySafe}
	var out struct {
		Name string `json:"name"`
		ID   string `json:"id"`
	}
	resp, err := c.do(t.Context(), r, &out)
	if err != nil {
		t.Fatalf("do() = %v", err)
	}
	if out.Name != "Acme" || out.ID != "42" {
		t.Errorf("decoded = %+v, want Name Acme, ID 42", out)
	}
	if resp.StatusCode != 200 || resp.Attempts != 1 || resp.Uncertain || resp.IdempotencyKey != "" {
		t.Errorf("apiResponse = %+v, want 200, 1 attempt, certain, no key", resp)
	}
	reqs := h.requests()
	got := reqs[0]
	want := request{Method: "GET", Path: "/clients", Query: url.Values{"Page": {"2"}, "PageSize": {"100"}}}
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool {
		n := p.Last().String()
		return n == ".Header" || n == ".At" || n == ".Body"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("request mismatch (-want +got):\n%s", diff)
	}
	if k := got.Header.Get("XApiKey"); k != testAPIKey {
		t.Errorf("XApiKey = %q, want the key", k)
	}
	if ua, want := got.Header.Get("User-Agent"), "debitura-go/"+Version+" billing-sync/2.1"; ua != want {
		t.Errorf("User-Agent = %q, want %q", ua, want)
	}
	if got.Header.Get("Idempotency-Key") != "" {
		t.Errorf("Idempotency-Key sent on a retrySafe call without a key")
	}
}

func TestDoSendsJSONBody(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.script(status(204, ""))
	// A nil out: the body is not needed (a non-nil out would make the empty 204 an error).
	resp, err := c.do(t.Context(), opCreate(), nil)
	if err != nil {
		t.Fatalf("do() = %v", err)
	}
	if resp.StatusCode != 204 {
		t.Errorf("do() = %+v; want 204", resp)
	}
	got := h.requests()[0]
	var body, want any
	if err := json.Unmarshal([]byte(got.Body), &body); err != nil {
		t.Fatalf("request body %q is not JSON: %v", got.Body, err)
	}
	wantJSON, _ := json.Marshal(opCreate().body)
	_ = json.Unmarshal(wantJSON, &want)
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
}

func TestDoDecodeErrorWrapsJSONError(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.script(status(200, `{"id": 12`))
	var out struct{ ID int }
	_, err := c.do(t.Context(), opGet(), &out)
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		t.Errorf("do() = %v, want an error wrapping *json.SyntaxError", err)
	}
}

func TestDoKeepsEscapedPathSegments(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.script(status(200, "{}"))
	r := opGet()
	r.path = "/clients/" + url.PathEscape("a/b c?d#e%")
	if _, err := c.do(t.Context(), r, nil); err != nil {
		t.Fatalf("do() = %v", err)
	}
	// The server's r.URL.Path is unescaped; compare the escaped form it received.
	if got, want := h.requests()[0].Path, "/clients/a%2Fb%20c%3Fd%23e%25"; got != want {
		t.Errorf("escaped path = %q, want %q", got, want)
	}
}
