package debitura

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/debitura-go/debitura/internal/redaction"
	"github.com/debitura-go/debitura/webhook"
)

// WebhooksService manages the partner's webhook subscriptions (the /v1/Webhooks routes). It is
// safe for concurrent use. To receive and verify deliveries, see package
// [github.com/debitura-go/debitura/webhook]: [webhook.Handler], [webhook.Verifier] and
// [webhook.Parse].
//
// Subscriptions, like everything else, belong to one environment: a subscription made with a
// test-environment key never receives production events.
//
// Errors: a request the SDK refuses to send is a *[ValidationError] naming the field. Every
// answer other than 2xx is an *[APIError] (errors.Is works with ErrNotFound, ErrValidation,
// ErrUnauthorized, ErrForbidden, ErrRateLimited, ErrServer); transport failures and ctx ending
// are wrapped with %w.
type WebhooksService struct{ service }

// maxWebhookURLLen is the longest subscription URL the API accepts.
const maxWebhookURLLen = 1024

// Webhook is a webhook subscription (WebhookDto).
//
// Secret is the Base64 HMAC-SHA256 signing secret. The API returns it only in the answer of
// [WebhooksService.Create] and of [WebhooksService.Update] with RegenerateSecret; List and Get
// never carry it. Store it when you get it: it cannot be read again, only replaced. A Webhook
// never prints its Secret: String, GoString, Format (every fmt verb), LogValue (slog) and
// MarshalJSON redact it, and the field is a [Secret], which prints redacted even where fmt
// prints a Webhook field by field, so logging a Webhook, a slice of them or a struct that holds
// one cannot leak it. Store Secret.Reveal(), not a JSON encoding of the Webhook.
type Webhook struct {
	// ID is the subscription's UUID.
	ID string `json:"id"`
	// URL is where deliveries are sent.
	URL string `json:"url"`
	// Events are the event names the subscription receives.
	Events []webhook.EventType `json:"events"`
	// IsActive is false when the subscription was disabled, by the partner or automatically
	// after repeated delivery failures (then DisabledReason says why). Update with
	// IsActive = Ptr(true) re-enables it.
	IsActive bool `json:"isActive"`
	// CreatedUTC is when the subscription was created.
	CreatedUTC time.Time `json:"createdUtc"`
	// UpdatedUTC is when it last changed.
	UpdatedUTC time.Time `json:"updatedUtc"`
	// DisabledReason says why the subscription was disabled automatically; "" otherwise.
	DisabledReason string `json:"disabledReason,omitempty"`
	// Secret is the Base64 signing secret, present only in the answer of Create and of Update
	// with RegenerateSecret (zero otherwise). Pass Secret.Reveal() to webhook.Handler or
	// webhook.NewVerifier.
	Secret Secret `json:"secret,omitzero"` // Secret.MarshalJSON redacts it
	// IsTestMode is true when the subscription receives only test-classified events.
	IsTestMode bool `json:"isTestMode"`
}

// String describes w with its secret redacted.
func (w Webhook) String() string {
	return fmt.Sprintf("debitura.Webhook{ID: %q, URL: %q, Events: %q, IsActive: %t, IsTestMode: %t, DisabledReason: %q, CreatedUTC: %s, UpdatedUTC: %s, Secret: %s}",
		w.ID, w.URL, w.Events, w.IsActive, w.IsTestMode, w.DisabledReason,
		w.CreatedUTC.Format(time.RFC3339), w.UpdatedUTC.Format(time.RFC3339), w.Secret)
}

// GoString is String: %#v prints w redacted too.
func (w Webhook) GoString() string { return w.String() }

// Format prints w redacted for every verb (%v, %+v, %#v, %s, %q, ...).
func (w Webhook) Format(f fmt.State, verb rune) { redaction.Format(f, verb, w.String()) }

// LogValue makes slog log w as a group without its secret.
func (w Webhook) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", w.ID),
		slog.String("url", w.URL),
		slog.Any("events", w.Events),
		slog.Bool("is_active", w.IsActive),
		slog.Bool("is_test_mode", w.IsTestMode),
		slog.String("disabled_reason", w.DisabledReason),
		slog.Time("created_utc", w.CreatedUTC),
		slog.Time("updated_utc", w.UpdatedUTC),
		slog.String("secret", w.Secret.String()),
	)
}

// MarshalJSON encodes w as a WebhookDto in camelCase with the secret redacted.
func (w Webhook) MarshalJSON() ([]byte, error) {
	type plain Webhook // without this method
	return json.Marshal(plain(w))
}

// WebhookCreateRequest is the body of POST /v1/Webhooks (CreateWebhookRequest).
type WebhookCreateRequest struct {
	// URL is where deliveries are sent: an absolute https URL of at most 1024 characters. The
	// API accepts only ports 443 and 8443 and rejects localhost and private addresses. The SDK
	// also lets http on a loopback host (127.0.0.0/8, ::1, localhost) through, so that tests
	// against the bundled mock server can receive deliveries; Debitura itself refuses such a
	// URL with 400.
	URL string `json:"url"`
	// Events are the event names to subscribe to, at least one (webhook.ClientEvents() lists
	// the client events). Names the SDK does not know are sent as they are, since the API may
	// add events.
	Events []webhook.EventType `json:"events"`
	// IsTestMode makes the subscription receive only test-classified events.
	IsTestMode bool `json:"isTestMode,omitempty"`
}

// WebhookUpdateRequest is the body of PUT /v1/Webhooks/{id} (UpdateWebhookRequest). Nil (or
// empty) fields are left unchanged.
type WebhookUpdateRequest struct {
	// URL replaces the delivery URL; the rules of WebhookCreateRequest.URL apply.
	URL *string `json:"url,omitempty"`
	// Events replaces the event list when it is non-empty.
	Events []webhook.EventType `json:"events,omitempty"`
	// IsActive enables (true) or disables (false) the subscription. Ptr(true) re-enables a
	// subscription that was disabled automatically after delivery failures.
	IsActive *bool `json:"isActive,omitempty"`
	// RegenerateSecret replaces the signing secret; the answer carries the new one (in
	// Webhook.Secret), and only that answer. Deliveries signed with the old secret may still
	// arrive for a while: verify with both (webhook.NewVerifier(new, old) or
	// webhook.WithSecrets(old)) until they stop.
	RegenerateSecret bool `json:"regenerateSecret,omitempty"`
	// IsTestMode switches the subscription to test-classified (true) or production (false)
	// events.
	IsTestMode *bool `json:"isTestMode,omitempty"`
}

// WebhookTestRequest is the body of POST /v1/Webhooks/test (TriggerTestWebhookRequest).
type WebhookTestRequest struct {
	// EventType is the event to send, e.g. webhook.ClientLinked or webhook.CaseClosed. Required.
	EventType webhook.EventType `json:"eventType"`
	// CaseID is the UUID of one of the partner's cases; required for case.* events.
	CaseID string `json:"caseId,omitempty"`
	// ExternalTenantID is an active link of the partner; required for client.* events.
	ExternalTenantID string `json:"externalTenantId,omitempty"`
	// OldLifecycle is the "from" lifecycle of a case.updated event (default: the case's
	// current lifecycle).
	OldLifecycle string `json:"oldLifecycle,omitempty"`
	// NewLifecycle is the "to" lifecycle of a case.updated event (default "Closed").
	NewLifecycle string `json:"newLifecycle,omitempty"`
	// CloseCode is the close code of a case.closed event (default "Paid").
	CloseCode string `json:"closeCode,omitempty"`
	// CloseComment is the comment of a case.closed event.
	CloseComment string `json:"closeComment,omitempty"`
}

// WebhookTestResult is the answer of POST /v1/Webhooks/test (TriggerTestWebhookResponse).
type WebhookTestResult struct {
	// EventType is the event that was queued.
	EventType webhook.EventType `json:"eventType"`
	// EnqueuedCount is how many deliveries were queued: one per active subscription to the
	// event; 0 when no subscription listens to it.
	EnqueuedCount int `json:"enqueuedCount"`
	// Message is the API's description of what happened.
	Message string `json:"message"`
}

// List returns the partner's webhook subscriptions (GET /v1/Webhooks), without their secrets.
//
// Errors: *[APIError] (ErrUnauthorized for a bad key).
func (s *WebhooksService) List(ctx context.Context, callOpts ...CallOption) ([]*Webhook, error) {
	var out []*Webhook
	if _, err := s.client.do(ctx, &apiRequest{
		name:   "Webhooks.List",
		op:     "getV1Webhooks",
		method: http.MethodGet,
		route:  "/v1/Webhooks",
		path:   "/v1/Webhooks",
		retry:  retrySafe,
	}, &out, callOpts...); err != nil {
		return nil, err
	}
	if out == nil {
		out = []*Webhook{}
	}
	return out, nil
}

// Get returns one subscription (GET /v1/Webhooks/{id}), without its secret. DisabledReason says
// why a subscription that is not active was disabled.
//
// Errors: *[ValidationError] for an id that is not a UUID; *[APIError] matching ErrNotFound when
// the subscription does not exist or is another partner's.
func (s *WebhooksService) Get(ctx context.Context, id string, callOpts ...CallOption) (*Webhook, error) {
	return doOperation[Webhook](ctx, s.client, operation{name: "Webhooks.Get", op: "getV1WebhooksById",
		method: http.MethodGet, route: "/v1/Webhooks/{id}", retry: retrySafe}, id, callOpts)
}

// Create subscribes req.URL to req.Events (POST /v1/Webhooks). The answer's Secret is the
// Base64 signing secret of the subscription: it is returned this once and never again (List and
// Get leave it out), so store it before doing anything else; [WebhooksService.Update] with
// RegenerateSecret issues a new one if it is lost.
//
// Create is not idempotent: a second request would make a second subscription, and every event
// would be delivered twice. The SDK therefore retries it only when the earlier attempt provably
// did nothing (the connection could not be made, or a 429). After an ambiguous failure (a 5xx
// answer, a connection that broke, a ctx that ended while the request was in flight) the error
// is returned and the subscription may or may not exist: call [WebhooksService.List] and look
// for the URL before creating again (and Update it with RegenerateSecret, since its secret was
// lost with the answer).
//
// The API answers 200 (an older docs page says 201; both are accepted).
//
// Errors: *[ValidationError] before sending (nil request; a URL that is empty, relative, not
// https (http is let through on loopback hosts only, for the mock), or longer than 1024
// characters; no events; an empty event name); *[APIError] matching ErrValidation (400: the API
// refused the URL or an event name).
func (s *WebhooksService) Create(ctx context.Context, req *WebhookCreateRequest, callOpts ...CallOption) (*Webhook, error) {
	return doOperation[Webhook](ctx, s.client, operation{name: "Webhooks.Create", op: "postV1Webhooks",
		method: http.MethodPost, route: "/v1/Webhooks", retry: retryUnsent, body: req, validate: req.validate}, "", callOpts)
}

// Update changes a subscription (PUT /v1/Webhooks/{id}) and returns it. Only the fields set in
// req change. IsActive = Ptr(true) re-enables a subscription that was disabled automatically.
// With RegenerateSecret the answer's Secret is the new signing secret, returned this once.
//
// Retries: an update without RegenerateSecret sets fields to given values, so it is retried
// after failures whose outcome is unknown. With RegenerateSecret it is not: two regenerations
// that overlap could leave the subscription with a secret the caller never saw. It is then
// retried only when the earlier attempt provably did nothing (no connection, or a 429); after an
// ambiguous failure the error is returned and the secret may or may not have changed: call
// Update with RegenerateSecret again to get a secret you know.
//
// Errors: *[ValidationError] before sending (an id that is not a UUID; nil request; a request
// that changes nothing; a URL that breaks the rules of WebhookCreateRequest.URL; an empty event
// name); *[APIError] matching ErrNotFound or ErrValidation.
func (s *WebhooksService) Update(ctx context.Context, id string, req *WebhookUpdateRequest, callOpts ...CallOption) (*Webhook, error) {
	class := retrySafe
	if req != nil && req.RegenerateSecret {
		class = retryUnsent
	}
	return doOperation[Webhook](ctx, s.client, operation{name: "Webhooks.Update", op: "putV1WebhooksById",
		method: http.MethodPut, route: "/v1/Webhooks/{id}", retry: class, body: req, validate: req.validate}, id, callOpts)
}

// Delete removes a subscription permanently, with its delivery history (DELETE
// /v1/Webhooks/{id}). Update with IsActive = Ptr(false) is the reversible alternative. It is
// retried after failures whose outcome is unknown; a 404 that follows such a failure means the
// earlier attempt worked, and Delete reports success.
//
// Errors: *[ValidationError] for an id that is not a UUID; *[APIError] matching ErrNotFound.
func (s *WebhooksService) Delete(ctx context.Context, id string, callOpts ...CallOption) error {
	return sendOperation(ctx, s.client, operation{name: "Webhooks.Delete", op: "deleteV1WebhooksById",
		method: http.MethodDelete, route: "/v1/Webhooks/{id}", retry: retryDelete}, id, callOpts)
}

// Test asks Debitura to send a test event to the partner's subscriptions of req.EventType (POST
// /v1/Webhooks/test). It works in the test environment only (production answers 403). The call
// returns once the event is queued; delivery follows asynchronously, signed like any other and
// with the X-Debitura-Test header (webhook.Event.Test). Like Create, it is retried only when the
// earlier attempt provably did nothing, so that one call never queues two deliveries.
//
// Errors: *[ValidationError] before sending (nil request; empty EventType; a case.* event
// without CaseID, or a CaseID that is not a UUID; a client.* event without ExternalTenantID);
// *[APIError] matching ErrForbidden (production), ErrNotFound (no such case or active link) or
// ErrValidation (an event type the API does not know).
func (s *WebhooksService) Test(ctx context.Context, req *WebhookTestRequest, callOpts ...CallOption) (*WebhookTestResult, error) {
	return doOperation[WebhookTestResult](ctx, s.client, operation{name: "Webhooks.Test", op: "postV1WebhooksTest",
		method: http.MethodPost, route: "/v1/Webhooks/test", retry: retryUnsent, body: req, validate: req.validate}, "", callOpts)
}

// validate checks r before it is sent and reports every problem it finds.
func (r *WebhookCreateRequest) validate(op string) error {
	if r == nil {
		return invalid(op, "request", "is nil")
	}
	p := &problems{op: op}
	p.webhookURL("url", r.URL)
	if len(r.Events) == 0 {
		p.add("events", "must list at least one event")
	}
	p.eventNames(r.Events)
	return p.err()
}

// validate checks r before it is sent and reports every problem it finds.
func (r *WebhookUpdateRequest) validate(op string) error {
	if r == nil {
		return invalid(op, "request", "is nil")
	}
	if r.URL == nil && len(r.Events) == 0 && r.IsActive == nil && !r.RegenerateSecret && r.IsTestMode == nil {
		return invalid(op, "request", "changes nothing: set URL, Events, IsActive, RegenerateSecret or IsTestMode")
	}
	p := &problems{op: op}
	if r.URL != nil {
		p.webhookURL("url", *r.URL)
	}
	p.eventNames(r.Events)
	return p.err()
}

// validate checks r before it is sent and reports every problem it finds.
func (r *WebhookTestRequest) validate(op string) error {
	if r == nil {
		return invalid(op, "request", "is nil")
	}
	p := &problems{op: op}
	if strings.TrimSpace(string(r.EventType)) == "" {
		p.add("eventType", "is required")
	}
	switch {
	case r.CaseID != "":
		p.uuid("caseId", r.CaseID)
	case r.EventType.IsCase():
		p.add("caseId", "is required for %s events", r.EventType)
	}
	switch {
	case r.ExternalTenantID != "":
		p.externalTenantID("externalTenantId", r.ExternalTenantID, -1)
	case r.EventType.IsClient():
		p.add("externalTenantId", "is required for %s events", r.EventType)
	}
	return p.err()
}

// checkWebhookURL is [problems.webhookURL] for a single field.
func checkWebhookURL(op, field, raw string) error {
	return checkOne(op, func(p *problems) { p.webhookURL(field, raw) })
}

// webhookURL checks a subscription URL: absolute, https (http on loopback only), a host, no
// more than 1024 characters.
func (p *problems) webhookURL(field, raw string) {
	if raw == "" {
		p.add(field, "is required")
		return
	}
	if n := utf8.RuneCountInString(raw); n > maxWebhookURLLen {
		p.add(field, "must be at most %d characters, got %d", maxWebhookURLLen, n)
		return
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		p.add(field, "must be an absolute https URL")
		return
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			p.add(field, "must use https (http is let through on loopback hosts only, for tests against the mock)")
		}
	default:
		p.add(field, "must use https, not %q", u.Scheme)
	}
}

// eventNames rejects empty or blank event names, each by its index. Unknown names pass: the API
// may add events.
func (p *problems) eventNames(events []webhook.EventType) {
	for i, et := range events {
		e := string(et)
		if strings.TrimSpace(e) == "" {
			p.add(fmt.Sprintf("events[%d]", i), "is empty")
		} else if e != strings.TrimSpace(e) {
			p.add(fmt.Sprintf("events[%d]", i), "%q has leading or trailing spaces", e)
		}
	}
}

// checkUUID is [problems.uuid] for a single field.
func checkUUID(op, field, s string) error {
	return checkOne(op, func(p *problems) { p.uuid(field, s) })
}

// uuid checks that s is a UUID in its 8-4-4-4-12 hex form (any letter case).
func (p *problems) uuid(field, s string) {
	if s == "" {
		p.add(field, "is required")
	} else if !isUUID(s) {
		p.add(field, "%q is not a UUID", s)
	}
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
