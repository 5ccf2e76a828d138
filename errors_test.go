package debitura

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDecodeAPIErrorShapes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   APIError
		// wantBody is the expected excerpt when it differs from the trimmed body.
		wantBody string
	}{
		{
			name:   "ApiErrorResponseDto 404",
			status: 404,
			body:   `{"error":"Client not found","message":"Client not found","businessErrors":[{"type":"ClientNotFound","message":"No active link for this externalTenantId","solutionUrl":"https://docs.debitura.com/errors/client-not-found"}]}`,
			want: APIError{StatusCode: 404, Type: "ClientNotFound", Message: "Client not found",
				BusinessErrors: []BusinessError{{Type: "ClientNotFound", Message: "No active link for this externalTenantId", SolutionURL: "https://docs.debitura.com/errors/client-not-found"}}},
		},
		{
			name:   "ApiErrorResponseDto with a label in error",
			status: 400,
			body:   `{"error":"MissingUserIdentifier","message":"Each user needs an email address","businessErrors":null}`,
			want:   APIError{StatusCode: 400, Type: "MissingUserIdentifier", Message: "Each user needs an email address"},
		},
		{
			name:   "ApiErrorResponseDto 500 businessErrors only",
			status: 500,
			body:   `{"businessErrors":[{"type":"UnexpectedError","message":"An unexpected error occurred","solutionUrl":null}]}`,
			want: APIError{StatusCode: 500, Type: "UnexpectedError", Message: "An unexpected error occurred",
				BusinessErrors: []BusinessError{{Type: "UnexpectedError", Message: "An unexpected error occurred"}}},
		},
		{
			name:   "BusinessErrorResponseApiDTO 422 with signingHandoff",
			status: 422,
			body:   `{"businessErrors":[{"type":"MissingDebtCollectionContract","message":"The client must sign the debt collection agreement","solutionUrl":"https://docs.debitura.com/sdca"}],"signingHandoff":{"combinedSigningUrl":"https://app.debitura.com/sign/abc123"}}`,
			want: APIError{StatusCode: 422, Type: "MissingDebtCollectionContract", Message: "The client must sign the debt collection agreement",
				BusinessErrors: []BusinessError{{Type: "MissingDebtCollectionContract", Message: "The client must sign the debt collection agreement", SolutionURL: "https://docs.debitura.com/sdca"}},
				SigningHandoff: &SigningHandoff{CombinedSigningURL: "https://app.debitura.com/sign/abc123"}},
		},
		{
			name:   "422 IdempotencyConflict in businessErrors",
			status: 422,
			body:   `{"businessErrors":[{"type":"IdempotencyConflict","message":"Idempotency-Key was used with a different request body"}],"signingHandoff":null}`,
			want: APIError{StatusCode: 422, Type: "IdempotencyConflict", Message: "Idempotency-Key was used with a different request body",
				BusinessErrors: []BusinessError{{Type: "IdempotencyConflict", Message: "Idempotency-Key was used with a different request body"}}},
		},
		{
			name:   "422 IdempotencyConflict top-level Type",
			status: 422,
			body:   `{"Type":"IdempotencyConflict","Message":"Key already used with another body"}`,
			want:   APIError{StatusCode: 422, Type: "IdempotencyConflict", Message: "Key already used with another body"},
		},
		{
			name:   "ConflictResponse 409",
			status: 409,
			body:   `{"type":"ClientExistsNeedsLinking","message":"Client already exists in Debitura. Approval required to link to referral partner.","data":{"externalTenantId":"t-1","onboardingLinks":{"url":"https://app.debitura.com/ReferralPartner/Approve?token=abc123"}}}`,
			want:   APIError{StatusCode: 409, Type: "ClientExistsNeedsLinking", Message: "Client already exists in Debitura. Approval required to link to referral partner."},
			// The approval token is a credential of the client: the excerpt drops it.
			wantBody: `{"type":"ClientExistsNeedsLinking","message":"Client already exists in Debitura. Approval required to link to referral partner.","data":{"externalTenantId":"t-1","onboardingLinks":{"url":"https://app.debitura.com/ReferralPartner/Approve?token=[REDACTED]"}}}`,
		},
		{
			name:   "field map 400",
			status: 400,
			body:   `{"Users":["At least one user is required"]}`,
			want:   APIError{StatusCode: 400, Message: "Users: At least one user is required", FieldErrors: map[string][]string{"Users": {"At least one user is required"}}},
		},
		{
			name:   "case validation with validationErrors",
			status: 400,
			body:   `{"error":"Case validation failed","message":"Case validation failed","validationErrors":{"Cases[0].Amount":["Amount must be positive"]}}`,
			want: APIError{StatusCode: 400, Message: "Case validation failed",
				FieldErrors: map[string][]string{"Cases[0].Amount": {"Amount must be positive"}}},
		},
		{
			name:   "ProblemDetails 404",
			status: 404,
			header: http.Header{"Content-Type": {"application/problem+json"}},
			body:   `{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.4","title":"Not Found","status":404,"detail":"No client with that externalTenantId","instance":"/clients/t-9"}`,
			want:   APIError{StatusCode: 404, Message: "No client with that externalTenantId"},
		},
		{
			name:   "ValidationProblemDetails 400",
			status: 400,
			body:   `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"errors":{"ExternalTenantId":["The ExternalTenantId field is required."],"Client.Country":["Unknown country: XX"]},"traceId":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}`,
			want: APIError{StatusCode: 400, Message: "One or more validation errors occurred.",
				FieldErrors: map[string][]string{"ExternalTenantId": {"The ExternalTenantId field is required."}, "Client.Country": {"Unknown country: XX"}},
				RequestID:   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"},
		},
		{
			name:   "ValidationProblemDetails PascalCase",
			status: 400,
			body:   `{"Type":"https://tools.ietf.org/html/rfc7231#section-6.5.1","Title":"One or more validation errors occurred.","Status":400,"Errors":{"Users":["At least one user is required"]},"TraceId":"trace-1"}`,
			want: APIError{StatusCode: 400, Message: "One or more validation errors occurred.",
				FieldErrors: map[string][]string{"Users": {"At least one user is required"}}, RequestID: "trace-1"},
		},
		{
			name:   "429 body",
			status: 429,
			body:   `{"error":"rate_limit_exceeded","message":"Too many requests. Please try again later or contact support if you need higher limits.","retryAfter":42.0}`,
			want: APIError{StatusCode: 429, Type: "rate_limit_exceeded", RetryAfter: 42 * time.Second,
				Message: "Too many requests. Please try again later or contact support if you need higher limits."},
		},
		{
			name:   "429 fractional retryAfter beats header",
			status: 429,
			header: http.Header{"Retry-After": {"9"}},
			body:   `{"error":"rate_limit_exceeded","message":"Too many requests.","retryAfter":0.75}`,
			want:   APIError{StatusCode: 429, Type: "rate_limit_exceeded", Message: "Too many requests.", RetryAfter: 750 * time.Millisecond},
		},
		{
			name:   "429 header HTTP date",
			status: 429,
			header: http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}},
			want:   APIError{StatusCode: 429, Message: "Too Many Requests", RetryAfter: 90 * time.Second},
		},
		{
			name:   "429 negative and NaN rejected",
			status: 429,
			header: http.Header{"Retry-After": {"NaN"}},
			body:   `{"retryAfter":-3}`,
			want:   APIError{StatusCode: 429, Message: "Too Many Requests"},
		},
		{
			name:   "legacy validation_error",
			status: 400,
			body:   `{"error":{"type":"validation_error","message":"Invalid country code","field":"country"}}`,
			want: APIError{StatusCode: 400, Type: "validation_error", Message: "Invalid country code",
				FieldErrors: map[string][]string{"country": {"Invalid country code"}}},
		},
		{
			name:   "legacy rate_limit_error",
			status: 429,
			body:   `{"error":{"type":"rate_limit_error","message":"Too many requests","retry_after":60}}`,
			want:   APIError{StatusCode: 429, Type: "rate_limit_error", Message: "Too many requests", RetryAfter: 60 * time.Second},
		},
		{
			name:   "legacy code envelope",
			status: 401,
			body:   `{"error":{"code":"invalid_api_key","message":"The API key provided is invalid","details":{}}}`,
			want:   APIError{StatusCode: 401, Type: "invalid_api_key", Message: "The API key provided is invalid"},
		},
		{
			name:   "legacy conflict_error",
			status: 409,
			body:   `{"error":{"type":"conflict_error","message":"Client already exists","conflict_type":"existing_client","details":{"client_id":"c-1","relationship_type":"direct","can_claim":true}}}`,
			want:   APIError{StatusCode: 409, Type: "conflict_error", Message: "Client already exists"},
		},
		{
			name:   "wrapped conflictResponse",
			status: 409,
			body:   `{"conflictResponse":{"type":"AlreadyLinkedToAnotherPartner","message":"Client is linked to another partner","data":{"externalTenantId":"t-1"}}}`,
			want:   APIError{StatusCode: 409, Type: "AlreadyLinkedToAnotherPartner", Message: "Client is linked to another partner"},
		},
		{
			name:   "PascalCase ApiErrorResponseDto",
			status: 403,
			body:   `{"Error":"Forbidden","Message":"Reset is only available in the test environment","BusinessErrors":[{"Type":"TestEnvironmentOnly","Message":"Use testreferral-api","SolutionUrl":"https://docs.debitura.com/envs"}]}`,
			want: APIError{StatusCode: 403, Type: "TestEnvironmentOnly", Message: "Reset is only available in the test environment",
				BusinessErrors: []BusinessError{{Type: "TestEnvironmentOnly", Message: "Use testreferral-api", SolutionURL: "https://docs.debitura.com/envs"}}},
		},
		{
			name:   "HTML 502 from a proxy",
			status: 502,
			header: http.Header{"Content-Type": {"text/html"}, "X-Request-Id": {"edge-77"}},
			body:   "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
			want:   APIError{StatusCode: 502, Message: "Bad Gateway", RequestID: "edge-77"},
		},
		{
			name:   "empty 500",
			status: 500,
			want:   APIError{StatusCode: 500, Message: "Internal Server Error"},
		},
		{
			name:   "empty 401 with correlation id and traceparent",
			status: 401,
			header: http.Header{"X-Correlation-Id": {"corr-1"}, "Traceparent": {"00-abc-def-01"}},
			want:   APIError{StatusCode: 401, Message: "Unauthorized", RequestID: "corr-1"},
		},
		{
			name:   "503 Retry-After seconds and traceparent",
			status: 503,
			header: http.Header{"Retry-After": {"2"}, "Traceparent": {"00-abc-def-01"}},
			body:   `{"message":"Down for maintenance"}`,
			want:   APIError{StatusCode: 503, Message: "Down for maintenance", RetryAfter: 2 * time.Second, RequestID: "00-abc-def-01"},
		},
		{
			name:   "JSON that is not an object",
			status: 500,
			body:   `["boom"]`,
			want:   APIError{StatusCode: 500, Message: "Internal Server Error"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			got := decodeAPIError(tt.status, h, []byte(tt.body), now, testAPIKey)
			if diff := cmp.Diff(&tt.want, got, cmpopts.IgnoreFields(APIError{}, "Body"), cmpopts.IgnoreUnexported(APIError{})); diff != "" {
				t.Errorf("decodeAPIError(%d, %s) mismatch (-want +got):\n%s", tt.status, tt.body, diff)
			}
			wantBody := strings.TrimSpace(tt.body)
			if tt.wantBody != "" {
				wantBody = tt.wantBody
			}
			if got.Body != wantBody {
				t.Errorf("Body = %q, want %q", got.Body, wantBody)
			}
		})
	}
}

func TestDecodeAPIErrorCapsAndRedactsBody(t *testing.T) {
	t.Parallel()
	body := `{"message":"bad key ` + testAPIKey + ` sent with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl","padding":"` + strings.Repeat("x", 5000) + `"}`
	got := decodeAPIError(401, http.Header{}, []byte(body), time.Now(), testAPIKey)
	for _, s := range []string{got.Body, got.Message, got.Error()} {
		if strings.Contains(s, testAPIKey) || strings.Contains(s, "eyJhbGciOiJIUzI1NiJ9") || strings.Contains(s, "c2lnbmF0dXJl") {
			t.Errorf("secret leaked in %q", s)
		}
	}
	if len(got.Body) > maxBodyExcerpt+100 {
		t.Errorf("len(Body) = %d, want at most about %d", len(got.Body), maxBodyExcerpt)
	}
}

func TestDecodeAPIErrorRedactsEchoedWebhookSecret(t *testing.T) {
	t.Parallel()
	const secret = "c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ1Njc4OTA="
	body := `{"message":"invalid webhook","url":"https://partner.example/hooks","secret":"` + secret + `","isActive":true}`
	got := decodeAPIError(400, http.Header{}, []byte(body), time.Now(), testAPIKey)
	for _, s := range []string{got.Body, got.Message, got.Error()} {
		if strings.Contains(s, secret) {
			t.Errorf("webhook secret leaked in %q", s)
		}
	}
}

// An error body that echoes the API key anywhere must not carry it into any field of *APIError,
// so that %#v of the error cannot print it; a signing URL keeps its token=, which it needs.
func TestDecodeAPIErrorRedactsEveryField(t *testing.T) {
	t.Parallel()
	body := `{"businessErrors":[{"type":"Bad ` + testAPIKey + `","message":"m","solutionUrl":"https://app.example/sign?token=abc&k=` + testAPIKey + `"}],
		"signingHandoff":{"combinedSigningUrl":"https://app.example/all?token=def&k=` + testAPIKey + `"},
		"errors":{"XApiKey ` + testAPIKey + `":["value ` + testAPIKey + ` is wrong"]}}`
	got := decodeAPIError(422, http.Header{}, []byte(body), time.Now(), testAPIKey)
	if out := fmt.Sprintf("%#v %+v", got, got); strings.Contains(out, testAPIKey) {
		t.Errorf("the API key leaked through %%#v / %%+v: %s", out)
	}
	if len(got.BusinessErrors) != 1 || !strings.Contains(got.BusinessErrors[0].SolutionURL, "token=abc") {
		t.Errorf("BusinessErrors = %+v, want one whose SolutionURL keeps token=abc", got.BusinessErrors)
	}
	if got.SigningHandoff == nil || !strings.Contains(got.SigningHandoff.CombinedSigningURL, "token=def") {
		t.Errorf("SigningHandoff = %+v, want a URL that keeps token=def", got.SigningHandoff)
	}
	if len(got.FieldErrors) != 1 {
		t.Errorf("FieldErrors = %v, want one entry", got.FieldErrors)
	}
}

func TestConflictDataRedactsTheKey(t *testing.T) {
	t.Parallel()
	body := `{"type":"ClientExistsNeedsLinking","message":"m","data":{"externalTenantId":"t-1","onboardingLinks":{"url":"https://app.example/Approve?token=xyz"},"echo":"` + testAPIKey + `"}}`
	apiErr := decodeAPIError(409, http.Header{}, []byte(body), time.Now(), testAPIKey)
	err := linkConflict(apiErr, testAPIKey)
	var nl *ClientExistsNeedsLinkingError
	if !errors.As(err, &nl) || nl.ApprovalURL != "https://app.example/Approve?token=xyz" {
		t.Fatalf("err = %#v, want ClientExistsNeedsLinking with the approval URL intact", err)
	}
	if out := fmt.Sprintf("%#v %+v %s", nl, nl.Err, nl.Err.Data); strings.Contains(out, testAPIKey) {
		t.Errorf("the API key leaked: %s", out)
	}
}

func TestZeroConflictErrorsDoNotPanic(t *testing.T) {
	t.Parallel()
	for _, err := range []error{&ClientExistsNeedsLinkingError{}, &AlreadyLinkedToAnotherPartnerError{}, &ConflictError{}} {
		if err.Error() == "" {
			t.Errorf("%T.Error() is empty", err)
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			t.Errorf("errors.As(%T{}, *APIError) = true, want false", err)
		}
	}
}

func TestAPIErrorError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *APIError
		want string
	}{
		{
			name: "full",
			err:  &APIError{StatusCode: 409, Type: "ClientExistsNeedsLinking", Message: "Approval required", RequestID: "req-1", Method: "POST", Route: "/clients"},
			want: "debitura: POST /clients: 409 ClientExistsNeedsLinking: Approval required (request_id=req-1)",
		},
		{
			name: "no type, multi-line message",
			err:  &APIError{StatusCode: 500, Message: "line one\nline two", Method: "GET", Route: "/me"},
			want: "debitura: GET /me: 500: line one line two",
		},
		{
			name: "retry after",
			err:  &APIError{StatusCode: 429, Type: "rate_limit_exceeded", Message: "Too many requests", RetryAfter: 42 * time.Second, Method: "GET", Route: "/clients"},
			want: "debitura: GET /clients: 429 rate_limit_exceeded: Too many requests (retry_after=42s)",
		},
		{
			name: "bare",
			err:  &APIError{StatusCode: 404},
			want: "debitura: 404",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAPIErrorIs(t *testing.T) {
	t.Parallel()
	sentinels := []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict, ErrValidation, ErrRateLimited, ErrServer}
	tests := []struct {
		status int
		want   error // nil: none
	}{
		{400, ErrValidation}, {401, ErrUnauthorized}, {403, ErrForbidden}, {404, ErrNotFound},
		{409, ErrConflict}, {422, ErrValidation}, {429, ErrRateLimited}, {500, ErrServer},
		{501, ErrServer}, {502, ErrServer}, {503, ErrServer}, {504, ErrServer}, {418, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			err := fmt.Errorf("wrapped: %w", &APIError{StatusCode: tt.status})
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), s == tt.want; got != want {
					t.Errorf("errors.Is(%d, %v) = %v, want %v", tt.status, s, got, want)
				}
			}
		})
	}
}

func TestDoReturnsAPIErrorWithCallFacts(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.script(status(404, `{"error":"Client not found","message":"Client not found","businessErrors":[{"type":"ClientNotFound","message":"Client not found"}]}`, "X-Request-Id", "req-404"))
	_, err := c.do(t.Context(), opGet(), nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("do() = %v, want *APIError", err)
	}
	want := &APIError{StatusCode: 404, Type: "ClientNotFound", Message: "Client not found",
		BusinessErrors: []BusinessError{{Type: "ClientNotFound", Message: "Client not found"}},
		RequestID:      "req-404", Method: "GET", Route: "/clients/{externalTenantId}", Operation: "getClient", Attempts: 1}
	if diff := cmp.Diff(want, apiErr, cmpopts.IgnoreFields(APIError{}, "Body"), cmpopts.IgnoreUnexported(APIError{})); diff != "" {
		t.Errorf("APIError (-want +got):\n%s", diff)
	}
	if got, want := err.Error(), "debitura: GET /clients/{externalTenantId}: 404 ClientNotFound: Client not found (request_id=req-404)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// fragmentOf returns a run of n characters of secret that s contains, or "".
func fragmentOf(s, secret string, n int) string {
	for i := 0; i+n <= len(secret); i++ {
		if strings.Contains(s, secret[i:i+n]) {
			return secret[i : i+n]
		}
	}
	return ""
}

// A secret that straddles the excerpt's 2 KiB cut must not survive in part: the body is
// redacted whole, then cut (issue 9 item 6).
func TestAPIErrorExcerptRedactsBeforeCut(t *testing.T) {
	t.Parallel()
	// A token that only the "accessToken": pattern recognises (not a JWT, not after Bearer).
	const opaque = "opaqueTOKEN_9f8e7d6c5b4a39281706"
	for _, tc := range []struct {
		name   string
		secret string
		before int // characters of the secret before the cut
		body   func(pad string) string
	}{
		{"key in text, 1 before", testAPIKey, 1, func(pad string) string { return pad + testAPIKey + " rejected" }},
		{"key in text, 8 before", testAPIKey, 8, func(pad string) string { return pad + testAPIKey + " rejected" }},
		{"key in text, half before", testAPIKey, len(testAPIKey) / 2, func(pad string) string { return pad + testAPIKey + " rejected" }},
		{"key in text, all but 1 before", testAPIKey, len(testAPIKey) - 1, func(pad string) string { return pad + testAPIKey + " rejected" }},
		{"key in JSON, all but 1 before", testAPIKey, len(testAPIKey) - 1, func(pad string) string {
			return `{"message":"denied","detail":"` + pad[len(`{"message":"denied","detail":"`):] + testAPIKey + `"}`
		}},
		{"opaque token field, all but 1 before", opaque, len(opaque) - 1, func(pad string) string {
			return pad[:len(pad)-len(`"accessToken":"`)] + `"accessToken":"` + opaque + `" rest`
		}},
		{"bearer token, all but 1 before", testBearer, len(testBearer) - 1, func(pad string) string {
			return pad[:len(pad)-len("Bearer ")] + "Bearer " + testBearer + " rest"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pad := strings.Repeat("p", maxBodyExcerpt-tc.before)
			body := tc.body(pad)
			if at := strings.Index(body, tc.secret); at != maxBodyExcerpt-tc.before {
				t.Fatalf("the secret starts at %d, want %d (straddling the cut)", at, maxBodyExcerpt-tc.before)
			}
			got := decodeAPIError(http.StatusBadGateway, http.Header{}, []byte(body), time.Now(), testAPIKey)
			if len(got.Body) > maxBodyExcerpt {
				t.Errorf("len(Body) = %d, want at most %d", len(got.Body), maxBodyExcerpt)
			}
			for how, s := range map[string]string{"Body": got.Body, "Error()": got.Error(), "%#v": fmt.Sprintf("%#v", got),
				"%+v": fmt.Sprintf("%+v", *got)} {
				if frag := fragmentOf(s, tc.secret, 8); frag != "" {
					t.Errorf("%s shows %q of the secret", how, frag)
				}
			}
		})
	}
}
