package debitura

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// whNow is the receiver's clock in these tests: 2025-03-01T12:00:00Z, unix 1740830400.
var whNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const whOldSecret = "b2xkLXNlY3JldC1iZWZvcmUtcm90YXRpb24=" // base64("old-secret-before-rotation")

func mustSign(t *testing.T, secret string, at time.Time, body []byte) string {
	t.Helper()
	h, err := SignWebhook(secret, at, body)
	if err != nil {
		t.Fatalf("SignWebhook() = %v", err)
	}
	return h
}

// TestSignWebhookVector checks the scheme against a vector computed outside Go (Python's hmac):
// HMAC-SHA256 over "{t}.{body}" keyed with the Base64-decoded secret, lower-case hex.
func TestSignWebhookVector(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"e-1","event":"client.linked"}`)
	got := mustSign(t, whSecret, whNow, body)
	want := "t=1740830400,v1=bfefacd622faf3994a626287804b596e0993ce2a076a9b397728a9dcc417533d"
	if got != want {
		t.Errorf("SignWebhook() = %q, want %q", got, want)
	}
	if err := VerifyWebhook(whSecret, want, body, whNow); err != nil {
		t.Errorf("VerifyWebhook(vector) = %v, want nil", err)
	}
	// The secret is used decoded: keying with the Base64 text itself must not verify.
	raw := base64.StdEncoding.EncodeToString([]byte(whSecret))
	if err := VerifyWebhook(raw, want, body, whNow); !errors.Is(err, ErrWebhookSignature) {
		t.Errorf("VerifyWebhook(secret not decoded) = %v, want ErrWebhookSignature", err)
	}
	if _, err := SignWebhook("not base64!", whNow, body); !errors.Is(err, ErrWebhookSecret) {
		t.Errorf("SignWebhook(bad secret) = %v, want ErrWebhookSecret", err)
	}
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"e-1","event":"client.linked","data":{"externalTenantId":"t-1"}}`)
	good := mustSign(t, whSecret, whNow, body)
	goodV1 := strings.TrimPrefix(good, "t=1740830400,")
	other := mustSign(t, whOldSecret, whNow, body)
	otherV1 := strings.TrimPrefix(other, "t=1740830400,")
	hexOf := func(h string) string { return strings.TrimPrefix(h, "v1=") }
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", whSecret, good, body, whNow, nil},
		{"valid upper-case hex", whSecret, "t=1740830400,v1=" + strings.ToUpper(hexOf(goodV1)), body, whNow, nil},
		{"valid with spaces", whSecret, " t=1740830400 , " + goodV1 + " ", body, whNow, nil},
		{"valid v1 first and unknown scheme ignored", whSecret, goodV1 + ",v0=zz,t=1740830400", body, whNow, nil},
		{"rotation: second v1 matches", whSecret, "t=1740830400," + otherV1 + "," + goodV1, body, whNow, nil},
		{"rotation: first v1 matches", whSecret, "t=1740830400," + goodV1 + "," + otherV1, body, whNow, nil},
		{"unpadded secret", strings.TrimRight(whSecret, "="), good, body, whNow, nil},
		{"secret with newline", whSecret + "\n", good, body, whNow, nil},
		{"299 s old", whSecret, good, body, whNow.Add(299 * time.Second), nil},
		{"300 s old", whSecret, good, body, whNow.Add(300 * time.Second), nil},
		{"300 s ahead", whSecret, good, body, whNow.Add(-300 * time.Second), nil},
		{"wrong secret", whOldSecret, good, body, whNow, ErrWebhookSignature},
		{"altered body", whSecret, good, append(bytes.Clone(body[:len(body)-1]), ' ', '}'), whNow, ErrWebhookSignature},
		{"empty body", whSecret, good, nil, whNow, ErrWebhookSignature},
		{"other timestamp signed", whSecret, "t=1740830401," + goodV1, body, whNow, ErrWebhookSignature},
		{"missing header", whSecret, "", body, whNow, ErrWebhookSignature},
		{"blank header", whSecret, "   ", body, whNow, ErrWebhookSignature},
		{"stale: 301 s old", whSecret, good, body, whNow.Add(301 * time.Second), ErrWebhookTimestamp},
		{"stale: a day old", whSecret, good, body, whNow.Add(24 * time.Hour), ErrWebhookTimestamp},
		{"future: 301 s ahead", whSecret, good, body, whNow.Add(-301 * time.Second), ErrWebhookTimestamp},
		{"missing t", whSecret, goodV1, body, whNow, ErrWebhookMalformed},
		{"missing v1", whSecret, "t=1740830400", body, whNow, ErrWebhookMalformed},
		{"only unknown scheme", whSecret, "t=1740830400,v2=" + hexOf(goodV1), body, whNow, ErrWebhookMalformed},
		{"non-hex v1", whSecret, "t=1740830400,v1=" + strings.Repeat("zz", 32), body, whNow, ErrWebhookMalformed},
		{"short v1", whSecret, "t=1740830400,v1=" + hexOf(goodV1)[:62], body, whNow, ErrWebhookMalformed},
		{"base64 v1", whSecret, "t=1740830400,v1=" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 32))), body, whNow, ErrWebhookMalformed},
		{"non-numeric t", whSecret, "t=yesterday," + goodV1, body, whNow, ErrWebhookMalformed},
		{"negative t", whSecret, "t=-1740830400," + goodV1, body, whNow, ErrWebhookMalformed},
		{"huge t", whSecret, "t=99999999999999999999," + goodV1, body, whNow, ErrWebhookMalformed},
		{"empty values", whSecret, "t=,v1=", body, whNow, ErrWebhookMalformed},
		{"two t", whSecret, "t=1740830400,t=1740830400," + goodV1, body, whNow, ErrWebhookMalformed},
		{"element without =", whSecret, "t=1740830400," + hexOf(goodV1), body, whNow, ErrWebhookMalformed},
		{"non-base64 secret", "not base64!", good, body, whNow, ErrWebhookSecret},
		{"empty secret", "", good, body, whNow, ErrWebhookSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := VerifyWebhook(tt.secret, tt.header, tt.body, tt.now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyWebhook() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyWebhook() = %v, want errors.Is %v", err, tt.want)
			}
			for _, other := range []error{ErrWebhookSignature, ErrWebhookTimestamp, ErrWebhookMalformed, ErrWebhookSecret} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("VerifyWebhook() = %v, also matches %v", err, other)
				}
			}
			assertNoWebhookSecret(t, err.Error())
		})
	}
}

// assertNoWebhookSecret fails when s carries a test secret, Base64 or decoded.
func assertNoWebhookSecret(t *testing.T, s string) {
	t.Helper()
	for _, sec := range []string{whSecret, strings.TrimRight(whSecret, "="), whOldSecret, "secret-signing-key", "old-secret-before"} {
		if strings.Contains(s, sec) {
			t.Errorf("text leaks a secret: %s", s)
		}
	}
}

func TestWebhookVerifierSecretsToleranceAndClock(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"e-1","event":"client.linked"}`)
	signedOld := mustSign(t, whOldSecret, whNow, body)
	clock := whNow
	v := &WebhookVerifier{Secret: NewSecret(whSecret), Secrets: []Secret{{}, NewSecret(whOldSecret)}, Tolerance: 10 * time.Second, Now: func() time.Time { return clock }}
	at, err := v.Verify(signedOld, body)
	if err != nil || !at.Equal(whNow) {
		t.Fatalf("Verify(old secret) = %v, %v; want %v, nil", at, err, whNow)
	}
	clock = whNow.Add(11 * time.Second)
	if _, err := v.Verify(signedOld, body); !errors.Is(err, ErrWebhookTimestamp) {
		t.Errorf("Verify(11 s old, tolerance 10 s) = %v, want ErrWebhookTimestamp", err)
	}
	v.Secrets = []Secret{NewSecret("%%%")}
	if _, err := v.Verify(signedOld, body); !errors.Is(err, ErrWebhookSecret) {
		t.Errorf("Verify(bad extra secret) = %v, want ErrWebhookSecret", err)
	}
	v.Secrets = nil
	clock = whNow
	if _, err := v.Verify(signedOld, body); !errors.Is(err, ErrWebhookSignature) {
		t.Errorf("Verify(old secret no longer configured) = %v, want ErrWebhookSignature", err)
	}
}

const whEnvelope = `{"id":"3c9a6f1e-8b7d-4e2a-9c1f-0d2e3f4a5b6c","specVersion":"1.0","event":"client.linked",
 "timestamp":"2025-03-01T11:59:58.123Z",
 "data":{"externalTenantId":"partner-client-123","creditor":{"id":"3f1c2a9e-1111-4c3b-9a55-0a0b0c0d0e0f",
  "companyName":"Acme Corp","registrationNumber":"12345678","countryId":"5b1f8a2c-2222-4d3e-8f00-112233445566","isAttributed":false}},
 "links":{"client":"https://referral-api.debitura.com/clients/partner-client-123"}}`

func signedHeader(t *testing.T, secret string, at time.Time, body []byte, extra ...string) http.Header {
	t.Helper()
	h := http.Header{}
	h.Set(WebhookSignatureHeader, mustSign(t, secret, at, body))
	h.Set(WebhookTimestampHeader, strconv.FormatInt(at.Unix(), 10))
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return h
}

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	body := []byte(whEnvelope)
	ev, err := ParseWebhook(whSecret, signedHeader(t, whSecret, whNow, body, WebhookEventHeader, EventClientLinked, WebhookTestHeader, "true"), body, whNow)
	if err != nil {
		t.Fatalf("ParseWebhook() = %v", err)
	}
	wantData := `{"externalTenantId":"partner-client-123","creditor":{"id":"3f1c2a9e-1111-4c3b-9a55-0a0b0c0d0e0f",
  "companyName":"Acme Corp","registrationNumber":"12345678","countryId":"5b1f8a2c-2222-4d3e-8f00-112233445566","isAttributed":false}}`
	want := &WebhookEvent{
		ID: "3c9a6f1e-8b7d-4e2a-9c1f-0d2e3f4a5b6c", SpecVersion: "1.0", Event: EventClientLinked,
		Timestamp: time.Date(2025, 3, 1, 11, 59, 58, 123e6, time.UTC), Data: json.RawMessage(wantData),
		Links: WebhookEventLinks{Client: "https://referral-api.debitura.com/clients/partner-client-123"},
		Test:  true, SignatureTime: whNow,
	}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("ParseWebhook() (-want +got):\n%s", diff)
	}
	cd, err := ev.ClientData()
	if err != nil {
		t.Fatalf("ClientData() = %v", err)
	}
	wantCD := &ClientEventData{ExternalTenantID: "partner-client-123", Raw: json.RawMessage(wantData),
		Creditor: &EventCreditor{ID: "3f1c2a9e-1111-4c3b-9a55-0a0b0c0d0e0f", CompanyName: "Acme Corp", RegistrationNumber: "12345678",
			CountryID: "5b1f8a2c-2222-4d3e-8f00-112233445566", IsAttributed: Ptr(false)}}
	if diff := cmp.Diff(wantCD, cd); diff != "" {
		t.Errorf("ClientData() (-want +got):\n%s", diff)
	}
	if _, err := ev.ReplayFailedData(); !errors.Is(err, ErrWebhookMalformed) {
		t.Errorf("ReplayFailedData() of client.linked = %v, want ErrWebhookMalformed", err)
	}
}

func TestWebhookEventDecoding(t *testing.T) {
	t.Parallel()
	signed := time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		body       string
		header     []string
		wantEvent  EventType
		wantTest   bool
		wantClient *ClientEventData // nil: ClientData must fail
		wantReplay *CasesReplayFailedData
	}{
		{
			name:      "PascalCase envelope, zone-less timestamp, poa_signed",
			body:      `{"Id":"e-2","SpecVersion":"1.0","Event":"client.onboarding.poa_signed","Timestamp":"2025-03-01T11:00:00","Data":{"ExternalTenantId":"t-2","SignedAt":"2025-03-01T11:00:00Z","Creditor":{"Id":"c-2","CompanyName":"Beta ApS"}},"Links":{"Client":null}}`,
			wantEvent: EventClientPOASigned,
			wantClient: &ClientEventData{ExternalTenantID: "t-2", SignedAt: &signed, Creditor: &EventCreditor{ID: "c-2", CompanyName: "Beta ApS"},
				Raw: json.RawMessage(`{"ExternalTenantId":"t-2","SignedAt":"2025-03-01T11:00:00Z","Creditor":{"Id":"c-2","CompanyName":"Beta ApS"}}`)},
		},
		{
			name:       "link_declined without isAttributed, test header 1",
			body:       `{"id":"e-3","event":"client.link_declined","data":{"externalTenantId":"t-3","creditor":{"id":"c-3","isAttributed":null}}}`,
			header:     []string{WebhookTestHeader, "1"},
			wantEvent:  EventClientLinkDeclined,
			wantTest:   true,
			wantClient: &ClientEventData{ExternalTenantID: "t-3", Creditor: &EventCreditor{ID: "c-3"}, Raw: json.RawMessage(`{"externalTenantId":"t-3","creditor":{"id":"c-3","isAttributed":null}}`)},
		},
		{
			name:       "data null",
			body:       `{"id":"e-4","event":"client.link_expired","data":null}`,
			header:     []string{WebhookEventHeader, "client.link_expired", WebhookTestHeader, "false"},
			wantEvent:  EventClientLinkExpired,
			wantClient: &ClientEventData{},
		},
		{
			name:      "cases.replay_failed",
			body:      `{"id":"e-5","event":"cases.replay_failed","data":{"externalTenantId":"t-5","failedCases":[{"caseIndex":1,"creditorReference":"INV-2","errorType":"NoPartnerAvailable","errorMessage":"none"}],"extra":1}}`,
			wantEvent: EventCasesReplayFailed,
			wantReplay: &CasesReplayFailedData{ExternalTenantID: "t-5",
				FailedCases: []CaseCreationFailure{{CaseIndex: 1, CreditorReference: "INV-2", ErrorType: "NoPartnerAvailable", ErrorMessage: "none"}},
				Raw:         json.RawMessage(`{"externalTenantId":"t-5","failedCases":[{"caseIndex":1,"creditorReference":"INV-2","errorType":"NoPartnerAvailable","errorMessage":"none"}],"extra":1}`)},
		},
		{
			name:      "unknown future event is kept",
			body:      `{"id":"e-6","event":"partner.something_new","data":{"x":[1,2]}}`,
			wantEvent: "partner.something_new",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			ev, err := ParseWebhook(whSecret, signedHeader(t, whSecret, whNow, body, tt.header...), body, whNow)
			if err != nil {
				t.Fatalf("ParseWebhook() = %v", err)
			}
			if ev.Event != tt.wantEvent || ev.Test != tt.wantTest {
				t.Errorf("event = %q, test %t; want %q, %t", ev.Event, ev.Test, tt.wantEvent, tt.wantTest)
			}
			cd, err := ev.ClientData()
			if tt.wantClient == nil {
				if !errors.Is(err, ErrWebhookMalformed) {
					t.Errorf("ClientData() = %v, %v; want ErrWebhookMalformed", cd, err)
				}
			} else if diff := cmp.Diff(tt.wantClient, cd); err != nil || diff != "" {
				t.Errorf("ClientData() err %v (-want +got):\n%s", err, diff)
			}
			if tt.wantReplay != nil {
				rd, err := ev.ReplayFailedData()
				if diff := cmp.Diff(tt.wantReplay, rd); err != nil || diff != "" {
					t.Errorf("ReplayFailedData() err %v (-want +got):\n%s", err, diff)
				}
			}
		})
	}
}

func TestParseWebhookMalformedBody(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`not json`, `[]`, `{"event":"client.linked"}`, `{"id":"e-1"}`, `{"id":"e-1","event":"client.linked","timestamp":"yesterday"}`, `{"id":"e-1","event":"client.linked","data":{"creditor":"x"}}`} {
		b := []byte(body)
		ev, err := ParseWebhook(whSecret, signedHeader(t, whSecret, whNow, b), b, whNow)
		if err == nil {
			// Only the data can be wrong now; the typed accessor must say so.
			_, err = ev.ClientData()
		}
		if !errors.Is(err, ErrWebhookMalformed) {
			t.Errorf("ParseWebhook(%s) = %v, want ErrWebhookMalformed", body, err)
		}
	}
	// The signature is checked before the body is looked at.
	if _, err := ParseWebhook(whSecret, http.Header{}, []byte(`not json`), whNow); !errors.Is(err, ErrWebhookSignature) {
		t.Errorf("ParseWebhook(unsigned junk) = %v, want ErrWebhookSignature", err)
	}
}

func TestEventTypes(t *testing.T) {
	t.Parallel()
	for _, e := range ClientEvents() {
		et := EventType(e)
		if !et.Known() || et.IsCase() {
			t.Errorf("%q: Known %t, IsCase %t; want true, false", e, et.Known(), et.IsCase())
		}
		if et.IsClient() != strings.HasPrefix(e, "client.") {
			t.Errorf("%q: IsClient = %t", e, et.IsClient())
		}
	}
	for _, e := range []EventType{EventCaseCreated, EventCaseUpdated, EventCaseClosed} {
		if !e.Known() || !e.IsCase() || e.IsClient() {
			t.Errorf("%q: Known %t, IsCase %t, IsClient %t", e, e.Known(), e.IsCase(), e.IsClient())
		}
	}
	if EventType("cases.replay_failed").IsCase() || EventType("client.new").Known() {
		t.Errorf("cases.replay_failed must not be a case event; client.new must not be known")
	}
	if got := ClientEvents(); len(got) != 7 {
		t.Errorf("ClientEvents() = %v, want 7 names", got)
	}
}

// whReceiver is a WebhookHandler behind a real HTTP server.
type whReceiver struct {
	srv   *httptest.Server
	calls atomic.Int32
	mu    sync.Mutex
	got   []*WebhookEvent
}

func newWhReceiver(t *testing.T, fn func(ctx context.Context, ev *WebhookEvent) error, opts ...WebhookOption) *whReceiver {
	t.Helper()
	r := &whReceiver{}
	all := append([]WebhookOption{WithWebhookClock(func() time.Time { return whNow })}, opts...)
	h := WebhookHandler(whSecret, func(ctx context.Context, ev *WebhookEvent) error {
		r.calls.Add(1)
		r.mu.Lock()
		r.got = append(r.got, ev)
		r.mu.Unlock()
		if fn == nil {
			return nil
		}
		return fn(ctx, ev)
	}, all...)
	r.srv = httptest.NewUnstartedServer(h)
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the panic test would print a stack
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

// deliver posts body with the header h and returns the status.
func (r *whReceiver) deliver(t *testing.T, method string, h http.Header, body []byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, r.srv.URL+"/hooks/debitura", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		return 0 // the handler panicked and net/http dropped the connection
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func whBody(id string) []byte {
	return []byte(`{"id":"` + id + `","specVersion":"1.0","event":"client.linked","timestamp":"2025-03-01T12:00:00Z","data":{"externalTenantId":"t-1"}}`)
}

func TestWebhookHandlerStatuses(t *testing.T) {
	t.Parallel()
	body := whBody("e-1")
	good := signedHeader(t, whSecret, whNow, body)
	bad := signedHeader(t, whOldSecret, whNow, body)
	stale := signedHeader(t, whSecret, whNow.Add(-10*time.Minute), body)
	future := signedHeader(t, whSecret, whNow.Add(10*time.Minute), body)
	malformed := http.Header{WebhookSignatureHeader: {"t=abc,v1=00"}}
	noID := []byte(`{"event":"client.linked"}`)
	big := append(bytes.Clone(body[:len(body)-1]), []byte(`,"pad":"`+strings.Repeat("x", 2000)+`"}`)...)
	tests := []struct {
		name      string
		method    string
		header    http.Header
		body      []byte
		opts      []WebhookOption
		want      int
		wantCalls int32
	}{
		{"valid", http.MethodPost, good, body, nil, 200, 1},
		{"wrong secret", http.MethodPost, bad, body, nil, 401, 0},
		{"altered body", http.MethodPost, good, whBody("e-2"), nil, 401, 0},
		{"missing signature", http.MethodPost, http.Header{}, body, nil, 401, 0},
		{"stale", http.MethodPost, stale, body, nil, 401, 0},
		{"future", http.MethodPost, future, body, nil, 401, 0},
		{"malformed header", http.MethodPost, malformed, body, nil, 400, 0},
		{"signed body without id", http.MethodPost, signedHeader(t, whSecret, whNow, noID), noID, nil, 400, 0},
		{"GET", http.MethodGet, good, nil, nil, 405, 0},
		{"body over the cap", http.MethodPost, signedHeader(t, whSecret, whNow, big), big, []WebhookOption{WithWebhookMaxBody(1024)}, 413, 0},
		{"body at the cap", http.MethodPost, good, body, []WebhookOption{WithWebhookMaxBody(int64(len(body)))}, 200, 1},
		{"old secret during rotation", http.MethodPost, bad, body, []WebhookOption{WithWebhookSecrets(whOldSecret)}, 200, 1},
		{"wider tolerance", http.MethodPost, stale, body, []WebhookOption{WithWebhookTolerance(time.Hour)}, 200, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newWhReceiver(t, nil, tt.opts...)
			if got := r.deliver(t, tt.method, tt.header, tt.body); got != tt.want {
				t.Errorf("delivery status = %d, want %d", got, tt.want)
			}
			if n := r.calls.Load(); n != tt.wantCalls {
				t.Errorf("fn called %d times, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestWebhookHandlerMisconfiguredSecret(t *testing.T) {
	t.Parallel()
	body := whBody("e-1")
	called := false
	srv := httptest.NewServer(WebhookHandler("not base64!", func(context.Context, *WebhookEvent) error { called = true; return nil }))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header = signedHeader(t, whSecret, time.Now(), body)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || called {
		t.Errorf("status %d, fn called %t; want 500, false", resp.StatusCode, called)
	}
}

func TestWebhookHandlerDeduplicates(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	fail.Store(true)
	r := newWhReceiver(t, func(ctx context.Context, ev *WebhookEvent) error {
		if fail.Load() {
			return errors.New("database down")
		}
		return nil
	})
	body := whBody("e-1")
	h := signedHeader(t, whSecret, whNow, body)
	steps := []struct {
		name      string
		fail      bool
		want      int
		wantCalls int32
	}{
		{"first delivery fails in fn", true, 500, 1},
		{"redelivery is processed again and fails", true, 500, 2},
		{"redelivery succeeds", false, 200, 3},
		{"duplicate is acknowledged without a call", false, 200, 3},
		{"duplicate even if fn would fail now", true, 200, 3},
	}
	for _, s := range steps {
		fail.Store(s.fail)
		if got := r.deliver(t, http.MethodPost, h, body); got != s.want {
			t.Errorf("%s: status %d, want %d", s.name, got, s.want)
		}
		if n := r.calls.Load(); n != s.wantCalls {
			t.Errorf("%s: fn called %d times in all, want %d", s.name, n, s.wantCalls)
		}
	}
	// Another event id is a new event; a redelivery signed later (new t) is still a duplicate.
	fail.Store(false)
	b2 := whBody("e-2")
	if got := r.deliver(t, http.MethodPost, signedHeader(t, whSecret, whNow, b2), b2); got != 200 || r.calls.Load() != 4 {
		t.Errorf("new id: status %d, calls %d; want 200, 4", got, r.calls.Load())
	}
	if got := r.deliver(t, http.MethodPost, signedHeader(t, whSecret, whNow.Add(time.Minute), body), body); got != 200 || r.calls.Load() != 4 {
		t.Errorf("re-signed duplicate: status %d, calls %d; want 200, 4", got, r.calls.Load())
	}
}

func TestWebhookHandlerConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	const n = 20
	entered := make(chan struct{})
	release := make(chan struct{})
	r := newWhReceiver(t, func(ctx context.Context, ev *WebhookEvent) error {
		close(entered) // a second call would panic: fn must run once
		<-release
		return nil
	})
	body := whBody("e-concurrent")
	h := signedHeader(t, whSecret, whNow, body)
	statuses := make(chan int, n)
	for range n {
		go func() { statuses <- r.deliver(t, http.MethodPost, h, body) }()
	}
	<-entered
	var got []int
	for range n - 1 { // the other deliveries answer while the first is still in fn
		got = append(got, <-statuses)
	}
	close(release)
	got = append(got, <-statuses)
	slices.Sort(got)
	want := append([]int{200}, slices.Repeat([]int{409}, n-1)...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if c := r.calls.Load(); c != 1 {
		t.Errorf("fn called %d times, want 1", c)
	}
	// Once processed, the next delivery is a plain duplicate.
	if s := r.deliver(t, http.MethodPost, h, body); s != 200 || r.calls.Load() != 1 {
		t.Errorf("after processing: status %d, calls %d; want 200, 1", s, r.calls.Load())
	}
}

func TestWebhookHandlerConcurrentDistinctIDs(t *testing.T) {
	t.Parallel()
	r := newWhReceiver(t, nil)
	const n = 20
	var wg sync.WaitGroup
	for i := range n * 2 { // every id delivered twice, all at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := whBody(fmt.Sprintf("e-%d", i%n))
			if s := r.deliver(t, http.MethodPost, signedHeader(t, whSecret, whNow, body), body); s != 200 && s != 409 {
				t.Errorf("status %d, want 200 or 409", s)
			}
		}()
	}
	wg.Wait()
	r.mu.Lock()
	ids := map[string]int{}
	for _, ev := range r.got {
		ids[ev.ID]++
	}
	r.mu.Unlock()
	for id, c := range ids {
		if c != 1 {
			t.Errorf("fn called %d times for %s, want 1", c, id)
		}
	}
	// Some deliveries may have got 409 (in flight); a redelivery of each id finishes the set.
	for i := range n {
		body := whBody(fmt.Sprintf("e-%d", i))
		if s := r.deliver(t, http.MethodPost, signedHeader(t, whSecret, whNow, body), body); s != 200 {
			t.Errorf("redelivery of e-%d: status %d, want 200", i, s)
		}
	}
	if c := r.calls.Load(); c != n {
		t.Errorf("fn called %d times, want %d", c, n)
	}
}

// A panic of fn is answered 500, as documented (not a connection closed without an answer), and
// the id is released, so that the redelivery is processed (issue 9 item 9).
func TestWebhookHandlerPanicAnswers500AndReleasesTheID(t *testing.T) {
	t.Parallel()
	var panicNext atomic.Bool
	panicNext.Store(true)
	var logs syncBuffer
	r := newWhReceiver(t, func(context.Context, *WebhookEvent) error {
		if panicNext.Swap(false) {
			panic("handler bug")
		}
		return nil
	}, WithWebhookLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	body := whBody("e-panic")
	h := signedHeader(t, whSecret, whNow, body)
	if s := r.deliver(t, http.MethodPost, h, body); s != http.StatusInternalServerError {
		t.Errorf("delivery whose fn panicked: status %d, want 500 (0: the connection was dropped)", s)
	}
	if s := r.deliver(t, http.MethodPost, h, body); s != http.StatusOK || r.calls.Load() != 2 {
		t.Errorf("redelivery after a panic: status %d, calls %d; want 200, 2", s, r.calls.Load())
	}
	if got := logs.String(); !strings.Contains(got, "panicked: handler bug") || !strings.Contains(got, `"event_id":"e-panic"`) {
		t.Errorf("webhook log = %s, want the panic logged with the event id", got)
	}
}

// failingDeduper fails every call, as a deduper over an unreachable store would.
type failingDeduper struct{}

func (failingDeduper) Claim(context.Context, string) (WebhookClaim, error) {
	return 0, errors.New("redis: connection refused")
}
func (failingDeduper) Complete(context.Context, string) error {
	return errors.New("redis: connection refused")
}
func (failingDeduper) Release(context.Context, string) error {
	return errors.New("redis: connection refused")
}

func TestWebhookHandlerDeduperOptions(t *testing.T) {
	t.Parallel()
	body := whBody("e-1")
	h := signedHeader(t, whSecret, whNow, body)

	off := newWhReceiver(t, nil, WithWebhookDeduper(nil))
	for range 2 {
		if s := off.deliver(t, http.MethodPost, h, body); s != 200 {
			t.Errorf("no dedupe: status %d, want 200", s)
		}
	}
	if c := off.calls.Load(); c != 2 {
		t.Errorf("no dedupe: fn called %d times, want 2", c)
	}

	broken := newWhReceiver(t, nil, WithWebhookDeduper(failingDeduper{}))
	if s := broken.deliver(t, http.MethodPost, h, body); s != 500 || broken.calls.Load() != 0 {
		t.Errorf("failing deduper: status %d, calls %d; want 500, 0", s, broken.calls.Load())
	}

	// A shared deduper makes two handlers (two replicas) process an event once.
	shared := NewMemoryWebhookDeduper(0, 0)
	a := newWhReceiver(t, nil, WithWebhookDeduper(shared))
	b := newWhReceiver(t, nil, WithWebhookDeduper(shared))
	a.deliver(t, http.MethodPost, h, body)
	b.deliver(t, http.MethodPost, h, body)
	if c := a.calls.Load() + b.calls.Load(); c != 1 {
		t.Errorf("shared deduper: fn called %d times, want 1", c)
	}
}

func TestWebhookHandlerLogsWithoutSecrets(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := newWhReceiver(t, func(context.Context, *WebhookEvent) error { return errors.New("db down") }, WithWebhookLogger(logger))
	body := whBody("e-log")
	r.deliver(t, http.MethodPost, signedHeader(t, whSecret, whNow, body), body)
	r.deliver(t, http.MethodPost, signedHeader(t, whOldSecret, whNow, body), body)
	out := logs.String()
	assertNoWebhookSecret(t, out)
	if strings.Contains(out, "externalTenantId") {
		t.Errorf("logs carry the body: %s", out)
	}
	for _, want := range []string{`"event_id":"e-log"`, `"error":"db down"`, `"status":401`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
}

func TestMemoryWebhookDeduper(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := whNow
	d := NewMemoryWebhookDeduper(3, time.Hour)
	d.now = func() time.Time { return now }
	claim := func(id string) WebhookClaim {
		t.Helper()
		c, err := d.Claim(ctx, id)
		if err != nil {
			t.Fatalf("Claim(%q) = %v", id, err)
		}
		return c
	}
	if c := claim("a"); c != WebhookClaimed {
		t.Fatalf("Claim(a) = %v, want WebhookClaimed", c)
	}
	if c := claim("a"); c != WebhookInFlight {
		t.Errorf("Claim(a) in flight = %v, want WebhookInFlight", c)
	}
	_ = d.Release(ctx, "a")
	if c := claim("a"); c != WebhookClaimed {
		t.Errorf("Claim(a) after Release = %v, want WebhookClaimed", c)
	}
	_ = d.Complete(ctx, "a")
	if c := claim("a"); c != WebhookDone {
		t.Errorf("Claim(a) after Complete = %v, want WebhookDone", c)
	}
	// Size bound: the oldest processed id is forgotten first.
	for _, id := range []string{"b", "c", "d"} {
		now = now.Add(time.Minute)
		claim(id)
		_ = d.Complete(ctx, id)
	}
	if d.Len() != 3 {
		t.Errorf("Len() = %d, want 3", d.Len())
	}
	if c := claim("a"); c != WebhookClaimed {
		t.Errorf("Claim(a) after eviction = %v, want WebhookClaimed", c)
	}
	_ = d.Release(ctx, "a")
	if c := claim("b"); c != WebhookDone {
		t.Errorf("Claim(b) = %v, want WebhookDone", c)
	}
	// TTL: after an hour an id is new again.
	now = now.Add(time.Hour - 2*time.Minute)
	if c := claim("b"); c != WebhookClaimed {
		t.Errorf("Claim(b) after its TTL = %v, want WebhookClaimed", c)
	}
	if c := claim("d"); c != WebhookDone {
		t.Errorf("Claim(d) within its TTL = %v, want WebhookDone", c)
	}
	if d.Len() != 2 {
		t.Errorf("Len() = %d, want 2 (c and d)", d.Len())
	}
}

// The event name is taken from the signed body only: X-Debitura-Event is not covered by the
// signature, so a body without an event is malformed whatever the header says.
func TestParseWebhookIgnoresUnsignedEventHeader(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"e-9","data":{"externalTenantId":"t-9"}}`)
	_, err := ParseWebhook(whSecret, signedHeader(t, whSecret, whNow, body, WebhookEventHeader, EventClientLinked), body, whNow)
	if !errors.Is(err, ErrWebhookMalformed) {
		t.Errorf("ParseWebhook(body without event, header %s) = %v, want ErrWebhookMalformed", EventClientLinked, err)
	}
}

func TestWebhookVerifierNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	v := WebhookVerifier{Secret: NewSecret(whSecret), Secrets: []Secret{NewSecret("b2xkLXNlY3JldC12YWx1ZQ==")}, Tolerance: time.Minute}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("verifier", "v", v)
	for _, out := range []string{fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%s", &v), fmt.Sprintf("%q", v), logs.String()} {
		if strings.Contains(out, whSecret) || strings.Contains(out, "b2xkLXNlY3JldC12YWx1ZQ==") {
			t.Errorf("a secret leaked: %s", out)
		}
	}
}
