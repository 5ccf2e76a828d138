package debitura

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestKYCStatusDecoding(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]KYCStatus{
		`"not_required"`: KYCStatusNotRequired, `"NotRequired"`: KYCStatusNotRequired, `"NOT_REQUIRED"`: KYCStatusNotRequired,
		`"notRequired"`: KYCStatusNotRequired, `"pending"`: KYCStatusPending, `"Pending"`: KYCStatusPending,
		`"verified"`: KYCStatusVerified, `"Verified"`: KYCStatusVerified, `null`: "", `"Rejected"`: "Rejected",
	} {
		var got KYCStatus
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("Unmarshal(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestDateJSON(t *testing.T) {
	t.Parallel()
	d := Date{1980, time.May, 17}
	b, err := json.Marshal(d)
	if err != nil || string(b) != `"1980-05-17"` {
		t.Errorf("Marshal(%v) = %s, %v; want \"1980-05-17\"", d, b, err)
	}
	if b, _ := json.Marshal(Date{}); string(b) != "null" {
		t.Errorf("Marshal(Date{}) = %s, want null", b)
	}
	if _, err := json.Marshal(Date{2023, 2, 30}); err == nil {
		t.Errorf("Marshal(2023-02-30) succeeded, want an error")
	}
	for in, want := range map[string]Date{`"1980-05-17"`: d, `"1980-05-17T00:00:00"`: d, `"1980-05-17T00:00:00Z"`: d, `null`: {}, `""`: {}} {
		var got Date
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
	var bad Date
	if err := json.Unmarshal([]byte(`"17/05/1980"`), &bad); err == nil {
		t.Errorf("Unmarshal(17/05/1980) succeeded, want an error")
	}
}

// The API may write null for fields the schema does not mark nullable, and PascalCase keys;
// decoding tolerates both.
func TestLinkedClientDecodesNullsAndPascalCase(t *testing.T) {
	t.Parallel()
	in := `{"ExternalTenantId":"t1","OnboardingDone":false,"OnboardingLinks":{"Url":"https://x.test/o"},
	  "Client":{"Id":"c1","CompanyName":null},"Users":null,"IsAttributedClient":true,"DateLinked":null,
	  "CaseStats":null,"KycStatus":"pending","KycVerification":{"DirectorFullName":"J","DirectorDateOfBirth":"1980-05-17T00:00:00",
	  "VerificationStatus":null,"VerificationStatusUpdatedAt":null},
	  "CaseResults":{"SuccessfulCases":null,"FailedCases":[{"CaseIndex":0,"ErrorType":"IdempotencyViolation","SigningHandoff":null}]}}`
	var got LinkedClient
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	want := LinkedClient{ExternalTenantID: "t1", OnboardingLinks: OnboardingLinks{URL: "https://x.test/o"}, Client: Creditor{ID: "c1"},
		IsAttributedClient: true, KYCStatus: KYCStatusPending,
		KYCVerification: &KYCVerification{DirectorFullName: "J", DirectorDateOfBirth: Date{1980, 5, 17}},
		CaseResults:     CaseResults{FailedCases: []CaseCreationFailure{{ErrorType: CaseErrorIdempotencyViolation}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Unmarshal mismatch (-want +got):\n%s", diff)
	}
	// Round trip: what the SDK encodes decodes to the same value and never carries json:"-" fields.
	got.StatusCode, got.Uncertain = 202, true
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var back LinkedClient
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	got.StatusCode, got.Uncertain = 0, false
	if diff := cmp.Diff(got, back); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

// Optional request fields left empty are not sent (every schema has additionalProperties:false
// and several fields are not nullable).
func TestClientCreateRequestMinimalBody(t *testing.T) {
	t.Parallel()
	r := ClientCreateRequest{ExternalTenantID: "t1", Client: ClientDetails{Name: "A", Country: "GB", SupportEmail: "a@b.io"},
		Users: []ClientUser{{Name: "U", Email: "u@b.io"}}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"externalTenantId":"t1","client":{"name":"A","country":"GB","supportEmail":"a@b.io"},"users":[{"name":"U","email":"u@b.io"}]}`
	if string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
}

func TestPartnerMe(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.answer("GET /me", http.StatusOK, `{"id":"7d9f0000-0000-4000-8000-000000000001","companyName":"SaaS Co","shortName":"saas",
	  "contactEmail":"partners@saas.io","externalSystemId":null,"referralFeePercentage":20.5,"isActive":true,"isPublicDemo":false,
	  "logoUrl":"https://saas.io/logo.png","backgroundColorCode":"#FFFFFF","fontColor":"#000000","fontFamily":"Arial, sans-serif",
	  "invoicingTriggerMode":"ConfirmedPipeline"}`)
	got, err := c.Partner.Me(t.Context())
	if err != nil {
		t.Fatalf("Partner.Me: %v", err)
	}
	checkRequest(t, h.only(), wantRequest{Method: "GET", Path: "/me"})
	want := &Partner{ID: "7d9f0000-0000-4000-8000-000000000001", CompanyName: "SaaS Co", ShortName: "saas", ContactEmail: "partners@saas.io",
		ReferralFeePercentage: 20.5, IsActive: true, LogoURL: "https://saas.io/logo.png", BackgroundColorCode: "#FFFFFF",
		FontColor: "#000000", FontFamily: "Arial, sans-serif", InvoicingTriggerMode: InvoicingConfirmedPipeline}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Partner.Me mismatch (-want +got):\n%s", diff)
	}
}
