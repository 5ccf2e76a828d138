package mockserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/debitura-go/debitura/internal/contract"
)

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// call sends a request to s with the given API key ("" sends none) and body (string, []byte, nil
// or any value marshalled as JSON).
func do(t *testing.T, s *Server, method, path, key string, body any, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil || strings.HasPrefix(path, "/__mock/") { // the control API wants JSON even without a body
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(contract.SkipRequestHeader, "1")
	if key != "" {
		req.Header.Set("XApiKey", key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: raw}
}

const key = DefaultAPIKey

// newClient is a minimal valid POST /clients body, with cases when given (caseBody).
func newClient(ext, email string, cases ...any) map[string]any {
	body := map[string]any{
		"externalTenantId": ext,
		"client": map[string]any{
			"name": "Acme " + ext, "country": "DK", "supportEmail": "billing+" + ext + "@acme.example",
		},
		"users": []any{map[string]any{"name": "John Doe", "email": email, "isOnboardingUser": true}},
	}
	if len(cases) > 0 {
		body["cases"] = cases
	}
	return body
}

func caseBody(ref, country string) map[string]any {
	return map[string]any{
		"currencyCode": "EUR", "creditorReference": ref, "amountToRecover": 1200.5,
		"debtor": map[string]any{"type": "Company", "name": "Debtor " + ref, "countryAlpha2": country},
	}
}

func str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

// mustSnapshot is b.Snapshot that fails the test on an error.
func mustSnapshot(t testing.TB, b *Backend) []byte {
	t.Helper()
	snap, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// restoredServer starts a test server with opts and restores from's snapshot into it.
func restoredServer(t *testing.T, from *Server, opts ...Option) *Server {
	t.Helper()
	s := newTestServer(t, opts...)
	if err := s.Restore(mustSnapshot(t, from.Backend)); err != nil {
		t.Fatal(err)
	}
	return s
}

func mustCreate(t *testing.T, s *Server, k, ext, email string) map[string]any {
	t.Helper()
	r := do(t, s, "POST", "/clients", k, newClient(ext, email))
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /clients %s = %d %s, want 202", ext, r.status, r.body)
	}
	return r.json(t)
}
