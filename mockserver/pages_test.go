package mockserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/debitura-go/debitura/internal/contract"
	"github.com/debitura-go/debitura/internal/controltest"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/google/go-cmp/cmp"
)

// pageResp is one answer of the mock, with redirects not followed.
type pageResp struct {
	status   int
	location string
	header   http.Header
	body     string
}

// dataStatus reads the data-status attribute of the page's #status element.
func (p pageResp) dataStatus() string {
	m := regexp.MustCompile(`id="status"[^>]*data-status="([^"]*)"`).FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

// inputValue reads the value attribute of the input with the given id.
func (p pageResp) inputValue(id string) (string, bool) {
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*value="([^"]*)"`).FindStringSubmatch(p.body)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// text reads the text of the element with the given id (no nested elements).
func (p pageResp) text(id string) string {
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`).FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

var pageClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func pageReq(t *testing.T, method, u string, form url.Values) pageResp {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := pageClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return pageResp{status: res.StatusCode, location: res.Header.Get("Location"), header: res.Header, body: string(b)}
}

func getPage(t *testing.T, u string) pageResp { t.Helper(); return pageReq(t, http.MethodGet, u, nil) }
func postPage(t *testing.T, u string, f url.Values) pageResp {
	t.Helper()
	if f == nil {
		f = url.Values{}
	}
	return pageReq(t, http.MethodPost, u, f)
}

// pageAPI calls the Referral Partner API (or /__mock/) with the default partner's key and returns
// the status and the decoded JSON body (nil when the body is not JSON).
func pageAPI(t *testing.T, srv *mockserver.Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return pageAPIAs(t, srv, mockserver.DefaultAPIKey, method, path, body)
}

// pageAPIAs is pageAPI with the partner key apiKey.
func pageAPIAs(t *testing.T, srv *mockserver.Server, apiKey, method, path string, body any) (int, map[string]any) {
	t.Helper()
	req := controltest.JSONRequest(t, method, srv.URL+path, apiKey, body)
	// The API call goes through the contract validator (with the mock's documented deviations):
	// request and response are checked against the API documents.
	status, raw := contract.MockDo(t, pageClient, req)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return status, m
}

func pageCreateBody(ext, email string) map[string]any {
	return map[string]any{
		"externalTenantId": ext,
		"client":           map[string]any{"name": "Acme " + ext, "country": "DK", "supportEmail": email, "city": "Aarhus"},
		"users":            []any{map[string]any{"name": "Ada Lovelace", "email": email}},
	}
}

// pageOnboardingURL creates a client and returns the onboarding URL of its 202.
func pageOnboardingURL(t *testing.T, srv *mockserver.Server, ext, email string) string {
	t.Helper()
	st, body := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody(ext, email))
	if st != http.StatusAccepted {
		t.Fatalf("POST /clients %s: status %d, body %v; want 202", ext, st, body)
	}
	return mockserver.JSONStr(body, "onboardingLinks", "url")
}

// pageApprovalURL adds an existing creditor with the e-mail and returns the approval URL of the 409
// that POST /clients answers.
func pageApprovalURL(t *testing.T, srv *mockserver.Server, ext, email, company string) string {
	t.Helper()
	if _, err := srv.AddCreditor(mockserver.CreditorSpec{CompanyName: company, Country: "DK", Emails: []string{email}}); err != nil {
		t.Fatal(err)
	}
	st, body := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody(ext, email))
	if st != http.StatusConflict || mockserver.JSONStr(body, "type") != mockserver.ConflictNeedsLinking {
		t.Fatalf("POST /clients %s: status %d, body %v; want 409 %s", ext, st, body, mockserver.ConflictNeedsLinking)
	}
	return mockserver.JSONStr(body, "data", "onboardingLinks", "url")
}

func pageLinkID(t *testing.T, u string) string {
	t.Helper()
	return u[strings.LastIndex(u, "/")+1:]
}

func wantPage(t *testing.T, what string, got pageResp, status int, dataStatus string) {
	t.Helper()
	if got.status != status || got.dataStatus() != dataStatus {
		t.Fatalf("%s: status %d, data-status %q; want %d %q\n%s", what, got.status, got.dataStatus(), status, dataStatus, got.body)
	}
	if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: Content-Type %q, want text/html", what, ct)
	}
}

func wantRedirect(t *testing.T, what string, got pageResp, path string) {
	t.Helper()
	if got.status != http.StatusSeeOther || got.location != path {
		t.Fatalf("%s: status %d, Location %q; want 303 %q\n%s", what, got.status, got.location, path, got.body)
	}
}

func TestPagesOnboardingFlow(t *testing.T) {
	srv := mockserver.NewTest(t)
	u := pageOnboardingURL(t, srv, "tenant-1", "ada@acme.example")
	id := pageLinkID(t, u)
	if want := srv.URL + "/onboarding/companydetails/" + id; u != want {
		t.Fatalf("onboarding URL %q, want %q", u, want)
	}
	signPath, donePath, detailsPath := "/onboarding/Agreement/Sign/"+id, "/onboarding/Done/"+id, "/onboarding/companydetails/"+id

	// Step 1 renders prefilled from the page data.
	p := getPage(t, u)
	wantPage(t, "GET details", p, http.StatusOK, mockserver.StepCompanyDetails)
	for id, want := range map[string]string{"company-name": "Acme tenant-1", "support-email": "ada@acme.example", "city": "Aarhus"} {
		if got, _ := p.inputValue(id); got != want {
			t.Errorf("#%s value %q, want %q", id, got, want)
		}
	}
	if !strings.Contains(p.body, `<option value="DK" selected>`) {
		t.Errorf("#country does not preselect DK")
	}
	if got := p.text("partner-name"); got != "Mock Referral Partner ApS" {
		t.Errorf("#partner-name %q", got)
	}

	// Steps out of order redirect to the current one and change nothing.
	wantRedirect(t, "GET sign before details", getPage(t, srv.URL+signPath), detailsPath)
	wantRedirect(t, "POST sign before details", postPage(t, srv.URL+signPath, url.Values{"accept": {"yes"}}), detailsPath)
	wantRedirect(t, "GET done before details", getPage(t, srv.URL+donePath), detailsPath)

	// Invalid details: 422, the entered values stay, nothing stored.
	form := url.Values{"name": {"Acme Renamed ApS"}, "country": {"DK"}, "supportEmail": {"not-an-email"}, "city": {"Odense"}}
	p = postPage(t, u, form)
	wantPage(t, "POST invalid details", p, http.StatusUnprocessableEntity, mockserver.StepCompanyDetails)
	if !strings.Contains(p.text("error"), "e-mail") {
		t.Errorf("#error %q does not name the e-mail", p.text("error"))
	}
	if got, _ := p.inputValue("company-name"); got != "Acme Renamed ApS" {
		t.Errorf("after 422, #company-name %q, want the entered value", got)
	}
	if d, _ := srv.OnboardingPage(id); d.DetailsSubmitted || d.Company.Name != "Acme tenant-1" {
		t.Fatalf("invalid POST changed state: %+v", d)
	}

	// Valid details: 303 to step 2, stored.
	form.Set("supportEmail", "billing@acme.example")
	wantRedirect(t, "POST details", postPage(t, u, form), signPath)
	d, err := srv.OnboardingPage(id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(mockserver.CompanyDetails{Name: "Acme Renamed ApS", Country: "DK", SupportEmail: "billing@acme.example", City: "Odense"}, d.Company); diff != "" {
		t.Errorf("stored details (-want +got):\n%s", diff)
	}
	if d.Step != mockserver.StepSignAgreement {
		t.Errorf("step %q after details", d.Step)
	}

	// Step 2: unchecked box -> 422, not signed.
	p = getPage(t, srv.URL+signPath)
	wantPage(t, "GET sign", p, http.StatusOK, mockserver.StepSignAgreement)
	if got := p.text("agreement-version"); got != "1" {
		t.Errorf("#agreement-version %q", got)
	}
	wantPage(t, "POST sign unchecked", postPage(t, srv.URL+signPath, nil), http.StatusUnprocessableEntity, mockserver.StepSignAgreement)
	if st, _ := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody("tenant-1", "ada@acme.example")); st != http.StatusAccepted {
		t.Fatalf("POST /clients before signing: %d, want 202", st)
	}

	// Sign: 303 to done, onboarding complete everywhere.
	wantRedirect(t, "POST sign", postPage(t, srv.URL+signPath, url.Values{"accept": {"yes"}}), donePath)
	wantPage(t, "GET done", getPage(t, srv.URL+donePath), http.StatusOK, mockserver.StepDone)
	wantRedirect(t, "GET details when done", getPage(t, u), donePath)
	wantRedirect(t, "POST sign again", postPage(t, srv.URL+signPath, url.Values{"accept": {"yes"}}), donePath)

	st, body := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody("tenant-1", "ada@acme.example"))
	if st != http.StatusCreated || body["onboardingDone"] != true {
		t.Fatalf("POST /clients after signing: %d %v; want 201 onboardingDone", st, body)
	}
	st, body = pageAPI(t, srv, http.MethodGet, "/clients/tenant-1", nil)
	if st != http.StatusOK || mockserver.JSONStr(body, "client", "companyName") != "Acme Renamed ApS" {
		t.Errorf("GET /clients/tenant-1: %d %v", st, body)
	}
	if st, body := pageAPI(t, srv, http.MethodPost, "/oauth/token", map[string]any{"externalTenantId": "tenant-1"}); st != http.StatusOK || mockserver.JSONStr(body, "accessToken") == "" {
		t.Errorf("POST /oauth/token after onboarding: %d %v; want 200 with a token", st, body)
	}
}

func TestPagesContractUpgrade(t *testing.T) {
	srv := mockserver.NewTest(t)
	u := pageOnboardingURL(t, srv, "tenant-up", "up@acme.example")
	id := pageLinkID(t, u)
	upPath := "/onboarding/ContractUpgrade/Sign/" + id
	wantRedirect(t, "upgrade page before first signature", getPage(t, srv.URL+upPath), "/onboarding/companydetails/"+id)

	if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, "tenant-up"); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, "upgrade page when up to date", getPage(t, srv.URL+upPath), "/onboarding/Done/"+id)
	if v := srv.ReleaseAgreement(); v != 2 {
		t.Fatalf("ReleaseAgreement = %d", v)
	}
	st, body := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody("tenant-up", "up@acme.example"))
	if st != http.StatusAccepted || mockserver.JSONStr(body, "onboardingLinks", "url") != srv.URL+upPath {
		t.Fatalf("POST /clients after release: %d, url %q; want 202 %q", st, mockserver.JSONStr(body, "onboardingLinks", "url"), srv.URL+upPath)
	}

	wantRedirect(t, "details page during an upgrade", getPage(t, srv.URL+"/onboarding/companydetails/"+id), upPath)
	p := getPage(t, srv.URL+upPath)
	wantPage(t, "GET upgrade", p, http.StatusOK, mockserver.StepContractUpgrade)
	if got := []string{p.text("agreement-version"), p.text("signed-version")}; !cmp.Equal(got, []string{"2", "1"}) {
		t.Errorf("versions shown %v, want [2 1]", got)
	}
	wantPage(t, "POST upgrade unchecked", postPage(t, srv.URL+upPath, nil), http.StatusUnprocessableEntity, mockserver.StepContractUpgrade)
	if c, _ := srv.LinkedClient(mockserver.DefaultAPIKey, "tenant-up"); c.SignedAgreementVersion != 1 {
		t.Fatalf("unchecked POST signed: %+v", c)
	}
	wantRedirect(t, "POST upgrade", postPage(t, srv.URL+upPath, url.Values{"accept": {"yes"}}), "/onboarding/Done/"+id)
	if c, _ := srv.LinkedClient(mockserver.DefaultAPIKey, "tenant-up"); c.SignedAgreementVersion != 2 || !c.OnboardingDone {
		t.Errorf("after upgrade: %+v", c)
	}
	if st, _ := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody("tenant-up", "up@acme.example")); st != http.StatusCreated {
		t.Errorf("POST /clients after the upgrade: %d, want 201", st)
	}
}

func TestPagesLinkApproval(t *testing.T) {
	clock := mockserver.NewFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	srv := mockserver.NewTest(t, mockserver.WithClock(clock))

	tests := []struct {
		name         string
		decision     string
		wantResult   string
		wantGetAfter int // GET /clients/{ext}
	}{
		{"approve", "approve", "approved", http.StatusOK},
		{"decline", "decline", "declined", http.StatusNotFound},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ext := "link-" + tt.name
			email := tt.name + "@existing.example"
			u := pageApprovalURL(t, srv, ext, email, "Existing "+tt.name+" A/S")
			token := mockserver.TokenFromURL(t, u)
			if !strings.HasPrefix(u, srv.URL+"/ReferralPartner/Approve?token=") || token == "" {
				t.Fatalf("approval URL %q", u)
			}

			p := getPage(t, u)
			wantPage(t, "GET approve", p, http.StatusOK, "pending")
			got := []string{p.text("requesting-partner"), p.text("company-name"), p.text("external-tenant-id"), p.text("expires-at")}
			want := []string{"Mock Referral Partner ApS", "Existing " + tt.name + " A/S", ext, "2026-03-09 10:00 UTC"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("approval page (-want +got):\n%s", diff)
			}
			wantPage(t, "POST without a decision", postPage(t, srv.URL+"/ReferralPartner/Approve", url.Values{"token": {token}}), http.StatusBadRequest, "pending")

			res := postPage(t, srv.URL+"/ReferralPartner/Approve", url.Values{"token": {token}, "decision": {tt.decision}})
			wantRedirect(t, "POST decision", res, "/ReferralPartner/Approve/Result?token="+url.QueryEscape(token))
			wantPage(t, "GET result", getPage(t, srv.URL+res.location), http.StatusOK, tt.wantResult)
			if info, _ := srv.LinkRequest(token); info.Status != tt.wantResult {
				t.Errorf("LinkRequest status %q, want %q", info.Status, tt.wantResult)
			}
			st, body := pageAPI(t, srv, http.MethodGet, "/clients/"+ext, nil)
			if st != tt.wantGetAfter {
				t.Fatalf("GET /clients/%s: %d, want %d", ext, st, tt.wantGetAfter)
			}
			if st == http.StatusOK && body["isAttributedClient"] != false {
				t.Errorf("approved link isAttributedClient = %v, want false", body["isAttributedClient"])
			}

			// The token is used up: both the page and a second decision answer 410.
			wantPage(t, "GET approve again", getPage(t, u), http.StatusGone, "already_"+tt.wantResult)
			other := tests[1-i].decision
			wantPage(t, "POST the other decision", postPage(t, srv.URL+"/ReferralPartner/Approve", url.Values{"token": {token}, "decision": {other}}),
				http.StatusGone, "already_"+tt.wantResult)
			if info, _ := srv.LinkRequest(token); info.Status != tt.wantResult {
				t.Errorf("second decision changed the status to %q", info.Status)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		u := pageApprovalURL(t, srv, "link-late", "late@existing.example", "Late ApS")
		clock.Advance(7*24*time.Hour + time.Second)
		wantPage(t, "GET expired", getPage(t, u), http.StatusGone, "expired")
		token := mockserver.TokenFromURL(t, u)
		wantPage(t, "POST approve expired", postPage(t, srv.URL+"/ReferralPartner/Approve", url.Values{"token": {token}, "decision": {"approve"}}),
			http.StatusGone, "expired")
		if st, _ := pageAPI(t, srv, http.MethodGet, "/clients/link-late", nil); st != http.StatusNotFound {
			t.Errorf("GET /clients/link-late after an expired approval: %d", st)
		}
	})

	t.Run("conflict", func(t *testing.T) {
		// The creditor got linked through another request meanwhile: 409 page, nothing changes.
		u1 := pageApprovalURL(t, srv, "link-c1", "both@existing.example", "Both ApS")
		st, body := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody("link-c2", "both@existing.example"))
		if st != http.StatusConflict {
			t.Fatalf("second POST /clients: %d %v", st, body)
		}
		u2 := mockserver.JSONStr(body, "data", "onboardingLinks", "url")
		if err := srv.ApproveLink(mockserver.TokenFromURL(t, u2)); err != nil {
			t.Fatal(err)
		}
		wantPage(t, "approve the first", postPage(t, srv.URL+"/ReferralPartner/Approve", url.Values{"token": {mockserver.TokenFromURL(t, u1)}, "decision": {"approve"}}),
			http.StatusConflict, "conflict")
	})
}

// TestPagesGetNeverChangesState sends GETs (and HEADs) carrying every form field a POST would;
// none may change state.
func TestPagesGetNeverChangesState(t *testing.T) {
	srv := mockserver.NewTest(t)
	u := pageOnboardingURL(t, srv, "tenant-get", "get@acme.example")
	id := pageLinkID(t, u)
	au := pageApprovalURL(t, srv, "tenant-link", "get@existing.example", "Existing ApS")
	token := mockserver.TokenFromURL(t, au)

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, path := range []string{
			"/onboarding/companydetails/" + id + "?name=X&country=DK&supportEmail=x%40y.example",
			"/onboarding/Agreement/Sign/" + id + "?accept=yes",
			"/onboarding/ContractUpgrade/Sign/" + id + "?accept=yes",
			"/onboarding/Done/" + id,
			"/ReferralPartner/Approve?token=" + url.QueryEscape(token) + "&decision=approve",
			"/ReferralPartner/Approve/Result?token=" + url.QueryEscape(token) + "&decision=decline",
		} {
			if p := pageReq(t, method, srv.URL+path, nil); p.status >= 400 {
				t.Errorf("%s %s: %d", method, path, p.status)
			}
		}
	}
	d, _ := srv.OnboardingPage(id)
	if d.Step != mockserver.StepCompanyDetails || d.DetailsSubmitted || d.Company.Name != "Acme tenant-get" {
		t.Errorf("GETs changed the onboarding state: %+v", d)
	}
	if info, _ := srv.LinkRequest(token); info.Status != "pending" {
		t.Errorf("GETs changed the link request: %q", info.Status)
	}
	if n := srv.EffectCount(mockserver.EffectDetailsSubmitted) + srv.EffectCount(mockserver.EffectOnboardingSigned) +
		srv.EffectCount(mockserver.EffectLinkApproved) + srv.EffectCount(mockserver.EffectLinkDeclined); n != 0 {
		t.Errorf("GETs recorded %d page side effects", n)
	}
}

func TestPagesErrors(t *testing.T) {
	srv := mockserver.NewTest(t)
	u := pageOnboardingURL(t, srv, "tenant-gone", "gone@acme.example")
	goneID := pageLinkID(t, u)
	if st, _ := pageAPI(t, srv, http.MethodDelete, "/clients/tenant-gone", nil); st != http.StatusNoContent && st != http.StatusOK {
		t.Fatalf("DELETE /clients/tenant-gone: %d", st)
	}

	tests := []struct {
		name, method, path string
		form               url.Values
		status             int
		dataStatus         string
	}{
		{"unknown link", "GET", "/onboarding/companydetails/no-such-link", nil, 404, "not_found"},
		{"unknown link POST", "POST", "/onboarding/companydetails/no-such-link", url.Values{"name": {"x"}}, 404, "not_found"},
		{"unknown link sign", "POST", "/onboarding/Agreement/Sign/no-such-link", url.Values{"accept": {"yes"}}, 404, "not_found"},
		{"unknown link upgrade", "GET", "/onboarding/ContractUpgrade/Sign/no-such-link", nil, 404, "not_found"},
		{"unknown link done", "GET", "/onboarding/Done/no-such-link", nil, 404, "not_found"},
		{"reset client", "GET", "/onboarding/companydetails/" + goneID, nil, 404, "not_found"},
		{"unknown page", "GET", "/onboarding/elsewhere", nil, 404, "not_found"},
		{"unknown ReferralPartner page", "GET", "/ReferralPartner/Other", nil, 404, "not_found"},
		{"approve without token", "GET", "/ReferralPartner/Approve", nil, 400, "bad_request"},
		{"approve unknown token", "GET", "/ReferralPartner/Approve?token=nope", nil, 404, "not_found"},
		{"approve POST unknown token", "POST", "/ReferralPartner/Approve", url.Values{"token": {"nope"}, "decision": {"approve"}}, 404, "not_found"},
		{"result unknown token", "GET", "/ReferralPartner/Approve/Result?token=nope", nil, 404, "not_found"},
		{"PUT", "PUT", "/onboarding/companydetails/no-such-link", nil, 405, "method_not_allowed"},
		{"DELETE", "DELETE", "/ReferralPartner/Approve?token=nope", nil, 405, "method_not_allowed"},
		{"POST done", "POST", "/onboarding/Done/x", url.Values{}, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pageReq(t, tt.method, srv.URL+tt.path, tt.form)
			wantPage(t, tt.method+" "+tt.path, p, tt.status, tt.dataStatus)
			if tt.status == 405 && p.header.Get("Allow") != "GET, HEAD, POST" {
				t.Errorf("Allow %q", p.header.Get("Allow"))
			}
			if p.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", p.header.Get("Cache-Control"))
			}
		})
	}
}

// TestPagesCaseInsensitivePaths: after the /onboarding/ and /ReferralPartner/ prefixes (which the
// Backend's router matches exactly), path segments match in any case, as ASP.NET routes do.
func TestPagesCaseInsensitivePaths(t *testing.T) {
	srv := mockserver.NewTest(t)
	u := pageOnboardingURL(t, srv, "tenant-case", "case@acme.example")
	id := pageLinkID(t, u)
	for _, path := range []string{"/onboarding/CompanyDetails/" + id, "/onboarding/COMPANYDETAILS/" + id + "/"} {
		wantPage(t, path, getPage(t, srv.URL+path), http.StatusOK, mockserver.StepCompanyDetails)
	}
	au := pageApprovalURL(t, srv, "tenant-case-link", "case@existing.example", "Case ApS")
	wantPage(t, "lower-case approve", getPage(t, srv.URL+"/ReferralPartner/approve?token="+url.QueryEscape(mockserver.TokenFromURL(t, au))), http.StatusOK, "pending")
}

func TestPagesBranding(t *testing.T) {
	const key = "mock_branded_partner_key"
	tests := []struct {
		name                    string
		spec                    mockserver.PartnerSpec
		wantStyle, wantNotInDoc []string
		wantLogo                string
	}{
		{
			name: "partner colours",
			spec: mockserver.PartnerSpec{APIKey: key, CompanyName: "Fjord Books", BackgroundColorCode: "#0B3D91", FontColor: "#FAFAFA",
				FontFamily: `"Open Sans", sans-serif`, LogoURL: "https://fjord.example/logo.svg"},
			wantStyle: []string{"background:#0B3D91", "color:#FAFAFA", `font-family:"Open Sans", sans-serif`},
			wantLogo:  "https://fjord.example/logo.svg",
		},
		{
			name: "hostile values fall back to defaults",
			spec: mockserver.PartnerSpec{APIKey: key, CompanyName: "<b>Evil</b> Corp", BackgroundColorCode: "red;}</style><script>alert(1)</script>",
				FontColor: "expression(alert(1))", FontFamily: "x;}body{display:none", LogoURL: "javascript:alert(1)"},
			wantStyle:    []string{"background:#FFFFFF", "color:#1A1A1A", "font-family:Arial, sans-serif"},
			wantNotInDoc: []string{"<script>", "<b>Evil", "javascript:", "expression("},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mockserver.NewTest(t, mockserver.WithPartner(tt.spec))
			_, body := pageAPIAs(t, srv, key, http.MethodPost, "/clients", pageCreateBody("b-1", "b@acme.example"))
			p := getPage(t, mockserver.JSONStr(body, "onboardingLinks", "url"))
			wantPage(t, "GET details", p, http.StatusOK, mockserver.StepCompanyDetails)
			if got := p.text("partner-name"); got != pageEscape(tt.spec.CompanyName) {
				t.Errorf("#partner-name %q, want %q", got, tt.spec.CompanyName)
			}
			for _, s := range tt.wantStyle {
				if !strings.Contains(p.body, s) {
					t.Errorf("page style lacks %q", s)
				}
			}
			for _, s := range tt.wantNotInDoc {
				if strings.Contains(p.body, s) {
					t.Errorf("page contains %q", s)
				}
			}
			hasLogo := strings.Contains(p.body, `id="partner-logo" src="`+tt.wantLogo+`"`)
			if (tt.wantLogo != "") != hasLogo || (tt.wantLogo == "" && strings.Contains(p.body, `id="partner-logo"`)) {
				t.Errorf("logo: want %q, page has logo %v", tt.wantLogo, hasLogo)
			}
		})
	}
}

// pageEscape is what html/template makes of text content.
func pageEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// TestPagesProduction: the hosted pages are Debitura's UI, not a test-only route, so they work in
// the Production environment, while /__mock/ answers 403.
func TestPagesProduction(t *testing.T) {
	srv := mockserver.NewTest(t, mockserver.WithEnvironment(mockserver.Production))
	u := pageOnboardingURL(t, srv, "tenant-prod", "prod@acme.example")
	id := pageLinkID(t, u)
	wantPage(t, "GET details", getPage(t, u), http.StatusOK, mockserver.StepCompanyDetails)
	wantRedirect(t, "POST details", postPage(t, u, url.Values{"name": {"Prod ApS"}, "country": {"Denmark"}, "supportEmail": {"prod@acme.example"}}),
		"/onboarding/Agreement/Sign/"+id)
	wantRedirect(t, "POST sign", postPage(t, srv.URL+"/onboarding/Agreement/Sign/"+id, url.Values{"accept": {"on"}}), "/onboarding/Done/"+id)
	if st, _ := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody("tenant-prod", "prod@acme.example")); st != http.StatusCreated {
		t.Errorf("POST /clients after onboarding in production: %d", st)
	}
	if st, _ := pageAPI(t, srv, http.MethodPost, "/__mock/reset", nil); st != http.StatusForbidden {
		t.Errorf("POST /__mock/reset in production: %d, want 403", st)
	}
}

// TestPagesPublicURL: with WithPublicURL the API hands out URLs on another host, and the pages'
// redirects stay relative, so they work behind any host name.
func TestPagesPublicURL(t *testing.T) {
	srv := mockserver.NewTest(t, mockserver.WithPublicURL("https://testreferral.example/"))
	u := pageOnboardingURL(t, srv, "tenant-pub", "pub@acme.example")
	if !strings.HasPrefix(u, "https://testreferral.example/onboarding/companydetails/") {
		t.Fatalf("onboarding URL %q", u)
	}
	local := srv.URL + strings.TrimPrefix(u, "https://testreferral.example")
	res := postPage(t, local, url.Values{"name": {"Pub ApS"}, "country": {"DK"}, "supportEmail": {"pub@acme.example"}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/onboarding/") {
		t.Errorf("redirect %d %q, want a relative 303", res.status, res.location)
	}
}
