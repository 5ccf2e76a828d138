package mockserver

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAdminHTTP(t *testing.T) {
	t.Parallel()
	clock := NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newTestServer(t, WithClock(clock))
	steps := []struct {
		method, path, key string
		body              any
		want              int
	}{
		{"POST", "/__mock/partners", "", PartnerSpec{APIKey: "mock_test_http"}, 201},
		{"POST", "/__mock/partners", "", PartnerSpec{APIKey: "has space"}, 400},
		{"POST", "/__mock/creditors", "", CreditorSpec{CompanyName: "Pre", Emails: []string{"pre@x.example"}}, 201},
		{"POST", "/clients", "mock_test_http", newClient("h", "h@x.example"), 202},
		{"POST", "/__mock/clients/h/complete-onboarding", "mock_test_http", nil, 204},
		{"POST", "/clients", "mock_test_http", newClient("h", "h@x.example"), 201},
		{"POST", "/__mock/agreement/release", "", nil, 200},
		{"POST", "/clients", "mock_test_http", newClient("h", "h@x.example"), 202},
		{"POST", "/__mock/clock/advance", "", map[string]any{"duration": "1h"}, 200},
		{"POST", "/__mock/clock/advance", "", map[string]any{"seconds": 30}, 200},
		{"PUT", "/__mock/rate-limit", "", map[string]any{"windows": []any{map[string]any{"limit": 1, "period": "1m"}}}, 200},
		{"GET", "/me", key, nil, 200},
		{"GET", "/me", key, nil, 429},
		{"PUT", "/__mock/rate-limit", "", map[string]any{"disabled": true}, 200},
		{"POST", "/__mock/faults", "", map[string]any{"operation": "getMe", "status": 500, "times": 1, "latency": "1ms"}, 201},
		{"GET", "/me", key, nil, 500},
		{"POST", "/__mock/faults", "", map[string]any{"operation": "getMe", "status": 500}, 201},
		{"DELETE", "/__mock/faults", "", nil, 204},
		{"GET", "/me", key, nil, 200},
		{"GET", "/__mock/journal", "", nil, 200},
		{"GET", "/__mock/state", "", nil, 200},
		{"GET", "/__mock/nope", "", nil, 404},
	}
	for i, st := range steps {
		if r := do(t, s, st.method, st.path, st.key, st.body); r.status != st.want {
			t.Fatalf("step %d: %s %s = %d %s, want %d", i, st.method, st.path, r.status, r.body, st.want)
		}
	}
	if got := clock.Now(); !got.Equal(time.Date(2025, 1, 1, 1, 0, 30, 0, time.UTC)) {
		t.Errorf("clock = %v after advancing 1h30s", got)
	}
	var journal []JournalEntry
	do(t, s, "GET", "/__mock/journal?operation=getMe", "", nil).decode(t, &journal)
	if len(journal) != 4 {
		t.Errorf("journal?operation=getMe has %d entries, want 4", len(journal))
	}
	var state map[string]any
	do(t, s, "GET", "/__mock/state", "", nil).decode(t, &state)
	if state["agreementVersion"] != float64(2) || strings.Contains(string(must(json.Marshal(state))), "mock_test_http") {
		t.Errorf("state = %v", state)
	}
	if r := do(t, s, "POST", "/__mock/reset", "", nil); r.status != 204 {
		t.Fatalf("reset = %d", r.status)
	}
	if r := do(t, s, "GET", "/me", "mock_test_http", nil); r.status != 401 {
		t.Errorf("partner added over HTTP after reset = %d, want 401", r.status)
	}
	if len(s.Journal()) != 1 {
		t.Errorf("journal after reset has %d entries, want 1", len(s.Journal()))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSnapshotRestore(t *testing.T) {
	t.Parallel()
	clock := NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newTestServer(t, WithClock(clock), WithSeed(7))
	do(t, s, "POST", "/clients", key, newClient("s1", "s1@x.example", caseBody("r", "DK")))
	mustCreate(t, s, key, "s2", "s2@x.example")
	if err := s.CompleteOnboarding(key, "s1"); err != nil {
		t.Fatal(err)
	}
	_, tok := mint(t, s, key, "s1")
	if _, err := s.AddCreditor(CreditorSpec{CompanyName: "P", Emails: []string{"p@x.example"}}); err != nil {
		t.Fatal(err)
	}
	pending := do(t, s, "POST", "/clients", key, newClient("p", "p@x.example")).json(t)
	s2 := restoredServer(t, s, WithClock(clock))
	for _, path := range []string{"/clients", "/clients/s1", "/clients/s2"} {
		a, b := do(t, s, "GET", path, key, nil), do(t, s2, "GET", path, key, nil)
		// The hosted-page URLs differ by server; compare without them.
		strip := func(x []byte) string { return strings.ReplaceAll(strings.ReplaceAll(string(x), s.URL, ""), s2.URL, "") }
		if diff := cmp.Diff(strip(a.body), strip(b.body)); diff != "" {
			t.Errorf("GET %s differs after Restore (-orig +restored):\n%s", path, diff)
		}
	}
	if st := s2.CheckToken(tok); !st.Valid {
		t.Errorf("token after Restore = %+v, want valid (secret restored)", st)
	}
	if r := do(t, s2, "POST", "/clients", key, newClient("p", "p@x.example")); r.status != 409 ||
		tokenFromURL(t, str(r.json(t), "data", "onboardingLinks", "url")) != tokenFromURL(t, str(pending, "data", "onboardingLinks", "url")) {
		t.Errorf("pending link request after Restore = %d %s", r.status, r.body)
	}
	if err := s2.Restore([]byte(`{"format":99}`)); err == nil {
		t.Error("Restore accepted an unknown format")
	}
}
