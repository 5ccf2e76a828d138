package mockserver

import (
	"net/http"
	"net/http/httptest"
	"testing"

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
