package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/debitura-go/debitura/webhook"
)

// Subscribe to the client events and keep the signing secret, which the API returns only here.
func ExampleWebhooksService_Create() {
	srv, c := startMock()
	defer srv.Close()
	hook, err := c.Webhooks.Create(context.Background(), &debitura.WebhookCreateRequest{
		URL:    "https://partner.example/hooks/debitura",
		Events: webhook.ClientEvents(),
	})
	if err != nil {
		log.Fatal(err)
	}
	secret := hook.Secret.Reveal() // store it now (e.g. in a secret manager): Get and List never return it
	fmt.Println("active:", hook.IsActive, "events:", len(hook.Events), "secret received:", secret != "")
	fmt.Println("printed with the secret:", strings.Contains(fmt.Sprint(hook), secret))
	// Output:
	// active: true events: 7 secret received: true
	// printed with the secret: false
}

// List the partner's subscriptions. List and Get never return a signing secret.
func ExampleWebhooksService_List() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	for _, u := range []string{"https://partner.example/hooks/linking", "https://partner.example/hooks/audit"} {
		if _, err := c.Webhooks.Create(ctx, &debitura.WebhookCreateRequest{URL: u, Events: []webhook.EventType{webhook.ClientLinked}}); err != nil {
			log.Fatal(err)
		}
	}

	hooks, err := c.Webhooks.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hooks {
		fmt.Println(h.URL, h.Events, "active:", h.IsActive, "secret:", !h.Secret.IsZero())
	}
	// Output:
	// https://partner.example/hooks/linking [client.linked] active: true secret: false
	// https://partner.example/hooks/audit [client.linked] active: true secret: false
}

// Read one subscription by its id. When a subscription was disabled automatically (here: the
// receiver answered 410 Gone), DisabledReason says why.
func ExampleWebhooksService_Get() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone) // a receiver that was taken down
	}))
	defer gone.Close()
	hook, err := c.Webhooks.Create(ctx, &debitura.WebhookCreateRequest{
		URL:    gone.URL + "/hooks/debitura",
		Events: []webhook.EventType{webhook.ClientContractSigned},
	})
	if err != nil {
		log.Fatal(err)
	}

	got, err := c.Webhooks.Get(ctx, hook.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("active:", got.IsActive, "events:", got.Events, "secret:", !got.Secret.IsZero())

	onboarded(ctx, c, srv, "tenant-42") // fires client.onboarding.contract_signed
	if err := srv.FlushWebhooks(ctx); err != nil {
		log.Fatal(err)
	}
	got, err = c.Webhooks.Get(ctx, hook.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("active:", got.IsActive, "reason:", got.DisabledReason)

	// An id that is not a UUID is refused before sending; an unknown one is ErrNotFound.
	_, err = c.Webhooks.Get(ctx, "hook-1")
	fmt.Println("invalid:", errors.Is(err, debitura.ErrValidation))
	_, err = c.Webhooks.Get(ctx, "00000000-0000-4000-8000-000000000000")
	fmt.Println("not found:", errors.Is(err, debitura.ErrNotFound))
	// Output:
	// active: true events: [client.onboarding.contract_signed] secret: false
	// active: false reason: The endpoint answered 410 Gone.
	// invalid: true
	// not found: true
}

// Replace a lost or leaked signing secret, and re-enable a subscription that was disabled.
func ExampleWebhooksService_Update() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	hook := subscribed(ctx, c)

	// RegenerateSecret: the answer carries the new secret, this once. Deliveries signed with
	// the old one may still arrive for a while: verify with both
	// (webhook.WithSecrets(hook.Secret)) until they stop.
	rot, err := c.Webhooks.Update(ctx, hook.ID, &debitura.WebhookUpdateRequest{RegenerateSecret: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new secret:", !rot.Secret.IsZero() && !rot.Secret.Equal(hook.Secret))

	// Narrow the events and pause deliveries.
	off, err := c.Webhooks.Update(ctx, hook.ID, &debitura.WebhookUpdateRequest{
		Events:   []webhook.EventType{webhook.ClientLinked, webhook.ClientLinkDeclined},
		IsActive: debitura.Ptr(false),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("active:", off.IsActive, "events:", off.Events, "secret:", !off.Secret.IsZero())

	// IsActive = Ptr(true) re-enables it, also after Debitura disabled it for failed deliveries.
	on, err := c.Webhooks.Update(ctx, hook.ID, &debitura.WebhookUpdateRequest{IsActive: debitura.Ptr(true)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("active:", on.IsActive, "reason:", fmt.Sprintf("%q", on.DisabledReason))

	// A request that changes nothing is refused before sending.
	_, err = c.Webhooks.Update(ctx, hook.ID, &debitura.WebhookUpdateRequest{})
	fmt.Println("refused:", errors.Is(err, debitura.ErrValidation))
	// Output:
	// new secret: true
	// active: false events: [client.linked client.link_declined] secret: false
	// active: true reason: ""
	// refused: true
}

// Delete a subscription for good; Update with IsActive = Ptr(false) is the reversible choice.
func ExampleWebhooksService_Delete() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	hook := subscribed(ctx, c)

	if err := c.Webhooks.Delete(ctx, hook.ID); err != nil {
		log.Fatal(err)
	}
	hooks, err := c.Webhooks.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("subscriptions:", len(hooks))
	_, err = c.Webhooks.Get(ctx, hook.ID)
	fmt.Println("found:", !errors.Is(err, debitura.ErrNotFound))
	// Output:
	// subscriptions: 0
	// found: false
}

// Send a test event to your receiver (test environment only). Here the mock delivers it to a
// local receiver built with webhook.Handler; FlushWebhooks waits for the delivery.
func ExampleWebhooksService_Test() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	mux := http.NewServeMux()
	recv := httptest.NewServer(mux) // the mock accepts http on loopback; Debitura needs https
	defer recv.Close()
	hook, err := c.Webhooks.Create(ctx, &debitura.WebhookCreateRequest{
		URL:    recv.URL + "/hooks/debitura",
		Events: webhook.ClientEvents(),
	})
	if err != nil {
		log.Fatal(err)
	}
	var (
		mu       sync.Mutex
		received []string
	)
	mux.Handle("/hooks/debitura", webhook.Handler(hook.Secret.Reveal(),
		func(ctx context.Context, ev *webhook.Event) error {
			mu.Lock()
			defer mu.Unlock()
			received = append(received, fmt.Sprintf("%s (test: %t)", ev.Event, ev.Test))
			return nil
		}))
	flush := func() { // deliver what is due now, then show what arrived
		if err := srv.FlushWebhooks(ctx); err != nil {
			log.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Println("received:", received)
		received = nil
	}

	onboarded(ctx, c, srv, "tenant-42") // a real event: client.onboarding.contract_signed
	flush()

	// Client events need an active link of the partner: ExternalTenantID.
	res, err := c.Webhooks.Test(ctx, &debitura.WebhookTestRequest{
		EventType:        webhook.ClientLinked,
		ExternalTenantID: "tenant-42",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("queued:", res.EventType, res.EnqueuedCount)
	flush()
	// Output:
	// received: [client.onboarding.contract_signed (test: false)]
	// queued: client.linked 1
	// received: [client.linked (test: true)]
}

// Example_webhooks subscribes to the client events and receives them with webhook.Handler: here a
// customer that already has a Debitura account approves the link request, and the handler marks
// the client linked.
func Example_webhooks() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	mux := http.NewServeMux()
	recv := httptest.NewServer(mux) // your server; Debitura delivers only to https on port 443 or 8443
	defer recv.Close()
	markLinked := func(ctx context.Context, externalTenantID string) error {
		fmt.Println("linked:", externalTenantID)
		return nil
	}

	// Subscribe (the answer carries the Base64 signing secret, once: store it).
	hook, err := c.Webhooks.Create(ctx, &debitura.WebhookCreateRequest{
		URL:    recv.URL + "/debitura/webhooks",
		Events: webhook.ClientEvents(),
	})
	if err != nil {
		log.Fatal(err)
	}

	// Receive: verify, de-duplicate by event id, then call your function.
	mux.Handle("/debitura/webhooks", webhook.Handler(hook.Secret.Reveal(),
		func(ctx context.Context, ev *webhook.Event) error {
			if ev.Event == webhook.ClientLinked {
				data, err := ev.ClientData()
				if err != nil {
					return err
				}
				return markLinked(ctx, data.ExternalTenantID) // EnsureLinked now reports LinkReady
			}
			return nil // an error answers 500, so Debitura delivers again
		}))

	// A customer that already has a Debitura account approves the link request (on the mock's
	// approval page; here the mock plays the customer).
	req := existingAccount(srv, "tenant-7", mockserver.CreditorSpec{
		CompanyName:    "Nordic Widgets A/S",
		Emails:         []string{"finance@nordicwidgets.example"},
		OnboardingDone: true, // it signed Debitura's agreement long ago
	})
	out, err := c.Clients.EnsureLinked(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	u, err := url.Parse(out.ApprovalURL)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.ApproveLink(u.Query().Get("token")); err != nil {
		log.Fatal(err)
	}
	if err := srv.FlushWebhooks(ctx); err != nil { // deliver now
		log.Fatal(err)
	}
	out, err = c.Clients.EnsureLinked(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.ExternalTenantID, out.State)
	// Output:
	// linked: tenant-7
	// tenant-7 ready
}

// subscribed creates the subscription to every client event that the Webhooks examples act on.
func subscribed(ctx context.Context, c *debitura.Client) *debitura.Webhook {
	hook, err := c.Webhooks.Create(ctx, &debitura.WebhookCreateRequest{
		URL:    "https://partner.example/hooks/debitura",
		Events: webhook.ClientEvents(),
	})
	if err != nil {
		log.Fatal(err)
	}
	return hook
}
