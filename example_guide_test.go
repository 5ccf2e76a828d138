package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// The guide operations (Update, Profile, Suspend, Reactivate, Tokens.Rotate) are not listed by
// the published v1 API; the bundled mock serves them.

func ExampleClientsService_Update() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	p, err := c.Clients.Update(ctx, "tenant-42", &debitura.ClientUpdateRequest{
		SupportPhone: debitura.Ptr("+45 70 20 30 40"),
		Metadata:     map[string]any{"plan": "pro", "seats": 12},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.SupportPhone, p.Metadata["plan"], p.Metadata["seats"])

	// Metadata is merged key by key; nil removes a key.
	p, err = c.Clients.Update(ctx, "tenant-42", &debitura.ClientUpdateRequest{
		Metadata: map[string]any{"seats": nil, "region": "eu"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(p.Metadata), p.Metadata["plan"], p.Metadata["region"])
	// Output:
	// +45 70 20 30 40 pro 12
	// 2 pro eu
}

func ExampleClientsService_Profile() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	if _, err := c.Clients.Create(ctx, acme("tenant-42")); err != nil {
		log.Fatal(err)
	}

	p, err := c.Clients.Profile(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status)

	if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, "tenant-42"); err != nil {
		log.Fatal(err)
	}
	p, err = c.Clients.Profile(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status, p.SupportEmail)
	// Output:
	// pending_onboarding
	// active support+tenant-42@acme.example
}

func ExampleClientsService_Suspend() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")

	p, err := c.Clients.Suspend(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status, !p.SuspendedAt.IsZero())

	// A suspended client gets no new tokens.
	_, err = c.Tokens.Mint(ctx, "tenant-42")
	fmt.Println("mint forbidden:", errors.Is(err, debitura.ErrForbidden))
	// Output:
	// suspended true
	// mint forbidden: true
}

func ExampleClientsService_Reactivate() {
	ctx := context.Background()
	srv, c := startMock()
	defer srv.Close()
	onboarded(ctx, c, srv, "tenant-42")
	if _, err := c.Clients.Suspend(ctx, "tenant-42"); err != nil {
		log.Fatal(err)
	}

	p, err := c.Clients.Reactivate(ctx, "tenant-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status, p.SuspendedAt.IsZero())

	_, err = c.Tokens.Mint(ctx, "tenant-42")
	fmt.Println("mint ok:", err == nil)
	// Output:
	// active true
	// mint ok: true
}
