package contract

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// The mock server (package mockserver) deliberately sends three shapes that the published
// schemas do not declare. Its package documentation lists them under "Where the mock knowingly
// differs from Debitura" ("Wire values" and "400 bodies"):
//
//  1. kycStatus in snake_case (not_required, pending, verified). The schema
//     Debitura.Web.ReferralPartnerApi.Models.Clients.KycStatus enumerates PascalCase values,
//     but its own description says the wire format is locked to snake_case, and the SDK must
//     decode what the real API sends.
//  2. validationErrors (a map of field name to messages) beside the declared members of
//     ApiErrorResponseDto on "Case validation failed": the shape Debitura's documentation
//     shows, which the schema (additionalProperties: false) omits.
//  3. ASP.NET's ValidationProblemDetails, as application/problem+json, on a 400 for malformed
//     JSON, type mismatches and unknown members: what ASP.NET's model binder answers before the
//     API's own validation runs; the documents declare 400 bodies as application/json only.
//
// [Mock] validates against the documents with exactly these three additions and nothing else,
// so that the mock's test suite and the SDK's tests against the mock can validate every
// response instead of skipping the ones that carry a documented deviation.

const kycStatusSchema = "Debitura.Web.ReferralPartnerApi.Models.Clients.KycStatus"

var mockValidator = sync.OnceValues(func() (*Validator, error) {
	docs, err := MockDocuments()
	if err != nil {
		return nil, err
	}
	return New(docs...)
})

// Mock returns a Validator for [Documents] widened by the mock's three documented deviations
// (see [MockDocuments]), built once per process.
func Mock() (*Validator, error) { return mockValidator() }

// MockDocuments returns [Documents] with the mock's three documented deviations added: the
// snake_case kycStatus values, the validationErrors member of ApiErrorResponseDto, and an
// application/problem+json body (any object) for every declared 400.
func MockDocuments() ([]Document, error) {
	var docs []Document
	for _, d := range Documents() {
		t, err := openapi3.NewLoader().LoadFromData(d.Data)
		if err != nil {
			return nil, fmt.Errorf("contract: load %s: %w", d.Name, err)
		}
		if t.Components != nil {
			for name, s := range t.Components.Schemas {
				switch {
				case name == kycStatusSchema:
					s.Value.Enum = append(s.Value.Enum, "not_required", "pending", "verified")
				case name == "ApiErrorResponseDto" || name == "Debitura.Web.ExternalApi.Contracts.V1.Errors.ApiErrorResponseDto":
					s.Value.Properties["validationErrors"] = openapi3.NewSchemaRef("", openapi3.NewObjectSchema().
						WithAdditionalProperties(openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema())))
				}
			}
		}
		problem := openapi3.NewMediaType().WithSchema(openapi3.NewObjectSchema().WithAnyAdditionalProperties())
		for _, item := range t.Paths.Map() {
			for _, op := range item.Operations() {
				if r := op.Responses.Value("400"); r != nil && r.Value != nil {
					if r.Value.Content == nil {
						r.Value.Content = openapi3.Content{}
					}
					r.Value.Content["application/problem+json"] = problem
				}
			}
		}
		data, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("contract: encode %s: %w", d.Name, err)
		}
		docs = append(docs, Document{Name: d.Name, Data: data})
	}
	return docs, nil
}

// MockTransport is [Transport] with the [Mock] validator: for SDK tests that talk to the mock
// server (or to a test server answering in the mock's shapes).
func MockTransport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	t.Helper()
	return must(t, Mock).Transport(t, base)
}

// MockDo sends req with a copy of c whose transport is [MockTransport] (API routes are checked
// against the API documents; /__mock/ and page routes pass unchecked) and returns the answer's
// status and body. A transport or read error fails t.
func MockDo(t testing.TB, c *http.Client, req *http.Request) (int, []byte) {
	t.Helper()
	vc := *c
	vc.Transport = MockTransport(t, c.Transport)
	res, err := vc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, body
}

// MockMiddleware is [Middleware] with the [Mock] validator.
func MockMiddleware(t testing.TB, next http.Handler) http.Handler {
	t.Helper()
	return must(t, Mock).Middleware(t, next)
}
