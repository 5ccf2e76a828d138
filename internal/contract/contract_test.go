package contract

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recorderTB is a testing.TB that records Errorf/Fatalf instead of failing.
// Methods it does not override go to the real test.
type recorderTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorderTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorderTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.TB.FailNow()
}

func (r *recorderTB) Helper() {}

func (r *recorderTB) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

const secretKey = "sk-live-DO-NOT-PRINT-0123456789"

const validCreate = `{"externalTenantId":"tenant-1","client":{"name":"Acme","country":"Portugal","supportEmail":"billing@acme.example"},"users":[{"name":"Jo","email":"jo@acme.example","isOnboardingUser":true}]}`

const validCreated = `{"externalTenantId":"tenant-1","onboardingDone":false,"onboardingLinks":{"url":"https://onboarding.example/x"},"isAttributedClient":true}`

func mustValidator(t *testing.T) *Validator {
	t.Helper()
	v, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return v
}

func TestOperationPicksDocument(t *testing.T) {
	v := mustValidator(t)
	tests := []struct {
		method, path string
		want         string
		wantErr      error
	}{
		{"POST", "/clients", "openapi.yaml POST /clients (postClients)", nil},
		{"GET", "/clients/tenant-1", "openapi.yaml GET /clients/{externalTenantId}", nil},
		{"PATCH", "/clients/tenant-1", "guide-extension.openapi.yaml PATCH /clients/{externalTenantId} (patchClient)", nil},
		{"GET", "/clients/tenant-1/profile", "guide-extension.openapi.yaml GET /clients/{externalTenantId}/profile (getClientProfile)", nil},
		{"PUT", "/clients/tenant-1/profile", "", ErrUndeclaredOperation},
		{"GET", "/__mock/journal", "", ErrNotInContract},
		{"GET", "/customer-api/v1/cases", "", ErrNotInContract},
		{"GET", "/onboarding/companydetails/abc", "", ErrNotInContract},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "https://referral-api.debitura.com"+tt.path, nil)
			got, err := v.Operation(req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Operation error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !strings.HasPrefix(got, tt.want) {
				t.Errorf("Operation = %q, want prefix %q", got, tt.want)
			}
		})
	}
}

func TestValidateRequest(t *testing.T) {
	v := mustValidator(t)
	tests := []struct {
		name         string
		method, path string
		body         string
		wantErr      string // substring; "" means valid
	}{
		{"valid create", "POST", "/clients", validCreate, ""},
		{"unknown field", "POST", "/clients", strings.Replace(validCreate, `"users"`, `"nickname":"x","users"`, 1), `"nickname"`},
		{"missing required", "POST", "/clients", `{"externalTenantId":"t","users":[{"name":"Jo","email":"jo@acme.example"}]}`, `"client"`},
		{"wrong type", "POST", "/clients", strings.Replace(validCreate, `"isOnboardingUser":true`, `"isOnboardingUser":"yes"`, 1), "boolean"},
		{"wrong type in query", "GET", "/clients?PageSize=many", "", "PageSize"},
		{"valid list", "GET", "/clients?Page=2&PageSize=100", "", ""},
		{"valid guide patch", "PATCH", "/clients/t1", `{"metadata":{"plan":"pro","seats":3,"trial":false,"old":null}}`, ""},
		{"guide patch unknown field", "PATCH", "/clients/t1", `{"name":"x"}`, `"name"`},
		{"unknown path", "GET", "/__mock/state", "", ErrNotInContract.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader("ignored"))
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("XApiKey", secretKey)
			err := v.ValidateRequest(req, []byte(tt.body))
			checkErr(t, err, tt.wantErr)
			if b, _ := io.ReadAll(req.Body); string(b) != "ignored" {
				t.Errorf("ValidateRequest consumed the caller's body: %q left", b)
			}
		})
	}
}

func TestValidateResponse(t *testing.T) {
	v := mustValidator(t)
	tests := []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         string
		wantErr      string
	}{
		{"valid 202", "POST", "/clients", 202, jsonHeader(), validCreated, ""},
		{"wrong type", "POST", "/clients", 201, jsonHeader(), strings.Replace(validCreated, `"onboardingDone":false`, `"onboardingDone":"no"`, 1), "onboardingDone"},
		{"unknown field", "POST", "/clients", 201, jsonHeader(), strings.Replace(validCreated, `{`, `{"extra":1,`, 1), `"extra"`},
		{"declared 400 with wrong shape", "POST", "/clients", 400, jsonHeader(), `{"error":{"code":"x"}}`, "error"},
		{"declared status with wrong content type", "POST", "/clients", 201, http.Header{"Content-Type": {"text/html"}}, "<html></html>", "text/html"},
		{"undeclared 429 accepted", "POST", "/clients", 429, jsonHeader(), `{"anything":true}`, ""},
		{"undeclared 401 accepted", "GET", "/me", 401, nil, "", ""},
		{"injected fault skipped", "POST", "/clients", 500, http.Header{FaultHeader: {"garbage"}, "Content-Type": {"application/json"}}, `{not json`, ""},
		{"guide profile valid", "GET", "/clients/t1/profile", 200, jsonHeader(), `{"externalTenantId":"t1","status":"active","metadata":{},"updatedAt":"2026-01-02T03:04:05Z"}`, ""},
		{"guide profile bad enum", "GET", "/clients/t1/profile", 200, jsonHeader(), `{"externalTenantId":"t1","status":"frozen","metadata":{},"updatedAt":"2026-01-02T03:04:05Z"}`, "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			err := v.ValidateResponse(req, tt.status, tt.header, []byte(tt.body))
			checkErr(t, err, tt.wantErr)
		})
	}
}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json; charset=utf-8"}}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected violation: %v", err)
	case want != "" && err == nil:
		t.Errorf("no violation, want one mentioning %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("violation %q does not mention %q", err, want)
	}
}

// response is what the fake server (or fake transport) answers.
type response struct {
	status int
	header http.Header
	body   string
}

func TestMiddleware(t *testing.T) {
	tests := []struct {
		name         string
		method, path string
		reqHeader    http.Header
		body         string
		resp         response
		want         []string // substrings, one per expected violation, in order
	}{
		{
			name: "valid", method: "POST", path: "/clients", body: validCreate,
			resp: response{202, jsonHeader(), validCreated},
		},
		{
			name: "unknown request field", method: "POST", path: "/clients",
			body: strings.Replace(validCreate, `"users"`, `"nickname":"x","users"`, 1),
			resp: response{202, jsonHeader(), validCreated},
			want: []string{`POST /clients -> 202: request violates openapi.yaml POST /clients`},
		},
		{
			name: "missing required field", method: "POST", path: "/clients",
			body: `{"externalTenantId":"t","client":{"name":"A","country":"PT","supportEmail":"a@b.example"}}`,
			resp: response{400, jsonHeader(), `{"error":"bad","message":"users required"}`},
			want: []string{`POST /clients -> 400: request violates`},
		},
		{
			name: "wrong type in response", method: "GET", path: "/clients/t1/profile",
			resp: response{200, jsonHeader(), `{"externalTenantId":"t1","status":"active","metadata":{},"updatedAt":42}`},
			want: []string{`GET /clients/t1/profile -> 200: response violates guide-extension.openapi.yaml`},
		},
		{
			name: "invalid on purpose, response still checked", method: "POST", path: "/clients",
			reqHeader: http.Header{SkipRequestHeader: {"1"}}, body: `{"bogus":1}`,
			resp: response{400, jsonHeader(), `{"error":7}`},
			want: []string{`POST /clients -> 400: response violates`},
		},
		{
			name: "undeclared method", method: "DELETE", path: "/clients/t1/profile",
			resp: response{405, nil, ""},
			want: []string{`DELETE /clients/t1/profile -> 405: request violates the API documents`},
		},
		{
			name: "unknown path skipped", method: "POST", path: "/__mock/reset", body: `{"x":1}`,
			resp: response{200, nil, "not json"},
		},
		{
			name: "fault skipped", method: "GET", path: "/me",
			resp: response{200, http.Header{FaultHeader: {"truncate"}, "Content-Type": {"application/json"}}, `{"trunc`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorderTB{TB: t}
			var gotBody string
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				if err != nil {
					t.Errorf("next: read body: %v", err)
				}
				gotBody = string(b)
				for k, vs := range tt.resp.header {
					w.Header()[k] = vs
				}
				w.WriteHeader(tt.resp.status)
				_, _ = io.WriteString(w, tt.resp.body)
			})
			srv := httptest.NewServer(Middleware(rec, next))
			defer srv.Close()

			status, b := send(t, srv.Client(), tt.method, srv.URL+tt.path, tt.body, tt.reqHeader)
			if gotBody != tt.body {
				t.Errorf("next handler got body %q, want %q", gotBody, tt.body)
			}
			if b != tt.resp.body || status != tt.resp.status {
				t.Errorf("client got %d %q, want %d %q", status, b, tt.resp.status, tt.resp.body)
			}
			checkViolations(t, rec.got(), tt.want)
		})
	}
}

func checkViolations(t *testing.T, got, want []string) {
	t.Helper()
	for _, msg := range got {
		t.Logf("recorded: %s", msg)
		if strings.Contains(msg, secretKey) {
			t.Errorf("violation message leaks a header value: %q", msg)
		}
	}
	matched := len(got) == len(want)
	for i := 0; matched && i < len(want); i++ {
		matched = strings.Contains(got[i], want[i])
	}
	if !matched {
		t.Errorf("violations mismatch (-want substrings +got):\n%s", cmp.Diff(want, got))
	}
}

// send sends method url with body (none when "") through hc, with the headers the SDK sends (the
// key in XApiKey, and in Authorization as a Customer API call carries a token) and then extra,
// and returns the answer's status and body.
func send(t *testing.T, hc *http.Client, method, url, body string, extra http.Header) (int, string) {
	t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rb)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("XApiKey", secretKey)
	req.Header.Set("Authorization", "Bearer "+secretKey)
	for k, vs := range extra {
		req.Header[k] = vs
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransport(t *testing.T) {
	tests := []struct {
		name         string
		method, path string
		body         string
		resp         response
		want         []string
	}{
		{
			name: "valid", method: "POST", path: "/clients", body: validCreate,
			resp: response{201, jsonHeader(), validCreated},
		},
		{
			name: "wrong request type", method: "POST", path: "/clients",
			body: strings.Replace(validCreate, `"externalTenantId":"tenant-1"`, `"externalTenantId":12`, 1),
			resp: response{201, jsonHeader(), validCreated},
			want: []string{`POST /clients -> 201: request violates openapi.yaml POST /clients`},
		},
		{
			name: "wrong response type", method: "PATCH", path: "/clients/t1", body: `{"supportPhone":"+45"}`,
			resp: response{200, jsonHeader(), `{"externalTenantId":"t1","status":"active","metadata":[],"updatedAt":"2026-01-02T03:04:05Z"}`},
			want: []string{`PATCH /clients/t1 -> 200: response violates guide-extension.openapi.yaml PATCH /clients/{externalTenantId}`},
		},
		{
			name: "undeclared 429 accepted", method: "GET", path: "/me",
			resp: response{429, jsonHeader(), `{"retryAfter":1.5}`},
		},
		{
			name: "unknown path skipped", method: "GET", path: "/customer-api/v1/cases",
			resp: response{200, nil, "<html>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorderTB{TB: t}
			var sentBody string
			base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.Body != nil {
					b, _ := io.ReadAll(r.Body)
					sentBody = string(b)
				}
				h := tt.resp.header.Clone()
				if h == nil {
					h = http.Header{}
				}
				return &http.Response{
					StatusCode: tt.resp.status, Header: h, Request: r,
					Body: io.NopCloser(strings.NewReader(tt.resp.body)),
				}, nil
			})
			client := &http.Client{Transport: Transport(rec, base)}
			_, b := send(t, client, tt.method, "https://referral-api.debitura.com"+tt.path, tt.body, nil)
			if sentBody != tt.body {
				t.Errorf("base got body %q, want %q", sentBody, tt.body)
			}
			if b != tt.resp.body {
				t.Errorf("caller got body %q, want %q", b, tt.resp.body)
			}
			checkViolations(t, rec.got(), tt.want)
		})
	}
}

func TestMiddlewarePassesThroughFlushAndHijack(t *testing.T) {
	rec := &recorderTB{TB: t}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		// An injected fault: cut the connection without a response.
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Errorf("ResponseWriter %T is not an http.Hijacker", w)
			return
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		conn.Close()
	})
	mux.HandleFunc("GET /clients/{id}/profile", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"externalTenantId":"t1","status":"active",`)
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through ResponseController: %v", err)
		}
		_, _ = io.WriteString(w, `"metadata":{},"updatedAt":"2026-01-02T03:04:05Z"}`)
	})
	srv := httptest.NewServer(Middleware(rec, mux))
	defer srv.Close()

	if resp, err := srv.Client().Get(srv.URL + "/me"); err == nil {
		resp.Body.Close()
		t.Errorf("hijacked request got a response %d, want a connection error", resp.StatusCode)
	}
	resp, err := srv.Client().Get(srv.URL + "/clients/t1/profile")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	checkViolations(t, rec.got(), nil)
}

func TestConcurrentUse(t *testing.T) {
	rec := &recorderTB{TB: t}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, validCreated)
	})
	srv := httptest.NewServer(Middleware(rec, next))
	defer srv.Close()
	client := &http.Client{Transport: Transport(rec, srv.Client().Transport)}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			resp, err := client.Post(srv.URL+"/clients", "application/json", strings.NewReader(validCreate))
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	checkViolations(t, rec.got(), nil)
}
