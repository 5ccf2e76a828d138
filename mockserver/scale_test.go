package mockserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/debitura-go/debitura/internal/contract"
	"github.com/debitura-go/debitura/internal/testenv"
)

// populate creates n linked clients for the default partner through the same code path as POST
// /clients (handler called in-process, without HTTP).
func populate(tb testing.TB, b *Backend, n int) {
	tb.Helper()
	p := b.st.partnerByKey[DefaultAPIKey]
	for i := range n {
		body := fmt.Sprintf(`{"externalTenantId":"tenant-%d","client":{"name":"Company %d","country":"DK","supportEmail":"billing-%d@c.example","registrationNumber":"REG%d"},"users":[{"name":"User Number%d","email":"user-%d@c.example"}]}`, i, i, i, i, i, i)
		r := httptest.NewRequest("POST", "/clients", stringsReader(body))
		w := httptest.NewRecorder()
		b.postClients(w, r, &call{op: OpPostClients, key: p.APIKey})
		if w.Code != http.StatusAccepted {
			tb.Fatalf("populate %d: %d %s", i, w.Code, w.Body)
		}
		if i%10000 == 0 { // a sample: validating 100k answers would dwarf the test
			checkRecorded(tb, r, w)
		}
	}
}

func TestScale100k(t *testing.T) {
	testenv.SkipUnlessLong(t)
	if raceSlowdown > 1 {
		t.Skip("100k clients: not in -race runs (heap and timing need a plain build)")
	}
	const n = 100000
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b := NewBackend(WithSeed(1), WithRateLimit(RateLimitConfig{Disabled: true}))
	populate(t, b, n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	perClient := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("heap per linked client: %.0f bytes", perClient)
	if perClient > 2048 {
		t.Errorf("heap per linked client = %.0f bytes, want <= 2048", perClient)
	}
	for _, q := range []string{"", "?Sort=name&Page=500", "?Query=company%2099999", "?OnboardingDone=false&PageSize=100&Page=999"} {
		var w *httptest.ResponseRecorder
		var d time.Duration
		for range 2 { // the first Sort=name query builds the cached name order
			start := time.Now()
			r := httptest.NewRequest("GET", "/clients"+q, nil)
			r.Header.Set("XApiKey", DefaultAPIKey)
			w = httptest.NewRecorder()
			b.ServeHTTP(w, r)
			d = time.Since(start)
		}
		t.Logf("GET /clients%s: %v (%d bytes)", q, d, w.Body.Len())
		checkRecorded(t, httptest.NewRequest("GET", "/clients"+q, nil), w) // after the timing
		// The time is logged, not asserted: speed targets live in go run ./bench
		// (list_query_ms), where they are measured side by side instead of flaking here.
		if w.Code != 200 {
			t.Errorf("GET /clients%s = %d, want 200", q, w.Code)
		}
	}
	runtime.KeepAlive(b)
}

// checkRecorded validates a recorded answer against the API documents (with the mock's
// documented deviations).
func checkRecorded(tb testing.TB, r *http.Request, w *httptest.ResponseRecorder) {
	tb.Helper()
	v, err := contract.Mock()
	if err != nil {
		tb.Fatalf("contract: %v", err)
	}
	if err := v.ValidateResponse(r, w.Code, w.Header(), w.Body.Bytes()); err != nil {
		tb.Errorf("contract: %s %s -> %d: %v", r.Method, r.URL.Path, w.Code, err)
	}
}
