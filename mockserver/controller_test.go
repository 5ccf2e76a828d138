package mockserver_test

import (
	"net/http/httptest"
	"testing"

	"github.com/debitura-go/debitura/internal/controltest"
	"github.com/debitura-go/debitura/mockserver"
)

// TestControllerBackend runs the control suite against the in-memory Backend.
func TestControllerBackend(t *testing.T) {
	srv := mockserver.NewTest(t)
	controltest.Run(t, controltest.Target{Ctl: srv, BaseURL: srv.URL, Key: mockserver.DefaultAPIKey})
}

// TestControllerDial runs the same suite through Dial, over HTTP, against a Backend served by
// httptest (the debitura-mock binary runs it in cmd/debitura-mock).
func TestControllerDial(t *testing.T) {
	b := mockserver.NewBackend()
	hs := httptest.NewServer(b)
	t.Cleanup(func() { hs.Close(); b.Close() })
	ctl, err := mockserver.Dial(t.Context(), hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	controltest.Run(t, controltest.Target{Ctl: ctl, BaseURL: hs.URL, Key: mockserver.DefaultAPIKey})
}

// TestDialRefusesNonMock: Dial checks the health route.
func TestDialRefusesNonMock(t *testing.T) {
	hs := httptest.NewServer(nil) // 404 for everything
	t.Cleanup(hs.Close)
	if _, err := mockserver.Dial(t.Context(), hs.URL); err == nil {
		t.Error("Dial to a server without /__mock/health succeeded")
	}
	if _, err := mockserver.Dial(t.Context(), "ftp://x"); err == nil {
		t.Error("Dial(ftp://x) succeeded")
	}
}
