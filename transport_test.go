package debitura

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// customerAPI stands in for the Customer API: it records the bearer tokens and bodies it gets and
// answers 401 to the tokens listed in reject.
type customerAPI struct {
	mu     sync.Mutex
	auths  []string
	bodies []string
	reject func(auth string) bool
}

func (c *customerAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	auth := r.Header.Get("Authorization")
	c.mu.Lock()
	c.auths = append(c.auths, auth)
	c.bodies = append(c.bodies, string(b))
	c.mu.Unlock()
	if c.reject(auth) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// newCustomerAPI starts a customerAPI on 127.0.0.1 and returns it with its URL.
func newCustomerAPI(t *testing.T, reject func(string) bool) (*customerAPI, string) {
	c := &customerAPI{reject: reject}
	return c, newServerOn(t, "127.0.0.1", c).URL
}

func TestTransport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		reject     func(string) bool
		body       func() (io.Reader, bool) // reader, replayable
		wantStatus int
		wantAuths  []string
		wantMints  int32
	}{
		{"accepted", func(string) bool { return false }, nil, 201,
			[]string{"Bearer " + secretJWT + "-1"}, 1},
		{"401 then fresh token accepted", func(a string) bool { return strings.HasSuffix(a, "-1") },
			func() (io.Reader, bool) { return strings.NewReader(`{"amount":1}`), true }, 201,
			[]string{"Bearer " + secretJWT + "-1", "Bearer " + secretJWT + "-2"}, 2},
		{"second 401 returned", func(string) bool { return true },
			func() (io.Reader, bool) { return strings.NewReader(`{"amount":1}`), true }, 401,
			[]string{"Bearer " + secretJWT + "-1", "Bearer " + secretJWT + "-2"}, 2},
		{"body that cannot be replayed is not retried", func(string) bool { return true },
			func() (io.Reader, bool) { return io.MultiReader(strings.NewReader(`{"amount":1}`)), false }, 401,
			[]string{"Bearer " + secretJWT + "-1"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _, m := newMintAPI(t)
			cust, apiURL := newCustomerAPI(t, tc.reject)
			hc := &http.Client{Transport: c.Tokens.Transport("t1", ownTransport(t))}
			var body io.Reader
			method := http.MethodGet
			if tc.body != nil {
				body, _ = tc.body()
				method = http.MethodPost
			}
			req, err := http.NewRequestWithContext(t.Context(), method, apiURL+"/cases", body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if len(cust.auths) != len(tc.wantAuths) {
				t.Fatalf("Customer API got %d requests (%d mints), want %d", len(cust.auths), m.mints.Load(), len(tc.wantAuths))
			}
			for i := range tc.wantAuths {
				if cust.auths[i] != tc.wantAuths[i] {
					t.Errorf("request %d: wrong Authorization header", i)
				}
				if tc.body != nil && cust.bodies[i] != `{"amount":1}` {
					t.Errorf("request %d body = %q, want the original body", i, cust.bodies[i])
				}
			}
			if n := m.mints.Load(); n != tc.wantMints {
				t.Errorf("mints = %d, want %d", n, tc.wantMints)
			}
			if req.Header.Get("Authorization") != "" {
				t.Errorf("Transport changed the caller's request")
			}
		})
	}
}

func TestTransportTokenErrorCarriesNoToken(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.answer("POST /oauth/token", http.StatusNotFound, `{"error":"No active client link","message":"No active client link","businessErrors":null}`)
	_, apiURL := newCustomerAPI(t, func(string) bool { return false })
	hc := &http.Client{Transport: c.Tokens.Transport("t1", ownTransport(t))}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, apiURL+"/cases", nil)
	_, err := hc.Do(req)
	if err == nil {
		t.Fatal("Do succeeded without a token")
	}
	if strings.Contains(err.Error(), testAPIKey) {
		t.Errorf("error leaks the API key: %v", err)
	}
}

// TestTransportTokenStaysOnItsOrigin: net/http strips Authorization on a cross-origin redirect,
// but the Transport sets it on every request it sends; it must not set it on a hop that left
// the origin of the caller's request (another host, another port), and keeps setting it on a
// redirect within that origin.
func TestTransportTokenStaysOnItsOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		target    string // where the redirect goes: "host", "port" or "same"
		wantOther string // Authorization the redirect target must see
	}{
		{"another host", "host", ""},
		{"another port", "port", ""},
		{"same origin", "same", "Bearer " + secretJWT + "-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _, m := newMintAPI(t)
			other, portURL := newCustomerAPI(t, func(string) bool { return false }) // 127.0.0.1, another port
			var first []string
			var mu sync.Mutex
			var target string
			origin := newServerOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/cases/moved" {
					other.ServeHTTP(w, r)
					return
				}
				mu.Lock()
				first = append(first, r.Header.Get("Authorization"))
				to := target
				mu.Unlock()
				http.Redirect(w, r, to, http.StatusFound)
			}))
			mu.Lock()
			switch tc.target {
			case "host":
				target = newServerOn(t, "127.0.0.2", other).URL + "/cases/moved"
			case "port":
				target = portURL + "/cases/moved"
			default:
				target = origin.URL + "/cases/moved"
			}
			mu.Unlock()
			hc := &http.Client{Transport: c.Tokens.Transport("t1", ownTransport(t))}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, origin.URL+"/cases", nil)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			resp.Body.Close()
			mu.Lock()
			if len(first) != 1 || first[0] != "Bearer "+secretJWT+"-1" {
				t.Errorf("the Customer API origin got %d requests, first with a token %v; want 1 with the token", len(first), len(first) > 0 && first[0] != "")
			}
			mu.Unlock()
			other.mu.Lock()
			defer other.mu.Unlock()
			if len(other.auths) != 1 {
				t.Fatalf("redirect target got %d requests, want 1", len(other.auths))
			}
			if got := other.auths[0]; got != tc.wantOther {
				t.Errorf("redirect target got Authorization %q, want %q", redact(got), tc.wantOther)
			}
			if n := m.mints.Load(); n != 1 {
				t.Errorf("mints = %d, want 1", n)
			}
		})
	}
}

// ownTransport is a transport of the test's own: http.DefaultTransport is shared by the
// package's parallel tests, and every httptest.Server.Close calls its CloseIdleConnections,
// which can fail a request that is just picking up an idle connection
// ("http: CloseIdleConnections called").
func ownTransport(t *testing.T) http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}
