package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

func ExampleWithResponse() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")
	// The next GET is answered 429 once; the SDK waits the 0.1 s the server asks for and retries.
	srv.InjectFault(mockserver.Fault{Operation: mockserver.OpGetClient, Status: 429, Shape: mockserver.ShapeRateLimit, RetryAfter: 0.1, Times: 1})

	var resp debitura.Response
	lc, err := c.Clients.Get(ctx, "tenant-42",
		debitura.WithHeader("X-Correlation-Id", "order-7"), // sent on every attempt
		debitura.WithCallMaxRetries(2),                     // instead of the Client's WithMaxRetries
		debitura.WithResponse(&resp))                       // filled when the call returns
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lc.ExternalTenantID, "status:", resp.StatusCode)
	fmt.Println("attempts:", resp.Attempts, "waited on 429s:", resp.RateLimitWait, "uncertain:", resp.Uncertain)
	// Output:
	// tenant-42 status: 200
	// attempts: 2 waited on 429s: 100ms uncertain: false
}

func ExampleWithIdempotencyKey() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	// Your own key makes a repeat of this call (after a crash, say) a replay, not a second rotation.
	var resp debitura.Response
	rot, err := c.Tokens.Rotate(ctx, "tenant-42", debitura.WithIdempotencyKey("rotate-tenant-42-2025-06"), debitura.WithResponse(&resp))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rotated:", rot.Token.Valid(), "key sent:", resp.IdempotencyKey)

	// Only SubmitKYC and Rotate take a key; other operations refuse it before sending.
	_, err = c.Clients.Get(ctx, "tenant-42", debitura.WithIdempotencyKey("k"))
	fmt.Println("refused:", errors.Is(err, debitura.ErrValidation))
	// Output:
	// rotated: true key sent: rotate-tenant-42-2025-06
	// refused: true
}
