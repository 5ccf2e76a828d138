package mockserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/debitura-go/debitura/internal/contract"
)

// The mock deliberately sends three documented shapes that the published schemas do not declare
// (see "Where the mock knowingly differs" in doc.go): kycStatus in snake_case (the spec's own
// description says the wire format is locked to it), validationErrors beside ApiErrorResponseDto
// on "Case validation failed" (the docs' shape), and ASP.NET's ValidationProblemDetails
// (application/problem+json) for malformed JSON and unknown members. The suite validates every
// response against the API documents with exactly these three additions and nothing else.
var (
	contractOnce sync.Once
	contractV    *contract.Validator
	contractErr  error
)

func documentedDeviations() (*contract.Validator, error) {
	contractOnce.Do(func() {
		var docs []contract.Document
		for _, d := range contract.Documents() {
			t, err := openapi3.NewLoader().LoadFromData(d.Data)
			if err != nil {
				contractErr = err
				return
			}
			for name, s := range t.Components.Schemas {
				switch {
				case name == "Debitura.Web.ReferralPartnerApi.Models.Clients.KycStatus":
					s.Value.Enum = append(s.Value.Enum, "not_required", "pending", "verified")
				case name == "ApiErrorResponseDto" || name == "Debitura.Web.ExternalApi.Contracts.V1.Errors.ApiErrorResponseDto":
					s.Value.Properties["validationErrors"] = openapi3.NewSchemaRef("", openapi3.NewObjectSchema().
						WithAdditionalProperties(openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema())))
				}
			}
			problem := openapi3.NewMediaType().WithSchema(openapi3.NewObjectSchema().WithAnyAdditionalProperties())
			for _, item := range t.Paths.Map() {
				for _, op := range item.Operations() {
					if r := op.Responses.Value("400"); r != nil && r.Value != nil {
						r.Value.Content["application/problem+json"] = problem
					}
				}
			}
			data, err := json.Marshal(t)
			if err != nil {
				contractErr = err
				return
			}
			docs = append(docs, contract.Document{Name: d.Name, Data: data})
		}
		contractV, contractErr = contract.New(docs...)
	})
	return contractV, contractErr
}

// newTestServer is NewTest with the backend wrapped in the contract validator: every response
// the suite receives from an operation of the API documents is checked against them (responses
// marked X-Mock-Fault are skipped by the validator). Requests are sent with
// contract.SkipRequestHeader, because many tests send invalid requests on purpose.
func newTestServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	v, err := documentedDeviations()
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	b := NewBackend(opts...)
	srv := httptest.NewServer(v.Middleware(t, b))
	t.Cleanup(srv.Close)
	if b.PublicURL() == "" {
		b.SetPublicURL(srv.URL)
	}
	return &Server{Backend: b, URL: srv.URL, srv: srv}
}

func TestContractStrictOnPlainResponses(t *testing.T) {
	t.Parallel()
	// The unmodified documents accept everything except the three documented deviations.
	v, err := contract.Default()
	if err != nil {
		t.Fatal(err)
	}
	s := NewTest(t)
	req := httptest.NewRequest("GET", "/me", nil)
	rec := httptest.NewRecorder()
	req.Header.Set("XApiKey", key)
	s.ServeHTTP(rec, req)
	if err := v.ValidateResponse(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil || rec.Code != http.StatusOK {
		t.Errorf("GET /me = %d, contract: %v", rec.Code, err)
	}
}
