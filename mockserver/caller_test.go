package mockserver

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// gatedBody is a request body whose first Read announces itself on started and then waits for
// release: the handler is then past wrap's partner lookup and before its own critical section.
type gatedBody struct {
	r        io.Reader
	once     sync.Once
	started  chan struct{}
	released chan struct{}
}

func newGatedBody(s string) *gatedBody {
	return &gatedBody{r: strings.NewReader(s), started: make(chan struct{}), released: make(chan struct{})}
}

func (g *gatedBody) Read(p []byte) (int, error) {
	g.once.Do(func() {
		close(g.started)
		<-g.released
	})
	return g.r.Read(p)
}

// serve runs one request through the Backend in-process and returns the recorder.
func serve(b *Backend, method, path, apiKey string, body io.Reader) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, body)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if apiKey != "" {
		r.Header.Set("XApiKey", apiKey)
	}
	w := httptest.NewRecorder()
	b.ServeHTTP(w, r)
	return w
}

func clientJSON(ext string) string {
	return fmt.Sprintf(`{"externalTenantId":%q,"client":{"name":"Company %s","country":"DK","supportEmail":"%s@c.example"},"users":[{"name":"Ada Lovelace","email":"%s@c.example"}]}`, ext, ext, ext, ext)
}

// checkStoreConsistent fails the test when the store's records and indexes disagree: every
// active link is listed by its partner and every partner lists only links of the store. A write
// through a partner record of a discarded store breaks exactly this.
func checkStoreConsistent(t *testing.T, b *Backend) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.st
	for k, p := range st.partnerByKey {
		if st.Partners[p.ID] != p || p.APIKey != k {
			t.Errorf("partner index: key %q names a partner record that is not the store's", k)
		}
	}
	for _, p := range st.Partners {
		for ext, l := range p.active {
			if st.Links[l.ID] != l || l.PartnerID != p.ID || l.ExternalTenantID != ext {
				t.Errorf("partner %s lists client %q, whose link is not the store's", p.ID, ext)
			}
		}
	}
	for _, l := range st.Links {
		if l.Archived {
			continue
		}
		if p := st.Partners[l.PartnerID]; p == nil || p.active[l.ExternalTenantID] != l {
			t.Errorf("active link %s (client %q) is not listed by its partner %s", l.ID, l.ExternalTenantID, l.PartnerID)
		}
		if l.cred == nil || st.Creditors[l.CreditorID] != l.cred {
			t.Errorf("active link %s points at a creditor that is not the store's", l.ID)
		}
	}
	for _, h := range st.Webhooks {
		if st.Partners[h.PartnerID] == nil {
			t.Errorf("webhook %s belongs to partner %s, who is not in the store", h.ID, h.PartnerID)
		}
	}
}

// hasRaceClient checks that the client t-race, created after the swap, is in the store.
func hasRaceClient(swap string) func(t *testing.T, b *Backend) {
	return func(t *testing.T, b *Backend) {
		if _, err := b.LinkedClient(DefaultAPIKey, "t-race"); err != nil {
			t.Errorf("the client created after the %s is not in the state: %v", swap, err)
		}
	}
}

// A Reset or Restore that lands between wrap's partner lookup and the handler's effect: the
// effect must happen in the store that is current when it happens, for the partner that store
// has under the key (or 401 when it has none).
func TestResetBetweenAuthAndEffect(t *testing.T) {
	const gone = "mock_partner_removed_by_reset"
	tests := []struct {
		name   string
		setup  func(t *testing.T, b *Backend) (swap func())
		method string
		path   string
		key    string
		body   string
		want   int
		check  func(t *testing.T, b *Backend)
	}{
		{
			name:   "POST /clients across Reset",
			setup:  func(t *testing.T, b *Backend) func() { return b.Reset },
			method: "POST", path: "/clients", key: DefaultAPIKey, body: clientJSON("t-race"), want: http.StatusAccepted,
			check: hasRaceClient("Reset"),
		},
		{
			name: "POST /clients across Restore",
			setup: func(t *testing.T, b *Backend) func() {
				snap := mustSnapshot(t, b)
				return func() {
					if err := b.Restore(snap); err != nil {
						t.Error(err)
					}
				}
			},
			method: "POST", path: "/clients", key: DefaultAPIKey, body: clientJSON("t-race"), want: http.StatusAccepted,
			check: hasRaceClient("Restore"),
		},
		{
			name: "PATCH of a client the Reset removed",
			setup: func(t *testing.T, b *Backend) func() {
				if w := serve(b, "POST", "/clients", DefaultAPIKey, strings.NewReader(clientJSON("t-old"))); w.Code != http.StatusAccepted {
					t.Fatalf("POST /clients: %d %s", w.Code, w.Body)
				}
				return b.Reset
			},
			method: "PATCH", path: "/clients/t-old", key: DefaultAPIKey, body: `{"supportPhone":"+4512345678"}`, want: http.StatusNotFound,
		},
		{
			name: "a partner the Reset removed",
			setup: func(t *testing.T, b *Backend) func() {
				if _, err := b.AddPartner(PartnerSpec{APIKey: gone}); err != nil {
					t.Fatal(err)
				}
				return b.Reset
			},
			method: "POST", path: "/clients", key: gone, body: clientJSON("t-gone"), want: http.StatusUnauthorized,
		},
		{
			name: "a webhook of a partner the Restore removed",
			setup: func(t *testing.T, b *Backend) func() {
				snap := mustSnapshot(t, b)
				if _, err := b.AddPartner(PartnerSpec{APIKey: gone}); err != nil {
					t.Fatal(err)
				}
				return func() {
					if err := b.Restore(snap); err != nil {
						t.Error(err)
					}
				}
			},
			method: "POST", path: "/v1/Webhooks", key: gone, body: `{"url":"https://hooks.example/x","events":["client.linked"]}`, want: http.StatusUnauthorized,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBackend(WithSeed(1), WithRateLimit(RateLimitConfig{Disabled: true}))
			t.Cleanup(b.Close)
			swap := tt.setup(t, b)
			body := newGatedBody(tt.body)
			done := make(chan *httptest.ResponseRecorder)
			go func() { done <- serve(b, tt.method, tt.path, tt.key, body) }()
			<-body.started // wrap has authenticated the request with the old store
			swap()
			close(body.released)
			w := <-done
			if w.Code != tt.want {
				t.Fatalf("%s %s: %d %s; want %d", tt.method, tt.path, w.Code, w.Body, tt.want)
			}
			if tt.check != nil {
				tt.check(t, b)
			}
			checkStoreConsistent(t, b)
		})
	}
}

// Handlers of every kind race with Reset and Restore (run it with -race). Afterwards the store is
// consistent, and after a final Reset nothing of before is left.
func TestResetRestoreRaceWithHandlers(t *testing.T) {
	const other = "mock_partner_race_other"
	b := NewBackend(WithSeed(2), WithRateLimit(RateLimitConfig{Disabled: true}))
	t.Cleanup(b.Close)
	if _, err := b.AddPartner(PartnerSpec{APIKey: other}); err != nil {
		t.Fatal(err)
	}
	if w := serve(b, "POST", "/clients", other, strings.NewReader(clientJSON("t-snap"))); w.Code != http.StatusAccepted {
		t.Fatalf("POST /clients: %d %s", w.Code, w.Body)
	}
	snap := mustSnapshot(t, b)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() { // the swapper
		for i := 0; i < 40; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				b.Reset()
			} else if err := b.Restore(snap); err != nil {
				t.Error(err)
			}
		}
	})
	for g := range 4 {
		wg.Go(func() {
			for i := range 30 {
				k := DefaultAPIKey
				if (g+i)%2 == 1 {
					k = other
				}
				ext := fmt.Sprintf("t-%d-%d", g, i%5)
				steps := []struct{ method, path, body string }{
					{"POST", "/clients", clientJSON(ext)},
					{"PATCH", "/clients/" + ext, `{"metadata":{"i":1}}`},
					{"GET", "/clients/" + ext, ""},
					{"GET", "/clients", ""},
					{"POST", "/clients/" + ext + "/suspend", ""},
					{"POST", "/oauth/token", `{"externalTenantId":"` + ext + `"}`},
					{"POST", "/clients/" + ext + "/withdraw", ""},
					{"DELETE", "/clients/" + ext, ""},
					{"GET", "/v1/Webhooks", ""},
					{"GET", "/me", ""},
				}
				s := steps[i%len(steps)]
				var body io.Reader
				if s.body != "" {
					body = strings.NewReader(s.body)
				}
				if w := serve(b, s.method, s.path, k, body); w.Code >= 500 {
					t.Errorf("%s %s: %d %s", s.method, s.path, w.Code, w.Body)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	checkStoreConsistent(t, b)

	b.Reset()
	checkStoreConsistent(t, b)
	b.mu.Lock()
	defer b.mu.Unlock()
	if n, m := len(b.st.Links), len(b.st.Creditors); n != 0 || m != 0 {
		t.Errorf("after the final Reset the state has %d links and %d creditors, want none", n, m)
	}
	if b.st.partnerByKey[other] != nil {
		t.Error("after the final Reset the added partner is still there")
	}
}
