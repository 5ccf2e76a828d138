package mockserver

// # The dashboard
//
// GET /__mock/ is a server-rendered HTML view of the mock (html/template, embedded, no build
// step) behind the same admin guard as every control route. Its buttons and forms call the
// control API with fetch() and JSON from one same-origin script (GET /__mock/dashboard.js), which
// the page's Content-Security-Policy allows as 'self'; the guard's Origin check accepts the
// mock's own origin, and Content-Type: application/json is what the guard asks for. Names and
// every other value from the state are escaped by html/template, so markup in a company name
// renders as text. The journal's filters are a plain GET form (?operation=&status=&partnerId=).
// Sections (ids): #partners, #clients, #link-requests, #webhooks, #deliveries, #journal,
// #faults, #clock, #rate-limit.

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/dashboard.js
var dashboardJS []byte

// dashboardTemplate is templates/dashboard.html with the document head of the mock's pages.
var dashboardTemplate = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"whenp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"join": strings.Join,
	"jsonBody": func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	},
	"esc": url.PathEscape,
	"dict2": func(eventID, subscriptionID string) map[string]string {
		return map[string]string{"eventId": eventID, "subscriptionId": subscriptionID}
	},
}).ParseFS(pageFS, "templates/head.html", "templates/dashboard.html"))

// dashboardCSP allows the one script file and fetch() to the mock itself, nothing else.
const dashboardCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxDashboardJournal is how many journal entries (newest first) the dashboard shows.
const maxDashboardJournal = 500

func (b *Backend) dashboardRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /__mock/{$}", b.serveDashboard)
	m.HandleFunc("GET /__mock", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/__mock/", http.StatusMovedPermanently)
	})
	m.HandleFunc("GET /__mock/dashboard.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		writeRaw(w, http.StatusOK, "text/javascript; charset=utf-8", dashboardJS)
	})
}

// Views of the dashboard (what the template gets).
type (
	dashPartner struct {
		ID, CompanyName, ShortName, ContactEmail, InvoicingTriggerMode string
		ReferralFeePercentage                                          float64
		ApprovalTTLDays, Clients                                       int
		Inactive, IsPublicDemo                                         bool
	}
	dashClient struct {
		Partner, PartnerID, ExternalTenantID, CompanyName, CreditorID, LinkID string
		Onboarding, KYC                                                       string
		Attributed, Suspended                                                 bool
		Fee                                                                   float64
		Cases                                                                 int
		Created                                                               time.Time
	}
	dashLinkRequest struct {
		ID, Partner, PartnerID, ExternalTenantID, CompanyName, Status string
		Created, ExpiresAt                                            time.Time
		Cases                                                         int
	}
	dashWebhook struct {
		ID, Partner, URL, DisabledReason string
		Events                           []string
		IsActive, IsTestMode             bool
	}
	dashAttempt struct {
		Attempt   int
		Time      time.Time
		Status    int
		Error     string
		Signature string
		Timestamp int64
	}
	dashDelivery struct {
		DeliveryInfo
		Partner  string
		Payload  string
		Attempts []dashAttempt
	}
	dashUsage struct {
		Partner string
		RateLimitUsage
	}
	dashboardView struct {
		Now              time.Time
		Environment      string
		AgreementVersion int
		Partners         []dashPartner
		Clients          []dashClient
		LinkRequests     []dashLinkRequest
		Webhooks         []dashWebhook
		Deliveries       []dashDelivery
		Journal          []JournalEntry
		JournalTotal     int
		Filter           JournalFilter
		FilterStatus     string
		FilterError      string
		Operations       []string
		JournalOps       []string
		Shapes           []FaultShape
		Faults           []FaultRule
		RateLimit        RateLimitConfig
		Usage            []dashUsage
	}
)

func (b *Backend) serveDashboard(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", dashboardCSP)
	v := b.dashboardData(r.URL.Query())
	var buf bytes.Buffer
	if err := dashboardTemplate.ExecuteTemplate(&buf, "dashboard.html", v); err != nil {
		http.Error(w, "debitura-mock: rendering the dashboard failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeRaw(w, http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

func (b *Backend) dashboardData(q url.Values) dashboardView {
	b.ExpireLinks() // make link request statuses current on the mock clock
	v := dashboardView{
		Now: b.now(), Environment: b.env.String(),
		Operations: FaultOperations(), JournalOps: JournalOperations(), Shapes: FaultShapes(), RateLimit: b.RateLimit(),
	}
	names, secrets := b.dashboardStoreView(&v)

	journal := b.Journal()
	attempts := map[string][]dashAttempt{}
	for _, e := range journal {
		if e.Operation != OpWebhookAttempt || e.Webhook == nil {
			continue
		}
		k := e.Webhook.EventID + "\x00" + e.Webhook.SubscriptionID
		attempts[k] = append(attempts[k], dashAttempt{Attempt: e.Webhook.Attempt, Time: e.Time, Status: e.Webhook.Status, Error: e.Webhook.Error, Timestamp: e.Time.Unix()})
	}
	ds := b.Deliveries()
	for i := len(ds) - 1; i >= 0; i-- { // newest first
		d := ds[i]
		dd := dashDelivery{DeliveryInfo: d, Partner: names.of(d.PartnerID)}
		var pretty bytes.Buffer
		if json.Indent(&pretty, d.Payload, "", "  ") == nil {
			dd.Payload = pretty.String()
		} else {
			dd.Payload = string(d.Payload)
		}
		for _, a := range attempts[d.EventID+"\x00"+d.SubscriptionID] {
			if sec := secrets[d.SubscriptionID]; sec != "" {
				a.Signature, _ = SignWebhook(sec, a.Time, d.Payload)
			}
			dd.Attempts = append(dd.Attempts, a)
		}
		v.Deliveries = append(v.Deliveries, dd)
	}

	f, ferr := parseJournalFilter(q)
	if ferr != nil {
		v.FilterError = strings.TrimPrefix(ferr.Error(), ErrInvalid.Error()+": ")
		f = JournalFilter{}
	}
	v.Filter = f
	v.FilterStatus = q.Get("status")
	matched := f.apply(journal)
	v.JournalTotal = len(matched)
	slices.Reverse(matched)
	if len(matched) > maxDashboardJournal {
		matched = matched[:maxDashboardJournal]
	}
	v.Journal = matched

	v.Faults, _ = b.ListFaults()
	for _, u := range b.RateLimitUsage() {
		v.Usage = append(v.Usage, dashUsage{Partner: names.of(u.PartnerID), RateLimitUsage: u})
	}
	return v
}

// partnerNames maps partner ids to company names for the dashboard.
type partnerNames map[string]string

// of names the partner with id: its company name, the id itself when unknown.
func (n partnerNames) of(id string) string {
	if name, ok := n[id]; ok {
		return name
	}
	if id == "" {
		return "(no or unknown key)"
	}
	return id
}

// dashboardStoreView fills v's store sections (agreement version, partners, clients, link
// requests, webhooks) from the store's records under the store lock, copying what the page
// renders. It returns the partners' names and the subscriptions' signing secrets by id, for the
// sections built outside the lock.
func (b *Backend) dashboardStoreView(v *dashboardView) (partnerNames, map[string]string) {
	b.mu.Lock()
	defer b.mu.unlockUnchanged()
	st := b.st
	v.AgreementVersion = st.AgreementVersion
	names := partnerNames{}
	for _, p := range st.Partners {
		names[p.ID] = p.CompanyName
	}
	clients := map[string]int{}
	for _, l := range st.Links {
		if l.Archived {
			continue
		}
		clients[l.PartnerID]++
		c := st.Creditors[l.CreditorID]
		if c == nil {
			c = &creditorRec{}
		}
		v.Clients = append(v.Clients, dashClient{
			Partner: names.of(l.PartnerID), PartnerID: l.PartnerID, ExternalTenantID: l.ExternalTenantID, CompanyName: c.CompanyName,
			CreditorID: l.CreditorID, Onboarding: dashOnboarding(st, c), KYC: dashKYC(c), Attributed: l.Attributed, Suspended: l.Suspended,
			Fee: l.ReferralFeePercentage, Cases: len(c.CaseIDs), Created: l.Created,
		})
	}
	sort.Slice(v.Clients, func(i, j int) bool {
		if !v.Clients[i].Created.Equal(v.Clients[j].Created) {
			return v.Clients[i].Created.Before(v.Clients[j].Created)
		}
		return v.Clients[i].ExternalTenantID < v.Clients[j].ExternalTenantID
	})
	for _, p := range st.Partners {
		v.Partners = append(v.Partners, dashPartner{
			ID: p.ID, CompanyName: p.CompanyName, ShortName: p.ShortName, ContactEmail: p.ContactEmail,
			InvoicingTriggerMode: p.InvoicingTriggerMode, ReferralFeePercentage: p.ReferralFeePercentage,
			ApprovalTTLDays: p.ApprovalTTLDays, Clients: clients[p.ID], Inactive: p.Inactive, IsPublicDemo: p.IsPublicDemo,
		})
	}
	sort.Slice(v.Partners, func(i, j int) bool {
		return v.Partners[i].CompanyName+v.Partners[i].ID < v.Partners[j].CompanyName+v.Partners[j].ID
	})
	reqs := slices.Collect(maps.Values(st.LinkRequests))
	slices.SortFunc(reqs, func(a, c *linkReqRec) int { return cmp.Compare(c.Seq, a.Seq) }) // newest first
	for _, lr := range reqs {
		var company string
		if c := st.Creditors[lr.CreditorID]; c != nil {
			company = c.CompanyName
		}
		v.LinkRequests = append(v.LinkRequests, dashLinkRequest{
			ID: lr.ID, Partner: names.of(lr.PartnerID), PartnerID: lr.PartnerID, ExternalTenantID: lr.ExternalTenantID,
			CompanyName: company, Status: lr.Status, Created: lr.Created, ExpiresAt: lr.ExpiresAt, Cases: len(lr.Cases),
		})
	}
	hooks := slices.Collect(maps.Values(st.Webhooks))
	slices.SortFunc(hooks, func(a, c *webhookRec) int { return cmp.Compare(a.Seq, c.Seq) }) // oldest first
	secrets := map[string]string{}
	for _, h := range hooks {
		secrets[h.ID] = h.Secret
		v.Webhooks = append(v.Webhooks, dashWebhook{ID: h.ID, Partner: names.of(h.PartnerID), URL: h.URL, DisabledReason: h.DisabledReason,
			Events: slices.Clone(h.Events), IsActive: h.IsActive, IsTestMode: h.IsTestMode})
	}
	return names, secrets
}

// dashOnboarding describes how far creditor c is through onboarding.
func dashOnboarding(st *store, c *creditorRec) string {
	switch {
	case st.onboardingDone(c):
		return "done (agreement v" + strconv.Itoa(c.SignedAgreementVersion) + ")"
	case c.SignedAgreementVersion > 0:
		return "contract upgrade due (signed v" + strconv.Itoa(c.SignedAgreementVersion) + ")"
	case c.DetailsSubmitted:
		return "details submitted, agreement unsigned"
	}
	return "not started"
}

// dashKYC describes creditor c's KYC state: the API's kycStatus, with the review status of a
// pending verification when there is one.
func dashKYC(c *creditorRec) string {
	st := kycStatus(c)
	if st == "pending" && c.KYC.VerificationStatus != "" {
		st += " (" + c.KYC.VerificationStatus + ")"
	}
	return st
}
