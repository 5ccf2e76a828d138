package debitura

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// newServerOn starts an httptest server listening on ip (e.g. "127.0.0.2", another origin than
// the usual 127.0.0.1 on Linux loopback).
func newServerOn(t *testing.T, ip string, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v", ip, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// hostRecorder records the requests another origin receives.
type hostRecorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (h *hostRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.reqs = append(h.reqs, r.Clone(r.Context()))
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"externalTenantId":"t-1","onboardingDone":true}`))
}

func (h *hostRecorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.reqs)
}

func redirectTo(target string, code int) step {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target)
		w.WriteHeader(code)
	}
}

// TestRedirectToAnotherOriginIsRefused: a redirect that leaves the origin of the base URL (another
// host, or another port of the same host) is not followed, whatever the method and even when the
// caller's CheckRedirect allows everything, so neither the company data of POST /clients nor a
// director's KYC data reaches the other host; the error names the target origin only and is not
// retried.
func TestRedirectToAnotherOriginIsRefused(t *testing.T) {
	t.Parallel()
	allowAll := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	for _, tc := range []struct {
		name string
		op   func() *apiRequest
		code int
		ip   string   // the other origin's address
		opts []Option // the Client's
	}{
		{"307 on POST /clients", opCreate, http.StatusTemporaryRedirect, "127.0.0.2", nil},
		{"307 on kyc-verification", opKYC, http.StatusTemporaryRedirect, "127.0.0.2", nil},
		{"308 on kyc-verification", opKYC, http.StatusPermanentRedirect, "127.0.0.2", nil},
		{"302 on GET", opGet, http.StatusFound, "127.0.0.2", nil},
		{"302 on GET to another port", opGet, http.StatusFound, "127.0.0.1", nil},
		{"307 on POST, the caller's CheckRedirect allows everything", opCreate, http.StatusTemporaryRedirect, "127.0.0.2",
			[]Option{WithHTTPClient(allowAll)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t, tc.opts...)
			other := &hostRecorder{}
			otherSrv := newServerOn(t, tc.ip, other)
			target := otherSrv.URL + "/collect/kyc?director=Ada+Lovelace"
			h.script(redirectTo(target, tc.code))

			_, err := c.do(t.Context(), tc.op(), nil)
			if !errors.Is(err, ErrRedirectRefused) {
				t.Fatalf("do() = %v, want an error matching ErrRedirectRefused", err)
			}
			if n := other.count(); n != 0 {
				t.Errorf("the other origin received %d requests, want none", n)
			}
			if n := len(h.requests()); n != 1 {
				t.Errorf("the API got %d requests, want 1 (a refused redirect is not retried)", n)
			}
			msg := err.Error()
			if !strings.Contains(msg, otherSrv.URL) {
				t.Errorf("error %q does not name the target origin %s", msg, otherSrv.URL)
			}
			for _, leak := range []string{"/collect", "director", "Lovelace", testAPIKey} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q contains %q", msg, leak)
				}
			}
		})
	}
}

// TestRedirectPolicy: same-origin redirects are followed (with the API key and, for 307, the
// body); a downgrade from https to http is another origin and is refused (another host or port:
// TestRedirectToAnotherOriginIsRefused).
func TestRedirectPolicy(t *testing.T) {
	t.Parallel()

	t.Run("same origin 307 on POST is followed", func(t *testing.T) {
		t.Parallel()
		c, h := setup(t)
		h.script(
			func(w http.ResponseWriter, r *http.Request) {
				redirectTo("http://"+r.Host+"/base/clients-moved", http.StatusTemporaryRedirect)(w, r)
			},
			status(http.StatusCreated, `{"externalTenantId":"t-1","onboardingDone":true}`))
		if _, err := c.do(t.Context(), opCreate(), nil); err != nil {
			t.Fatalf("do() = %v", err)
		}
		reqs := h.requests()
		if len(reqs) != 2 {
			t.Fatalf("server got %d requests, want 2", len(reqs))
		}
		if reqs[1].Path != "/clients-moved" || reqs[1].Body != reqs[0].Body || reqs[1].Header.Get("XApiKey") != testAPIKey {
			t.Errorf("redirected request = %s with body %q and key %v, want the same body and key",
				reqs[1].Path, reqs[1].Body, reqs[1].Header.Get("XApiKey") == testAPIKey)
		}
	})

	t.Run("https same origin followed, https to http refused", func(t *testing.T) {
		t.Parallel()
		plain := &hostRecorder{}
		plainSrv := newServerOn(t, "127.0.0.1", plain)
		var hits []string
		var mu sync.Mutex
		tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits = append(hits, r.URL.Path)
			mu.Unlock()
			switch r.URL.Path {
			case "/base/clients/moved":
				http.Redirect(w, r, "/base/clients/t-1", http.StatusFound)
			case "/base/clients/downgrade":
				http.Redirect(w, r, plainSrv.URL+"/base/clients/t-1", http.StatusFound)
			default:
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"externalTenantId":"t-1"}`))
			}
		}))
		t.Cleanup(tlsSrv.Close)
		c, err := New(testAPIKey, WithBaseURL(tlsSrv.URL+"/base"), WithHTTPClient(tlsSrv.Client()), WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		get := func(path string) error {
			_, err := c.do(t.Context(), &apiRequest{op: "getClient", method: http.MethodGet, route: "/clients/{externalTenantId}", path: path, retry: retrySafe}, nil)
			return err
		}
		if err := get("/clients/moved"); err != nil {
			t.Errorf("same-origin https redirect: %v", err)
		}
		if err := get("/clients/downgrade"); !errors.Is(err, ErrRedirectRefused) {
			t.Errorf("https → http redirect: %v, want ErrRedirectRefused", err)
		}
		if plain.count() != 0 {
			t.Error("the plain-http origin received a request")
		}
		mu.Lock()
		defer mu.Unlock()
		if want := 3; len(hits) != want {
			t.Errorf("TLS server got %v, want %d requests", hits, want)
		}
	})
}

// TestRedirectCallersCheckRedirect: the caller's CheckRedirect can only restrict: its refusal
// ends the call (not retried, its error reachable), and allowing everything keeps the redirect
// limit (and, in TestRedirectToAnotherOriginIsRefused, the origin policy).
func TestRedirectCallersCheckRedirect(t *testing.T) {
	t.Parallel()
	errNo := errors.New("caller says no")

	t.Run("refusal applies to same origin", func(t *testing.T) {
		t.Parallel()
		var seen int
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { seen++; return errNo }}
		c, h := setup(t, WithHTTPClient(hc))
		h.script(func(w http.ResponseWriter, r *http.Request) {
			redirectTo("http://"+r.Host+"/base/clients/t-2", http.StatusFound)(w, r)
		})
		_, err := c.do(t.Context(), opGet(), nil)
		if !errors.Is(err, errNo) {
			t.Fatalf("do() = %v, want the caller's error", err)
		}
		if n := len(h.requests()); n != 1 || seen != 1 {
			t.Errorf("server got %d requests, CheckRedirect ran %d times; want 1 and 1 (not retried)", n, seen)
		}
	})

	t.Run("ErrUseLastResponse returns the redirect", func(t *testing.T) {
		t.Parallel()
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		c, h := setup(t, WithHTTPClient(hc))
		h.script(func(w http.ResponseWriter, r *http.Request) {
			redirectTo("http://"+r.Host+"/base/clients/t-2", http.StatusFound)(w, r)
		})
		_, err := c.do(t.Context(), opGet(), nil)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusFound {
			t.Fatalf("do() = %v, want the 302 as *APIError", err)
		}
	})

	t.Run("allowing everything keeps the limit of 10 redirects", func(t *testing.T) {
		t.Parallel()
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
		c, h := setup(t, WithHTTPClient(hc))
		h.script(func(w http.ResponseWriter, r *http.Request) {
			redirectTo("http://"+r.Host+"/base/clients/t-1", http.StatusFound)(w, r)
		})
		_, err := c.do(t.Context(), opGet(), nil)
		if err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
			t.Fatalf("do() = %v, want the redirect limit", err)
		}
		if n := len(h.requests()); n != 10 {
			t.Errorf("server got %d requests, want 10 (one attempt, not retried)", n)
		}
	})
}
