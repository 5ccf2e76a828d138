package mockserver

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHealth: GET /__mock/health answers 200 {"status":"ok","version"} without a key, under a
// Host that is not loopback (a Kubernetes probe sends the pod IP) and in Production.
func TestHealth(t *testing.T) {
	for _, env := range []Environment{Test, Production} {
		b := NewBackend(WithEnvironment(env))
		t.Cleanup(b.Close)
		for _, host := range []string{"127.0.0.1:8080", "10.1.2.3:8080", "mock"} {
			rec := adminReq(b, http.MethodGet, HealthPath, host, "", "", "")
			var h Health
			if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil || rec.Code != http.StatusOK || h.Status != "ok" || h.Version == "" {
				t.Errorf("%v GET %s Host %s = %d %s (%v), want 200 status ok with a version", env, HealthPath, host, rec.Code, rec.Body, err)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		}
		rec := adminReq(b, http.MethodPost, HealthPath, "127.0.0.1", "", "application/json", "")
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%v POST %s = %d Allow %q, want 405 GET, HEAD", env, HealthPath, rec.Code, rec.Header().Get("Allow"))
		}
	}
	// Other /__mock/ routes keep the Host check.
	b := NewBackend()
	t.Cleanup(b.Close)
	if rec := adminReq(b, http.MethodGet, "/__mock/faults", "10.1.2.3:8080", "", "", ""); rec.Code != http.StatusForbidden {
		t.Errorf("GET /__mock/faults from a foreign Host = %d, want 403", rec.Code)
	}
}

// TestMethodNotAllowed: a known path under another method answers 405 with Allow and an empty
// body (ASP.NET Core's answer); an unknown path stays 404.
func TestMethodNotAllowed(t *testing.T) {
	s := NewTest(t)
	tests := []struct {
		method, path, key string
		status            int
		allow             string
	}{
		{"PATCH", "/clients", key, 405, "GET, POST"},
		{"DELETE", "/me", key, 405, "GET"},
		{"PUT", "/clients/acme-1/withdraw", key, 405, "POST"},
		{"POST", "/clients/acme-1", key, 405, "GET, PATCH, DELETE"},
		{"PATCH", "/v1/Webhooks", key, 405, "GET, POST"},
		{"POST", "/v1/Webhooks/0b0e3a52-0d5c-4d1e-9a7a-2f1f1c0de001", key, 405, "GET, PUT, DELETE"},
		{"GET", "/__mock/reset", "", 405, "POST"},
		{"PUT", "/__mock/faults", "", 405, "GET, POST, DELETE"},
		{"GET", "/nowhere", key, 404, ""},
		{"PATCH", "/clients", "", 401, ""}, // the key is checked first, as on every API route
	}
	for _, tt := range tests {
		r := do(t, s, tt.method, tt.path, tt.key, nil)
		if r.status != tt.status || r.header.Get("Allow") != tt.allow {
			t.Errorf("%s %s = %d Allow %q, want %d Allow %q", tt.method, tt.path, r.status, r.header.Get("Allow"), tt.status, tt.allow)
		}
		if tt.status == 405 && len(r.body) != 0 {
			t.Errorf("%s %s: 405 body %q, want none", tt.method, tt.path, r.body)
		}
	}
	if got := s.Requests(opUnknownRoute); len(got) == 0 || got[0].Status != 405 {
		t.Errorf("journal of the 405: %+v", got)
	}
}

// TestDefaultPartnerHasNoLogo: the default partner has no logo (no external host the pages
// would load), so the hosted pages render without an <img> and /me says null.
func TestDefaultPartnerHasNoLogo(t *testing.T) {
	s := NewTest(t)
	if r := do(t, s, "GET", "/me", key, nil); r.status != 200 || r.json(t)["logoUrl"] != nil {
		t.Errorf("GET /me logoUrl = %v, want null", r.json(t)["logoUrl"])
	}
	body := mustCreate(t, s, key, "logo-1", "ada@logo.example")
	u := str(body, "onboardingLinks", "url")
	res, err := s.Client().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	page, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || strings.Contains(string(page), "<img") {
		t.Errorf("onboarding page %d has an <img>: %s", res.StatusCode, page)
	}
}

// TestBare429FaultIsRateLimitBody: a fault with status 429 and no shape answers the documented
// rate-limit body with retryAfter.
func TestBare429FaultIsRateLimitBody(t *testing.T) {
	s := NewTest(t)
	s.InjectFault(Fault{Operation: OpMe, Status: 429, Times: 1})
	s.InjectFault(Fault{Operation: OpMe, Status: 429, RetryAfter: 7, Times: 1})
	for _, want := range []float64{1, 7} {
		r := do(t, s, "GET", "/me", key, nil)
		var got struct {
			Error      string  `json:"error"`
			RetryAfter float64 `json:"retryAfter"`
		}
		r.decode(t, &got)
		if r.status != 429 || got.Error != "rate_limit_exceeded" || got.RetryAfter != want {
			t.Errorf("GET /me with a bare 429 fault = %d %s, want the rate-limit body with retryAfter %v", r.status, r.body, want)
		}
	}
	// An explicit shape still wins.
	s.InjectFault(Fault{Operation: OpMe, Status: 429, Shape: ShapeAPIError, Times: 1})
	r := do(t, s, "GET", "/me", key, nil)
	if diff := cmp.Diff("Too Many Requests", str(r.json(t), "error")); diff != "" {
		t.Errorf("429 with ShapeAPIError (-want +got):\n%s", diff)
	}
}
