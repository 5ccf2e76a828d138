package mockserver

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/debitura-go/debitura/internal/contract"
)

// TestCloseStopsWebhookRetries: a delivery that keeps failing leaves a retry timer armed; Close
// must stop it, so a test suite that starts many mocks does not keep their timers alive.
func TestCloseStopsWebhookRetries(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer receiver.Close()

	before := runtime.NumGoroutine()
	s := New(WithSeed(3))
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/Webhooks",
		strings.NewReader(`{"url":"`+receiver.URL+`/hook","events":["client.linked"]}`))
	req.Header.Set("XApiKey", DefaultAPIKey)
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{Transport: contract.MockTransport(t, s.Client().Transport)}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		t.Fatalf("create webhook: %d", resp.StatusCode)
	}
	if _, err := s.AddCreditor(CreditorSpec{CompanyName: "Retry ApS", Emails: []string{"a@retry.example"}, LinkedToPartner: DefaultAPIKey, LinkedAsExternalTenantID: "t-retry", OnboardingDone: true}); err != nil {
		t.Fatal(err)
	}
	// Any event will do: a test trigger queues one delivery, which fails and is rescheduled.
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/v1/Webhooks/test",
		strings.NewReader(`{"eventType":"client.linked","externalTenantId":"t-retry"}`))
	req.Header.Set("XApiKey", DefaultAPIKey)
	req.Header.Set("Content-Type", "application/json")
	if resp, err = hc.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := s.FlushWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := s.Deliveries(); len(d) != 1 || d[0].State != DeliveryPending {
		t.Fatalf("deliveries = %+v, want one pending retry", d)
	}
	s.Backend.wh.mu.Lock()
	armed := s.Backend.wh.timer != nil
	s.Backend.wh.mu.Unlock()
	if !armed {
		t.Fatal("no retry timer armed before Close")
	}

	s.Close()
	if s.Backend.wh.timer.Stop() {
		t.Error("the retry timer was still armed after Close")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before New, %d after Close", before, n)
	}
}
