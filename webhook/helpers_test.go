package webhook

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// whNow is the receiver's clock in these tests: 2025-03-01T12:00:00Z, unix 1740830400.
var whNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const whOldSecret = "b2xkLXNlY3JldC1iZWZvcmUtcm90YXRpb24=" // base64("old-secret-before-rotation")

func mustSign(t *testing.T, secret string, at time.Time, body []byte) string {
	t.Helper()
	h, err := Sign(secret, at, body)
	if err != nil {
		t.Fatalf("Sign() = %v", err)
	}
	return h
}

// assertNoSecret fails when s carries a test secret, Base64 or decoded.
func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, sec := range []string{whSecret, strings.TrimRight(whSecret, "="), whOldSecret, "secret-signing-key", "old-secret-before"} {
		if strings.Contains(s, sec) {
			t.Errorf("text leaks a secret: %s", s)
		}
	}
}

func signedHeader(t *testing.T, secret string, at time.Time, body []byte, extra ...string) http.Header {
	t.Helper()
	h := http.Header{}
	h.Set(SignatureHeader, mustSign(t, secret, at, body))
	h.Set(TimestampHeader, strconv.FormatInt(at.Unix(), 10))
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return h
}

const whSecret = "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5" // base64("secret-signing-key-for-tests-0123456789")
