package debitura

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets of the error decoders. Seeds: the f.Add calls below and the committed corpus in
// testdata/fuzz/<FuzzName>/. CI runs each target for a few seconds (.ci/run); `go test` runs
// the seeds only.

// fuzzKey is the API key the decoders are told to remove; fuzzJWT is a bearer token. Neither
// may appear in anything the decoded error prints, whatever the body holds.
const (
	fuzzKey = "mock_fuzz_SECRET_key_91c7"
	fuzzJWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmdXp6In0.c2lnbmF0dXJlZnV6eg"
)

var fuzzNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func fuzzErrorSeeds(f *testing.F) {
	seeds := []struct {
		status            int
		retryAfter, reqID string
		body              string
	}{
		{400, "", "req-1", `{"error":"Validation failed","message":"Client.Name is required","businessErrors":[{"type":"ValidationError","message":"Client.Name is required"}]}`},
		{401, "", "", `{"error":"Unauthorized","message":"API key ` + fuzzKey + ` is invalid","businessErrors":[{"type":"Unauthorized"}]}`},
		{404, "", "", `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Not Found","status":404,"traceId":"00-abc-01"}`},
		{400, "", "", `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"errors":{"$.client":["The JSON value could not be converted."]}}`},
		{400, "", "", `{"Users":["At least one user is required"]}`},
		{422, "", "", `{"error":"x","message":"Signing required","businessErrors":[{"type":"SigningRequired","message":"Sign first"}],"signingHandoff":{"combinedSigningUrl":"https://x.example/sign?token=abc"}}`},
		{429, "", "", `{"error":"rate_limit_exceeded","message":"Rate limit exceeded. Please retry after the specified time.","retryAfter":1.5}`},
		{429, "", "", `{"error":{"type":"rate_limit_error","message":"Too many requests","retry_after":2}}`},
		{429, "3", "", ``},
		{429, "Wed, 21 Oct 2015 07:28:00 GMT", "", ``},
		{429, "-1", "", `{"retryAfter":"NaN"}`},
		{429, "1e400", "", `{"retryAfter":1e308}`},
		{502, "", "", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center></body></html>"},
		{503, "", "", `{"error":"Authorization: Bearer ` + fuzzJWT + `","message":"token=` + fuzzJWT + `"}`},
		{409, "", "", `{"type":"ClientExistsNeedsLinking","message":"exists","data":{"externalTenantId":"t-1","onboardingLinks":{"url":"https://x.example/ReferralPartner/Approve?token=abc"}}}`},
		{409, "", "", `{"conflictResponse":{"type":"AlreadyLinkedToAnotherPartner","message":"linked","data":null}}`},
		{409, "", "", `{"error":{"type":"conflict_error","conflict_type":"ClientExistsNeedsLinking","message":"m","details":{"approvalUrl":"https://x.example/a"}}}`},
		{500, "", "", "\xff\xfe{\"message\":\"\xc3\x28\"}"},
		{599, "", "", `null`},
		{400, "", "", `{"type":"` + fuzzJWT + `","traceId":"` + fuzzKey + `","message":"echo"}`},
		{500, "", "Bearer " + fuzzJWT, `{"businessErrors":[{"type":"` + fuzzKey + `","message":"m"}]}`},
		{500, "", "", `[]`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.retryAfter, s.reqID, []byte(s.body))
	}
}

// fuzzStatus maps any int onto a status code in 100..599.
func fuzzStatus(n int) int {
	if n >= 100 && n <= 599 {
		return n
	}
	if n < 0 {
		n = -(n + 1)
	}
	return 100 + n%500
}

// fuzzCheckText fails when s carries a secret or is not valid UTF-8.
func fuzzCheckText(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, fuzzKey) {
		t.Errorf("%s carries the API key: %q", what, s)
	}
	if strings.Contains(s, fuzzJWT) {
		t.Errorf("%s carries the bearer token: %q", what, s)
	}
}

// FuzzDecodeError: status, Retry-After header, X-Request-Id header and body of any answer ->
// decodeAPIError never panics, keeps the status, prints one non-empty line without secrets,
// keeps the excerpt within its cap, and only reports waits in [0, 24h].
func FuzzDecodeError(f *testing.F) {
	fuzzErrorSeeds(f)
	f.Fuzz(func(t *testing.T, n int, retryAfter, reqID string, body []byte) {
		status := fuzzStatus(n)
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		if reqID != "" {
			h.Set("X-Request-Id", reqID)
		}
		e := decodeAPIError(status, h, body, fuzzNow, fuzzKey)
		if e == nil {
			t.Fatal("decodeAPIError returned nil")
		}
		if e.StatusCode != status {
			t.Errorf("StatusCode = %d, want %d", e.StatusCode, status)
		}
		e.Method, e.Route = "POST", "/clients"
		msg := e.Error()
		if msg == "" || !strings.HasPrefix(msg, "debitura: POST /clients: ") {
			t.Errorf("Error() = %q", msg)
		}
		if strings.ContainsAny(msg, "\n\r") {
			t.Errorf("Error() is not one line: %q", msg)
		}
		if e.RetryAfter < 0 || e.RetryAfter > maxServerWait {
			t.Errorf("RetryAfter = %s, want within [0, %s]", e.RetryAfter, maxServerWait)
		}
		if len(e.Body) > 3*maxBodyExcerpt+len(redactedMark)*maxBodyExcerpt || !utf8.ValidString(e.Body) {
			t.Errorf("Body excerpt is %d bytes or not UTF-8", len(e.Body))
		}
		fuzzCheckText(t, "Error()", msg)
		fuzzCheckText(t, "Message", e.Message)
		fuzzCheckText(t, "Body", e.Body)
		for _, be := range e.BusinessErrors {
			fuzzCheckText(t, "BusinessErrors[].Message", be.Message)
		}
		for _, sentinel := range []error{ErrServer, ErrNotFound, ErrRateLimited, ErrValidation, ErrConflict} {
			_ = errors.Is(e, sentinel) // must not panic
		}
		if errors.Is(e, ErrServer) != (status >= 500) {
			t.Errorf("errors.Is(ErrServer) = %v for %d", errors.Is(e, ErrServer), status)
		}
	})
}

// FuzzDecodeConflict: a 409 body of POST /clients -> the conflict decoder never panics, the
// result matches ErrConflict and unwraps to the *APIError, the specific types are returned
// exactly for their documented type values, and nothing printed carries a secret.
func FuzzDecodeConflict(f *testing.F) {
	for _, body := range []string{
		`{"type":"ClientExistsNeedsLinking","message":"The client already exists in Debitura.","data":{"externalTenantId":"tenant-1","onboardingLinks":{"url":"https://test.debitura.com/ReferralPartner/Approve?token=abc123"}}}`,
		`{"type":"ClientAlreadyLinkedToAnotherPartner","message":"Linked to another partner.","data":{"externalTenantId":"tenant-2"}}`,
		`{"type":"AlreadyLinkedToAnotherPartner","message":"Linked to another partner.","data":null}`,
		`{"type":"AlreadyLinkedDifferentTenant","message":"m","data":{"externalTenantId":"a","existingExternalTenantId":"b"}}`,
		`{"type":"InvalidClientType","message":"Not a creditor."}`,
		`{"Type":"ClientExistsNeedsLinking","Message":"Pascal","Data":{"ExternalTenantId":"T","OnboardingLinks":{"Url":"https://x/a"}}}`,
		`{"conflictResponse":{"type":"ClientExistsNeedsLinking","message":"wrapped","data":{"approvalUrl":"https://x/b"}}}`,
		`{"error":{"type":"conflict_error","conflict_type":"ClientAlreadyLinkedToAnotherPartner","message":"legacy","details":{"externalTenantId":"t"}}}`,
		`{"type":"SomethingNew","message":"kept verbatim","data":[1,2,3]}`,
		`{"type":"ClientExistsNeedsLinking","data":"not an object"}`,
		`{"type":"` + fuzzJWT + `","message":"XApiKey: ` + fuzzKey + `"}`,
		`not json`,
		``,
	} {
		f.Add([]byte(body), true)
	}
	f.Add([]byte(`{"type":"ClientExistsNeedsLinking","data":{}}`), false)
	f.Fuzz(func(t *testing.T, body []byte, create bool) {
		op := "postClientsByExternalTenantIdWithdraw"
		if create {
			op = "postClients"
		}
		apiErr := decodeAPIError(http.StatusConflict, http.Header{}, body, fuzzNow, fuzzKey)
		apiErr.Method, apiErr.Route, apiErr.Operation = "POST", "/clients", op
		var err error = apiErr // the 409 of another operation stays an *APIError
		if create {
			err = linkConflict(apiErr) // Clients.Create's mapping
		}
		if err == nil {
			t.Fatal("linkConflict returned nil")
		}
		if !errors.Is(err, ErrConflict) {
			t.Errorf("errors.Is(err, ErrConflict) = false: %v", err)
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusConflict {
			t.Errorf("errors.As(*APIError) fails or wrong status: %v", err)
		}
		var ce *ConflictError
		isConflict := errors.As(err, &ce)
		if !create && isConflict {
			t.Errorf("a 409 of another operation became a *ConflictError: %#v", ce)
		}
		if isConflict {
			if ce.Err != apiErr {
				t.Errorf("ConflictError.Err is not the decoded *APIError")
			}
			var need *ClientExistsNeedsLinkingError
			if errors.As(err, &need) != (ce.Type == ClientExistsNeedsLinking) {
				t.Errorf("ClientExistsNeedsLinkingError returned for type %q (or missing)", ce.Type)
			}
			if need != nil && (need.ApprovalURL != ce.ApprovalURL || need.ExternalTenantID != ce.ExternalTenantID) {
				t.Errorf("ClientExistsNeedsLinkingError fields differ from the ConflictError's")
			}
			var other *AlreadyLinkedToAnotherPartnerError
			wantOther := ce.Type == ClientAlreadyLinkedToAnotherPartner || ce.Type == AlreadyLinkedToAnotherPartner
			if errors.As(err, &other) != wantOther {
				t.Errorf("AlreadyLinkedToAnotherPartnerError returned for type %q (or missing)", ce.Type)
			}
		}
		msg := err.Error()
		if msg == "" || strings.ContainsAny(msg, "\n\r") {
			t.Errorf("Error() = %q", msg)
		}
		fuzzCheckText(t, "Error()", msg)
		fuzzCheckText(t, "Message", apiErr.Message)
		fuzzCheckText(t, "Body", apiErr.Body)
	})
}
