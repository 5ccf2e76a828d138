package debitura

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/debitura-go/debitura/webhook"
	"github.com/google/go-cmp/cmp"
)

const (
	whID     = "7b0c6d2e-5f1a-4c3b-9d8e-0a1b2c3d4e5f"
	whSecret = "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5" // base64("secret-signing-key-for-tests-0123456789")
	whCaseID = "9a9a9a9a-0000-4000-8000-000000000001"
)

// whDtoBody is a WebhookDto as Create returns it (with the secret).
const whDtoBody = `{"id":"` + whID + `","url":"https://partner.example/hooks/debitura","events":["client.linked","client.link_declined"],
 "isActive":true,"createdUtc":"2025-03-01T12:00:00Z","updatedUtc":"2025-03-01T12:00:00Z","disabledReason":null,
 "secret":"` + whSecret + `","isTestMode":true}`

func whWant() *Webhook {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return &Webhook{ID: whID, URL: "https://partner.example/hooks/debitura", Events: []webhook.EventType{webhook.ClientLinked, webhook.ClientLinkDeclined},
		IsActive: true, CreatedUTC: at, UpdatedUTC: at, Secret: NewSecret(whSecret), IsTestMode: true}
}

func TestWebhooksServiceWire(t *testing.T) {
	t.Parallel()
	listBody := `[{"id":"` + whID + `","url":"https://partner.example/h","events":["client.linked"],"isActive":false,
 "createdUtc":"2025-03-01T12:00:00Z","updatedUtc":"2025-03-02T08:30:00.5Z","disabledReason":"Too many failed deliveries","secret":null,"isTestMode":false}]`
	listWant := []*Webhook{{ID: whID, URL: "https://partner.example/h", Events: []webhook.EventType{webhook.ClientLinked},
		CreatedUTC: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), UpdatedUTC: time.Date(2025, 3, 2, 8, 30, 0, 5e8, time.UTC),
		DisabledReason: "Too many failed deliveries"}}
	tests := []struct {
		name    string
		pattern string
		status  int
		body    string
		header  []string
		call    func(c *Client) (any, error)
		want    any
		wantReq wantRequest
	}{
		{
			name: "List", pattern: "GET /v1/Webhooks", status: 200, body: listBody,
			call:    func(c *Client) (any, error) { return c.Webhooks.List(t.Context()) },
			want:    listWant,
			wantReq: wantRequest{Method: "GET", Path: "/v1/Webhooks"},
		},
		{
			name: "List empty", pattern: "GET /v1/Webhooks", status: 200, body: `[]`,
			call:    func(c *Client) (any, error) { return c.Webhooks.List(t.Context()) },
			want:    []*Webhook{},
			wantReq: wantRequest{Method: "GET", Path: "/v1/Webhooks"},
		},
		{
			name: "Get", pattern: "GET /v1/Webhooks/{id}", status: 200, body: listBody[1 : len(listBody)-1],
			call:    func(c *Client) (any, error) { return c.Webhooks.Get(t.Context(), whID) },
			want:    listWant[0],
			wantReq: wantRequest{Method: "GET", Path: "/v1/Webhooks/" + whID},
		},
		{
			name: "Create", pattern: "POST /v1/Webhooks", status: 200, body: whDtoBody,
			call: func(c *Client) (any, error) {
				return c.Webhooks.Create(t.Context(), &WebhookCreateRequest{URL: "https://partner.example/hooks/debitura",
					Events: []webhook.EventType{webhook.ClientLinked, webhook.ClientLinkDeclined}, IsTestMode: true})
			},
			want:    whWant(),
			wantReq: wantRequest{Method: "POST", Path: "/v1/Webhooks", Body: `{"url":"https://partner.example/hooks/debitura","events":["client.linked","client.link_declined"],"isTestMode":true}`},
		},
		{
			name: "Create 201 and unknown event name", pattern: "POST /v1/Webhooks", status: 201, body: whDtoBody, header: lenient,
			call: func(c *Client) (any, error) {
				return c.Webhooks.Create(t.Context(), &WebhookCreateRequest{URL: "https://partner.example/hooks/debitura", Events: []webhook.EventType{"client.future_event"}})
			},
			want:    whWant(),
			wantReq: wantRequest{Method: "POST", Path: "/v1/Webhooks", Body: `{"url":"https://partner.example/hooks/debitura","events":["client.future_event"]}`},
		},
		{
			name: "Create PascalCase answer without zone", pattern: "POST /v1/Webhooks", status: 200, header: lenient,
			body: `{"Id":"` + whID + `","Url":"https://partner.example/hooks/debitura","Events":["client.linked","client.link_declined"],"IsActive":true,
 "CreatedUtc":"2025-03-01T12:00:00","UpdatedUtc":"2025-03-01T12:00:00","Secret":"` + whSecret + `","IsTestMode":true}`,
			call: func(c *Client) (any, error) {
				return c.Webhooks.Create(t.Context(), &WebhookCreateRequest{URL: "http://127.0.0.1:8080/hooks", Events: webhook.ClientEvents()})
			},
			want: whWant(),
			wantReq: wantRequest{Method: "POST", Path: "/v1/Webhooks", Body: `{"url":"http://127.0.0.1:8080/hooks","events":["client.linked","client.link_declined",
 "client.link_requested","client.link_expired","client.onboarding.contract_signed","client.onboarding.poa_signed","cases.replay_failed"]}`},
		},
		{
			name: "Update every field", pattern: "PUT /v1/Webhooks/{id}", status: 200, body: whDtoBody,
			call: func(c *Client) (any, error) {
				return c.Webhooks.Update(t.Context(), whID, &WebhookUpdateRequest{URL: Ptr("https://partner.example/hooks/debitura"),
					Events: []webhook.EventType{webhook.ClientLinked, webhook.ClientLinkDeclined}, IsActive: Ptr(true), RegenerateSecret: true, IsTestMode: Ptr(true)})
			},
			want: whWant(),
			wantReq: wantRequest{Method: "PUT", Path: "/v1/Webhooks/" + whID,
				Body: `{"url":"https://partner.example/hooks/debitura","events":["client.linked","client.link_declined"],"isActive":true,"regenerateSecret":true,"isTestMode":true}`},
		},
		{
			name: "Update disable only", pattern: "PUT /v1/Webhooks/{id}", status: 200, body: whDtoBody,
			call: func(c *Client) (any, error) {
				return c.Webhooks.Update(t.Context(), whID, &WebhookUpdateRequest{IsActive: Ptr(false), IsTestMode: Ptr(false)})
			},
			want:    whWant(),
			wantReq: wantRequest{Method: "PUT", Path: "/v1/Webhooks/" + whID, Body: `{"isActive":false,"isTestMode":false}`},
		},
		{
			name: "Delete", pattern: "DELETE /v1/Webhooks/{id}", status: 204,
			call:    func(c *Client) (any, error) { return nil, c.Webhooks.Delete(t.Context(), whID) },
			wantReq: wantRequest{Method: "DELETE", Path: "/v1/Webhooks/" + whID},
		},
		{
			name: "Test client event", pattern: "POST /v1/Webhooks/test", status: 200,
			body: `{"eventType":"client.linked","enqueuedCount":2,"message":"Test event enqueued"}`,
			call: func(c *Client) (any, error) {
				return c.Webhooks.Test(t.Context(), &WebhookTestRequest{EventType: webhook.ClientLinked, ExternalTenantID: "tenant/1"})
			},
			want:    &WebhookTestResult{EventType: webhook.ClientLinked, EnqueuedCount: 2, Message: "Test event enqueued"},
			wantReq: wantRequest{Method: "POST", Path: "/v1/Webhooks/test", Body: `{"eventType":"client.linked","externalTenantId":"tenant/1"}`},
		},
		{
			name: "Test case event", pattern: "POST /v1/Webhooks/test", status: 200,
			body: `{"eventType":"case.closed","enqueuedCount":0,"message":null}`,
			call: func(c *Client) (any, error) {
				return c.Webhooks.Test(t.Context(), &WebhookTestRequest{EventType: webhook.CaseClosed, CaseID: whCaseID,
					OldLifecycle: "Active", NewLifecycle: "Closed", CloseCode: "Paid", CloseComment: "paid in full"})
			},
			want: &WebhookTestResult{EventType: webhook.CaseClosed},
			wantReq: wantRequest{Method: "POST", Path: "/v1/Webhooks/test",
				Body: `{"eventType":"case.closed","caseId":"` + whCaseID + `","oldLifecycle":"Active","newLifecycle":"Closed","closeCode":"Paid","closeComment":"paid in full"}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t)
			h.answer(tt.pattern, tt.status, tt.body, tt.header...)
			got, err := tt.call(c)
			if err != nil {
				t.Fatalf("Webhooks.%s = %v", tt.name, err)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Webhooks.%s result (-want +got):\n%s", tt.name, diff)
				}
			}
			checkRequest(t, h.only(), tt.wantReq)
		})
	}
}

func TestWebhooksServiceErrors(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.answer("GET /v1/Webhooks/{id}", 404, `{"error":"Not found","message":"Webhook not found"}`)
	h.answer("POST /v1/Webhooks/test", 403, `{"error":"Forbidden","message":"Only available in the test environment"}`)
	h.answer("POST /v1/Webhooks", 400, `{"error":"Validation failed","message":"Url must be HTTPS"}`)
	if _, err := c.Webhooks.Get(t.Context(), whID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Webhooks.Get() = %v, want ErrNotFound", err)
	}
	if _, err := c.Webhooks.Test(t.Context(), &WebhookTestRequest{EventType: webhook.ClientLinked, ExternalTenantID: "t-1"}); !errors.Is(err, ErrForbidden) {
		t.Errorf("Webhooks.Test() = %v, want ErrForbidden", err)
	}
	_, err := c.Webhooks.Create(t.Context(), &WebhookCreateRequest{URL: "https://localhost/x", Events: []webhook.EventType{webhook.ClientLinked}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrValidation) || apiErr.Route != "/v1/Webhooks" {
		t.Errorf("Webhooks.Create() = %v, want *APIError for /v1/Webhooks matching ErrValidation", err)
	}
}

func TestWebhooksServiceValidation(t *testing.T) {
	t.Parallel()
	long := "https://partner.example/" + strings.Repeat("a", maxWebhookURLLen)
	okEvents := []webhook.EventType{webhook.ClientLinked}
	// create, update and test call the operation with r.
	create := func(r *WebhookCreateRequest) func(c *Client) error {
		return func(c *Client) error { _, err := c.Webhooks.Create(t.Context(), r); return err }
	}
	update := func(id string, r *WebhookUpdateRequest) func(c *Client) error {
		return func(c *Client) error { _, err := c.Webhooks.Update(t.Context(), id, r); return err }
	}
	test := func(r *WebhookTestRequest) func(c *Client) error {
		return func(c *Client) error { _, err := c.Webhooks.Test(t.Context(), r); return err }
	}
	tests := []struct {
		name      string
		call      func(c *Client) error
		wantOp    string
		wantField string
	}{
		{"Get empty id", func(c *Client) error { _, err := c.Webhooks.Get(t.Context(), ""); return err }, "Webhooks.Get", "id"},
		{"Get id not a UUID", func(c *Client) error { _, err := c.Webhooks.Get(t.Context(), "../clients"); return err }, "Webhooks.Get", "id"},
		{"Get UUID without dashes", func(c *Client) error {
			_, err := c.Webhooks.Get(t.Context(), strings.ReplaceAll(whID, "-", "")+"abcd")
			return err
		}, "Webhooks.Get", "id"},
		{"Delete bad id", func(c *Client) error { return c.Webhooks.Delete(t.Context(), "7b0c6d2e-5f1a-4c3b-9d8e-0a1b2c3d4e5g") }, "Webhooks.Delete", "id"},
		{"Create nil", create(nil), "Webhooks.Create", "request"},
		{"Create no URL", create(&WebhookCreateRequest{Events: okEvents}), "Webhooks.Create", "url"},
		{"Create relative URL", create(&WebhookCreateRequest{URL: "/hooks", Events: okEvents}), "Webhooks.Create", "url"},
		{"Create http URL", create(&WebhookCreateRequest{URL: "http://partner.example/hooks", Events: okEvents}), "Webhooks.Create", "url"},
		{"Create http on private IP", create(&WebhookCreateRequest{URL: "http://10.0.0.1/hooks", Events: okEvents}), "Webhooks.Create", "url"},
		{"Create ftp URL", create(&WebhookCreateRequest{URL: "ftp://partner.example/hooks", Events: okEvents}), "Webhooks.Create", "url"},
		{"Create URL without host", create(&WebhookCreateRequest{URL: "https:///hooks", Events: okEvents}), "Webhooks.Create", "url"},
		{"Create URL too long", create(&WebhookCreateRequest{URL: long, Events: okEvents}), "Webhooks.Create", "url"},
		{"Create no events", create(&WebhookCreateRequest{URL: "https://partner.example/h"}), "Webhooks.Create", "events"},
		{"Create empty event name", create(&WebhookCreateRequest{URL: "https://partner.example/h", Events: []webhook.EventType{webhook.ClientLinked, ""}}), "Webhooks.Create", "events[1]"},
		{"Create blank event name", create(&WebhookCreateRequest{URL: "https://partner.example/h", Events: []webhook.EventType{" "}}), "Webhooks.Create", "events[0]"},
		{"Create padded event name", create(&WebhookCreateRequest{URL: "https://partner.example/h", Events: []webhook.EventType{"client.linked "}}), "Webhooks.Create", "events[0]"},
		{"Update bad id", update("nope", &WebhookUpdateRequest{IsActive: Ptr(true)}), "Webhooks.Update", "id"},
		{"Update nil", update(whID, nil), "Webhooks.Update", "request"},
		{"Update nothing", update(whID, &WebhookUpdateRequest{}), "Webhooks.Update", "request"},
		{"Update http URL", update(whID, &WebhookUpdateRequest{URL: Ptr("http://partner.example/h")}), "Webhooks.Update", "url"},
		{"Update empty URL", update(whID, &WebhookUpdateRequest{URL: Ptr("")}), "Webhooks.Update", "url"},
		{"Update empty event", update(whID, &WebhookUpdateRequest{Events: []webhook.EventType{""}}), "Webhooks.Update", "events[0]"},
		{"Test nil", test(nil), "Webhooks.Test", "request"},
		{"Test no event type", test(&WebhookTestRequest{ExternalTenantID: "t-1"}), "Webhooks.Test", "eventType"},
		{"Test client event without tenant", test(&WebhookTestRequest{EventType: webhook.ClientLinkExpired}), "Webhooks.Test", "externalTenantId"},
		{"Test client event with control character", test(&WebhookTestRequest{EventType: webhook.ClientLinked, ExternalTenantID: "t\n1"}), "Webhooks.Test", "externalTenantId"},
		{"Test case event without case", test(&WebhookTestRequest{EventType: webhook.CaseUpdated}), "Webhooks.Test", "caseId"},
		{"Test case id not a UUID", test(&WebhookTestRequest{EventType: webhook.CaseCreated, CaseID: "case-1"}), "Webhooks.Test", "caseId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// refused fails the test on any request: none may be sent.
			if ve := refused(t, tt.call); ve.Op != tt.wantOp || ve.Field != tt.wantField {
				t.Errorf("%s: ValidationError{Op: %q, Field: %q}, want {%q, %q} (%v)", tt.name, ve.Op, ve.Field, tt.wantOp, tt.wantField, ve)
			}
		})
	}
}

func TestWebhookURLAllowsLoopbackHTTP(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1:9999/h", "http://localhost/h", "http://[::1]:8080/h", "HTTPS://partner.example:8443/h?x=1"} {
		if err := checkWebhookURL("op", "url", u); err != nil {
			t.Errorf("checkWebhookURL(%q) = %v, want nil", u, err)
		}
	}
}

// dialFailFirst fails the first n round trips as a refused connection (the request never left)
// and sends the rest.
type dialFailFirst struct {
	n    atomic.Int32
	base http.RoundTripper
}

func (d *dialFailFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.n.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	}
	return d.base.RoundTrip(r)
}

// TestWebhooksRetryClasses checks which webhook calls are sent again after which failure: the
// non-idempotent ones (Create, Update with RegenerateSecret, Test) only after a failure that
// provably did nothing.
func TestWebhooksRetryClasses(t *testing.T) {
	t.Parallel()
	create := func(c *Client) error {
		_, err := c.Webhooks.Create(t.Context(), &WebhookCreateRequest{URL: "https://partner.example/h", Events: []webhook.EventType{webhook.ClientLinked}})
		return err
	}
	regenerate := func(c *Client) error {
		_, err := c.Webhooks.Update(t.Context(), whID, &WebhookUpdateRequest{RegenerateSecret: true})
		return err
	}
	update := func(c *Client) error {
		_, err := c.Webhooks.Update(t.Context(), whID, &WebhookUpdateRequest{IsActive: Ptr(true)})
		return err
	}
	trigger := func(c *Client) error {
		_, err := c.Webhooks.Test(t.Context(), &WebhookTestRequest{EventType: webhook.ClientLinked, ExternalTenantID: "t-1"})
		return err
	}
	list := func(c *Client) error { _, err := c.Webhooks.List(t.Context()); return err }
	del := func(c *Client) error { return c.Webhooks.Delete(t.Context(), whID) }

	ok := status(200, whDtoBody)
	tests := []struct {
		name      string
		call      func(c *Client) error
		first     step
		then      step
		refused   int // connections refused before the server is reached
		wantHits  int
		wantErrIs error // nil: success
	}{
		{"Create 500 not retried", create, status(500, `{"message":"boom"}`), ok, 0, 1, ErrServer},
		{"Create 502 not retried", create, status(502, ""), ok, 0, 1, ErrServer},
		{"Create reset not retried", create, reset(), ok, 0, 1, errAny},
		{"Create 429 retried", create, status(429, `{"retryAfter":1}`), ok, 0, 2, nil},
		{"Create refused retried", create, ok, ok, 1, 1, nil},
		{"Create 400 final", create, status(400, `{"message":"bad"}`), ok, 0, 1, ErrValidation},
		{"Regenerate 503 not retried", regenerate, status(503, ""), ok, 0, 1, ErrServer},
		{"Regenerate reset not retried", regenerate, reset(), ok, 0, 1, errAny},
		{"Regenerate 429 retried", regenerate, status(429, `{"retryAfter":1}`), ok, 0, 2, nil},
		{"Regenerate refused retried", regenerate, ok, ok, 2, 1, nil},
		{"Test 500 not retried", trigger, status(500, ""), status(200, `{"enqueuedCount":1}`), 0, 1, ErrServer},
		{"Test 429 retried", trigger, status(429, `{"retryAfter":1}`), status(200, `{"enqueuedCount":1}`), 0, 2, nil},
		{"Update 500 retried", update, status(500, ""), ok, 0, 2, nil},
		{"Update reset retried", update, reset(), ok, 0, 2, nil},
		{"List 503 retried", list, status(503, ""), status(200, `[]`), 0, 2, nil},
		{"Delete 404 after 500 is success", del, status(500, ""), status(404, `{"message":"Webhook not found"}`), 0, 2, nil},
		{"Delete 404 first is not found", del, status(404, `{"message":"Webhook not found"}`), status(204, ""), 0, 1, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := &dialFailFirst{base: http.DefaultTransport}
			tr.n.Store(int32(tt.refused))
			c, h := setup(t, WithHTTPClient(&http.Client{Transport: tr}))
			h.script(tt.first, tt.then)
			err := tt.call(c)
			switch {
			case tt.wantErrIs == nil && err != nil:
				t.Errorf("call = %v, want success", err)
			case tt.wantErrIs == errAny && err == nil:
				t.Errorf("call = nil, want an error")
			case tt.wantErrIs != nil && tt.wantErrIs != errAny && !errors.Is(err, tt.wantErrIs):
				t.Errorf("call = %v, want errors.Is %v", err, tt.wantErrIs)
			}
			if n := len(h.requests()); n != tt.wantHits {
				t.Errorf("server hits = %d, want %d", n, tt.wantHits)
			}
		})
	}
}

// errAny marks a test case that wants some error, whatever it is.
var errAny = errors.New("any error")

func TestWebhookSecretRedacted(t *testing.T) {
	t.Parallel()
	w := whWant()
	var texts []string
	for _, v := range []any{w, *w, []*Webhook{w}, struct{ W Webhook }{*w}} {
		for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			texts = append(texts, fmt.Sprintf(f, v))
		}
	}
	texts = append(texts, w.String(), w.GoString())
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(h).Info("webhook", "w", w, "v", *w)
	}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("webhooks", "list", []*Webhook{w}, "map", map[string]Webhook{"a": *w})
	js, err := json.Marshal(struct{ Hooks []*Webhook }{[]*Webhook{w}})
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, buf.String(), string(js))
	if !strings.Contains(string(js), `"secret":"[REDACTED]"`) || !strings.Contains(string(js), `"id":"`+whID+`"`) {
		t.Errorf("json.Marshal = %s, want the id and a redacted secret", js)
	}
	for i, s := range texts {
		if strings.Contains(s, whSecret) || strings.Contains(s, whSecret[:16]) {
			t.Errorf("text %d leaks the secret: %s", i, s)
		}
	}
	if !strings.Contains(texts[0], whID) || !strings.Contains(texts[0], redactedMark) {
		t.Errorf("%%v = %s, want the id and a redaction mark", texts[0])
	}
	if !strings.Contains(buf.String(), `"secret":"[REDACTED]"`) {
		t.Errorf("slog JSON = %s, want the secret field redacted", buf.String())
	}
	// Without a secret there is nothing to redact, and the output says so.
	if s := fmt.Sprint(Webhook{ID: whID}); strings.Contains(s, redactedMark) {
		t.Errorf("Webhook without secret prints %s, want no redaction mark", s)
	}
}
