package mockserver

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzAdmin: any method, path and body to the /__mock/ control API -> never a panic, never a
// 5xx, and a 4xx is a JSON error with a message. Whatever the call left behind (a partner, a
// fault rule, a rate limit, a moved clock) must not make the mock panic or fail afterwards: the
// state still serializes and the API still answers.
func FuzzAdmin(f *testing.F) {
	for _, s := range []struct{ method, path, body string }{
		{"POST", "/__mock/partners", `{"apiKey":"mock_x","id":"abc"}`},
		{"POST", "/__mock/partners", `{"apiKey":"mock_y","companyName":"Y","approvalTtlDays":-5,"referralFeePercentage":-1}`},
		{"POST", "/__mock/partners", `{"apiKey":"` + DefaultAPIKey + `"}`},
		{"POST", "/__mock/partners", `{"apiKey":"mock_z","id":""}`},
		{"POST", "/__mock/creditors", `{"companyName":"Pre ApS","emails":["pre@fz.example"],"linkedToPartner":"` + DefaultAPIKey + `"}`},
		{"POST", "/__mock/creditors", `{"companyName":"Pre ApS","country":"Atlantis","users":[{"name":"","email":""}]}`},
		{"POST", "/__mock/clients/" + fuzzExisting + "/complete-onboarding", ``},
		{"GET", "/__mock/clients/" + fuzzExisting, ``},
		{"POST", "/__mock/agreement/release", ``},
		{"POST", "/__mock/links/nope/approve", ``},
		{"POST", "/__mock/links/expire", ``},
		{"POST", "/__mock/clock/advance", `{"seconds":1e300}`},
		{"POST", "/__mock/clock/advance", `{"duration":"-2562047h"}`},
		{"PUT", "/__mock/rate-limit", `{"windows":[{"limit":1,"period":"1ns","segments":1000000000}]}`},
		{"POST", "/__mock/faults", `{"operation":"getMe","status":42,"latency":"1ms"}`},
		{"POST", "/__mock/faults", `{"status":500,"header":{"X-A":["b"]},"probability":2,"times":-1}`},
		{"DELETE", "/__mock/faults/fault-1", ``},
		{"GET", "/__mock/journal?operation=getMe", ``},
		{"POST", "/__mock/token/check", `{"token":"a.b.c"}`},
		{"POST", "/__mock/webhooks/flush", ``},
		{"POST", "/__mock/reset", `null`},
		{"PATCH", "/__mock/nope", `[`},
	} {
		f.Add(s.method, s.path, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		// Only what an HTTP client can send: a token method and a parsable /__mock/ target.
		// A request line cannot carry spaces or control characters in its target.
		if _, err := url.ParseRequestURI(path); err != nil || !strings.HasPrefix(path, "/__mock/") || len(path) > 512 ||
			strings.ContainsFunc(path, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return
		}
		if !validHeaderName(method) || len(method) > 16 {
			return
		}
		b := fuzzBackend(t)
		rec := fuzzAdminServe(b, method, path, body)
		if rec.Code >= 400 {
			fuzzCheckError(t, rec)
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s = %d %s", method, path, rec.Code, rec.Body)
		}
		// What the call left behind must not break the mock.
		for _, p := range []string{"/__mock/state", "/__mock/journal", "/__mock/faults", "/__mock/rate-limit", "/__mock/webhooks/deliveries"} {
			if rec := fuzzAdminServe(b, "GET", p, nil); rec.Code != http.StatusOK {
				t.Fatalf("after %s %s: GET %s = %d %s", method, path, p, rec.Code, rec.Body)
			}
		}
		if _, err := b.Snapshot(); err != nil {
			t.Fatalf("after %s %s: Snapshot: %v", method, path, err)
		}
		for _, p := range []string{"/me", "/clients", "/clients/" + fuzzExisting} {
			fuzzAPIAfter(t, b, p)
		}
	})
}

// fuzzAdminServe sends a control request as a Go client on loopback would.
func fuzzAdminServe(b *Backend, method, path string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://127.0.0.1"+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	return rec
}

// fuzzAPIAfter calls an API route with a short deadline (an injected latency ends with it) and
// fails on any panic but the one a Reset or Truncate fault uses to drop the answer when the
// connection cannot be hijacked (a recorder).
func fuzzAPIAfter(t *testing.T, b *Backend, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", path, nil)
	req.Header.Set("XApiKey", DefaultAPIKey)
	defer func() {
		if v := recover(); v != nil {
			if err, ok := v.(error); !ok || !errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
		}
	}()
	b.ServeHTTP(httptest.NewRecorder(), req)
}
