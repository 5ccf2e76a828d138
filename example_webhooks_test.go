package debitura_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// Subscribe to the client events and keep the signing secret, which the API returns only here.
func ExampleWebhooksService_Create() {
	srv := mockserver.New(mockserver.WithSeed(1))
	defer srv.Close()
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	hook, err := c.Webhooks.Create(context.Background(), &debitura.WebhookCreateRequest{
		URL:    "https://partner.example/hooks/debitura",
		Events: debitura.ClientEvents(),
	})
	if err != nil {
		log.Fatal(err)
	}
	secret := hook.Secret // store it now (e.g. in a secret manager): Get and List never return it
	fmt.Println("active:", hook.IsActive, "events:", len(hook.Events), "secret received:", secret != "")
	fmt.Println("printed with the secret:", strings.Contains(fmt.Sprint(hook), secret))
	// Output:
	// active: true events: 7 secret received: true
	// printed with the secret: false
}

// Receive deliveries: WebhookHandler verifies the signature, drops redeliveries of an event it
// has processed, and answers 500 when fn fails so that Debitura retries. SignWebhook produces
// the signature Debitura would send, for tests like this one.
func ExampleWebhookHandler() {
	const secret = "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5" // from Webhooks.Create
	h := debitura.WebhookHandler(secret, func(ctx context.Context, ev *debitura.WebhookEvent) error {
		if ev.Event == debitura.EventClientLinked {
			data, err := ev.ClientData()
			if err != nil {
				return err
			}
			fmt.Println("linked:", data.ExternalTenantID)
		}
		return nil
	})
	recv := httptest.NewServer(h)
	defer recv.Close()

	body := []byte(`{"id":"3c9a6f1e-8b7d-4e2a-9c1f-0d2e3f4a5b6c","specVersion":"1.0","event":"client.linked",
		"timestamp":"2025-03-01T12:00:00Z","data":{"externalTenantId":"tenant-42"}}`)
	deliver := func(secretUsed string) int {
		sig, err := debitura.SignWebhook(secretUsed, time.Now(), body)
		if err != nil {
			log.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, recv.URL, bytes.NewReader(body))
		req.Header.Set(debitura.WebhookSignatureHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println("first delivery:", deliver(secret))
	fmt.Println("redelivery:", deliver(secret))
	fmt.Println("forged:", deliver("Zm9yZ2Vk"))
	// Output:
	// linked: tenant-42
	// first delivery: 200
	// redelivery: 200
	// forged: 401
}

// Verify a delivery by hand, for frameworks that do not take an http.Handler.
func ExampleParseWebhook() {
	const secret = "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5"
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"e-1","event":"client.link_requested","data":{"externalTenantId":"tenant-7"}}`)
	sig, _ := debitura.SignWebhook(secret, now, body)
	h := http.Header{debitura.WebhookSignatureHeader: {sig}}

	ev, err := debitura.ParseWebhook(secret, h, body, now)
	fmt.Println(ev.Event, err)
	_, err = debitura.ParseWebhook(secret, h, body, now.Add(10*time.Minute))
	fmt.Println(err)
	// Output:
	// client.link_requested <nil>
	// debitura: webhook timestamp outside the tolerance: signed at 2025-03-01T12:00:00Z, 10m0s from now (tolerance 5m0s)
}
