package mockserver

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCreateClientValidation(t *testing.T) {
	t.Parallel()
	twoUsers := func(a, b bool) map[string]any {
		m := newClient("t", "a@acme.example")
		m["users"] = []any{
			map[string]any{"name": "A A", "email": "a@acme.example", "isOnboardingUser": a},
			map[string]any{"name": "B B", "email": "b@acme.example", "isOnboardingUser": b},
		}
		return m
	}
	with := func(f func(m map[string]any)) map[string]any {
		m := newClient("t", "a@acme.example")
		f(m)
		return m
	}
	tests := []struct {
		name    string
		body    any
		want    int
		message string // businessErrors[0].message (ApiErrorResponseDto)
		errKey  string // key of ValidationProblemDetails.errors or validationErrors
	}{
		{"empty body", "", 400, "Request cannot be null", ""},
		{"null body", "null", 400, "Request cannot be null", ""},
		{"no users", with(func(m map[string]any) { m["users"] = []any{} }), 400, "At least one user is required", ""},
		{"users missing", with(func(m map[string]any) { delete(m, "users") }), 400, "At least one user is required", ""},
		{"no onboarding user among two", twoUsers(false, false), 400, "When multiple users provided, exactly one must have IsOnboardingUser=true", ""},
		{"two onboarding users", twoUsers(true, true), 400, "Only one user can be marked as IsOnboardingUser", ""},
		{"single user not flagged is inferred", with(func(m map[string]any) {
			m["users"] = []any{map[string]any{"name": "A", "email": "a@acme.example"}}
		}), 202, "", ""},
		{"unknown country", with(func(m map[string]any) { m["client"].(map[string]any)["country"] = "XX" }), 400, "Unknown country: XX", ""},
		{"country by English name", with(func(m map[string]any) { m["client"].(map[string]any)["country"] = "portugal" }), 202, "", ""},
		{"bad user e-mail", with(func(m map[string]any) {
			m["users"] = []any{map[string]any{"name": "A", "email": "not-an-email"}}
		}), 400, "The Users[0].Email field is not a valid e-mail address.", ""},
		{"bad support e-mail", with(func(m map[string]any) { m["client"].(map[string]any)["supportEmail"] = "x@" }), 400, "The Client.SupportEmail field is not a valid e-mail address.", ""},
		{"zip code too long", with(func(m map[string]any) { m["client"].(map[string]any)["zipCode"] = strings.Repeat("1", 21) }), 400, "The field Client.ZipCode must be a string or array type with a maximum length of '20'.", ""},
		{"missing externalTenantId", with(func(m map[string]any) { delete(m, "externalTenantId") }), 400, "The ExternalTenantId field is required.", ""},
		{"unknown member", with(func(m map[string]any) { m["metadata"] = map[string]any{} }), 400, "", "$.metadata"},
		{"malformed JSON", `{"externalTenantId":`, 400, "", "$"},
		{"wrong type", `{"externalTenantId":42}`, 400, "", "$.externalTenantId"},
		{"PascalCase keys", map[string]any{
			"ExternalTenantId": "t", "Client": map[string]any{"Name": "Acme", "Country": "GB", "SupportEmail": "s@acme.example"},
			"Users": []any{map[string]any{"Name": "A B", "Email": "a@acme.example", "IsOnboardingUser": true}},
		}, 202, "", ""},
		{"case without currency", with(func(m map[string]any) {
			c := caseBody("r1", "DK")
			delete(c, "currencyCode")
			m["cases"] = []any{c}
		}), 400, "Case validation failed", "Cases[0].CurrencyCode"},
		{"duplicate creditorReference", with(func(m map[string]any) {
			m["cases"] = []any{caseBody("r1", "DK"), caseBody("r1", "DK")}
		}), 400, "Case validation failed", "Cases[1].CreditorReference"},
		{"12 without 24 months", with(func(m map[string]any) {
			c := caseBody("r1", "DK")
			c["amountToRecoverOver12Months"] = 10
			m["cases"] = []any{caseBody("r0", "DK"), c}
		}), 400, "Case validation failed", "Cases[1].AmountToRecoverOver12Months"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t)
			r := do(t, s, "POST", "/clients", key, tt.body)
			if r.status != tt.want {
				t.Fatalf("POST /clients = %d %s, want %d", r.status, r.body, tt.want)
			}
			if tt.want != 400 {
				return
			}
			m := r.json(t)
			if tt.message != "" {
				var body wireAPIError
				r.decode(t, &body)
				if len(body.BusinessErrors) == 0 || deref(body.BusinessErrors[0].Message) != tt.message || deref(body.Message) != tt.message {
					t.Errorf("400 body = %s, want message %q", r.body, tt.message)
				}
			}
			if tt.errKey != "" {
				errs, _ := m["errors"].(map[string]any)
				if errs == nil {
					errs, _ = m["validationErrors"].(map[string]any)
				}
				if _, ok := errs[tt.errKey]; !ok {
					t.Errorf("400 body = %s, want an error keyed %q", r.body, tt.errKey)
				}
			}
			// Nothing is created on any 400.
			if n := s.EffectCount(EffectClientCreated); n != 0 {
				t.Errorf("client.created effects after a 400 = %d, want 0", n)
			}
			if r := do(t, s, "GET", "/clients", key, nil); !strings.Contains(string(r.body), `"totalClients":0`) {
				t.Errorf("GET /clients after a 400 = %s, want no clients", r.body)
			}
		})
	}
}

func TestCreateClientIdempotencyAndAgreementFlip(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithSeed(1))
	first := mustCreate(t, s, key, "tenant-1", "john@acme.example")
	url1 := str(first, "onboardingLinks", "url")
	if !strings.HasPrefix(url1, s.URL+"/onboarding/companydetails/") {
		t.Fatalf("onboarding url = %q, want %s/onboarding/companydetails/{linkId}", url1, s.URL)
	}
	users := first["users"].([]any)
	if diff := cmp.Diff(map[string]any{"id": float64(1001), "email": "john@acme.example", "firstName": "John", "lastName": "Doe"}, users[0]); diff != "" {
		t.Errorf("users[0] (-want +got):\n%s", diff)
	}

	// A repeat returns the same client; cases in it are IdempotencyViolation.
	r := do(t, s, "POST", "/clients", key, newClient("tenant-1", "john@acme.example", caseBody("r1", "DK")))
	if r.status != 202 {
		t.Fatalf("repeat POST = %d %s, want 202", r.status, r.body)
	}
	again := r.json(t)
	if str(again, "client", "id") != str(first, "client", "id") || str(again, "onboardingLinks", "url") != url1 {
		t.Errorf("repeat returned another client: %s", r.body)
	}
	var w wireClient
	r.decode(t, &w)
	if w.CaseResults == nil || len(w.CaseResults.FailedCases) != 1 || deref(w.CaseResults.FailedCases[0].ErrorType) != "IdempotencyViolation" {
		t.Errorf("repeat caseResults = %+v, want one IdempotencyViolation", w.CaseResults)
	}
	if n := s.EffectCount(EffectClientCreated); n != 1 {
		t.Errorf("client.created = %d, want 1", n)
	}

	// Signing flips 202 to 201.
	if err := s.CompleteOnboarding(key, "tenant-1"); err != nil {
		t.Fatal(err)
	}
	r = do(t, s, "POST", "/clients", key, newClient("tenant-1", "john@acme.example"))
	if r.status != 201 || !strings.Contains(string(r.body), `"onboardingLinks":{"url":null}`) || !strings.Contains(string(r.body), `"onboardingDone":true`) {
		t.Fatalf("after signing POST = %d %s, want 201 with url null", r.status, r.body)
	}

	// A new agreement version flips it back to 202 with the ContractUpgrade URL.
	if v := s.ReleaseAgreement(); v != 2 {
		t.Errorf("ReleaseAgreement = %d, want 2", v)
	}
	r = do(t, s, "POST", "/clients", key, newClient("tenant-1", "john@acme.example"))
	linkID := strings.TrimPrefix(url1, s.URL+"/onboarding/companydetails/")
	if want := s.URL + "/onboarding/ContractUpgrade/Sign/" + linkID; r.status != 202 || str(r.json(t), "onboardingLinks", "url") != want {
		t.Fatalf("after release POST = %d %s, want 202 with %s", r.status, r.body, want)
	}
	if err := s.SignContractUpgrade(linkID); err != nil {
		t.Fatal(err)
	}
	if r := do(t, s, "GET", "/clients/tenant-1", key, nil); r.status != 200 || !strings.Contains(string(r.body), `"onboardingDone":true`) {
		t.Errorf("GET after upgrade = %d %s", r.status, r.body)
	}
	if err := s.SignContractUpgrade(linkID); !errors.Is(err, ErrConflict) {
		t.Errorf("second SignContractUpgrade = %v, want ErrConflict", err)
	}
}

func TestConflictTypes(t *testing.T) {
	t.Parallel()
	const other = "mock_test_other_partner"
	tests := []struct {
		name     string
		creditor CreditorSpec
		email    string // user e-mail of the POST
		support  string // support e-mail of the POST ("" = default)
		wantType string
		wantData map[string]any
	}{
		{"unlinked creditor by user e-mail", CreditorSpec{CompanyName: "Old Co", Emails: []string{"boss@old.example"}},
			"BOSS@old.example", "", ConflictNeedsLinking, nil},
		{"unlinked creditor by support e-mail", CreditorSpec{CompanyName: "Old Co", SupportEmail: "help@old.example"},
			"new@new.example", "Help@Old.Example", ConflictNeedsLinking, nil},
		{"linked to another partner", CreditorSpec{CompanyName: "Taken", Emails: []string{"a@taken.example"}, LinkedToPartner: other},
			"a@taken.example", "", ConflictLinkedToAnotherPartner, map[string]any{"externalTenantId": "t-new"}},
		{"linked to me under another tenant", CreditorSpec{CompanyName: "Mine", Emails: []string{"a@mine.example"}, LinkedToPartner: key, LinkedAsExternalTenantID: "t-old"},
			"a@mine.example", "", ConflictDifferentTenant, map[string]any{"externalTenantId": "t-new", "existingExternalTenantId": "t-old"}},
		{"not a creditor", CreditorSpec{CompanyName: "Collector", Emails: []string{"ops@collector.example"}, Kind: KindCollectionPartner},
			"ops@collector.example", "", ConflictInvalidClientType, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, WithPartner(PartnerSpec{APIKey: other}))
			if _, err := s.AddCreditor(tt.creditor); err != nil {
				t.Fatal(err)
			}
			body := newClient("t-new", tt.email)
			if tt.support != "" {
				body["client"].(map[string]any)["supportEmail"] = tt.support
			}
			r := do(t, s, "POST", "/clients", key, body)
			if r.status != http.StatusConflict {
				t.Fatalf("POST = %d %s, want 409", r.status, r.body)
			}
			m := r.json(t)
			if m["type"] != tt.wantType {
				t.Errorf("type = %v, want %s", m["type"], tt.wantType)
			}
			if tt.wantType == ConflictNeedsLinking {
				u := str(m, "data", "onboardingLinks", "url")
				if !strings.HasPrefix(u, s.URL+"/ReferralPartner/Approve?token=") || str(m, "data", "externalTenantId") != "t-new" {
					t.Errorf("data = %v, want approval URL and externalTenantId", m["data"])
				}
				if r := do(t, s, "GET", "/clients/t-new", key, nil); r.status != 404 {
					t.Errorf("GET a pending link request = %d, want 404", r.status)
				}
				return
			}
			if tt.wantData != nil {
				if diff := cmp.Diff(tt.wantData, m["data"]); diff != "" {
					t.Errorf("data (-want +got):\n%s", diff)
				}
			}
			if n := s.EffectCount(EffectLinkRequested); n != 0 {
				t.Errorf("link requests = %d, want 0", n)
			}
		})
	}
}

func tokenFromURL(t *testing.T, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return pu.Query().Get("token")
}

func TestLinkRequestTTLApprovalAndReplay(t *testing.T) {
	t.Parallel()
	clock := NewFakeClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	const k2 = "mock_test_ttl_partner"
	s := newTestServer(t, WithClock(clock), WithCoverage("DK", "SE"), WithPartner(PartnerSpec{APIKey: k2, ApprovalTTLDays: 2, ReferralFeePercentage: 15}))
	if _, err := s.AddCreditor(CreditorSpec{CompanyName: "Existing ApS", Emails: []string{"cfo@existing.example"}, OnboardingDone: true}); err != nil {
		t.Fatal(err)
	}
	body := newClient("ext-1", "cfo@existing.example", caseBody("c-dk", "DK"), caseBody("c-us", "US"))
	r := do(t, s, "POST", "/clients", k2, body)
	if r.status != 409 {
		t.Fatalf("POST = %d %s", r.status, r.body)
	}
	url1 := str(r.json(t), "data", "onboardingLinks", "url")

	// A repeat during the pending request is 409 again with the same URL.
	clock.Advance(47 * time.Hour)
	if r := do(t, s, "POST", "/clients", k2, newClient("ext-1", "cfo@existing.example")); r.status != 409 || str(r.json(t), "data", "onboardingLinks", "url") != url1 {
		t.Fatalf("repeat = %d %s, want 409 with %s", r.status, r.body, url1)
	}
	info, err := s.LinkRequest(tokenFromURL(t, url1))
	if err != nil || info.Status != "pending" || info.CaseCount != 2 || !info.ExpiresAt.Equal(time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("LinkRequest = %+v, %v", info, err)
	}

	// After the TTL: the old token is expired and a repeat issues a fresh URL.
	clock.Advance(time.Hour)
	if err := s.ApproveLink(tokenFromURL(t, url1)); !errors.Is(err, ErrExpired) {
		t.Fatalf("ApproveLink(expired) = %v, want ErrExpired", err)
	}
	r = do(t, s, "POST", "/clients", k2, body)
	url2 := str(r.json(t), "data", "onboardingLinks", "url")
	if r.status != 409 || url2 == url1 || url2 == "" {
		t.Fatalf("after expiry POST = %d %s, want 409 with a fresh URL", r.status, r.body)
	}

	// The partner's fee changes before approval; the link snapshots the fee at creation.
	if err := s.SetReferralFeePercentage(k2, 25); err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveLink(tokenFromURL(t, url2)); err != nil {
		t.Fatalf("ApproveLink = %v", err)
	}
	if err := s.ApproveLink(tokenFromURL(t, url2)); !errors.Is(err, ErrConflict) {
		t.Errorf("second ApproveLink = %v, want ErrConflict", err)
	}
	if err := s.SetReferralFeePercentage(k2, 30); err != nil {
		t.Fatal(err)
	}
	r = do(t, s, "GET", "/clients/ext-1", k2, nil)
	if r.status != 200 {
		t.Fatalf("GET after approval = %d %s", r.status, r.body)
	}
	var got wireClient
	r.decode(t, &got)
	if got.IsAttributedClient || !got.OnboardingDone || got.CaseStats.CasesTotal != 1 {
		t.Errorf("approved client = %+v, want not attributed, onboarded, 1 replayed case", got)
	}
	ci, err := s.LinkedClient(k2, "ext-1")
	if err != nil || ci.ReferralFeePercentage != 25 {
		t.Errorf("LinkedClient().ReferralFeePercentage = %v (%v), want 25", ci.ReferralFeePercentage, err)
	}
	if n := s.EffectCount(EffectCasesReplayFailed); n != 1 {
		t.Errorf("cases.replay_failed = %d, want 1 (the US case is not covered)", n)
	}
	// Now it is linked: the repeat returns the client (201 because the creditor had signed).
	if r := do(t, s, "POST", "/clients", k2, newClient("ext-1", "cfo@existing.example")); r.status != 201 {
		t.Errorf("POST after approval = %d, want 201", r.status)
	}
}

func TestLinkRequestDeclineAndTTLClamp(t *testing.T) {
	t.Parallel()
	clock := NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	const k2 = "mock_test_clamp"
	s := newTestServer(t, WithClock(clock), WithPartner(PartnerSpec{APIKey: k2, ApprovalTTLDays: 90}))
	if _, err := s.AddCreditor(CreditorSpec{CompanyName: "Existing", Emails: []string{"x@e.example"}}); err != nil {
		t.Fatal(err)
	}
	r := do(t, s, "POST", "/clients", k2, newClient("e", "x@e.example"))
	tok := tokenFromURL(t, str(r.json(t), "data", "onboardingLinks", "url"))
	info, _ := s.LinkRequest(tok)
	if want := clock.Now().Add(30 * 24 * time.Hour); !info.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v (TTL clamped to 30 days)", info.ExpiresAt, want)
	}
	if err := s.DeclineLink(tok); err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveLink(tok); !errors.Is(err, ErrConflict) {
		t.Errorf("ApproveLink after decline = %v, want ErrConflict", err)
	}
	// After a decline, POST again creates a new link request.
	r = do(t, s, "POST", "/clients", k2, newClient("e", "x@e.example"))
	if tok2 := tokenFromURL(t, str(r.json(t), "data", "onboardingLinks", "url")); r.status != 409 || tok2 == tok {
		t.Errorf("POST after decline = %d %s, want 409 with a new token", r.status, r.body)
	}
	if _, err := s.LinkRequest("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LinkRequest(unknown) = %v, want ErrNotFound", err)
	}
}

func TestCaseOutcomes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithCoverage("DK", "GB"))
	body := newClient("c", "a@c.example")
	kp := caseBody("r-kp", "KP")
	body["cases"] = []any{caseBody("r-dk", "DK"), kp, map[string]any{
		"currencyCode": "gbp", "amountToRecover": 10, "debtor": map[string]any{"type": "Person", "name": "P", "country": "United Kingdom"},
	}}
	r := do(t, s, "POST", "/clients", key, body)
	if r.status != 202 {
		t.Fatalf("POST = %d %s", r.status, r.body)
	}
	var got wireClient
	r.decode(t, &got)
	res := got.CaseResults
	if res == nil || len(res.SuccessfulCases) != 2 || len(res.FailedCases) != 1 {
		t.Fatalf("caseResults = %+v, want 2 successful and 1 failed", res)
	}
	f := res.FailedCases[0]
	if f.CaseIndex != 1 || deref(f.ErrorType) != "NoPartnerAvailable" || deref(f.CreditorReference) != "r-kp" {
		t.Errorf("failed case = %+v", f)
	}
	for _, inv := range res.SuccessfulCases {
		if deref(inv.Lifecycle) != LifecyclePendingContractSigning || inv.SigningHandoff == nil {
			t.Errorf("case %s lifecycle = %s, want PendingContractSigning with a signing handoff", inv.ID, deref(inv.Lifecycle))
		}
	}
	if deref(res.SuccessfulCases[1].Currency) != "GBP" || got.CaseStats.CasesTotal != 2 {
		t.Errorf("currency = %s, casesTotal = %d", deref(res.SuccessfulCases[1].Currency), got.CaseStats.CasesTotal)
	}
}
