package mockserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func kycJSON(name string) string {
	return `{"directorFullName":"` + name + `","directorHomeAddress":"1 Main St, Copenhagen","directorDateOfBirth":"1970-01-01"}`
}

// serveKey is serve with an Idempotency-Key.
func serveKey(b *Backend, method, path, apiKey, idemKey, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("XApiKey", apiKey)
	r.Header.Set("Idempotency-Key", idemKey)
	w := httptest.NewRecorder()
	b.ServeHTTP(w, r)
	return w
}

func replayed(w *httptest.ResponseRecorder) bool {
	return w.Header().Get("Idempotent-Replayed") == "true"
}

func TestIdempotencyExpiresOnMockClock(t *testing.T) {
	clock := NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	b := NewBackend(WithSeed(1), WithClock(clock), WithRateLimit(RateLimitConfig{Disabled: true}))
	t.Cleanup(b.Close)
	if w := serve(b, "POST", "/clients", DefaultAPIKey, strings.NewReader(clientJSON("t-kyc"))); w.Code != http.StatusAccepted {
		t.Fatalf("POST /clients: %d %s", w.Code, w.Body)
	}
	const path, k = "/clients/t-kyc/kyc-verification", "kyc-key-1"
	step := func(body string, wantStatus int, wantReplayed bool) {
		t.Helper()
		w := serveKey(b, "POST", path, DefaultAPIKey, k, body)
		if w.Code != wantStatus || replayed(w) != wantReplayed {
			t.Fatalf("at %v: %d replayed=%v %s; want %d replayed=%v", clock.Now(), w.Code, replayed(w), w.Body, wantStatus, wantReplayed)
		}
	}
	step(kycJSON("Ada One"), http.StatusCreated, false)
	step(kycJSON("Ada One"), http.StatusCreated, true)
	clock.Advance(IdempotencyTTL - time.Second)
	step(kycJSON("Ada Two"), http.StatusUnprocessableEntity, false) // still the first request's key
	clock.Advance(time.Second)
	// 24 hours later the key is new: another body is accepted and runs.
	step(kycJSON("Ada Two"), http.StatusCreated, false)
	step(kycJSON("Ada Two"), http.StatusCreated, true)
	if n := len(b.st.Idempotency); n != 1 {
		t.Errorf("%d idempotency records, want 1 (the expired one replaced)", n)
	}

	// A Snapshot leaves out what expired.
	clock.Advance(IdempotencyTTL)
	snap := mustSnapshot(t, b)
	if strings.Contains(string(snap), k) {
		t.Error("the snapshot still holds an expired idempotency record")
	}
}

func TestIdempotencyBoundedPerPartner(t *testing.T) {
	const other = "mock_partner_idem_other"
	b := NewBackend(WithSeed(1), WithPartner(PartnerSpec{APIKey: other}), WithRateLimit(RateLimitConfig{Disabled: true}))
	t.Cleanup(b.Close)
	b.idemLimit = 3
	// 404s for clients that do not exist are stored too, and count.
	kyc := func(apiKey string, i int) *httptest.ResponseRecorder {
		return serveKey(b, "POST", fmt.Sprintf("/clients/nope-%d/kyc-verification", i), apiKey, fmt.Sprintf("key-%d", i), kycJSON("Ada"))
	}
	if w := kyc(other, 0); w.Code != http.StatusNotFound {
		t.Fatalf("KYC for a missing client: %d %s", w.Code, w.Body)
	}
	for i := range 5 {
		if w := kyc(DefaultAPIKey, i); w.Code != http.StatusNotFound || replayed(w) {
			t.Fatalf("key-%d: %d replayed=%v", i, w.Code, replayed(w))
		}
	}
	count := func(partner string) int {
		n := 0
		for _, r := range b.st.Idempotency {
			if r.PartnerID == partner {
				n++
			}
		}
		return n
	}
	if n := count(DefaultPartnerID); n != 3 {
		t.Errorf("the default partner keeps %d records, want the bound 3", n)
	}
	if w := kyc(DefaultAPIKey, 4); !replayed(w) {
		t.Error("the newest key is not replayed")
	}
	if w := kyc(DefaultAPIKey, 0); replayed(w) {
		t.Error("the oldest key was replayed after it was evicted")
	}
	if w := kyc(other, 0); !replayed(w) {
		t.Error("another partner's record was evicted")
	}
	if n := len(b.st.idemOrder[DefaultPartnerID]); n != 3 {
		t.Errorf("the eviction order holds %d records, want 3", n)
	}
}

func TestGenerationMovesOnlyOnChanges(t *testing.T) {
	b := NewBackend(WithSeed(1), WithRateLimit(RateLimitConfig{Disabled: true}))
	t.Cleanup(b.Close)
	if w := serve(b, "POST", "/clients", DefaultAPIKey, strings.NewReader(clientJSON("t-gen"))); w.Code != http.StatusAccepted {
		t.Fatalf("POST /clients: %d %s", w.Code, w.Body)
	}
	reads := []struct{ method, path, key string }{
		{"GET", "/me", DefaultAPIKey},
		{"GET", "/me", "mock_unknown_key"},
		{"GET", "/clients", DefaultAPIKey},
		{"GET", "/clients/t-gen", DefaultAPIKey},
		{"GET", "/clients/t-gen/profile", DefaultAPIKey},
		{"GET", "/clients/t-gen/is-deletable", DefaultAPIKey},
		{"GET", "/v1/Webhooks", DefaultAPIKey},
		{"GET", CustomerAPIWhoamiPath, ""},
	}
	before := b.Generation()
	for _, r := range reads {
		serve(b, r.method, r.path, r.key, nil)
		if g := b.Generation(); g != before {
			t.Errorf("%s %s moved the generation", r.method, r.path)
			before = g
		}
	}
	if _, err := b.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.State(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.LinkedClient(DefaultAPIKey, "t-gen"); err != nil {
		t.Fatal(err)
	}
	if g := b.Generation(); g != before {
		t.Error("Snapshot, State or LinkedClient moved the generation")
	}
	writes := []struct {
		name string
		do   func()
	}{
		{"POST /clients", func() { serve(b, "POST", "/clients", DefaultAPIKey, strings.NewReader(clientJSON("t-gen-2"))) }},
		{"PATCH", func() {
			serve(b, "PATCH", "/clients/t-gen", DefaultAPIKey, strings.NewReader(`{"supportPhone":"+4511111111"}`))
		}},
		{"AddCreditor", func() { _, _ = b.AddCreditor(CreditorSpec{CompanyName: "G ApS", Emails: []string{"g@g.example"}}) }},
		{"Reset", b.Reset},
	}
	for _, w := range writes {
		g := b.Generation()
		w.do()
		if b.Generation() == g {
			t.Errorf("%s did not move the generation", w.name)
		}
	}
}

// marshalProbe runs f when it is encoded.
type marshalProbe struct{ f func() }

func (p marshalProbe) MarshalJSON() ([]byte, error) {
	p.f()
	return []byte(`"probe"`), nil
}

// Snapshot encodes outside b.mu: a value that is encoded can take the lock. Deterministic: the
// probe runs inside json.Marshal, and TryLock tells whether the lock is held at that moment.
func TestSnapshotEncodesOutsideTheLock(t *testing.T) {
	b := NewBackend(WithSeed(1))
	t.Cleanup(b.Close)
	if w := serve(b, "POST", "/clients", DefaultAPIKey, strings.NewReader(clientJSON("t-probe"))); w.Code != http.StatusAccepted {
		t.Fatalf("POST /clients: %d %s", w.Code, w.Body)
	}
	ran, free := false, false
	b.mu.Lock()
	b.st.partnerByKey[DefaultAPIKey].active["t-probe"].Metadata = map[string]any{"p": marshalProbe{func() {
		ran = true
		if b.mu.TryLock() {
			free = true
			b.mu.unlockUnchanged()
		}
	}}}
	b.mu.Unlock()
	if _, err := b.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if !ran {
		t.Fatal("the probe was not encoded")
	}
	if !free {
		t.Error("Snapshot encodes the state while it holds the lock")
	}
}
