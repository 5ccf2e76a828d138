package webhook

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/debitura-go/debitura/mockserver"
)

// TestSignVector checks the scheme against a vector computed outside Go (Python's hmac):
// HMAC-SHA256 over "{t}.{body}" keyed with the Base64-decoded secret, lower-case hex.
func TestSignVector(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"e-1","event":"client.linked"}`)
	got := mustSign(t, whSecret, whNow, body)
	want := "t=1740830400,v1=bfefacd622faf3994a626287804b596e0993ce2a076a9b397728a9dcc417533d"
	if got != want {
		t.Errorf("Sign() = %q, want %q", got, want)
	}
	if err := Verify(whSecret, want, body, whNow); err != nil {
		t.Errorf("Verify(vector) = %v, want nil", err)
	}
	// The secret is used decoded: keying with the Base64 text itself must not verify.
	raw := base64.StdEncoding.EncodeToString([]byte(whSecret))
	if err := Verify(raw, want, body, whNow); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify(secret not decoded) = %v, want ErrSignature", err)
	}
	if _, err := Sign("not base64!", whNow, body); !errors.Is(err, ErrSecret) {
		t.Errorf("Sign(bad secret) = %v, want ErrSecret", err)
	}
}

// TestSignMatchesMockServer: the mock server signs its deliveries with the same arguments and
// the same result as Sign, so a test may use either.
func TestSignMatchesMockServer(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"e-1","event":"client.linked"}`)
	for _, at := range []time.Time{whNow, whNow.Add(1500 * time.Millisecond), time.Unix(0, 0)} {
		want, err := Sign(whSecret, at, body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := mockserver.SignWebhook(whSecret, at, body)
		if err != nil || got != want {
			t.Errorf("mockserver.SignWebhook(%v) = %q, %v; want %q (webhook.Sign)", at, got, err, want)
		}
	}
}
