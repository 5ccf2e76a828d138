package mockserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

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
