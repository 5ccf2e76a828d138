package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/debitura-go/debitura/webhook"
)

// Receive deliveries: Handler verifies the signature, drops redeliveries of an event it has
// processed, and answers 500 when fn fails so that Debitura retries. Sign produces the
// signature Debitura would send, for tests like this one.
func ExampleHandler() {
	const secret = "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5" // from Webhooks.Create
	h := webhook.Handler(secret, func(ctx context.Context, ev *webhook.Event) error {
		if ev.Event == webhook.ClientLinked {
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
		sig, err := webhook.Sign(secretUsed, time.Now(), body)
		if err != nil {
			log.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, recv.URL, bytes.NewReader(body))
		req.Header.Set(webhook.SignatureHeader, sig)
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

// Verify a delivery by hand and decode it, for frameworks that do not take an http.Handler.
func ExampleParse() {
	const secret = "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5"
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"e-1","event":"client.link_requested","data":{"externalTenantId":"tenant-7"}}`)
	sig, _ := webhook.Sign(secret, now, body)
	h := http.Header{webhook.SignatureHeader: {sig}}

	ev, err := webhook.Parse(secret, h, body, now)
	fmt.Println(ev.Event, err)
	_, err = webhook.Parse(secret, h, body, now.Add(10*time.Minute))
	fmt.Println(err)
	// Output:
	// client.link_requested <nil>
	// debitura: webhook timestamp outside the tolerance: signed at 2025-03-01T12:00:00Z, 10m0s from now (tolerance 5m0s)
}

// Check only the signature of a raw body; branch on the kind of failure with errors.Is.
func ExampleVerify() {
	const secret = "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5"
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"e-1","event":"client.linked"}`)
	sig, _ := webhook.Sign(secret, now, body)

	fmt.Println(webhook.Verify(secret, sig, body, now))
	err := webhook.Verify(secret, sig, []byte(`{"id":"e-1","event":"client.linked","x":1}`), now)
	fmt.Println(errors.Is(err, webhook.ErrSignature))
	err = webhook.Verify(secret, "t=yesterday", body, now)
	fmt.Println(errors.Is(err, webhook.ErrMalformed))
	// Output:
	// <nil>
	// true
	// true
}

// Sign a body as Debitura does: "t={unix seconds},v1={hex HMAC-SHA256}".
func ExampleSign() {
	const secret = "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5"
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	sig, err := webhook.Sign(secret, at, []byte(`{"id":"e-1","event":"client.linked"}`))
	fmt.Println(sig, err)
	// Output:
	// t=1740830400,v1=bfefacd622faf3994a626287804b596e0993ce2a076a9b397728a9dcc417533d <nil>
}

// After WebhooksService.Update with RegenerateSecret, accept the new secret and the old one until
// deliveries signed with the old one stop arriving. A Verifier never prints its secrets.
func ExampleNewVerifier() {
	const (
		newSecret = "bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbg==" // from Webhooks.Update
		oldSecret = "b2xkLXNlY3JldC1iZWZvcmUtcm90YXRpb24=" // the one it replaced
	)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	v := webhook.NewVerifier(newSecret, oldSecret)
	v.Now = func() time.Time { return now }

	body := []byte(`{"id":"e-1","event":"client.linked"}`)
	for _, s := range []string{newSecret, oldSecret} {
		sig, _ := webhook.Sign(s, now, body)
		at, err := v.Verify(sig, body)
		fmt.Println(at.UTC(), err)
	}
	fmt.Println(v)
	// Output:
	// 2025-03-01 12:00:00 +0000 UTC <nil>
	// 2025-03-01 12:00:00 +0000 UTC <nil>
	// webhook.Verifier{Secret: [REDACTED], Secrets: 1 more, Tolerance: 0s}
}

// Share a de-duplication store between handlers, here two replicas in one process: an event
// delivered to both is processed once. With several processes, implement Deduper over shared
// storage instead.
func ExampleNewMemoryDeduper() {
	const secret = "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5"
	dedupe := webhook.NewMemoryDeduper(0, 0) // 10,000 ids for 72 h each
	calls := 0
	fn := func(context.Context, *webhook.Event) error { calls++; return nil }
	replicas := []http.Handler{
		webhook.Handler(secret, fn, webhook.WithDeduper(dedupe)),
		webhook.Handler(secret, fn, webhook.WithDeduper(dedupe)),
	}

	body := []byte(`{"id":"e-1","event":"client.linked"}`)
	sig, _ := webhook.Sign(secret, time.Now(), body)
	for _, h := range replicas {
		req := httptest.NewRequest(http.MethodPost, "/hooks/debitura", bytes.NewReader(body))
		req.Header.Set(webhook.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	fmt.Println("processed:", calls, "remembered:", dedupe.Len())
	// Output:
	// 200
	// 200
	// processed: 1 remembered: 1
}
