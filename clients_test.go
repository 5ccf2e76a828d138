package debitura

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func fullCreateRequest() *ClientCreateRequest {
	return &ClientCreateRequest{
		ExternalTenantID: "tenant-12345",
		Client: ClientDetails{
			Name: "Acme Corp", RegistrationNumber: "12345678", Address: "123 Business Street",
			ZipCode: "1000", City: "Lisbon", State: "Lisbon", Country: "Portugal",
			SupportEmail: "billing@acme-corp.com", SupportPhone: "+351 123 456 789",
		},
		Users: []ClientUser{
			{Name: "John Doe", Email: "john.doe@acme-corp.com", IsOnboardingUser: true},
			{Name: "Jane Roe", Email: "jane@acme-corp.com"},
		},
		Cases: []CaseRequest{{
			CurrencyCode:                "EUR",
			Date:                        time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
			DueDate:                     time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
			CreditorReference:           "INV-1",
			Debtor:                      &Debtor{Type: DebtorCompany, Name: "Pacific Trading LLC", ContactPerson: "John Smith", CountryAlpha2: "US"},
			AmountToRecover:             1500.5,
			AmountToRecoverOver6Months:  Ptr(1000.0),
			AmountToRecoverOver12Months: Ptr(0.0),
			AmountToRecoverOver24Months: Ptr(0.0),
			AllowPendingContracts:       true,
		}},
	}
}

const fullCreateBody = `{
  "externalTenantId": "tenant-12345",
  "client": {"name": "Acme Corp", "registrationNumber": "12345678", "address": "123 Business Street",
    "zipCode": "1000", "city": "Lisbon", "state": "Lisbon", "country": "Portugal",
    "supportEmail": "billing@acme-corp.com", "supportPhone": "+351 123 456 789"},
  "users": [{"name": "John Doe", "email": "john.doe@acme-corp.com", "isOnboardingUser": true},
            {"name": "Jane Roe", "email": "jane@acme-corp.com"}],
  "cases": [{"currencyCode": "EUR", "date": "2025-01-02T00:00:00Z", "dueDate": "2025-02-01T00:00:00Z",
    "creditorReference": "INV-1",
    "debtor": {"type": "Company", "name": "Pacific Trading LLC", "contactPerson": "John Smith", "countryAlpha2": "US"},
    "amountToRecover": 1500.5, "amountToRecoverOver6Months": 1000, "amountToRecoverOver12Months": 0,
    "amountToRecoverOver24Months": 0, "allowPendingContracts": true}]
}`

// createdBody is a realistic 202 answer with a successful and a failed case and null fields.
const createdBody = `{
  "externalTenantId": "tenant-12345",
  "onboardingDone": false,
  "onboardingLinks": {"url": "https://testreferral.debitura.com/onboarding/companydetails/abc123"},
  "client": {"id": "3f1c2a9e-1111-4c3b-9a55-0a0b0c0d0e0f", "companyName": "Acme Corp", "officeEmail": "billing@acme-corp.com",
    "country": "Portugal", "address": null, "city": "Lisbon", "zipCode": "1000", "companyRegistrationNumber": "12345678"},
  "users": [{"id": 17, "email": "john.doe@acme-corp.com", "firstName": "John", "lastName": "Doe"}],
  "isAttributedClient": true,
  "dateLinked": "2025-03-01T12:00:00Z",
  "caseStats": {"casesTotal": 1, "casesClosed": 0, "earningsUsd": 0},
  "kycStatus": "NotRequired",
  "caseResults": {
    "successfulCases": [{"id": "9a9a9a9a-0000-4000-8000-000000000001", "dateCreated": "2025-03-01T12:00:00Z",
      "dateUpdated": null, "creditorReference": "INV-1", "grossAmount": 1500.5, "remainder": 1500.5,
      "interestFees": 0, "reminderFees": 0, "collectionFees": 0, "totalAddedFees": 0, "currency": "EUR",
      "isTestCase": false, "lifecycle": "PendingContractSigning", "dueDate": "2025-02-01T00:00:00Z",
      "date": "2025-01-02T00:00:00Z", "dateFinished": null, "closeCode": null,
      "debtor": {"type": "Company", "name": "Pacific Trading LLC", "contactPerson": "John Smith", "countryAlpha2": "US"},
      "collectionPartner": {"name": "Collect AB", "surveyCadenceMode": 1},
      "signingHandoff": {"combinedSigningUrl": "https://app.debitura.com/sign/1"},
      "validation": {"needsInfo": false},
      "allocationOutstanding": {"principal": 1500.5, "interest": 0, "reminderFees": 0, "collectionFees": 0}}],
    "failedCases": [{"caseIndex": 1, "creditorReference": "INV-2", "errorType": "NoPartnerAvailable",
      "errorMessage": "No collection partner covers this debtor", "validationErrors": null}]
  }
}`

func TestClientsCreate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
	}{
		{"202 onboarding pending", http.StatusAccepted},
		{"201 onboarding done", http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t)
			h.answer("POST /clients", tc.status, createdBody)
			got, err := c.Clients.Create(t.Context(), fullCreateRequest())
			if err != nil {
				t.Fatalf("Clients.Create: %v", err)
			}
			checkRequest(t, h.only(), wantRequest{Method: "POST", Path: "/clients", Body: fullCreateBody})
			want := &LinkedClient{
				ExternalTenantID: "tenant-12345",
				OnboardingLinks:  OnboardingLinks{URL: "https://testreferral.debitura.com/onboarding/companydetails/abc123"},
				Client: Creditor{ID: "3f1c2a9e-1111-4c3b-9a55-0a0b0c0d0e0f", CompanyName: "Acme Corp", OfficeEmail: "billing@acme-corp.com",
					Country: "Portugal", City: "Lisbon", ZipCode: "1000", CompanyRegistrationNumber: "12345678"},
				Users:              []User{{ID: 17, Email: "john.doe@acme-corp.com", FirstName: "John", LastName: "Doe"}},
				IsAttributedClient: true,
				DateLinked:         time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
				CaseStats:          CaseStats{CasesTotal: 1},
				KYCStatus:          KYCStatusNotRequired,
				CaseResults: CaseResults{
					SuccessfulCases: []Invoice{{
						ID: "9a9a9a9a-0000-4000-8000-000000000001", DateCreated: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
						CreditorReference: "INV-1", GrossAmount: 1500.5, Remainder: 1500.5, Currency: "EUR",
						Lifecycle: "PendingContractSigning", DueDate: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
						Date:                  time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
						Debtor:                &Debtor{Type: DebtorCompany, Name: "Pacific Trading LLC", ContactPerson: "John Smith", CountryAlpha2: "US"},
						CollectionPartner:     &CollectionPartner{Name: "Collect AB", SurveyCadenceMode: 1},
						SigningHandoff:        &SigningHandoff{CombinedSigningURL: "https://app.debitura.com/sign/1"},
						Validation:            &CaseValidation{},
						AllocationOutstanding: &AllocationOutstanding{Principal: 1500.5},
					}},
					FailedCases: []CaseCreationFailure{{CaseIndex: 1, CreditorReference: "INV-2", ErrorType: CaseErrorNoPartnerAvailable,
						ErrorMessage: "No collection partner covers this debtor"}},
				},
				StatusCode: tc.status,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Clients.Create mismatch (-want +got):\n%s", diff)
			}
			if got.OnboardingURL() != want.OnboardingLinks.URL {
				t.Errorf("OnboardingURL() = %q, want %q", got.OnboardingURL(), want.OnboardingLinks.URL)
			}
		})
	}
}

// A Create that was retried after a 5xx (the first attempt may have created the client and its
// cases) must not report IdempotencyViolation failures as plainly failed.
func TestClientsCreateUncertainMarksPossiblyCreated(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.script(status(http.StatusBadGateway, `{"error":"bad gateway","message":"upstream","businessErrors":null}`),
		status(http.StatusAccepted, `{"externalTenantId":"tenant-12345","onboardingDone":false,
		  "onboardingLinks":{"url":"https://x.test/o/1"},"isAttributedClient":true,"kycStatus":"Pending",
		  "caseResults":{"successfulCases":[],"failedCases":[
		    {"caseIndex":0,"creditorReference":"INV-1","errorType":"IdempotencyViolation","errorMessage":"client already created"},
		    {"caseIndex":1,"creditorReference":"INV-2","errorType":"NoPartnerAvailable","errorMessage":"none"}]}}`))
	got, err := c.Clients.Create(t.Context(), fullCreateRequest())
	if err != nil {
		t.Fatalf("Clients.Create: %v", err)
	}
	if calls := h.requests(); len(calls) != 2 {
		t.Fatalf("server got %d requests, want 2 (one retry)", len(calls))
	}
	if !got.Uncertain {
		t.Errorf("Clients.Create after a retried 502: Uncertain = false, want true")
	}
	wantPossibly := []bool{true, false}
	if len(got.CaseResults.FailedCases) != len(wantPossibly) {
		t.Fatalf("FailedCases = %+v, want %d", got.CaseResults.FailedCases, len(wantPossibly))
	}
	for i, f := range got.CaseResults.FailedCases {
		if f.PossiblyCreated != wantPossibly[i] {
			t.Errorf("FailedCases[%d] (%s).PossiblyCreated = %v, want %v", i, f.ErrorType, f.PossiblyCreated, wantPossibly[i])
		}
	}
}

func TestMarkUncertain(t *testing.T) {
	t.Parallel()
	mk := func() *LinkedClient {
		return &LinkedClient{CaseResults: CaseResults{FailedCases: []CaseCreationFailure{
			{CaseIndex: 0, ErrorType: CaseErrorIdempotencyViolation},
			{CaseIndex: 1, ErrorType: CaseErrorValidation},
		}}}
	}
	certain := mk()
	markUncertain(certain, &Response{StatusCode: 202, Attempts: 1})
	if certain.Uncertain || certain.CaseResults.FailedCases[0].PossiblyCreated {
		t.Errorf("markUncertain on a certain answer changed the result: %+v", certain)
	}
	uncertain := mk()
	markUncertain(uncertain, &Response{StatusCode: 202, Attempts: 2, Uncertain: true})
	if !uncertain.Uncertain || !uncertain.CaseResults.FailedCases[0].PossiblyCreated || uncertain.CaseResults.FailedCases[1].PossiblyCreated {
		t.Errorf("markUncertain on an uncertain answer = %+v, want Uncertain and only the IdempotencyViolation marked", uncertain)
	}
}

func TestClientsCreateConflict(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.answer("POST /clients", http.StatusConflict, `{"type":"ClientExistsNeedsLinking",
	  "message":"Client already exists in Debitura. Approval required to link to referral partner.",
	  "data":{"externalTenantId":"tenant-12345","onboardingLinks":{"url":"https://app.debitura.com/ReferralPartner/Approve?token=abc"}}}`)
	_, err := c.Clients.Create(t.Context(), fullCreateRequest())
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Clients.Create = %v, want ErrConflict", err)
	}
	var needs *ClientExistsNeedsLinkingError
	if !errors.As(err, &needs) {
		t.Fatalf("Clients.Create = %T %v, want *ClientExistsNeedsLinkingError", err, err)
	}
	if len(h.requests()) != 1 {
		t.Errorf("a 409 was retried: %d requests", len(h.requests()))
	}
}

func TestClientsGet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, id, path, body string
		header               []string
		want                 KYCStatus
	}{
		{"plain id, snake_case kycStatus", "tenant-1", "/clients/tenant-1",
			`{"externalTenantId":"tenant-1","onboardingDone":true,"kycStatus":"not_required","users":null,"onboardingLinks":{"url":null}}`,
			lenient, KYCStatusNotRequired},
		{"slash and space escaped", "a/b c", "/clients/a%2Fb%20c",
			`{"externalTenantId":"a/b c","onboardingDone":true,"kycStatus":"Verified"}`, nil, KYCStatusVerified},
		{"query and fragment characters escaped", "t?x#1%", "/clients/t%3Fx%231%25",
			`{"externalTenantId":"t?x#1%","onboardingDone":true,"kycStatus":"pending"}`, lenient, KYCStatusPending},
		{"PascalCase keys", "Tenant-UPPER", "/clients/Tenant-UPPER",
			`{"ExternalTenantId":"Tenant-UPPER","OnboardingDone":true,"KycStatus":"Pending","DateLinked":"2025-03-01T12:00:00Z"}`,
			lenient, KYCStatusPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t)
			h.answer("GET /clients/{id}", http.StatusOK, tc.body, tc.header...)
			got, err := c.Clients.Get(t.Context(), tc.id)
			if err != nil {
				t.Fatalf("Clients.Get(%q): %v", tc.id, err)
			}
			checkRequest(t, h.only(), wantRequest{Method: "GET", Path: tc.path})
			if got.ExternalTenantID != tc.id || !got.OnboardingDone || got.KYCStatus != tc.want || got.StatusCode != 200 {
				t.Errorf("Clients.Get(%q) = %+v, want id %q, onboarding done, kycStatus %q, status 200", tc.id, got, tc.id, tc.want)
			}
		})
	}
}

func TestClientsGetNotFound(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.answer("GET /clients/{id}", http.StatusNotFound, `{"error":"Client not found","message":"Client not found","businessErrors":[{"type":"NotFound","message":"Client not found"}]}`)
	_, err := c.Clients.Get(t.Context(), "nope")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Clients.Get(nope) = %v, want ErrNotFound", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("Clients.Get(nope) = %v, want *APIError with status 404", err)
	}
}

const listBody = `{"page":{"totalResults":3,"pageSize":2,"currentPage":2,"responseCount":1,"totalPages":2},
 "summary":{"totalClients":3,"attributedClients":2,"onboardingComplete":1,"onboardingPending":2,"totalCases":7},
 "clients":[{"externalTenantId":"t3","onboardingDone":false,"isAttributedClient":false,"kycStatus":"Pending","dateLinked":"2025-01-01T00:00:00Z"}]}`

func TestClientsList(t *testing.T) {
	t.Parallel()
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2025, 2, 1, 10, 30, 0, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name string
		opts *ClientListOptions
		want url.Values
	}{
		{"nil options", nil, url.Values{}},
		{"zero options", &ClientListOptions{}, url.Values{}},
		{"every filter", &ClientListOptions{
			Page: 2, PageSize: 2, Query: "acme corp", ExternalTenantID: "t/3",
			IsAttributedClient: Ptr(false), DateCreatedFrom: from, DateCreatedTo: to,
			OnboardingDone: Ptr(true), Sort: SortNameAsc,
		}, url.Values{
			"Page": {"2"}, "PageSize": {"2"}, "Query": {"acme corp"}, "ExternalTenantId": {"t/3"},
			"IsAttributedClient": {"false"}, "DateCreatedFrom": {"2025-01-01T00:00:00Z"},
			"DateCreatedTo": {"2025-02-01T10:30:00+01:00"}, "OnboardingDone": {"true"}, "Sort": {"name:asc"},
		}},
		{"sort without direction", &ClientListOptions{Sort: "dateCreated"}, url.Values{"Sort": {"dateCreated"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t)
			h.answer("GET /clients", http.StatusOK, listBody)
			got, err := c.Clients.List(t.Context(), tc.opts)
			if err != nil {
				t.Fatalf("Clients.List: %v", err)
			}
			checkRequest(t, h.only(), wantRequest{Method: "GET", Path: "/clients", Query: tc.want})
			want := &ClientList{
				Page:    PageData{TotalResults: 3, PageSize: 2, CurrentPage: 2, ResponseCount: 1, TotalPages: 2},
				Summary: ClientsSummary{TotalClients: 3, AttributedClients: 2, OnboardingComplete: 1, OnboardingPending: 2, TotalCases: 7},
				Clients: []*LinkedClient{{ExternalTenantID: "t3", KYCStatus: KYCStatusPending, DateLinked: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Clients.List mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Withdraw and Reset answer nothing on success; their refusals are typed errors.
func TestClientsWithdrawReset(t *testing.T) {
	t.Parallel()
	withdraw := func(id string) func(*Client) error {
		return func(c *Client) error { return c.Clients.Withdraw(t.Context(), id) }
	}
	reset := func(id string) func(*Client) error {
		return func(c *Client) error { return c.Clients.Reset(t.Context(), id) }
	}
	for _, tc := range []struct {
		name    string
		pattern string
		code    int
		body    string
		call    func(*Client) error
		want    wantRequest
		wantErr error // nil: success
	}{
		{"Withdraw", "POST /clients/{id}/withdraw", http.StatusNoContent, "", withdraw("a/b c"),
			wantRequest{Method: "POST", Path: "/clients/a%2Fb%20c/withdraw"}, nil},
		{"Withdraw conflict", "POST /clients/{id}/withdraw", http.StatusConflict,
			`{"error":"Client is not attributed","message":"Client is not attributed","businessErrors":null}`, withdraw("t1"),
			wantRequest{Method: "POST", Path: "/clients/t1/withdraw"}, ErrConflict},
		{"Reset", "DELETE /clients/{id}", http.StatusNoContent, "", reset("t 1"),
			wantRequest{Method: "DELETE", Path: "/clients/t%201"}, nil},
		{"Reset forbidden", "DELETE /clients/{id}", http.StatusForbidden,
			`{"error":"Not available in production","message":"Not available in production","businessErrors":null}`, reset("t1"),
			wantRequest{Method: "DELETE", Path: "/clients/t1"}, ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t)
			h.answer(tc.pattern, tc.code, tc.body)
			err := tc.call(c)
			if !errors.Is(err, tc.wantErr) { // errors.Is(err, nil) is err == nil
				t.Fatalf("%s = %v, want %v", tc.name, err, tc.wantErr)
			}
			checkRequest(t, h.only(), tc.want)
		})
	}
}

func TestClientsIsDeletable(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.answer("GET /clients/{id}/is-deletable", http.StatusOK, `{"isDeletable":false,"blockers":["Client has 2 active collection case(s)"]}`)
	got, err := c.Clients.IsDeletable(t.Context(), "t1")
	if err != nil {
		t.Fatalf("Clients.IsDeletable: %v", err)
	}
	checkRequest(t, h.only(), wantRequest{Method: "GET", Path: "/clients/t1/is-deletable"})
	want := &Deletability{Blockers: []string{"Client has 2 active collection case(s)"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Clients.IsDeletable mismatch (-want +got):\n%s", diff)
	}
}

const kycAnswer = `{"directorFullName":"Jane Director","directorHomeAddress":"1 Main St, London",
  "directorDateOfBirth":"1980-05-17","dateCreated":"2025-03-01T12:00:00Z","verificationStatusUpdatedAt":null}`

func TestClientsSubmitKYC(t *testing.T) {
	t.Parallel()
	req := &KYCRequest{DirectorFullName: "Jane Director", DirectorHomeAddress: "1 Main St, London", DirectorDateOfBirth: Date{1980, time.May, 17}}
	body := `{"directorFullName":"Jane Director","directorHomeAddress":"1 Main St, London","directorDateOfBirth":"1980-05-17"}`
	for _, tc := range []struct {
		name  string
		chat  *bool
		opts  []CallOption
		query url.Values
		key   string
	}{
		{"defaults: generated key, no query", nil, nil, nil, "*"},
		{"caller key and no chat notification", Ptr(false), []CallOption{WithIdempotencyKey("kyc-t1-2025-03-01")},
			url.Values{"sendChatNotification": {"false"}}, "kyc-t1-2025-03-01"},
		{"chat notification true", Ptr(true), nil, url.Values{"sendChatNotification": {"true"}}, "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t)
			h.answer("POST /clients/{id}/kyc-verification", http.StatusCreated, kycAnswer)
			r := *req
			r.SendChatNotification = tc.chat
			got, err := c.Clients.SubmitKYC(t.Context(), "t/1", &r, tc.opts...)
			if err != nil {
				t.Fatalf("Clients.SubmitKYC: %v", err)
			}
			checkRequest(t, h.only(), wantRequest{Method: "POST", Path: "/clients/t%2F1/kyc-verification", Query: tc.query, Body: body, IdemKey: tc.key})
			want := &KYCVerification{DirectorFullName: "Jane Director", DirectorHomeAddress: "1 Main St, London",
				DirectorDateOfBirth: Date{1980, time.May, 17}, DateCreated: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Clients.SubmitKYC mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A retried SubmitKYC sends the same Idempotency-Key on every attempt.
func TestClientsSubmitKYCRetryReusesKey(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.script(status(http.StatusServiceUnavailable, `{"error":"busy","message":"busy","businessErrors":null}`),
		status(http.StatusCreated, kycAnswer))
	req := &KYCRequest{DirectorFullName: "Jane Director", DirectorHomeAddress: "1 Main St", DirectorDateOfBirth: Date{1980, time.May, 17}}
	if _, err := c.Clients.SubmitKYC(t.Context(), "t1", req, nil); err != nil {
		t.Fatalf("Clients.SubmitKYC: %v", err)
	}
	calls := h.requests()
	if len(calls) != 2 {
		t.Fatalf("server got %d requests, want 2", len(calls))
	}
	k1, k2 := calls[0].Header.Get("Idempotency-Key"), calls[1].Header.Get("Idempotency-Key")
	if k1 == "" || k1 != k2 {
		t.Errorf("Idempotency-Key of the two attempts = %q, %q, want the same non-empty key", k1, k2)
	}
}

// Requests that break the API's rules are refused before anything is sent, with a
// *ValidationError naming the field that also matches ErrValidation.
func TestValidationBeforeSend(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.refuseAll()
	ctx := t.Context()
	// create and kyc call the operation with a valid request that f breaks.
	create := func(f func(r *ClientCreateRequest)) func() error {
		return func() error {
			r := fullCreateRequest()
			f(r)
			_, err := c.Clients.Create(ctx, r)
			return err
		}
	}
	goodKYC := func() *KYCRequest {
		return &KYCRequest{DirectorFullName: "J D", DirectorHomeAddress: "addr", DirectorDateOfBirth: Date{1980, 1, 2}}
	}
	kyc := func(f func(r *KYCRequest)) func() error {
		return func() error {
			r := goodKYC()
			f(r)
			_, err := c.Clients.SubmitKYC(ctx, "t1", r, nil)
			return err
		}
	}
	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"create nil", func() error { _, err := c.Clients.Create(ctx, nil); return err }, "request"},
		{"create no tenant id", create(func(r *ClientCreateRequest) { r.ExternalTenantID = "" }), "externalTenantId"},
		{"create no name", create(func(r *ClientCreateRequest) { r.Client.Name = " " }), "client.name"},
		{"create no country", create(func(r *ClientCreateRequest) { r.Client.Country = "" }), "client.country"},
		{"create no support email", create(func(r *ClientCreateRequest) { r.Client.SupportEmail = "" }), "client.supportEmail"},
		{"create bad support email", create(func(r *ClientCreateRequest) { r.Client.SupportEmail = "Billing <b@x.io>" }), "client.supportEmail"},
		{"create zip too long", create(func(r *ClientCreateRequest) { r.Client.ZipCode = strings.Repeat("9", 21) }), "client.zipCode"},
		{"create address too long", create(func(r *ClientCreateRequest) { r.Client.Address = strings.Repeat("é", 501) }), "client.address"},
		{"create no users", create(func(r *ClientCreateRequest) { r.Users = nil }), "users"},
		{"create user without email", create(func(r *ClientCreateRequest) { r.Users[1].Email = "" }), "users[1].email"},
		{"create user without name", create(func(r *ClientCreateRequest) { r.Users[0].Name = "" }), "users[0].name"},
		{"create two users, no onboarding user", create(func(r *ClientCreateRequest) { r.Users[0].IsOnboardingUser = false }), "users"},
		{"create two onboarding users", create(func(r *ClientCreateRequest) { r.Users[1].IsOnboardingUser = true }), "users"},
		{"create case without currency", create(func(r *ClientCreateRequest) { r.Cases[0].CurrencyCode = "" }), "cases[0].currencyCode"},
		{"create case reference too long", create(func(r *ClientCreateRequest) { r.Cases[0].CreditorReference = strings.Repeat("r", 51) }), "cases[0].creditorReference"},
		{"create duplicate case reference", create(func(r *ClientCreateRequest) { r.Cases = append(r.Cases, r.Cases[0]) }), "cases[1].creditorReference"},
		{"create debtor without type", create(func(r *ClientCreateRequest) { r.Cases[0].Debtor.Type = "" }), "cases[0].debtor.type"},
		{"create 12 without 24 months", create(func(r *ClientCreateRequest) { r.Cases[0].AmountToRecoverOver24Months = nil }), "cases[0].amountToRecoverOver12Months"},
		{"get empty id", func() error { _, err := c.Clients.Get(ctx, ""); return err }, "externalTenantId"},
		{"get control character", func() error { _, err := c.Clients.Get(ctx, "a\nb"); return err }, "externalTenantId"},
		{"get dot-dot", func() error { _, err := c.Clients.Get(ctx, ".."); return err }, "externalTenantId"},
		{"withdraw dot", func() error { return c.Clients.Withdraw(ctx, ".") }, "externalTenantId"},
		{"withdraw empty id", func() error { return c.Clients.Withdraw(ctx, "") }, "externalTenantId"},
		{"reset empty id", func() error { return c.Clients.Reset(ctx, "") }, "externalTenantId"},
		{"is-deletable empty id", func() error { _, err := c.Clients.IsDeletable(ctx, ""); return err }, "externalTenantId"},
		{"list page size 0 is fine but 101 is not", func() error { _, err := c.Clients.List(ctx, &ClientListOptions{PageSize: 101}); return err }, "PageSize"},
		{"list negative page size", func() error { _, err := c.Clients.List(ctx, &ClientListOptions{PageSize: -1}); return err }, "PageSize"},
		{"list negative page", func() error { _, err := c.Clients.List(ctx, &ClientListOptions{Page: -1}); return err }, "Page"},
		{"list unknown sort", func() error { _, err := c.Clients.List(ctx, &ClientListOptions{Sort: "email:asc"}); return err }, "Sort"},
		{"list bad sort direction", func() error { _, err := c.Clients.List(ctx, &ClientListOptions{Sort: "name:up"}); return err }, "Sort"},
		{"list dates reversed", func() error {
			_, err := c.Clients.List(ctx, &ClientListOptions{DateCreatedFrom: time.Now(), DateCreatedTo: time.Now().Add(-time.Hour)})
			return err
		}, "DateCreatedTo"},
		{"kyc empty name", kyc(func(r *KYCRequest) { r.DirectorFullName = "" }), "directorFullName"},
		{"kyc name too long", kyc(func(r *KYCRequest) { r.DirectorFullName = strings.Repeat("n", 501) }), "directorFullName"},
		{"kyc address too long", kyc(func(r *KYCRequest) { r.DirectorHomeAddress = strings.Repeat("a", 1001) }), "directorHomeAddress"},
		{"kyc no birth date", kyc(func(r *KYCRequest) { r.DirectorDateOfBirth = Date{} }), "directorDateOfBirth"},
		{"kyc impossible birth date", kyc(func(r *KYCRequest) { r.DirectorDateOfBirth = Date{1980, 2, 30} }), "directorDateOfBirth"},
		{"kyc key too long", func() error {
			_, err := c.Clients.SubmitKYC(ctx, "t1", goodKYC(), WithIdempotencyKey(strings.Repeat("k", 256)))
			return err
		}, "Idempotency-Key"},
		{"kyc key with space", func() error {
			_, err := c.Clients.SubmitKYC(ctx, "t1", goodKYC(), WithIdempotencyKey("a b"))
			return err
		}, "Idempotency-Key"},
		{"kyc nil request", func() error { _, err := c.Clients.SubmitKYC(ctx, "t1", nil, nil); return err }, "request"},
		{"mint empty id", func() error { _, err := c.Tokens.Mint(ctx, ""); return err }, "externalTenantId"},
		{"mint id too long", func() error { _, err := c.Tokens.Mint(ctx, strings.Repeat("t", 256)); return err }, "externalTenantId"},
		{"rotate empty id", func() error { _, err := c.Tokens.Rotate(ctx, "", nil); return err }, "externalTenantId"},
		{"rotate key too long", func() error {
			_, err := c.Tokens.Rotate(ctx, "t1", WithIdempotencyKey(strings.Repeat("k", 256)))
			return err
		}, "Idempotency-Key"},
		{"update nil", func() error { _, err := c.Clients.Update(ctx, "t1", nil); return err }, "request"},
		{"update nothing", func() error { _, err := c.Clients.Update(ctx, "t1", &ClientUpdateRequest{}); return err }, "request"},
		{"update bad email", func() error {
			_, err := c.Clients.Update(ctx, "t1", &ClientUpdateRequest{SupportEmail: Ptr("not-an-email")})
			return err
		}, "supportEmail"},
		{"update bad metadata value", func() error {
			_, err := c.Clients.Update(ctx, "t1", &ClientUpdateRequest{Metadata: map[string]any{"tags": []string{"a"}}})
			return err
		}, `metadata["tags"]`},
		{"profile empty id", func() error { _, err := c.Clients.Profile(ctx, ""); return err }, "externalTenantId"},
		{"suspend empty id", func() error { _, err := c.Clients.Suspend(ctx, ""); return err }, "externalTenantId"},
		{"reactivate empty id", func() error { _, err := c.Clients.Reactivate(ctx, ""); return err }, "externalTenantId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if ve := validationError(t, err); ve.Field != tc.field {
				t.Errorf("ValidationError.Field = %q, want %q (%v)", ve.Field, tc.field, err)
			}
		})
	}
	if n := len(h.requests()); n != 0 {
		t.Errorf("server got %d requests, want none", n)
	}
}
