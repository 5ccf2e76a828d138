package debitura_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/debitura-go/debitura/webhook"
)

// TestWebhooksAgainstMock runs the whole webhook path against the bundled mock: subscribe with
// Webhooks.Create, receive the mock's signed deliveries with webhook.Handler, rotate the secret,
// and see a failed delivery retried and processed once.
func TestWebhooksAgainstMock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := mockserver.NewFakeClock(mockserver.NewOffsetClock().Now())
	srv, c := setupMock(t, mockserver.WithClock(clock))

	var (
		mu      sync.Mutex
		events  []*webhook.Event
		failing atomic.Bool
	)
	fn := func(_ context.Context, ev *webhook.Event) error {
		if failing.Load() {
			return errors.New("downstream unavailable")
		}
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		return nil
	}
	dedupe := webhook.NewMemoryDeduper(0, 0)
	var handler atomic.Pointer[http.Handler] // set once the secret is known
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "not ready", http.StatusServiceUnavailable)
	}))
	t.Cleanup(recv.Close)
	setSecrets := func(secret string, old ...string) {
		h := webhook.Handler(secret, fn, webhook.WithClock(clock.Now), webhook.WithDeduper(dedupe),
			webhook.WithSecrets(old...))
		handler.Store(&h)
	}
	take := func() []*webhook.Event {
		mu.Lock()
		defer mu.Unlock()
		out := events
		events = nil
		return out
	}

	hook, err := c.Webhooks.Create(ctx, &debitura.WebhookCreateRequest{URL: recv.URL + "/hooks", Events: webhook.ClientEvents()})
	if err != nil {
		t.Fatalf("Webhooks.Create() = %v", err)
	}
	if hook.Secret.IsZero() || !hook.IsActive {
		t.Fatalf("Webhooks.Create() = %v, want an active subscription with a secret", hook)
	}
	setSecrets(hook.Secret.Reveal())

	// A real state change: onboarding completes -> client.onboarding.contract_signed.
	if _, err := c.Clients.Create(ctx, &debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-wh",
		Client:           debitura.ClientDetails{Name: "Acme Corp", Country: "Denmark", SupportEmail: "billing@acme.example"},
		Users:            []debitura.ClientUser{{Name: "Ada Lovelace", Email: "ada@acme.example"}},
	}); err != nil {
		t.Fatalf("Clients.Create() = %v", err)
	}
	if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, "tenant-wh"); err != nil {
		t.Fatal(err)
	}
	flush(t, srv)
	got := take()
	if len(got) != 1 || got[0].Event != webhook.ClientContractSigned || got[0].Test {
		t.Fatalf("after onboarding got %v, want one client.onboarding.contract_signed", got)
	}
	cd, err := got[0].ClientData()
	if err != nil || cd.ExternalTenantID != "tenant-wh" || cd.Creditor == nil || cd.Creditor.ID == "" {
		t.Errorf("ClientData() = %+v, %v; want tenant-wh with a creditor", cd, err)
	}

	// Rotate: deliveries are signed with the new secret; the handler still knows the old one.
	rot, err := c.Webhooks.Update(ctx, hook.ID, &debitura.WebhookUpdateRequest{RegenerateSecret: true})
	if err != nil || rot.Secret.IsZero() || rot.Secret.Equal(hook.Secret) {
		t.Fatalf("Webhooks.Update(RegenerateSecret) = %v, %v; want a new secret", rot, err)
	}
	listed, err := c.Webhooks.List(ctx)
	if err != nil || len(listed) != 1 || !listed[0].Secret.IsZero() {
		t.Errorf("Webhooks.List() = %v, %v; want one subscription without its secret", listed, err)
	}
	setSecrets(rot.Secret.Reveal(), hook.Secret.Reveal())

	// A test event whose first delivery fails in fn: 500, retried by the mock, processed once.
	failing.Store(true)
	res, err := c.Webhooks.Test(ctx, &debitura.WebhookTestRequest{EventType: webhook.ClientLinked, ExternalTenantID: "tenant-wh"})
	if err != nil || res.EnqueuedCount != 1 {
		t.Fatalf("Webhooks.Test() = %+v, %v; want 1 enqueued", res, err)
	}
	flush(t, srv)
	if got := take(); len(got) != 0 {
		t.Fatalf("failing fn recorded %v", got)
	}
	failing.Store(false)
	clock.Advance(mockserver.WebhookBackoff(1))
	flush(t, srv)
	got = take()
	if len(got) != 1 || got[0].Event != webhook.ClientLinked || !got[0].Test {
		t.Fatalf("after the retry got %v, want one test client.linked", got)
	}

	// With only the old secret, deliveries are refused (401) and never reach fn.
	setSecrets(hook.Secret.Reveal())
	if _, err := c.Webhooks.Test(ctx, &debitura.WebhookTestRequest{EventType: webhook.ClientLinked, ExternalTenantID: "tenant-wh"}); err != nil {
		t.Fatal(err)
	}
	flush(t, srv)
	if got := take(); len(got) != 0 {
		t.Errorf("delivery signed with the new secret accepted with the old one: %v", got)
	}

	if err := c.Webhooks.Delete(ctx, hook.ID); err != nil {
		t.Fatalf("Webhooks.Delete() = %v", err)
	}
	if _, err := c.Webhooks.Get(ctx, hook.ID); !errors.Is(err, debitura.ErrNotFound) {
		t.Errorf("Webhooks.Get(deleted) = %v, want ErrNotFound", err)
	}
}
