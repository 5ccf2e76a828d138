package mockcmd

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/debitura-go/debitura/internal/syncbuf"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/google/go-cmp/cmp"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr error
	}{
		{"defaults", nil, config{addr: "127.0.0.1:8080", apiKey: mockserver.DefaultAPIKey, saveInterval: 5 * time.Second, shutdownTimeout: 10 * time.Second, readTimeout: 30 * time.Second, writeTimeout: time.Minute, idleTimeout: time.Minute}, nil},
		{"everything", []string{"-addr", "127.0.0.1:0", "-api-key", "mock_k", "-env", "production", "-seed", "0", "-public-url", "https://m.example",
			"-state", "s.json", "-save-interval", "0", "-retry-after-header", "-rate-per-minute", "60", "-log", "-shutdown-timeout", "1s"},
			config{addr: "127.0.0.1:0", apiKey: "mock_k", env: mockserver.Production, seed: 0, seeded: true, publicURL: "https://m.example",
				statePath: "s.json", retryAfter: true, ratePerMinute: 60, logRequests: true, shutdownTimeout: time.Second,
				readTimeout: 30 * time.Second, writeTimeout: time.Minute, idleTimeout: time.Minute}, nil},
		{"rate limit off", []string{"-rate-limit-off"}, config{addr: "127.0.0.1:8080", apiKey: mockserver.DefaultAPIKey, saveInterval: 5 * time.Second, shutdownTimeout: 10 * time.Second, readTimeout: 30 * time.Second, writeTimeout: time.Minute, idleTimeout: time.Minute, rateLimitOff: true}, nil},
		{"bad env", []string{"-env", "staging"}, config{}, ErrUsage},
		{"key with a space", []string{"-api-key", "has space"}, config{}, ErrUsage},
		{"any well-formed key", []string{"-api-key", "KEY"}, config{addr: "127.0.0.1:8080", apiKey: "KEY", saveInterval: 5 * time.Second, shutdownTimeout: 10 * time.Second, readTimeout: 30 * time.Second, writeTimeout: time.Minute, idleTimeout: time.Minute}, nil},
		{"negative interval", []string{"-save-interval", "-1s"}, config{}, ErrUsage},
		{"bad public url", []string{"-public-url", "mock.test"}, config{}, ErrUsage},
		{"extra args", []string{"serve"}, config{}, ErrUsage},
		{"unknown flag", []string{"-port", "1"}, config{}, ErrUsage},
		{"help", []string{"-h"}, config{}, flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags("debitura-mock", tt.args, io.Discard)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListenURL(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 1}, "http://localhost:1"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 2}, "http://localhost:2"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 3}, "http://[::1]:3"},
	}
	for _, tt := range tests {
		if got := listenURL(tt.addr); got != tt.want {
			t.Errorf("listenURL(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestRouteOf(t *testing.T) {
	tests := []struct{ method, target, want string }{
		{"POST", "/clients", "/clients"},
		{"GET", "/clients/secret-tenant", "/clients/{externalTenantId}"},
		{"POST", "/clients/t%2F1/kyc-verification", "/clients/{externalTenantId}/kyc-verification"},
		{"POST", "/oauth/token", "/oauth/token"},
		{"POST", "/__mock/links/SECRET-TOKEN/approve", "/__mock/links/{token}/approve"},
		{"GET", "/ReferralPartner/Approve?token=SECRET", "/ReferralPartner/Approve"},
		{"POST", "/onboarding/companydetails/abc", "/onboarding/companydetails/{linkId}"},
		{"POST", "/v1/Webhooks", "/v1/Webhooks"},
		{"PUT", "/v1/Webhooks/SECRET-ID", "/v1/Webhooks/{id}"},
		{"POST", "/__mock/webhooks/flush", "/__mock/webhooks/flush"},
		{"GET", "/__mock/webhooks/deliveries", "/__mock/webhooks/deliveries"},
		{"GET", "/__mock/health", "/__mock/health"},
		{"GET", "/onboarding/AGREEMENT/sign/abc", "/onboarding/Agreement/Sign/{linkId}"},
		{"PATCH", "/clients", "/clients"}, // a 405 still names its route
		{"GET", "/nowhere/SECRET", "unmatched"},
	}
	b := mockserver.NewBackend()
	defer b.Close()
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		if got := routeOf(b.Route, r); got != tt.want {
			t.Errorf("routeOf(%s %s) = %q, want %q", tt.method, tt.target, got, tt.want)
		}
	}
}

// startRun runs run in-process with args, returns its URL and a stop function that cancels the
// context and returns run's error (bounded).
func startRun(t *testing.T, args ...string) (base string, stderr *syncbuf.Buffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := newFirstLine(), &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, "debitura-mock", append([]string{"-addr", "127.0.0.1:0"}, args...), out, errb)
	}()
	base = out.waitURL(t, done, errb)
	stopped := false
	stop = func() error {
		t.Helper()
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("run did not return within 20s of the cancel")
			return nil
		}
	}
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})
	return base, errb, stop
}

func TestRunRequestLogHasNoSecrets(t *testing.T) {
	base, stderr, stop := startRun(t, "-log")
	key := mockserver.DefaultAPIKey
	mustCall(t, 202, "POST", base+"/clients", key, clientBody("secret-tenant-42", "a@acme.example"))
	mustCall(t, 201, "POST", base+"/__mock/creditors", "", map[string]any{"companyName": "E", "emails": []string{"e@existing.example"}})
	m := mustCall(t, 409, "POST", base+"/clients", key, clientBody("secret-tenant-43", "e@existing.example"))
	approval := jstr(m, "data", "onboardingLinks", "url")
	token := approval[strings.Index(approval, "token=")+len("token="):]
	call(t, "GET", approval, "", nil)
	mustCall(t, 204, "POST", base+"/__mock/links/"+token+"/approve", "", nil)
	call(t, "GET", base+"/me", "mock_wrong_key", nil)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	log := stderr.String()
	for _, want := range []string{
		"method=POST route=/clients status=202",
		"method=POST route=/clients status=409",
		"method=GET route=/ReferralPartner/Approve status=200",
		"method=POST route=/__mock/links/{token}/approve status=204",
		"method=GET route=/me status=401",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, secret := range []string{key, "mock_wrong_key", token, "secret-tenant", "XApiKey"} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q:\n%s", secret, log)
		}
	}
}

func TestRunCustomAPIKey(t *testing.T) {
	const key = "KEY" // the form the docs use: any key without spaces works
	base, _, _ := startRun(t, "-api-key", key)
	tests := []struct {
		key  string
		want int
	}{{key, 200}, {mockserver.DefaultAPIKey, 401}, {"", 401}}
	for _, tt := range tests {
		if st, body := call(t, "GET", base+"/me", tt.key, nil); st != tt.want {
			t.Errorf("GET /me with %q: %d %s; want %d", tt.key, st, body, tt.want)
		}
	}
	// /__mock/clients/... without XApiKey acts for the -api-key partner.
	mustCall(t, 202, "POST", base+"/clients", key, clientBody("t-1", "t1@acme.example"))
	mustCall(t, 204, "POST", base+"/__mock/clients/t-1/complete-onboarding", "", nil)
	mustCall(t, 201, "POST", base+"/clients", key, clientBody("t-1", "t1@acme.example"))
}

func TestRunClockAdvanceAndSeed(t *testing.T) {
	state := filepath.Join(t.TempDir(), "s.json")
	base, _, stop := startRun(t, "-state", state, "-seed", "7", "-public-url", "http://mock.test")
	m := mustCall(t, 202, "POST", base+"/clients", mockserver.DefaultAPIKey, clientBody("t-seed", "s@acme.example"))
	if u := jstr(m, "onboardingLinks", "url"); !strings.HasPrefix(u, "http://mock.test/onboarding/companydetails/") {
		t.Errorf("onboarding URL %q does not use -public-url", u)
	}
	id := jstr(m, "client", "id")
	mustCall(t, 201, "POST", base+"/__mock/creditors", "", map[string]any{"companyName": "E", "emails": []string{"e@existing.example"}})
	m = mustCall(t, 409, "POST", base+"/clients", mockserver.DefaultAPIKey, clientBody("t-late", "e@existing.example"))
	approval := rebase(t, jstr(m, "data", "onboardingLinks", "url"), base)
	mustCall(t, 200, "POST", base+"/__mock/clock/advance", "", map[string]any{"duration": "192h"})
	if st, _ := call(t, "GET", approval, "", nil); st != http.StatusGone {
		t.Errorf("approval page after advancing the clock 8 days: %d, want 410", st)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Same seed, fresh state: the same ids.
	base2, _, _ := startRun(t, "-seed", "7")
	m = mustCall(t, 202, "POST", base2+"/clients", mockserver.DefaultAPIKey, clientBody("t-seed", "s@acme.example"))
	if got := jstr(m, "client", "id"); got != id {
		t.Errorf("client id with -seed 7: %q then %q", id, got)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, content := range []string{"first", "second, longer content", "3"} {
		if err := writeFileAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("content %q, want %q", b, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(entries))
	}
	if err := writeFileAtomic(filepath.Join(dir, "missing", "f.json"), []byte("x")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestStateFileSavesOnlyChanges(t *testing.T) {
	clock := mockserver.NewOffsetClock()
	b := mockserver.NewBackend(mockserver.WithClock(clock))
	path := filepath.Join(t.TempDir(), "s.json")
	s := &stateFile{path: path, backend: b, clock: clock}
	if loaded, err := s.load(); loaded || err != nil {
		t.Fatalf("load of a missing file: %v %v", loaded, err)
	}
	mtime := func() time.Time {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}
	if err := s.save(); err != nil {
		t.Fatal(err)
	}
	first := mtime()
	time.Sleep(20 * time.Millisecond)
	if err := s.save(); err != nil {
		t.Fatal(err)
	}
	if !mtime().Equal(first) {
		t.Error("an unchanged state was written again")
	}
	clock.Advance(time.Hour)
	if err := s.save(); err != nil {
		t.Fatal(err)
	}
	if mtime().Equal(first) {
		t.Error("a changed clock offset was not saved")
	}

	// A bare Backend.Snapshot loads too.
	if _, err := b.AddCreditor(mockserver.CreditorSpec{CompanyName: "Snap ApS", Emails: []string{"snap@x.example"}}); err != nil {
		t.Fatal(err)
	}
	raw, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(t.TempDir(), "bare.json")
	if err := os.WriteFile(bare, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	c2 := mockserver.NewOffsetClock()
	b2 := mockserver.NewBackend(mockserver.WithClock(c2))
	if loaded, err := (&stateFile{path: bare, backend: b2, clock: c2}).load(); !loaded || err != nil {
		t.Fatalf("load of a bare snapshot: %v %v", loaded, err)
	}
	raw2, _ := b2.Snapshot()
	if string(raw) != string(raw2) {
		t.Error("bare snapshot did not round-trip")
	}
}
