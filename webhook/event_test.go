package webhook

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const whEnvelope = `{"id":"3c9a6f1e-8b7d-4e2a-9c1f-0d2e3f4a5b6c","specVersion":"1.0","event":"client.linked",
 "timestamp":"2025-03-01T11:59:58.123Z",
 "data":{"externalTenantId":"partner-client-123","creditor":{"id":"3f1c2a9e-1111-4c3b-9a55-0a0b0c0d0e0f",
  "companyName":"Acme Corp","registrationNumber":"12345678","countryId":"5b1f8a2c-2222-4d3e-8f00-112233445566","isAttributed":false}},
 "links":{"client":"https://referral-api.debitura.com/clients/partner-client-123"}}`

func TestParse(t *testing.T) {
	t.Parallel()
	body := []byte(whEnvelope)
	ev, err := Parse(whSecret, signedHeader(t, whSecret, whNow, body, EventHeader, string(ClientLinked), TestHeader, "true"), body, whNow)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	wantData := `{"externalTenantId":"partner-client-123","creditor":{"id":"3f1c2a9e-1111-4c3b-9a55-0a0b0c0d0e0f",
  "companyName":"Acme Corp","registrationNumber":"12345678","countryId":"5b1f8a2c-2222-4d3e-8f00-112233445566","isAttributed":false}}`
	want := &Event{
		ID: "3c9a6f1e-8b7d-4e2a-9c1f-0d2e3f4a5b6c", SpecVersion: "1.0", Event: ClientLinked,
		Timestamp: time.Date(2025, 3, 1, 11, 59, 58, 123e6, time.UTC), Data: json.RawMessage(wantData),
		Links: EventLinks{Client: "https://referral-api.debitura.com/clients/partner-client-123"},
		Test:  true, SignatureTime: whNow,
	}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("Parse() (-want +got):\n%s", diff)
	}
	cd, err := ev.ClientData()
	if err != nil {
		t.Fatalf("ClientData() = %v", err)
	}
	wantCD := &ClientData{ExternalTenantID: "partner-client-123", Raw: json.RawMessage(wantData),
		Creditor: &Creditor{ID: "3f1c2a9e-1111-4c3b-9a55-0a0b0c0d0e0f", CompanyName: "Acme Corp", RegistrationNumber: "12345678",
			CountryID: "5b1f8a2c-2222-4d3e-8f00-112233445566", IsAttributed: new(bool)}}
	if diff := cmp.Diff(wantCD, cd); diff != "" {
		t.Errorf("ClientData() (-want +got):\n%s", diff)
	}
	if _, err := ev.ReplayFailedData(); !errors.Is(err, ErrMalformed) {
		t.Errorf("ReplayFailedData() of client.linked = %v, want ErrMalformed", err)
	}
}

func TestEventDecoding(t *testing.T) {
	t.Parallel()
	signed := time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		body       string
		header     []string
		wantEvent  EventType
		wantTest   bool
		wantClient *ClientData // nil: ClientData must fail
		wantReplay *ReplayFailedData
	}{
		{
			name:      "PascalCase envelope, zone-less timestamp, poa_signed",
			body:      `{"Id":"e-2","SpecVersion":"1.0","Event":"client.onboarding.poa_signed","Timestamp":"2025-03-01T11:00:00","Data":{"ExternalTenantId":"t-2","SignedAt":"2025-03-01T11:00:00Z","Creditor":{"Id":"c-2","CompanyName":"Beta ApS"}},"Links":{"Client":null}}`,
			wantEvent: ClientPOASigned,
			wantClient: &ClientData{ExternalTenantID: "t-2", SignedAt: &signed, Creditor: &Creditor{ID: "c-2", CompanyName: "Beta ApS"},
				Raw: json.RawMessage(`{"ExternalTenantId":"t-2","SignedAt":"2025-03-01T11:00:00Z","Creditor":{"Id":"c-2","CompanyName":"Beta ApS"}}`)},
		},
		{
			name:       "link_declined without isAttributed, test header 1",
			body:       `{"id":"e-3","event":"client.link_declined","data":{"externalTenantId":"t-3","creditor":{"id":"c-3","isAttributed":null}}}`,
			header:     []string{TestHeader, "1"},
			wantEvent:  ClientLinkDeclined,
			wantTest:   true,
			wantClient: &ClientData{ExternalTenantID: "t-3", Creditor: &Creditor{ID: "c-3"}, Raw: json.RawMessage(`{"externalTenantId":"t-3","creditor":{"id":"c-3","isAttributed":null}}`)},
		},
		{
			name:       "data null",
			body:       `{"id":"e-4","event":"client.link_expired","data":null}`,
			header:     []string{EventHeader, "client.link_expired", TestHeader, "false"},
			wantEvent:  ClientLinkExpired,
			wantClient: &ClientData{},
		},
		{
			name:      "cases.replay_failed",
			body:      `{"id":"e-5","event":"cases.replay_failed","data":{"externalTenantId":"t-5","failedCases":[{"caseIndex":1,"creditorReference":"INV-2","errorType":"NoPartnerAvailable","errorMessage":"none"}],"extra":1}}`,
			wantEvent: CasesReplayFailed,
			wantReplay: &ReplayFailedData{ExternalTenantID: "t-5",
				FailedCases: []FailedCase{{CaseIndex: 1, CreditorReference: "INV-2", ErrorType: "NoPartnerAvailable", ErrorMessage: "none"}},
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
			ev, err := Parse(whSecret, signedHeader(t, whSecret, whNow, body, tt.header...), body, whNow)
			if err != nil {
				t.Fatalf("Parse() = %v", err)
			}
			if ev.Event != tt.wantEvent || ev.Test != tt.wantTest {
				t.Errorf("event = %q, test %t; want %q, %t", ev.Event, ev.Test, tt.wantEvent, tt.wantTest)
			}
			cd, err := ev.ClientData()
			if tt.wantClient == nil {
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("ClientData() = %v, %v; want ErrMalformed", cd, err)
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

func TestParseMalformedBody(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`not json`, `[]`, `{"event":"client.linked"}`, `{"id":"e-1"}`, `{"id":"e-1","event":"client.linked","timestamp":"yesterday"}`, `{"id":"e-1","event":"client.linked","data":{"creditor":"x"}}`} {
		b := []byte(body)
		ev, err := Parse(whSecret, signedHeader(t, whSecret, whNow, b), b, whNow)
		if err == nil {
			// Only the data can be wrong now; the typed accessor must say so.
			_, err = ev.ClientData()
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%s) = %v, want ErrMalformed", body, err)
		}
	}
	// The signature is checked before the body is looked at.
	if _, err := Parse(whSecret, http.Header{}, []byte(`not json`), whNow); !errors.Is(err, ErrSignature) {
		t.Errorf("Parse(unsigned junk) = %v, want ErrSignature", err)
	}
}

func TestEventTypes(t *testing.T) {
	t.Parallel()
	for _, e := range ClientEvents() {
		if !e.Known() || e.IsCase() {
			t.Errorf("%q: Known %t, IsCase %t; want true, false", e, e.Known(), e.IsCase())
		}
		if e.IsClient() != strings.HasPrefix(string(e), "client.") {
			t.Errorf("%q: IsClient = %t", e, e.IsClient())
		}
	}
	for _, e := range []EventType{CaseCreated, CaseUpdated, CaseClosed} {
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

// The event name is taken from the signed body only: X-Debitura-Event is not covered by the
// signature, so a body without an event is malformed whatever the header says.
func TestParseIgnoresUnsignedEventHeader(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"e-9","data":{"externalTenantId":"t-9"}}`)
	_, err := Parse(whSecret, signedHeader(t, whSecret, whNow, body, EventHeader, string(ClientLinked)), body, whNow)
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("Parse(body without event, header %s) = %v, want ErrMalformed", ClientLinked, err)
	}
}
