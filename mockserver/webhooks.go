package mockserver

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Webhook subscriptions (/v1/Webhooks*) and the events the mock fires. Delivery is in
// webhooks_delivery.go. See "Webhooks" in doc.go for the rules the mock follows.

// Webhook event names (REFERENCE §6; the published spec's POST /v1/Webhooks description).
const (
	EventPOASigned         = "client.onboarding.poa_signed"
	EventContractSigned    = "client.onboarding.contract_signed"
	EventClientLinked      = "client.linked"
	EventLinkDeclined      = "client.link_declined"
	EventLinkRequested     = "client.link_requested"
	EventLinkExpired       = "client.link_expired"
	EventCaseCreated       = "case.created"
	EventCaseUpdated       = "case.updated"
	EventCaseClosed        = "case.closed"
	EventCasesReplayFailed = "cases.replay_failed"
)

// WebhookEvents lists every event name a subscription may name, in the spec's order.
var WebhookEvents = []string{
	EventPOASigned, EventContractSigned, EventClientLinked, EventLinkDeclined, EventLinkRequested,
	EventLinkExpired, EventCaseCreated, EventCaseUpdated, EventCaseClosed, EventCasesReplayFailed,
}

// Operation ids of the /v1/Webhooks routes (openapi.yaml) and of the journal entries of
// outgoing deliveries.
const (
	OpGetWebhooks    = "getV1Webhooks"
	OpPostWebhooks   = "postV1Webhooks"
	OpGetWebhook     = "getV1WebhooksById"
	OpPutWebhook     = "putV1WebhooksById"
	OpDeleteWebhook  = "deleteV1WebhooksById"
	OpTestWebhook    = "postV1WebhooksTest"
	OpWebhookAttempt = "webhookDelivery"
)

// Side effects of the /v1/Webhooks routes and of deliveries, recorded in [JournalEntry.Effects].
const (
	EffectWebhookCreated         = "webhook.created"
	EffectWebhookUpdated         = "webhook.updated"
	EffectWebhookSecretRotated   = "webhook.secret_regenerated"
	EffectWebhookDeleted         = "webhook.deleted"
	EffectWebhookTestEnqueued    = "webhook.test_enqueued"
	EffectWebhookDelivered       = "webhook.delivered"
	EffectWebhookFailed          = "webhook.failed"
	EffectWebhookDisabled        = "webhook.disabled"
	maxWebhookURL                = 1024
	webhookSecretBytes           = 32
	msgWebhookNotFound           = "Webhook not found or does not belong to this partner"
	msgWebhookProductionTestOnly = "Test webhooks can only be triggered in the test environment."
)

// webhookRec is a subscription as stored (and snapshotted). Secret is the Base64 text handed out.
type webhookRec struct {
	ID             string    `json:"id"`
	Seq            int64     `json:"seq"`
	PartnerID      string    `json:"partnerId"`
	URL            string    `json:"url"`
	Events         []string  `json:"events"`
	IsActive       bool      `json:"isActive"`
	IsTestMode     bool      `json:"isTestMode"`
	DisabledReason string    `json:"disabledReason,omitempty"`
	Secret         string    `json:"secret"`
	Created        time.Time `json:"created"`
	Updated        time.Time `json:"updated"`
}

// WebhookInfo is the mock's view of one subscription. Secret is the current Base64 signing secret
// (the API shows it only on creation and regeneration; the typed API always has it, JSON never).
type WebhookInfo struct {
	ID             string    `json:"id"`
	PartnerID      string    `json:"partnerId"`
	URL            string    `json:"url"`
	Events         []string  `json:"events"`
	IsActive       bool      `json:"isActive"`
	IsTestMode     bool      `json:"isTestMode"`
	DisabledReason string    `json:"disabledReason,omitempty"`
	Created        time.Time `json:"createdUtc"`
	Updated        time.Time `json:"updatedUtc"`
	Secret         string    `json:"-"`
}

// Webhooks lists the subscriptions of the partner with apiKey (key or partner id), oldest first;
// nil for an unknown partner.
func (b *Backend) Webhooks(apiKey string) []WebhookInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, err := b.partnerLocked(apiKey)
	if err != nil {
		return nil
	}
	var out []WebhookInfo
	for _, h := range b.webhooksOfLocked(p.ID) {
		out = append(out, WebhookInfo{
			ID: h.ID, PartnerID: h.PartnerID, URL: h.URL, Events: slices.Clone(h.Events), IsActive: h.IsActive,
			IsTestMode: h.IsTestMode, DisabledReason: h.DisabledReason, Created: h.Created, Updated: h.Updated, Secret: h.Secret,
		})
	}
	return out
}

func (b *Backend) webhooksOfLocked(partnerID string) []*webhookRec {
	var out []*webhookRec
	for _, h := range b.st.Webhooks {
		if h.PartnerID == partnerID {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, c *webhookRec) int { return int(a.Seq - c.Seq) })
	return out
}

// ---------------------------------------------------------------- wire shapes

type wireWebhook struct {
	ID             string   `json:"id"`
	URL            *string  `json:"url"`
	Events         []string `json:"events"`
	IsActive       bool     `json:"isActive"`
	CreatedUtc     string   `json:"createdUtc"`
	UpdatedUtc     string   `json:"updatedUtc"`
	DisabledReason *string  `json:"disabledReason"`
	Secret         *string  `json:"secret"`
	IsTestMode     bool     `json:"isTestMode"`
}

func webhookWire(h *webhookRec, withSecret bool) wireWebhook {
	w := wireWebhook{
		ID: h.ID, URL: strp(h.URL), Events: slices.Clone(h.Events), IsActive: h.IsActive,
		CreatedUtc: ts(h.Created), UpdatedUtc: ts(h.Updated), DisabledReason: nz(h.DisabledReason), IsTestMode: h.IsTestMode,
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	if withSecret {
		w.Secret = strp(h.Secret)
	}
	return w
}

type reqCreateWebhook struct {
	URL        *string  `json:"url"`
	Events     []string `json:"events"`
	IsTestMode *bool    `json:"isTestMode"`
}

type reqUpdateWebhook struct {
	URL              *string  `json:"url"`
	Events           []string `json:"events"`
	IsActive         *bool    `json:"isActive"`
	RegenerateSecret bool     `json:"regenerateSecret"`
	IsTestMode       *bool    `json:"isTestMode"`
}

type reqTriggerTestWebhook struct {
	EventType        *string `json:"eventType"`
	CaseID           *string `json:"caseId"`
	ExternalTenantID *string `json:"externalTenantId"`
	OldLifecycle     *string `json:"oldLifecycle"`
	NewLifecycle     *string `json:"newLifecycle"`
	CloseCode        *string `json:"closeCode"`
	CloseComment     *string `json:"closeComment"`
}

type wireTriggerTestWebhook struct {
	EventType     *string `json:"eventType"`
	EnqueuedCount int32   `json:"enqueuedCount"`
	Message       *string `json:"message"`
}

// ---------------------------------------------------------------- validation

// validateWebhookURL applies the documented URL rules: absolute, at most 1024 characters, HTTPS
// on port 443 or 8443, not localhost and not a private, link-local or unspecified IP literal. In
// the Test environment the mock also accepts http and https on loopback hosts (any port), so that
// a test can receive deliveries on an httptest server; Debitura does not.
func (b *Backend) validateWebhookURL(raw string) []string {
	if strings.TrimSpace(raw) == "" {
		return []string{required("Url")}
	}
	if len([]rune(raw)) > maxWebhookURL {
		return []string{tooLong("Url", maxWebhookURL)}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return []string{"The Url field is not a valid fully-qualified http, https, or ftp URL."}
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if b.env == Test && isLoopbackHost(host) {
		if scheme != "http" && scheme != "https" {
			return []string{"Webhook URL must use HTTPS."}
		}
		return nil
	}
	var msgs []string
	if scheme != "https" {
		msgs = append(msgs, "Webhook URL must use HTTPS.")
	}
	if port := u.Port(); port != "" && port != "443" && port != "8443" {
		msgs = append(msgs, "Webhook URL must use port 443 or 8443.")
	}
	if isLoopbackHost(host) || isPrivateHost(host) {
		msgs = append(msgs, "Webhook URL must not point to localhost or a private network address.")
	}
	return msgs
}

func isLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isPrivateHost(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && blockedIP(ip)
}

// blockedIP reports addresses that no delivery may reach (loopback is handled separately).
func blockedIP(ip net.IP) bool {
	return ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified()
}

// validateEvents checks a subscription's event list: at least one, every name known. It returns
// the list without duplicates, in the order given.
func validateEvents(events []string) ([]string, []string) {
	if len(events) == 0 {
		return nil, []string{"At least one event type is required."}
	}
	var out, msgs []string
	for _, e := range events {
		if !slices.Contains(WebhookEvents, e) {
			msgs = append(msgs, fmt.Sprintf("Unknown event type '%s'. Valid event types: %s.", e, strings.Join(WebhookEvents, ", ")))
			continue
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, msgs
}

func (b *Backend) newWebhookSecret() string {
	buf := make([]byte, webhookSecretBytes)
	b.ids.fill(buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// ---------------------------------------------------------------- handlers

func (b *Backend) listWebhooks(w http.ResponseWriter, r *http.Request, ce *call) {
	if !b.lockCaller(w, ce) {
		return
	}
	out := []wireWebhook{}
	for _, h := range b.webhooksOfLocked(ce.partner.ID) {
		out = append(out, webhookWire(h, false))
	}
	b.mu.unlockUnchanged()
	writeJSON(w, http.StatusOK, out)
}

func (b *Backend) createWebhook(w http.ResponseWriter, r *http.Request, ce *call) {
	var req reqCreateWebhook
	if _, ok := b.readRequest(w, r, &req, "CreateWebhookRequest"); !ok {
		return
	}
	var msgs []string
	if req.URL == nil {
		msgs = append(msgs, required("Url"))
	} else {
		msgs = append(msgs, b.validateWebhookURL(*req.URL)...)
	}
	events, emsgs := validateEvents(req.Events)
	msgs = append(msgs, emsgs...)
	if len(msgs) > 0 {
		writeValidation(w, msgs)
		return
	}
	if !b.lockCaller(w, ce) {
		return
	}
	now := b.now()
	h := &webhookRec{
		ID: b.ids.uuid(), Seq: b.st.nextSeq(), PartnerID: ce.partner.ID, URL: strings.TrimSpace(*req.URL), Events: events,
		IsActive: true, IsTestMode: req.IsTestMode != nil && *req.IsTestMode, Secret: b.newWebhookSecret(), Created: now, Updated: now,
	}
	b.st.addWebhook(h)
	out := webhookWire(h, true)
	b.mu.Unlock()
	ce.effect(EffectWebhookCreated)
	writeJSON(w, http.StatusOK, out)
}

// lockWebhook is the prologue of the /v1/Webhooks/{id} handlers, as lockActiveLink is of the
// client ones: it takes b.mu with lockCaller and finds the caller's subscription. When there is
// none it answers 404, releases b.mu and returns nil. On a subscription, the caller holds b.mu
// and must release it.
func (b *Backend) lockWebhook(w http.ResponseWriter, r *http.Request, ce *call) *webhookRec {
	if !b.lockCaller(w, ce) {
		return nil
	}
	id := strings.ToLower(r.PathValue("id"))
	if h := b.st.Webhooks[id]; h != nil && h.PartnerID == ce.partner.ID {
		return h
	}
	b.mu.unlockUnchanged()
	writeNotFound(w, msgWebhookNotFound)
	return nil
}

func (b *Backend) getWebhook(w http.ResponseWriter, r *http.Request, ce *call) {
	h := b.lockWebhook(w, r, ce)
	if h == nil {
		return
	}
	defer b.mu.unlockUnchanged()
	writeJSON(w, http.StatusOK, webhookWire(h, false))
}

func (b *Backend) updateWebhook(w http.ResponseWriter, r *http.Request, ce *call) {
	var req reqUpdateWebhook
	if _, ok := b.readRequest(w, r, &req, "UpdateWebhookRequest"); !ok {
		return
	}
	var msgs []string
	if req.URL != nil {
		msgs = append(msgs, b.validateWebhookURL(*req.URL)...)
	}
	var events []string
	if req.Events != nil {
		var emsgs []string
		events, emsgs = validateEvents(req.Events)
		msgs = append(msgs, emsgs...)
	}
	h := b.lockWebhook(w, r, ce)
	if h == nil {
		return
	}
	defer b.mu.Unlock()
	if len(msgs) > 0 {
		writeValidation(w, msgs)
		return
	}
	if req.URL != nil {
		h.URL = strings.TrimSpace(*req.URL)
	}
	if req.Events != nil {
		h.Events = events
	}
	if req.IsTestMode != nil {
		h.IsTestMode = *req.IsTestMode
	}
	if req.IsActive != nil {
		if *req.IsActive {
			h.IsActive, h.DisabledReason = true, ""
		} else if h.IsActive {
			h.IsActive = false
			b.wh.cancelSubscription(h.ID, "subscription deactivated")
		}
	}
	if req.RegenerateSecret {
		h.Secret = b.newWebhookSecret()
		ce.effect(EffectWebhookSecretRotated)
	}
	h.Updated = b.now()
	ce.effect(EffectWebhookUpdated)
	writeJSON(w, http.StatusOK, webhookWire(h, req.RegenerateSecret))
}

func (b *Backend) deleteWebhook(w http.ResponseWriter, r *http.Request, ce *call) {
	h := b.lockWebhook(w, r, ce)
	if h == nil {
		return
	}
	defer b.mu.Unlock()
	b.st.removeWebhook(h)
	b.wh.forgetSubscription(h.ID)
	ce.effect(EffectWebhookDeleted)
	w.WriteHeader(http.StatusNoContent)
}

func (b *Backend) triggerTestWebhook(w http.ResponseWriter, r *http.Request, ce *call) {
	if b.env == Production {
		writeAPIError(w, http.StatusForbidden, "Forbidden", msgWebhookProductionTestOnly)
		return
	}
	var req reqTriggerTestWebhook
	if _, ok := b.readRequest(w, r, &req, "TriggerTestWebhookRequest"); !ok {
		return
	}
	if blank(req.EventType) {
		writeValidation(w, []string{required("EventType")})
		return
	}
	ev := strings.TrimSpace(*req.EventType)
	if !slices.Contains(WebhookEvents, ev) {
		writeValidation(w, []string{fmt.Sprintf("Unknown event type '%s'. Valid event types: %s.", ev, strings.Join(WebhookEvents, ", "))})
		return
	}
	isCase := strings.HasPrefix(ev, "case.")
	if isCase && blank(req.CaseID) {
		writeValidation(w, []string{"CaseId is required for " + ev + " events."})
		return
	}
	if !isCase && blank(req.ExternalTenantID) {
		writeValidation(w, []string{"ExternalTenantId is required for " + ev + " events."})
		return
	}
	if !b.lockCaller(w, ce) {
		return
	}
	defer b.mu.Unlock()
	now := b.now()
	p := ce.partner
	var ext string
	var l *linkRec
	if isCase {
		cs := b.st.Cases[strings.ToLower(strings.TrimSpace(*req.CaseID))]
		if cs != nil {
			if cl := b.st.Links[cs.LinkID]; cl != nil && !cl.Archived && cl.PartnerID == p.ID && cl.cred != nil {
				l = cl
			}
		}
		if l == nil {
			writeNotFound(w, "Case not found")
			return
		}
		ext = l.ExternalTenantID
		data := b.caseEventDataLocked(ev, l, cs, &req)
		n := b.fireLocked(p, ev, ext, data, true, now)
		b.writeTriggered(w, ce, ev, n)
		return
	}
	ext = *req.ExternalTenantID
	if l = b.activeLinkLocked(w, p, ext, msgNoActiveLink); l == nil {
		return
	}
	data := webhookData{ExternalTenantID: ext, Creditor: creditorData(l.cred, &l.Attributed)}
	switch ev {
	case EventLinkDeclined:
		data.Creditor.IsAttributed = nil
	case EventPOASigned:
		t := now
		if l.cred.SignedAt != nil {
			t = *l.cred.SignedAt
		}
		data.SignedAt = strp(ts(t))
	case EventCasesReplayFailed:
		data.FailedCases = []wireCaseFailure{{CaseIndex: 0, ErrorType: strp("NoPartnerAvailable"),
			ErrorMessage: strp("No collection partner is available for the debtor's jurisdiction (test event).")}}
	}
	n := b.fireLocked(p, ev, ext, data, true, now)
	b.writeTriggered(w, ce, ev, n)
}

func (b *Backend) writeTriggered(w http.ResponseWriter, ce *call, ev string, n int) {
	ce.effect(EffectWebhookTestEnqueued)
	msg := fmt.Sprintf("Test event %s enqueued for %d webhook subscription(s).", ev, n)
	if n == 0 {
		msg = fmt.Sprintf("No active webhook subscription receives %s; nothing was enqueued.", ev)
	}
	writeJSON(w, http.StatusOK, wireTriggerTestWebhook{EventType: strp(ev), EnqueuedCount: int32(n), Message: strp(msg)})
}

// ---------------------------------------------------------------- events

// webhookEnvelope is the documented CloudEvents-like delivery body (WebhookEventEnvelope).
type webhookEnvelope struct {
	ID          string       `json:"id"`
	SpecVersion string       `json:"specVersion"`
	Event       string       `json:"event"`
	Timestamp   string       `json:"timestamp"`
	Data        any          `json:"data"`
	Links       webhookLinks `json:"links"`
}

type webhookLinks struct {
	Client string `json:"client"`
}

type webhookCreditor struct {
	ID                 string `json:"id"`
	CompanyName        string `json:"companyName"`
	RegistrationNumber string `json:"registrationNumber"`
	CountryID          string `json:"countryId"`
	IsAttributed       *bool  `json:"isAttributed,omitempty"`
}

// webhookData is the data of client events. FailedCases (cases.replay_failed only) is the mock's
// own addition: the documented data stops at the common part.
type webhookData struct {
	ExternalTenantID string            `json:"externalTenantId"`
	Creditor         *webhookCreditor  `json:"creditor,omitempty"`
	SignedAt         *string           `json:"signedAt,omitempty"`
	FailedCases      []wireCaseFailure `json:"failedCases,omitempty"`
}

// webhookCaseData is the data of case events (test trigger only; undocumented, the mock's own).
type webhookCaseData struct {
	ExternalTenantID string           `json:"externalTenantId"`
	Creditor         *webhookCreditor `json:"creditor,omitempty"`
	CaseID           string           `json:"caseId"`
	Lifecycle        string           `json:"lifecycle"`
	OldLifecycle     *string          `json:"oldLifecycle,omitempty"`
	NewLifecycle     *string          `json:"newLifecycle,omitempty"`
	CloseCode        *string          `json:"closeCode,omitempty"`
	CloseComment     *string          `json:"closeComment,omitempty"`
}

func (b *Backend) caseEventDataLocked(ev string, l *linkRec, cs *caseRec, req *reqTriggerTestWebhook) webhookCaseData {
	d := webhookCaseData{ExternalTenantID: l.ExternalTenantID, Creditor: creditorData(l.cred, &l.Attributed), CaseID: cs.ID, Lifecycle: cs.Lifecycle}
	switch ev {
	case EventCaseUpdated:
		d.OldLifecycle, d.NewLifecycle = strp(cs.Lifecycle), strp(LifecycleClosed)
		if !blank(req.OldLifecycle) {
			d.OldLifecycle = req.OldLifecycle
		}
		if !blank(req.NewLifecycle) {
			d.NewLifecycle = req.NewLifecycle
		}
	case EventCaseClosed:
		d.CloseCode, d.CloseComment = strp("Paid"), req.CloseComment
		if !blank(req.CloseCode) {
			d.CloseCode = req.CloseCode
		}
	}
	return d
}

// creditorData renders data.creditor; attributed nil leaves isAttributed out (link_declined).
func creditorData(c *creditorRec, attributed *bool) *webhookCreditor {
	if c == nil {
		return nil
	}
	wc := &webhookCreditor{ID: c.ID, CompanyName: c.CompanyName, RegistrationNumber: c.RegistrationNumber, CountryID: CountryID(c.CountryCode)}
	if attributed != nil {
		a := *attributed
		wc.IsAttributed = &a
	}
	return wc
}

// countryNamespace is the namespace of the mock's name-based (version 5) country UUIDs.
var countryNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x14, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// CountryID is the countryId the mock's webhook events carry for an ISO alpha-2 code: a
// name-based UUID (version 5) of "debitura-mock/country/<CODE>", the same on every run.
func CountryID(alpha2 string) string {
	h := sha1.New()
	h.Write(countryNamespace[:])
	h.Write([]byte("debitura-mock/country/" + strings.ToUpper(alpha2)))
	s := h.Sum(nil)
	s[6] = s[6]&0x0f | 0x50
	s[8] = s[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// clientLink is links.client of an envelope: the API URL of the client.
func (b *Backend) clientLink(ext string) string {
	base := b.PublicURL()
	if base == "" {
		base = "https://testreferral-api.debitura.com"
		if b.env == Production {
			base = "https://referral-api.debitura.com"
		}
	}
	return base + "/clients/" + url.PathEscape(ext)
}

// subscriptionWantsLocked reports whether subscription h receives event ev. Classification: every
// event of the Test environment is test-classified, every event of the Production environment
// production-classified; an isTestMode subscription receives test-classified events only, any
// other subscription receives both (see doc.go).
func (b *Backend) subscriptionWantsLocked(h *webhookRec, ev string) bool {
	if !h.IsActive || !slices.Contains(h.Events, ev) {
		return false
	}
	testClassified := b.env == Test
	return !h.IsTestMode || testClassified
}

// fireLocked builds one event for partner p and enqueues one delivery per subscription that
// receives it. It returns the number of deliveries enqueued. No id is drawn
// from the seeded generator unless some subscription receives the event, so that a mock without
// subscriptions hands out the same ids as before webhooks existed.
func (b *Backend) fireLocked(p *partnerRec, ev, ext string, data any, test bool, now time.Time) int {
	if p == nil {
		return 0
	}
	var subs []*webhookRec
	for _, h := range b.webhooksOfLocked(p.ID) {
		if b.subscriptionWantsLocked(h, ev) {
			subs = append(subs, h)
		}
	}
	if len(subs) == 0 {
		return 0
	}
	env := webhookEnvelope{
		ID: b.ids.uuid(), SpecVersion: "1.0", Event: ev, Timestamp: ts(now), Data: data,
		Links: webhookLinks{Client: b.clientLink(ext)},
	}
	body, err := json.Marshal(env)
	if err != nil {
		return 0
	}
	for _, h := range subs {
		b.wh.enqueue(&whJob{
			eventID: env.ID, event: ev, subID: h.ID, partnerID: p.ID, test: test, body: body, created: now, due: now,
		})
	}
	b.wh.kick(b)
	return len(subs)
}

// fireClientEventLocked fires a client event about creditor c and the partner's ext.
// attributed nil leaves isAttributed out.
func (b *Backend) fireClientEventLocked(partnerID, ev, ext string, c *creditorRec, attributed *bool, now time.Time, extra func(*webhookData)) {
	p := b.st.Partners[partnerID]
	if p == nil || len(b.st.Webhooks) == 0 {
		return
	}
	d := webhookData{ExternalTenantID: ext, Creditor: creditorData(c, attributed)}
	if extra != nil {
		extra(&d)
	}
	b.fireLocked(p, ev, ext, d, false, now)
}

// Hooks called by the state changes.

func (b *Backend) onLinkRequestedLocked(lr *linkReqRec, now time.Time) {
	f := false
	b.fireClientEventLocked(lr.PartnerID, EventLinkRequested, lr.ExternalTenantID, b.st.Creditors[lr.CreditorID], &f, now, nil)
}

func (b *Backend) onLinkExpiredLocked(lr *linkReqRec) {
	f := false
	b.fireClientEventLocked(lr.PartnerID, EventLinkExpired, lr.ExternalTenantID, b.st.Creditors[lr.CreditorID], &f, b.now(), nil)
}

func (b *Backend) onLinkDeclinedLocked(lr *linkReqRec, now time.Time) {
	b.fireClientEventLocked(lr.PartnerID, EventLinkDeclined, lr.ExternalTenantID, b.st.Creditors[lr.CreditorID], nil, now, nil)
}

func (b *Backend) onLinkedLocked(l *linkRec, now time.Time) {
	b.fireClientEventLocked(l.PartnerID, EventClientLinked, l.ExternalTenantID, l.cred, &l.Attributed, now, nil)
}

func (b *Backend) onReplayFailedLocked(l *linkRec, failed []wireCaseFailure, now time.Time) {
	b.fireClientEventLocked(l.PartnerID, EventCasesReplayFailed, l.ExternalTenantID, l.cred, &l.Attributed, now, func(d *webhookData) {
		d.FailedCases = failed
	})
}

// onAgreementSignedLocked fires when a signature completes onboarding (wasDone false): first
// client.onboarding.poa_signed when the client has a case waiting in PendingContractSigning (the
// combined signing flow signs the power of attorney for it), then
// client.onboarding.contract_signed.
func (b *Backend) onAgreementSignedLocked(l *linkRec, now time.Time) {
	for _, cs := range b.st.casesOf(l.cred) {
		if cs.Lifecycle == LifecyclePendingContractSigning {
			b.onPOASignedLocked(l, now)
			break
		}
	}
	b.fireClientEventLocked(l.PartnerID, EventContractSigned, l.ExternalTenantID, l.cred, &l.Attributed, now, nil)
}

func (b *Backend) onPOASignedLocked(l *linkRec, now time.Time) {
	b.fireClientEventLocked(l.PartnerID, EventPOASigned, l.ExternalTenantID, l.cred, &l.Attributed, now, func(d *webhookData) {
		d.SignedAt = strp(ts(now))
	})
}

// SignPowerOfAttorney records that the partner's client ext signed a power of attorney on its
// own (outside onboarding) and fires client.onboarding.poa_signed. The mock keeps no other state
// for powers of attorney.
func (b *Backend) SignPowerOfAttorney(apiKey, ext string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, err := b.linkForLocked(apiKey, ext)
	if err != nil {
		return err
	}
	b.onPOASignedLocked(l, b.now())
	return nil
}

// isWebhookRoute reports the /v1/Webhooks routes, whose 401 has no body (the published spec
// declares 401 without content on them only).
func isWebhookRoute(path string) bool { return strings.HasPrefix(path, "/v1/Webhooks") }

// webhookRoutes are the /v1/Webhooks routes; router.go registers them after apiRoutes.
var webhookRoutes = []route{
	{method: "GET", path: "/v1/Webhooks", op: OpGetWebhooks, auth: true, h: func(b *Backend) apiHandler { return b.listWebhooks }},
	{method: "POST", path: "/v1/Webhooks", op: OpPostWebhooks, auth: true, h: func(b *Backend) apiHandler { return b.createWebhook }},
	{method: "POST", path: "/v1/Webhooks/test", op: OpTestWebhook, auth: true, h: func(b *Backend) apiHandler { return b.triggerTestWebhook }},
	{method: "GET", path: "/v1/Webhooks/{id}", op: OpGetWebhook, auth: true, h: func(b *Backend) apiHandler { return b.getWebhook }},
	{method: "PUT", path: "/v1/Webhooks/{id}", op: OpPutWebhook, auth: true, h: func(b *Backend) apiHandler { return b.updateWebhook }},
	{method: "DELETE", path: "/v1/Webhooks/{id}", op: OpDeleteWebhook, auth: true, h: func(b *Backend) apiHandler { return b.deleteWebhook }},
}
