package debitura_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/internal/browsertest"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/debitura-go/debitura/webhook"
)

// partnerService is what a partner runs to receive Debitura's webhooks: the SDK's handler,
// in front of a function that records what it was given. It also keeps the raw deliveries, so
// the test can deliver one again as Debitura would after a lost acknowledgement.
type partnerService struct {
	mu         sync.Mutex
	events     []*webhook.Event
	deliveries []delivery
	handler    http.Handler
}

type delivery struct {
	header http.Header
	body   []byte
}

func newPartnerService(secret string) *partnerService {
	p := &partnerService{}
	p.handler = webhook.Handler(secret, func(_ context.Context, ev *webhook.Event) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.events = append(p.events, ev)
		return nil
	})
	return p
}

// ServeHTTP records the raw delivery, then hands it to the SDK's handler.
func (p *partnerService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.deliveries = append(p.deliveries, delivery{header: r.Header.Clone(), body: body})
	p.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.handler.ServeHTTP(w, r)
}

func (p *partnerService) eventTypes() []webhook.EventType {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []webhook.EventType
	for _, ev := range p.events {
		out = append(out, ev.Event)
	}
	return out
}

func (p *partnerService) lastDelivery(event webhook.EventType) (delivery, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.deliveries) - 1; i >= 0; i-- {
		if p.deliveries[i].header.Get(webhook.EventHeader) == string(event) {
			return p.deliveries[i], true
		}
	}
	return delivery{}, false
}

// TestWebhooksEndToEnd is the just-in-time flow for a customer who already has a Debitura
// account: the partner's EnsureLinked gets "approval required", the customer approves in a real
// browser on the mock's hosted page, the partner's service receives, verifies and de-duplicates
// the signed events, and EnsureLinked then reports the client linked.
func TestWebhooksEndToEnd(t *testing.T) {
	ctx := t.Context()
	srv, c := setupMock(t, mockserver.WithSeed(6))
	if _, err := srv.AddCreditor(mockserver.CreditorSpec{
		CompanyName:    "Nordisk Byg A/S",
		Country:        "DK",
		Emails:         []string{"finance@nordiskbyg.example"},
		OnboardingDone: true,
	}); err != nil {
		t.Fatal(err)
	}

	// The partner's service subscribes to the client events.
	var partner *partnerService
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		partner.ServeHTTP(w, r)
	}))
	defer receiver.Close()
	hook, err := c.Webhooks.Create(ctx, &debitura.WebhookCreateRequest{
		URL:    receiver.URL + "/debitura/webhooks",
		Events: webhook.ClientEvents(),
	})
	if err != nil {
		t.Fatalf("Webhooks.Create: %v", err)
	}
	partner = newPartnerService(hook.Secret.Reveal())

	req := &debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-nordisk",
		Client:           debitura.ClientDetails{Name: "Nordisk Byg", Country: "DK", SupportEmail: "finance@nordiskbyg.example"},
		Users:            []debitura.ClientUser{{Name: "Karen Holm", Email: "karen@nordiskbyg.example"}},
	}
	out, err := c.Clients.EnsureLinked(ctx, req)
	if err != nil {
		t.Fatalf("EnsureLinked: %v", err)
	}
	if out.State != debitura.LinkApprovalRequired || out.ApprovalURL == "" {
		t.Fatalf("EnsureLinked = %v (approval URL %q), want %v with a URL", out.State, out.ApprovalURL, debitura.LinkApprovalRequired)
	}
	flush(t, srv)
	if diff := cmp.Diff([]webhook.EventType{webhook.ClientLinkRequested}, partner.eventTypes()); diff != "" {
		t.Fatalf("events after the 409 (-want +got):\n%s", diff)
	}

	// The customer approves the link request in a browser.
	bctx := browsertest.New(t)
	if err := chromedp.Do(bctx,
		chromedp.Navigate(out.ApprovalURL),
		chromedp.WaitVisible(chromedp.CSS("#approve")),
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="approve_result"]`)),
	); err != nil {
		t.Fatalf("approving in the browser: %v", err)
	}

	flush(t, srv)
	want := []webhook.EventType{webhook.ClientLinkRequested, webhook.ClientLinked}
	if diff := cmp.Diff(want, partner.eventTypes()); diff != "" {
		t.Fatalf("events after the approval (-want +got):\n%s", diff)
	}
	partner.mu.Lock()
	linked := partner.events[1]
	partner.mu.Unlock()
	data, err := linked.ClientData()
	if err != nil {
		t.Fatalf("client.linked data: %v", err)
	}
	if data.ExternalTenantID != req.ExternalTenantID || data.Creditor == nil || data.Creditor.CompanyName != "Nordisk Byg A/S" {
		t.Errorf("client.linked data = %+v, want tenant %q and creditor Nordisk Byg A/S", data, req.ExternalTenantID)
	}

	// Debitura delivers client.linked again (its acknowledgement was lost): the handler answers
	// 200 and does not call the partner's function a second time.
	d, ok := partner.lastDelivery(webhook.ClientLinked)
	if !ok {
		t.Fatal("no raw client.linked delivery recorded")
	}
	redeliver, err := http.NewRequestWithContext(ctx, http.MethodPost, receiver.URL+"/debitura/webhooks", bytes.NewReader(d.body))
	if err != nil {
		t.Fatal(err)
	}
	redeliver.Header = d.header.Clone()
	resp, err := http.DefaultClient.Do(redeliver)
	if err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("redelivery answered %d, want 200", resp.StatusCode)
	}
	if diff := cmp.Diff(want, partner.eventTypes()); diff != "" {
		t.Errorf("events after the redelivery (-want +got):\n%s", diff)
	}

	// A delivery with a forged signature is refused and never reaches the partner's function.
	forged, err := http.NewRequestWithContext(ctx, http.MethodPost, receiver.URL+"/debitura/webhooks", bytes.NewReader(bytes.Replace(d.body, []byte("Nordisk"), []byte("Forged!"), 1)))
	if err != nil {
		t.Fatal(err)
	}
	forged.Header = d.header.Clone()
	resp, err = http.DefaultClient.Do(forged)
	if err != nil {
		t.Fatalf("forged delivery: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged delivery answered %d, want 401", resp.StatusCode)
	}

	// The webhook told the partner the link is approved: EnsureLinked now reports it linked.
	out, err = c.Clients.EnsureLinked(ctx, req)
	if err != nil {
		t.Fatalf("EnsureLinked after approval: %v", err)
	}
	if out.State != debitura.LinkReady || out.Client == nil || out.Client.IsAttributedClient {
		t.Fatalf("EnsureLinked after approval = %v (client %+v), want %v for a non-attributed client", out.State, out.Client, debitura.LinkReady)
	}
	if _, err := c.Tokens.Mint(ctx, req.ExternalTenantID); err != nil {
		t.Errorf("Tokens.Mint after approval: %v", err)
	}
}
