package mockserver

import (
	"net/http"
	"strings"
	"testing"
)

// TestDashboardServed: GET /__mock/ is HTML under a strict CSP that allows only the mock's own
// script, behind the admin guard, with names escaped.
func TestDashboardServed(t *testing.T) {
	b := NewBackend()
	t.Cleanup(b.Close)
	if _, err := b.AddPartner(PartnerSpec{APIKey: "mock_x", CompanyName: `<script>alert(1)</script>`}); err != nil {
		t.Fatal(err)
	}
	rec := adminReq(b, http.MethodGet, "/__mock/", "127.0.0.1:8080", "", "", "")
	body := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /__mock/ = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the partner name is not escaped")
	}
	for _, id := range []string{`id="partners"`, `id="clients"`, `id="link-requests"`, `id="webhooks"`, `id="deliveries"`, `id="journal"`, `id="faults"`, `id="clock"`, `id="rate-limit"`} {
		if !strings.Contains(body, id) {
			t.Errorf("dashboard has no %s section", id)
		}
	}
	if js := adminReq(b, http.MethodGet, "/__mock/dashboard.js", "localhost", "", "", ""); js.Code != 200 || !strings.HasPrefix(js.Header().Get("Content-Type"), "text/javascript") {
		t.Errorf("GET /__mock/dashboard.js = %d %q", js.Code, js.Header().Get("Content-Type"))
	}
	if r := adminReq(b, http.MethodGet, "/__mock", "localhost", "", "", ""); r.Code != http.StatusMovedPermanently || r.Header().Get("Location") != "/__mock/" {
		t.Errorf("GET /__mock = %d %q", r.Code, r.Header().Get("Location"))
	}
	// The guard applies: a foreign Host (DNS rebinding) and a foreign Origin are refused; the
	// mock's own origin may call the control API (the dashboard's fetch()).
	if r := adminReq(b, http.MethodGet, "/__mock/", "attacker.example", "", "", ""); r.Code != http.StatusForbidden {
		t.Errorf("dashboard under a foreign Host = %d, want 403", r.Code)
	}
	if r := adminReq(b, http.MethodPost, "/__mock/links/expire", "127.0.0.1:8080", "http://attacker.example", "application/json", ""); r.Code != http.StatusForbidden {
		t.Errorf("POST from a foreign origin = %d, want 403", r.Code)
	}
	if r := adminReq(b, http.MethodPost, "/__mock/links/expire", "127.0.0.1:8080", "http://127.0.0.1:8080", "application/json", ""); r.Code != http.StatusOK {
		t.Errorf("POST from the mock's own origin = %d, want 200", r.Code)
	}
}
