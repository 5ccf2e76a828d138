package mockserver

// The journal's tests: what it keeps (newest entries in a capped ring, cut paths) and what it
// never keeps (secrets).

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/debitura-go/debitura/internal/contract"
)

// The capped journal keeps the newest entries, oldest first, across many wrap-arounds, and its
// counts keep every request.
func TestJournalLimitKeepsNewestInOrder(t *testing.T) {
	for _, limit := range []int{1, 5} {
		b := NewBackend(WithJournalLimit(limit), WithRateLimit(RateLimitConfig{Disabled: true}))
		h := contract.MockMiddleware(t, b)
		get := func() {
			req := httptest.NewRequest(http.MethodGet, "/me", nil)
			req.Header.Set("XApiKey", DefaultAPIKey)
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
		for range 23 {
			get()
		}
		j := b.Journal()
		if len(j) != limit {
			t.Fatalf("limit %d: journal has %d entries", limit, len(j))
		}
		for i, e := range j {
			if want := int64(23 - limit + 1 + i); e.Seq != want {
				t.Fatalf("limit %d: entry %d has Seq %d, want %d", limit, i, e.Seq, want)
			}
		}
		if n := b.Count(OpMe); n != 23 {
			t.Fatalf("limit %d: Count = %d, want 23", limit, n)
		}
		b.ResetJournal()
		get()
		get()
		j = b.Journal()
		if len(j) != min(2, limit) || j[len(j)-1].Seq != 25 {
			t.Fatalf("limit %d: after reset: %+v", limit, j)
		}
	}
}

// Adding to a full 100,000-entry journal is O(1).
func BenchmarkJournalAddFull(b *testing.B) {
	j := newJournal(100000)
	for range 100000 {
		j.add(JournalEntry{Operation: OpMe})
	}
	b.ResetTimer()
	for range b.N {
		j.add(JournalEntry{Operation: OpMe})
	}
}

// Keyless requests with huge paths (all 401) must not make the journal keep the paths: each
// entry keeps at most MaxJournalPath bytes, cut at a character boundary and marked.
func TestJournalCutsLongPaths(t *testing.T) {
	t.Parallel()
	b := NewBackend(WithRateLimit(RateLimitConfig{Disabled: true}))
	t.Cleanup(b.Close)
	const n = 200
	long := "/clients/" + strings.Repeat("é", 32<<10) // 64 KiB of two-byte characters
	for range n {
		w := httptest.NewRecorder()
		b.ServeHTTP(w, httptest.NewRequest(http.MethodGet, long+"?q="+strings.Repeat("x", 1000), nil))
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("keyless GET = %d", w.Code)
		}
	}
	short := httptest.NewRequest(http.MethodGet, "/me", nil)
	short.Header.Set("XApiKey", DefaultAPIKey)
	b.ServeHTTP(httptest.NewRecorder(), short)

	j := b.Journal()
	if len(j) != n+1 {
		t.Fatalf("journal has %d entries, want %d", len(j), n+1)
	}
	total := 0
	for _, e := range j[:n] {
		total += len(e.Path)
		if len(e.Path) > MaxJournalPath || !strings.HasSuffix(e.Path, JournalCutMarker) ||
			!strings.HasPrefix(long, strings.TrimSuffix(e.Path, JournalCutMarker)) || !utf8.ValidString(e.Path) {
			t.Fatalf("recorded path (%d bytes) is not the request path cut to %d bytes: %.40q...%q",
				len(e.Path), MaxJournalPath, e.Path, e.Path[max(0, len(e.Path)-20):])
		}
	}
	if total > n*MaxJournalPath {
		t.Errorf("journal paths take %d bytes, want at most %d", total, n*MaxJournalPath)
	}
	if got := j[n].Path; got != "/me" {
		t.Errorf("a short path is recorded as %q, want /me", got)
	}
}

func TestJournalHasNoSecrets(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	if _, err := s.AddCreditor(CreditorSpec{CompanyName: "E", Emails: []string{"e@x.example"}}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, key, "j", "j@x.example")
	if err := s.CompleteOnboarding(key, "j"); err != nil {
		t.Fatal(err)
	}
	_, tok := mint(t, s, key, "j")
	rot := do(t, s, "POST", "/clients/j/rotate-token", key, nil).json(t)["accessToken"].(string)
	whoami(t, s, tok)
	approval := tokenFromURL(t, str(do(t, s, "POST", "/clients", key, newClient("e", "e@x.example")).json(t), "data", "onboardingLinks", "url"))
	if err := s.ApproveLink(approval); err != nil {
		t.Fatal(err)
	}
	do(t, s, "GET", "/me", "mock_test_wrong_key_secret", nil)

	raw, _ := json.Marshal(s.Journal())
	state, _ := s.State()
	http := do(t, s, "GET", "/__mock/journal", "", nil).body
	for _, secret := range []string{key, "mock_test_wrong_key_secret", tok, rot, approval, strings.Split(tok, ".")[2]} {
		for name, blob := range map[string][]byte{"Journal()": raw, "State()": state, "/__mock/journal": http} {
			if strings.Contains(string(blob), secret) {
				t.Errorf("%s contains a secret (%.12s...)", name, secret)
			}
		}
	}
	ops := map[string]bool{}
	effects := map[string]bool{}
	for _, e := range s.Journal() {
		ops[e.Operation] = true
		for _, x := range e.Effects {
			effects[x] = true
		}
	}
	for _, want := range []string{OpPostClients, OpToken, OpRotateToken, OpCustomerAPIWhoami, OpMe, "approveLink"} {
		if !ops[want] {
			t.Errorf("journal has no %s entry", want)
		}
	}
	for _, want := range []string{EffectClientCreated, EffectTokenMinted, EffectTokenRotated, EffectLinkRequested, EffectLinkApproved} {
		if !effects[want] {
			t.Errorf("journal has no %s effect", want)
		}
	}
	if got := s.Requests(OpPostClients); len(got) != 2 || got[0].PartnerID != DefaultPartnerID || got[0].Route != "POST /clients" || got[0].Status != 202 {
		t.Errorf("Requests(postClients) = %+v", got)
	}
	s.ResetJournal()
	if len(s.Journal()) != 0 || s.Count(OpPostClients) != 0 {
		t.Error("ResetJournal left entries")
	}
}
