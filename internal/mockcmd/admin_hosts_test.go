package mockcmd

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestListenHosts(t *testing.T) {
	tests := []struct {
		addr string
		want []string
	}{
		{"127.0.0.1:8080", []string{"127.0.0.1"}},
		{"mock.internal:80", []string{"mock.internal"}},
		{"[::1]:0", []string{"::1"}},
		{"no-port", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, listenHosts(tt.addr)); diff != "" {
			t.Errorf("listenHosts(%q) (-want +got):\n%s", tt.addr, diff)
		}
	}
	// An unspecified host means every interface, loopback included.
	for _, addr := range []string{":8080", "0.0.0.0:8080"} {
		if got := listenHosts(addr); !slices.Contains(got, "127.0.0.1") {
			t.Errorf("listenHosts(%q) = %v, lacks 127.0.0.1", addr, got)
		}
	}
}

// The binary's /__mock/ routes accept the loopback address they listen on and the -admin-hosts
// names, and refuse any other Host (DNS rebinding) and cross-site browser requests.
func TestRunAdminGuard(t *testing.T) {
	base, _, _ := startRun(t, "-admin-hosts", "mock.internal, other.internal", "-public-url", "http://pages.example")
	tests := []struct {
		name, host, origin, ctype string
		want                      int
	}{
		{"listen address", "", "", "application/json", 200},
		{"-admin-hosts name", "mock.internal:8080", "", "application/json", 200},
		{"second -admin-hosts name", "other.internal", "", "application/json", 200},
		{"-public-url host", "pages.example", "", "application/json", 200},
		{"rebinding name", "attacker.example:8080", "", "application/json", 403},
		{"cross-site page", "", "http://evil.example", "application/json", 403},
		{"text/plain", "", "", "text/plain", 415},
	}
	for _, tt := range tests {
		req, err := http.NewRequest("POST", base+"/__mock/links/expire", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.host != "" {
			req.Host = tt.host
		}
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		req.Header.Set("Content-Type", tt.ctype)
		res, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Errorf("%s: POST /__mock/links/expire = %d, want %d", tt.name, res.StatusCode, tt.want)
		}
	}
}
