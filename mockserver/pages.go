package mockserver

// # Hosted pages
//
// The Backend serves the web pages a customer of a partner sees, as plain server-rendered HTML
// (html/template, embedded; no JavaScript), at exactly the URLs the API hands out. They work in
// both environments (they are Debitura's hosted UI, not a test-only route), are not rate-limited,
// and change state only on POST (each POST answers 303 See Other: post/redirect/get).
// Every page shows the partner's branding (company name, logo, background and font colours,
// font family) in a header, and carries one element #status whose data-status attribute is a
// machine-readable state (listed below). Fixed path segments match case-insensitively, as
// Debitura's ASP.NET routes do (the /onboarding/ and /ReferralPartner/ prefixes are matched
// exactly by the router); the ids and the token keep their case.
//
// Onboarding of a new client (onboardingLinks.url of a 202 from POST /clients):
//
//	GET  {public}/onboarding/companydetails/{linkId}  step 1: company details form, prefilled
//	POST {public}/onboarding/companydetails/{linkId}  SubmitCompanyDetails -> 303 to step 2
//	GET  {public}/onboarding/Agreement/Sign/{linkId}  step 2: the agreement, a checkbox, a button
//	POST {public}/onboarding/Agreement/Sign/{linkId}  SignAgreement -> 303 to the done page
//	GET  {public}/onboarding/Done/{linkId}            "onboarding is complete"
//
// Element ids of step 1: #company-details-form, #company-name, #registration-number, #address,
// #zip-code, #city, #state, #country (a select of ISO alpha-2 codes), #support-email,
// #support-phone, #users (read-only list) and the button #submit-details. Step 2: #agreement,
// #agreement-version, the checkbox #accept-terms (name accept, must be checked) and the button
// #sign-agreement. Invalid input re-renders the form with #error and status 422.
//
// Contract upgrade (onboardingLinks.url after ReleaseAgreement):
//
//	GET  {public}/onboarding/ContractUpgrade/Sign/{linkId}  the new version, #accept-terms, #sign-agreement
//	POST {public}/onboarding/ContractUpgrade/Sign/{linkId}  SignContractUpgrade -> 303 to the done page
//
// Link approval by an existing Debitura client (data.onboardingLinks.url of a 409
// ClientExistsNeedsLinking):
//
//	GET  {public}/ReferralPartner/Approve?token=T         who asks (#requesting-partner) to link which
//	                                                      company (#company-name), #expires-at,
//	                                                      #case-count, buttons #approve and #decline
//	POST {public}/ReferralPartner/Approve                 form fields token and decision
//	                                                      (approve|decline) -> ApproveLink or
//	                                                      DeclineLink -> 303 to the result page
//	GET  {public}/ReferralPartner/Approve/Result?token=T  "approved" or "declined"
//
// A page that is not the link's current step redirects (303) to the one that is, so an old
// bookmark always lands somewhere sensible. Errors are HTML pages too: an unknown, withdrawn or
// reset link or an unknown token answers 404 (status not_found); an expired link request, or one
// that was already approved or declined, answers 410 (expired, already_approved,
// already_declined); a decision that clashes with the state (the creditor got linked meanwhile)
// answers 409 (conflict); other methods than GET, HEAD and POST answer 405.
//
// data-status values: company_details, sign_agreement, contract_upgrade, done, pending,
// approved, declined, not_found, expired, already_approved, already_declined, conflict,
// bad_request, method_not_allowed.

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

//go:embed templates/*.html
var pageFS embed.FS

// pageTemplates holds one template set per page, each made of the document head the mock's pages
// share (head.html, also the dashboard's), the layout and the page's content.
var pageTemplates = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range []string{"details", "sign", "done", "approve", "result", "error"} {
		m[name] = template.Must(template.New(name).ParseFS(pageFS, "templates/head.html", "templates/layout.html", "templates/"+name+".html"))
	}
	return m
}()

// Page data-status values (see the file comment).
const (
	pageStatusPending          = "pending"
	pageStatusApproved         = "approved"
	pageStatusDeclined         = "declined"
	pageStatusNotFound         = "not_found"
	pageStatusExpired          = "expired"
	pageStatusConflict         = "conflict"
	pageStatusBadRequest       = "bad_request"
	pageStatusMethodNotAllowed = "method_not_allowed"
)

// maxPageForm bounds the body of a page's form POST.
const maxPageForm = 64 << 10

// pageBrand is a partner's branding, checked for use inside a <style> element.
type pageBrand struct {
	Name       string
	LogoURL    string
	Background template.CSS
	Color      template.CSS
	Font       template.CSS
}

var (
	cssColor = regexp.MustCompile(`^(#[0-9A-Fa-f]{3,8}|[A-Za-z]{3,30}|rgba?\([0-9., %]{5,40}\))$`)
	cssFont  = regexp.MustCompile(`^[A-Za-z0-9 ,'"\-]{1,120}$`)
)

func brandOf(p PartnerBranding) pageBrand {
	b := pageBrand{Name: p.CompanyName, Background: "#FFFFFF", Color: "#1A1A1A", Font: "Arial, sans-serif"}
	if b.Name == "" {
		b.Name = "Debitura"
	}
	if c := strings.TrimSpace(p.BackgroundColorCode); cssColor.MatchString(c) {
		b.Background = template.CSS(c)
	}
	if c := strings.TrimSpace(p.FontColor); cssColor.MatchString(c) {
		b.Color = template.CSS(c)
	}
	if f := strings.TrimSpace(p.FontFamily); cssFont.MatchString(f) {
		b.Font = template.CSS(f)
	}
	if u, err := url.Parse(p.LogoURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		b.LogoURL = u.String()
	}
	return b
}

// pageView is what every template gets; pages use the fields they need.
type pageView struct {
	Page, Title, Status string
	Brand               pageBrand
	Error               string
	Message, Hint       string
	Action              string
	DetailsURL          string
	Upgrade             bool
	Data                OnboardingPageData
	Form                CompanyDetails
	Countries           []countryOption
	Req                 LinkRequestInfo
	Token               string
}

type countryOption struct {
	Code, Name string
	Selected   bool
}

// Paths of the hosted pages (the link id is appended).
const (
	pathDetails = "/onboarding/companydetails/"
	pathSign    = "/onboarding/Agreement/Sign/"
	pathDone    = "/onboarding/Done/"
	pathUpgrade = "/onboarding/ContractUpgrade/Sign/"
	pathApprove = "/ReferralPartner/Approve"
	pathResult  = "/ReferralPartner/Approve/Result"
)

// servePages serves the hosted pages (/onboarding/..., /ReferralPartner/...); see the file
// comment.
func (b *Backend) servePages(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the approval token is in the URL
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")

	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if method != http.MethodGet && method != http.MethodPost {
		h.Set("Allow", "GET, HEAD, POST")
		renderError(w, http.StatusMethodNotAllowed, PartnerBranding{}, pageStatusMethodNotAllowed,
			"This page does not accept "+r.Method+" requests.", "Open the link in a browser.")
		return
	}
	post := method == http.MethodPost

	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	key := make([]string, len(segs))
	for i, s := range segs {
		key[i] = strings.ToLower(s)
	}
	switch {
	case len(key) == 3 && key[0] == "onboarding" && key[1] == "companydetails":
		b.pageDetails(w, r, segs[2], post)
	case len(key) == 4 && key[0] == "onboarding" && key[1] == "agreement" && key[2] == "sign":
		b.pageSign(w, r, segs[3], post, false)
	case len(key) == 4 && key[0] == "onboarding" && key[1] == "contractupgrade" && key[2] == "sign":
		b.pageSign(w, r, segs[3], post, true)
	case len(key) == 3 && key[0] == "onboarding" && key[1] == "done" && !post:
		b.pageDone(w, r, segs[2])
	case len(key) == 2 && key[0] == "referralpartner" && key[1] == "approve":
		b.pageApprove(w, r, post)
	case len(key) == 3 && key[0] == "referralpartner" && key[1] == "approve" && key[2] == "result" && !post:
		b.pageResult(w, r)
	default:
		renderError(w, http.StatusNotFound, PartnerBranding{}, pageStatusNotFound,
			"This page does not exist.",
			"Onboarding links look like /onboarding/companydetails/{linkId}, contract upgrades like /onboarding/ContractUpgrade/Sign/{linkId} and approvals like /ReferralPartner/Approve?token=...; use the URL the API returned.")
	}
}

// onboardingData loads a link's page data or renders the 404 page.
func (b *Backend) onboardingData(w http.ResponseWriter, linkID string) (OnboardingPageData, bool) {
	d, err := b.OnboardingPage(linkID)
	if err != nil {
		renderError(w, http.StatusNotFound, PartnerBranding{}, pageStatusNotFound,
			"This onboarding link is not valid.",
			"The link does not exist, or the client was withdrawn or reset. Ask the partner for a new link: calling POST /clients again returns the current one.")
		return d, false
	}
	return d, true
}

// stepPageData loads a link's page data for the page of one of steps. When the link's current
// step is another one it redirects there (303), and it renders the 404 page for an unknown
// link; then it returns false.
func (b *Backend) stepPageData(w http.ResponseWriter, r *http.Request, linkID string, steps ...string) (OnboardingPageData, bool) {
	d, ok := b.onboardingData(w, linkID)
	if !ok {
		return d, false
	}
	if !slices.Contains(steps, d.Step) {
		seeOther(w, r, stepPath(d))
		return d, false
	}
	return d, true
}

// stepPath is the page of a link's current onboarding step.
func stepPath(d OnboardingPageData) string {
	id := url.PathEscape(d.LinkID)
	switch d.Step {
	case StepDone:
		return pathDone + id
	case StepContractUpgrade:
		return pathUpgrade + id
	case StepSignAgreement:
		return pathSign + id
	default:
		return pathDetails + id
	}
}

func seeOther(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func (b *Backend) pageDetails(w http.ResponseWriter, r *http.Request, linkID string, post bool) {
	// Redirected elsewhere: done, or a contract upgrade is what is missing.
	d, ok := b.stepPageData(w, r, linkID, StepCompanyDetails, StepSignAgreement)
	if !ok {
		return
	}
	form := d.Company
	status, msg := http.StatusOK, ""
	if post {
		if !parsePageForm(w, r) {
			return
		}
		f := r.PostForm
		form = CompanyDetails{
			Name: strings.TrimSpace(f.Get("name")), RegistrationNumber: strings.TrimSpace(f.Get("registrationNumber")),
			Address: strings.TrimSpace(f.Get("address")), ZipCode: strings.TrimSpace(f.Get("zipCode")),
			City: strings.TrimSpace(f.Get("city")), State: strings.TrimSpace(f.Get("state")),
			Country: strings.TrimSpace(f.Get("country")), SupportEmail: strings.TrimSpace(f.Get("supportEmail")),
			SupportPhone: strings.TrimSpace(f.Get("supportPhone")),
		}
		msg = checkDetailsLength(form)
		if msg == "" {
			err := b.SubmitCompanyDetails(d.LinkID, form)
			switch {
			case err == nil:
				seeOther(w, r, pathSign+url.PathEscape(d.LinkID))
				return
			case errors.Is(err, ErrInvalid):
				msg = userMessage(err, ErrInvalid)
			default: // the link vanished between the two calls
				b.onboardingData(w, linkID)
				return
			}
		}
		status = http.StatusUnprocessableEntity
	}
	render(w, status, "details", pageView{
		Page: "company_details", Title: "Company details", Status: StepCompanyDetails, Brand: brandOf(d.Partner),
		Error: msg, Action: pathDetails + url.PathEscape(d.LinkID), Data: d, Form: form, Countries: countryOptions(form.Country),
	})
}

// checkDetailsLength applies the length limits of ClientDetailsDto, which SubmitCompanyDetails
// does not check.
func checkDetailsLength(c CompanyDetails) string {
	for _, l := range []struct {
		field, v string
		max      int
	}{{"Address", c.Address, 500}, {"Postal code", c.ZipCode, 20}, {"City", c.City, 100}, {"State", c.State, 100}} {
		if len([]rune(l.v)) > l.max {
			return l.field + " is too long (at most " + strconv.Itoa(l.max) + " characters)."
		}
	}
	return ""
}

// pageSign serves the agreement page or, with upgrade, the contract-upgrade page.
func (b *Backend) pageSign(w http.ResponseWriter, r *http.Request, linkID string, post, upgrade bool) {
	// The agreement page redirects to the details first, to done, or to an upgrade; the upgrade
	// page to done when up to date, or to the normal onboarding when never signed.
	step, sign, what := StepSignAgreement, b.SignAgreement, "the agreement"
	if upgrade {
		step, sign, what = StepContractUpgrade, b.SignContractUpgrade, "the new agreement"
	}
	d, ok := b.stepPageData(w, r, linkID, step)
	if !ok {
		return
	}
	msg := ""
	if post {
		if !parsePageForm(w, r) {
			return
		}
		if r.PostForm.Get("accept") != "" {
			// An upgrade's ErrConflict means it was signed meanwhile.
			if err := sign(d.LinkID); err != nil && !(upgrade && errors.Is(err, ErrConflict)) {
				b.onboardingData(w, linkID) // the link vanished between the two calls
				return
			}
			seeOther(w, r, pathDone+url.PathEscape(d.LinkID))
			return
		}
		msg = "Tick the box to accept " + what + " before signing."
	}
	renderSign(w, d, upgrade, msg)
}

func renderSign(w http.ResponseWriter, d OnboardingPageData, upgrade bool, msg string) {
	v := pageView{
		Page: "sign_agreement", Title: "Sign the agreement", Status: StepSignAgreement, Brand: brandOf(d.Partner),
		Error: msg, Action: pathSign + url.PathEscape(d.LinkID), DetailsURL: pathDetails + url.PathEscape(d.LinkID),
		Upgrade: upgrade, Data: d,
	}
	if upgrade {
		v.Page, v.Title, v.Status, v.Action = "contract_upgrade", "Sign the new agreement", StepContractUpgrade, pathUpgrade+url.PathEscape(d.LinkID)
	}
	status := http.StatusOK
	if msg != "" {
		status = http.StatusUnprocessableEntity
	}
	render(w, status, "sign", v)
}

func (b *Backend) pageDone(w http.ResponseWriter, r *http.Request, linkID string) {
	d, ok := b.stepPageData(w, r, linkID, StepDone)
	if !ok {
		return
	}
	render(w, http.StatusOK, "done", pageView{
		Page: "done", Title: "Onboarding complete", Status: StepDone, Brand: brandOf(d.Partner), Data: d,
	})
}

// pageToken reads the token from the query, or on POST from the form.
func pageToken(r *http.Request) string {
	if t := r.PostForm.Get("token"); t != "" {
		return t
	}
	return r.URL.Query().Get("token")
}

func resultPath(token string) string { return pathResult + "?token=" + url.QueryEscape(token) }

func (b *Backend) pageApprove(w http.ResponseWriter, r *http.Request, post bool) {
	if post && !parsePageForm(w, r) {
		return
	}
	token := pageToken(r)
	info, ok := b.linkRequestPage(w, token)
	if !ok {
		return
	}
	if info.Status != pageStatusPending {
		renderDecided(w, info)
		return
	}
	msg := ""
	if post {
		var err error
		switch r.PostForm.Get("decision") {
		case "approve":
			err = b.ApproveLink(token)
		case "decline":
			err = b.DeclineLink(token)
		default:
			msg = "Choose Approve or Decline."
		}
		if msg == "" {
			if err == nil {
				seeOther(w, r, resultPath(token))
				return
			}
			b.decisionFailed(w, token, info, err)
			return
		}
	}
	status := http.StatusOK
	if msg != "" {
		status = http.StatusBadRequest
	}
	render(w, status, "approve", pageView{
		Page: "approve", Title: "Link request", Status: pageStatusPending, Brand: brandOf(info.Partner),
		Error: msg, Action: pathApprove, Req: info, Token: token,
	})
}

// decisionFailed renders why ApproveLink or DeclineLink refused.
func (b *Backend) decisionFailed(w http.ResponseWriter, token string, info LinkRequestInfo, err error) {
	if now, lerr := b.LinkRequest(token); lerr == nil && now.Status != pageStatusPending {
		renderDecided(w, now) // expired or decided meanwhile
		return
	}
	if errors.Is(err, ErrNotFound) {
		renderError(w, http.StatusNotFound, info.Partner, pageStatusNotFound, "This link request can no longer be decided.",
			"The partner or your account no longer exists.")
		return
	}
	renderError(w, http.StatusConflict, info.Partner, pageStatusConflict, "This link request cannot be approved.",
		userMessage(err, ErrConflict))
}

// linkRequestPage loads a link request or renders the 404 page.
func (b *Backend) linkRequestPage(w http.ResponseWriter, token string) (LinkRequestInfo, bool) {
	if token == "" {
		renderError(w, http.StatusBadRequest, PartnerBranding{}, pageStatusBadRequest, "This approval link is incomplete.",
			"The link has no token. Open the full link from the e-mail or from the partner.")
		return LinkRequestInfo{}, false
	}
	info, err := b.LinkRequest(token)
	if err != nil {
		renderError(w, http.StatusNotFound, PartnerBranding{}, pageStatusNotFound, "This approval link is not valid.",
			"Check that the whole link was copied. The partner can get a fresh one by calling POST /clients again.")
		return info, false
	}
	return info, true
}

// renderDecided renders the 410 page of an expired, approved or declined link request.
func renderDecided(w http.ResponseWriter, info LinkRequestInfo) {
	switch info.Status {
	case "expired":
		renderError(w, http.StatusGone, info.Partner, pageStatusExpired, "This link request has expired.",
			"Link requests are valid for a limited time. Ask "+brandOf(info.Partner).Name+" to send a new one: calling POST /clients again issues a fresh approval link.")
	case pageStatusApproved, pageStatusDeclined:
		renderError(w, http.StatusGone, info.Partner, "already_"+info.Status, "This link request was already "+info.Status+".",
			"A link request can be decided once. Nothing has changed.")
	default:
		renderError(w, http.StatusConflict, info.Partner, pageStatusConflict, "This link request cannot be decided (status "+info.Status+").", "")
	}
}

func (b *Backend) pageResult(w http.ResponseWriter, r *http.Request) {
	info, ok := b.linkRequestPage(w, r.URL.Query().Get("token"))
	if !ok {
		return
	}
	var msg string
	switch info.Status {
	case pageStatusApproved:
		msg = "You approved the link. " + brandOf(info.Partner).Name + " is now linked to your Debitura account."
	case pageStatusDeclined:
		msg = "You declined the link. " + brandOf(info.Partner).Name + " is not linked to your Debitura account."
	case pageStatusPending:
		seeOther(w, r, pathApprove+"?token="+url.QueryEscape(r.URL.Query().Get("token")))
		return
	default:
		renderDecided(w, info)
		return
	}
	render(w, http.StatusOK, "result", pageView{
		Page: "approve_result", Title: "Link request " + info.Status, Status: info.Status, Brand: brandOf(info.Partner),
		Message: msg, Req: info,
	})
}

func renderError(w http.ResponseWriter, status int, p PartnerBranding, code, msg, hint string) {
	title := http.StatusText(status)
	render(w, status, "error", pageView{Page: "error", Title: title, Status: code, Brand: brandOf(p), Message: msg, Hint: hint})
}

// render executes a page into a buffer first, so a template error never leaves half a page.
func render(w http.ResponseWriter, status int, name string, v pageView) {
	var buf bytes.Buffer
	if err := pageTemplates[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		http.Error(w, "debitura-mock: rendering the page failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// parsePageForm parses a POSTed form (at most maxPageForm bytes) or renders a 400 page.
func parsePageForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxPageForm)
	if err := r.ParseForm(); err != nil {
		renderError(w, http.StatusBadRequest, PartnerBranding{}, pageStatusBadRequest, "The form could not be read.", err.Error())
		return false
	}
	return true
}

// userMessage strips the sentinel's text from a control-API error for display.
func userMessage(err, sentinel error) string {
	s := strings.TrimPrefix(err.Error(), sentinel.Error())
	s = strings.TrimLeft(s, ": ")
	if s == "" {
		return err.Error()
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func countryOptions(selected string) []countryOption {
	code, _, _ := resolveCountry(selected)
	out := make([]countryOption, 0, len(countryByCode))
	for c, n := range countryByCode {
		out = append(out, countryOption{Code: c, Name: n, Selected: c == code})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
