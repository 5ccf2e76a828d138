package mockcmd

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/debitura-go/debitura/internal/contract"
	"github.com/debitura-go/debitura/internal/controltest"
	"github.com/debitura-go/debitura/internal/syncbuf"
)

// httpClient talks to the mock under test; it never follows redirects.
var httpClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// call sends a JSON request with the given key ("" sends none) and returns status and body.
func call(t *testing.T, method, u, key string, body any) (int, []byte) {
	t.Helper()
	req := controltest.JSONRequest(t, method, u, key, body)
	// API routes are validated against the API documents (with the mock's documented
	// deviations); /__mock/ and page routes are not in them and pass unchecked.
	return contract.MockDo(t, httpClient, req)
}

// mustCall is call that fails the test unless the status is want.
func mustCall(t *testing.T, want int, method, u, key string, body any) map[string]any {
	t.Helper()
	st, out := call(t, method, u, key, body)
	if st != want {
		t.Fatalf("%s %s: %d %s; want %d", method, u, st, out, want)
	}
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	return m
}

func postForm(t *testing.T, u string, f url.Values) int {
	t.Helper()
	res, err := httpClient.PostForm(u, f)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func clientBody(ext, email string) map[string]any {
	return map[string]any{
		"externalTenantId": ext,
		"client":           map[string]any{"name": "Company " + ext, "country": "DK", "supportEmail": email},
		"users":            []any{map[string]any{"name": "Ada Lovelace", "email": email}},
	}
}

func jstr(m map[string]any, keys ...string) string {
	var v any = m
	for _, k := range keys {
		o, _ := v.(map[string]any)
		v = o[k]
	}
	s, _ := v.(string)
	return s
}

// rebase replaces the scheme and host of u (a URL the mock handed out under -public-url) with
// base, the address the mock really listens on.
func rebase(t *testing.T, u, base string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return base + p.RequestURI()
}

// populate creates the clients of the persistence tests through the API, the /__mock/ routes and
// the hosted pages, and returns the approval URL of a pending link request.
func populate(t *testing.T, base, key string) (approval string) {
	t.Helper()
	// Pending onboarding.
	mustCall(t, 202, "POST", base+"/clients", key, clientBody("t-new", "new@acme.example"))
	// Onboarded through /__mock/.
	mustCall(t, 202, "POST", base+"/clients", key, clientBody("t-done", "done@acme.example"))
	mustCall(t, 204, "POST", base+"/__mock/clients/t-done/complete-onboarding", key, nil)
	// Onboarded through the hosted pages.
	m := mustCall(t, 202, "POST", base+"/clients", key, clientBody("t-page", "page@acme.example"))
	pageURL := rebase(t, jstr(m, "onboardingLinks", "url"), base)
	if st := postForm(t, pageURL, url.Values{"name": {"Paged ApS"}, "country": {"SE"}, "supportEmail": {"page@acme.example"}}); st != 303 {
		t.Fatalf("POST company details: %d", st)
	}
	signURL := strings.Replace(pageURL, "/onboarding/companydetails/", "/onboarding/Agreement/Sign/", 1)
	if st := postForm(t, signURL, url.Values{"accept": {"yes"}}); st != 303 {
		t.Fatalf("POST sign: %d", st)
	}
	// Onboarded, with KYC submitted and reviewed.
	mustCall(t, 202, "POST", base+"/clients", key, clientBody("t-kyc", "kyc@acme.example"))
	mustCall(t, 204, "POST", base+"/__mock/clients/t-kyc/complete-onboarding", key, nil)
	st, out := call(t, "POST", base+"/clients/t-kyc/kyc-verification", key, map[string]any{
		"directorFullName": "Grace Hopper", "directorHomeAddress": "1 Navy Way, Arlington", "directorDateOfBirth": "1906-12-09",
	})
	if st/100 != 2 {
		t.Fatalf("POST kyc-verification: %d %s", st, out)
	}
	// A pending link request.
	mustCall(t, 201, "POST", base+"/__mock/creditors", "", map[string]any{"companyName": "Existing ApS", "country": "DK", "emails": []string{"cfo@existing.example"}})
	m = mustCall(t, 409, "POST", base+"/clients", key, clientBody("t-link", "cfo@existing.example"))
	return jstr(m, "data", "onboardingLinks", "url")
}

// firstLine is an io.Writer that reports the first line written to it on a channel and keeps
// everything.
type firstLine struct {
	syncbuf.Buffer
	once sync.Once
	ch   chan string
}

func newFirstLine() *firstLine { return &firstLine{ch: make(chan string, 1)} }

func (f *firstLine) Write(p []byte) (int, error) {
	n, err := f.Buffer.Write(p)
	if s := f.String(); strings.Contains(s, "\n") {
		f.once.Do(func() { f.ch <- s[:strings.Index(s, "\n")] })
	}
	return n, err
}

// waitURL waits (bounded) for the "listening on URL" line and returns the URL.
func (f *firstLine) waitURL(t *testing.T, exited <-chan error, stderr *syncbuf.Buffer) string {
	t.Helper()
	select {
	case line := <-f.ch:
		u, ok := strings.CutPrefix(line, "listening on ")
		if !ok || !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Fatalf("first stdout line %q, want \"listening on http://127.0.0.1:PORT\"", line)
		}
		return u
	case err := <-exited:
		t.Fatalf("the mock exited before listening: %v\nstderr:\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no \"listening on\" line within 30s\nstderr:\n%s", stderr.String())
	}
	return ""
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
