package mockserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// adminReq sends one request straight to b's handler, with the Host, Origin and Content-Type
// given ("" leaves Origin and Content-Type out), and returns the recorder.
func adminReq(b *Backend, method, path, host, origin, contentType, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Host = host
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	b.ServeHTTP(w, r)
	return w
}

// The reproductions: a cross-site text/plain POST to /__mock/reset, and a
// DNS-rebinding read of the webhook deliveries.
func TestAdminGuardRefusesCrossSiteAndRebinding(t *testing.T) {
	t.Parallel()
	b := NewBackend(WithPublicURL("http://127.0.0.1:8080"))
	t.Cleanup(b.Close)
	if _, err := b.AddPartner(PartnerSpec{APIKey: "mock_survivor"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                                    string
		method, path, host, origin, ctype, body string
		want                                    int
	}{
		{"cross-site text/plain reset", "POST", "/__mock/reset", "127.0.0.1:8080", "http://evil.example", "text/plain", "{}", 403},
		{"cross-site JSON reset", "POST", "/__mock/reset", "127.0.0.1:8080", "http://evil.example", "application/json", "", 403},
		{"sandboxed page (Origin null)", "POST", "/__mock/reset", "127.0.0.1:8080", "null", "application/json", "", 403},
		{"other local port is another origin", "POST", "/__mock/reset", "127.0.0.1:8080", "http://127.0.0.1:3000", "application/json", "", 403},
		{"text/plain reset without Origin", "POST", "/__mock/reset", "127.0.0.1:8080", "", "text/plain", "{}", 415},
		{"form reset without Origin", "POST", "/__mock/reset", "127.0.0.1:8080", "", "application/x-www-form-urlencoded", "a=b", 415},
		{"bodyless reset without Content-Type", "POST", "/__mock/reset", "127.0.0.1:8080", "", "", "", 415},
		{"DELETE without Content-Type", "DELETE", "/__mock/faults", "127.0.0.1:8080", "", "", "", 415},
		{"rebinding read of deliveries", "GET", "/__mock/webhooks/deliveries", "attacker.example", "", "", "", 403},
		{"rebinding read with port", "GET", "/__mock/state", "attacker.example:8080", "http://attacker.example:8080", "", "", 403},
		{"rebinding reset", "POST", "/__mock/reset", "attacker.example:8080", "", "application/json", "", 403},
		{"no Host", "GET", "/__mock/state", "", "", "", "", 403},
	}
	for _, tt := range tests {
		w := adminReq(b, tt.method, tt.path, tt.host, tt.origin, tt.ctype, tt.body)
		if w.Code != tt.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tt.name, tt.method, tt.path, w.Code, w.Body, tt.want)
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || !strings.Contains(w.Body.String(), `"message":"`) {
			t.Errorf("%s: answer is not a JSON error: %q %s", tt.name, w.Header().Get("Content-Type"), w.Body)
		}
	}
	if _, err := b.LinkedClient("mock_survivor", "x"); err == nil || !strings.Contains(err.Error(), "no active client") {
		t.Errorf("partner mock_survivor is gone after the refused resets: %v", err)
	}
}

func TestAdminGuardAllows(t *testing.T) {
	t.Parallel()
	b := NewBackend(WithPublicURL("https://mock.example/base"), WithAdminHosts("mock:8080", "Other.Internal"))
	t.Cleanup(b.Close)
	tests := []struct {
		name                              string
		method, path, host, origin, ctype string
		want                              int
	}{
		{"Go client on 127.0.0.1", "POST", "/__mock/agreement/release", "127.0.0.1:8080", "", "application/json", 200},
		{"JSON with charset", "POST", "/__mock/agreement/release", "127.0.0.1:1", "", "application/json; charset=utf-8", 200},
		{"other 127/8 address", "GET", "/__mock/webhooks/deliveries", "127.0.0.2:9", "", "", 200},
		{"localhost without port", "GET", "/__mock/webhooks/deliveries", "localhost", "", "", 200},
		{"LOCALHOST with port", "GET", "/__mock/webhooks/deliveries", "LOCALHOST:80", "", "", 200},
		{"IPv6 loopback", "GET", "/__mock/webhooks/deliveries", "[::1]:8080", "", "", 200},
		{"public URL host", "GET", "/__mock/webhooks/deliveries", "mock.example", "", "", 200},
		{"WithAdminHosts name, port ignored", "GET", "/__mock/webhooks/deliveries", "mock:9999", "", "", 200},
		{"WithAdminHosts is case-insensitive", "GET", "/__mock/webhooks/deliveries", "other.internal", "", "", 200},
		{"same-origin page", "POST", "/__mock/agreement/release", "127.0.0.1:8080", "http://127.0.0.1:8080", "application/json", 200},
		{"public URL origin behind a proxy", "POST", "/__mock/agreement/release", "127.0.0.1:8080", "https://mock.example", "application/json", 200},
		{"GET needs no Content-Type", "GET", "/__mock/state", "127.0.0.1:8080", "", "", 200},
	}
	for _, tt := range tests {
		if w := adminReq(b, tt.method, tt.path, tt.host, tt.origin, tt.ctype, ""); w.Code != tt.want {
			t.Errorf("%s: %s %s (Host %s) = %d %s, want %d", tt.name, tt.method, tt.path, tt.host, w.Code, w.Body, tt.want)
		}
	}
}

// The checks guard /__mock/ only: the hosted pages' forms (form-encoded POSTs, with the page's
// own Origin) and the API keep working under any Host.
func TestAdminGuardLeavesPagesAndAPIAlone(t *testing.T) {
	t.Parallel()
	b := NewBackend()
	t.Cleanup(b.Close)
	r := httptest.NewRequest(http.MethodGet, "/me", nil)
	r.Host = "mock.example"
	r.Header.Set("Origin", "http://evil.example")
	r.Header.Set("XApiKey", DefaultAPIKey)
	w := httptest.NewRecorder()
	b.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("GET /me under another Host and Origin = %d %s", w.Code, w.Body)
	}
	// A form POST to a page route is not refused for its content type (404: no such link).
	if w := adminReq(b, "POST", "/onboarding/companydetails/nope", "mock.example", "http://mock.example", "application/x-www-form-urlencoded", "name=x"); w.Code == http.StatusUnsupportedMediaType || w.Code == http.StatusForbidden {
		t.Errorf("form POST to a hosted page = %d %s", w.Code, w.Body)
	}
}
