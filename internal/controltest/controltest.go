// Package controltest is the one control test suite run against every [mockserver.Controller]
// implementation: the in-memory *mockserver.Backend, and mockserver.Dial against a server of
// the same handler and against the debitura-mock binary. [JSONRequest] is the request builder
// the mock's tests share.
package controltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/debitura-go/debitura/mockserver"
)

// Target is a running mock: its Controller, the base URL of its API and the default partner's
// key. The suite resets the mock before each step.
type Target struct {
	Ctl     mockserver.Controller
	BaseURL string
	Key     string
}

// Run runs the suite against tg. The steps share the mock, one after another.
func Run(t *testing.T, tg Target) {
	api := func(t *testing.T, method, path, key string, body any) (int, map[string]any) {
		t.Helper()
		res, err := http.DefaultClient.Do(JSONRequest(t, method, tg.BaseURL+path, key, body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return res.StatusCode, m
	}
	create := func(t *testing.T, key, ext, email string) int {
		t.Helper()
		st, _ := api(t, "POST", "/clients", key, map[string]any{
			"externalTenantId": ext,
			"client":           map[string]any{"name": "Company " + ext, "country": "DK", "supportEmail": email},
			"users":            []any{map[string]any{"name": "Ada Lovelace", "email": email, "isOnboardingUser": true}},
		})
		return st
	}
	// requestLink adds an existing account with email and has POST /clients run into it: a
	// pending link request for ext.
	requestLink := func(t *testing.T, company, ext, email string) {
		t.Helper()
		if _, err := tg.Ctl.AddCreditor(mockserver.CreditorSpec{CompanyName: company, Emails: []string{email}}); err != nil {
			t.Fatal(err)
		}
		if st := create(t, tg.Key, ext, email); st != 409 {
			t.Fatalf("POST /clients %s for an existing account = %d, want 409", ext, st)
		}
	}
	step := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			if err := tg.Ctl.ResetAll(); err != nil {
				t.Fatal(err)
			}
			f(t)
		})
	}
	ctl := tg.Ctl

	step("partner", func(t *testing.T) {
		p, err := ctl.AddPartner(mockserver.PartnerSpec{APIKey: "mock_suite_partner", CompanyName: "Suite ApS"})
		if err != nil || p.ID == "" {
			t.Fatalf("AddPartner = %+v, %v", p, err)
		}
		if st, me := api(t, "GET", "/me", "mock_suite_partner", nil); st != 200 || me["companyName"] != "Suite ApS" {
			t.Errorf("GET /me with the new key: %d %v", st, me)
		}
		if _, err := ctl.AddPartner(mockserver.PartnerSpec{APIKey: "mock_suite_partner"}); !errors.Is(err, mockserver.ErrConflict) {
			t.Errorf("AddPartner twice = %v, want ErrConflict", err)
		}
		if _, err := ctl.AddPartner(mockserver.PartnerSpec{APIKey: "has space"}); !errors.Is(err, mockserver.ErrInvalid) {
			t.Errorf("AddPartner(bad key) = %v, want ErrInvalid", err)
		}
	})

	step("onboarding", func(t *testing.T) {
		if st := create(t, tg.Key, "suite-new", "new@suite.example"); st != 202 {
			t.Fatalf("POST /clients = %d, want 202", st)
		}
		if err := ctl.CompleteOnboarding(tg.Key, "suite-new"); err != nil {
			t.Fatal(err)
		}
		if st := create(t, tg.Key, "suite-new", "new@suite.example"); st != 201 {
			t.Errorf("POST /clients after CompleteOnboarding = %d, want 201", st)
		}
		c, err := ctl.LinkedClient(tg.Key, "suite-new")
		if err != nil || !c.OnboardingDone || !c.Attributed || c.ReferralFeePercentage != 20 {
			t.Errorf("LinkedClient = %+v, %v", c, err)
		}
		if _, err := ctl.LinkedClient(tg.Key, "nobody"); !errors.Is(err, mockserver.ErrNotFound) {
			t.Errorf("LinkedClient(nobody) = %v, want ErrNotFound", err)
		}
	})

	for _, decision := range []string{"approve", "decline"} {
		step("link "+decision, func(t *testing.T) {
			ext := "suite-" + decision
			requestLink(t, "Existing "+decision, ext, decision+"@existing.example")
			decide, want := ctl.ApprovePendingLink, 200
			if decision == "decline" {
				decide, want = ctl.DeclinePendingLink, 404
			}
			if err := decide(tg.Key, ext); err != nil {
				t.Fatal(err)
			}
			if st, _ := api(t, "GET", "/clients/"+ext, tg.Key, nil); st != want {
				t.Errorf("GET /clients/%s after %s = %d, want %d", ext, decision, st, want)
			}
			if err := decide(tg.Key, ext); !errors.Is(err, mockserver.ErrConflict) {
				t.Errorf("deciding twice = %v, want ErrConflict", err)
			}
		})
	}

	step("link expiry and clock", func(t *testing.T) {
		requestLink(t, "Late ApS", "suite-late", "late@existing.example")
		before, err := ctl.AdvanceClock(0)
		if err != nil {
			t.Fatal(err)
		}
		after, err := ctl.AdvanceClock(8 * 24 * time.Hour)
		if err != nil || after.Sub(before) < 8*24*time.Hour {
			t.Fatalf("AdvanceClock(8 days) = %v (before %v), %v", after, before, err)
		}
		if _, err := ctl.ExpireLinkRequests(); err != nil {
			t.Fatal(err)
		}
		if err := ctl.ApprovePendingLink(tg.Key, "suite-late"); !errors.Is(err, mockserver.ErrExpired) {
			t.Errorf("approving an expired request = %v, want ErrExpired", err)
		}
		requestLink(t, "Now ApS", "suite-now", "now@existing.example")
		if err := ctl.ExpirePendingLink(tg.Key, "suite-now"); err != nil {
			t.Fatal(err)
		}
		if err := ctl.ApprovePendingLink(tg.Key, "suite-now"); !errors.Is(err, mockserver.ErrExpired) {
			t.Errorf("approving after ExpirePendingLink = %v, want ErrExpired", err)
		}
		if err := ctl.ExpirePendingLink(tg.Key, "suite-now"); !errors.Is(err, mockserver.ErrConflict) {
			t.Errorf("ExpirePendingLink twice = %v, want ErrConflict", err)
		}
		if _, err := ctl.AdvanceClock(-time.Second); !errors.Is(err, mockserver.ErrInvalid) {
			t.Errorf("AdvanceClock(-1s) = %v, want ErrInvalid", err)
		}
	})

	step("faults and journal", func(t *testing.T) {
		id, err := ctl.AddFault(mockserver.Fault{Operation: mockserver.OpMe, Status: 503, Times: 1})
		if err != nil {
			t.Fatal(err)
		}
		keep, err := ctl.AddFault(mockserver.Fault{Operation: mockserver.OpGetClients, Latency: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		rules, err := ctl.ListFaults()
		if err != nil || len(rules) != 2 || rules[0].ID != id || rules[1].ID != keep || rules[1].Latency != time.Millisecond {
			t.Fatalf("ListFaults = %+v, %v", rules, err)
		}
		for _, want := range []int{503, 200} {
			if st, _ := api(t, "GET", "/me", tg.Key, nil); st != want {
				t.Errorf("GET /me = %d, want %d", st, want)
			}
		}
		if _, err := ctl.AddFault(mockserver.Fault{Operation: "postClient", Status: 503}); !errors.Is(err, mockserver.ErrInvalid) {
			t.Errorf("AddFault(typo) = %v, want ErrInvalid", err)
		}
		if err := ctl.DeleteFault(keep); err != nil {
			t.Error(err)
		}
		if err := ctl.DeleteFault(keep); !errors.Is(err, mockserver.ErrNotFound) {
			t.Errorf("DeleteFault twice = %v, want ErrNotFound", err)
		}
		j, err := ctl.JournalEntries(mockserver.JournalFilter{Operation: mockserver.OpMe, StatusClass: 5})
		if err != nil || len(j) != 1 || j[0].Status != 503 || j[0].Fault != "status" {
			t.Errorf("JournalEntries(getMe, 5xx) = %+v, %v", j, err)
		}
		if _, err := ctl.JournalEntries(mockserver.JournalFilter{Operation: "nope"}); !errors.Is(err, mockserver.ErrInvalid) {
			t.Errorf("JournalEntries(nope) = %v, want ErrInvalid", err)
		}
	})

	step("rate limit", func(t *testing.T) {
		cfg := mockserver.RateLimitConfig{Windows: []mockserver.RateWindow{{Limit: 1, Period: time.Hour}}}
		if err := ctl.SetRateLimit(cfg); err != nil {
			t.Fatal(err)
		}
		got, err := ctl.RateLimits()
		if err != nil || len(got.Windows) != 1 || got.Windows[0] != cfg.Windows[0] {
			t.Errorf("RateLimits = %+v, %v", got, err)
		}
		for _, want := range []int{200, 429} {
			if st, _ := api(t, "GET", "/me", tg.Key, nil); st != want {
				t.Errorf("GET /me = %d, want %d", st, want)
			}
		}
		if err := ctl.SetRateLimit(mockserver.RateLimitConfig{Windows: []mockserver.RateWindow{{Limit: 0, Period: time.Second}}}); !errors.Is(err, mockserver.ErrInvalid) {
			t.Errorf("SetRateLimit(limit 0) = %v, want ErrInvalid", err)
		}
		if err := ctl.SetRateLimit(mockserver.RateLimitConfig{Disabled: true}); err != nil {
			t.Fatal(err)
		}
		if st, _ := api(t, "GET", "/me", tg.Key, nil); st != 200 {
			t.Errorf("GET /me with limits off = %d", st)
		}
		_ = ctl.SetRateLimit(mockserver.DefaultRateLimits())
	})

	step("webhooks", func(t *testing.T) {
		var got atomic.Int32
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Debitura-Signature") != "" {
				got.Add(1)
			}
		}))
		defer recv.Close()
		if st, body := api(t, "POST", "/v1/Webhooks", tg.Key, map[string]any{"url": recv.URL + "/hook", "events": []string{mockserver.EventClientLinked}}); st != 200 {
			t.Fatalf("POST /v1/Webhooks = %d %v", st, body)
		}
		requestLink(t, "Hooked ApS", "suite-hook", "hook@existing.example")
		if err := ctl.ApprovePendingLink(tg.Key, "suite-hook"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := ctl.FlushWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		ds, err := ctl.WebhookDeliveries()
		if err != nil || len(ds) != 1 || ds[0].Event != mockserver.EventClientLinked || ds[0].State != mockserver.DeliveryDelivered || len(ds[0].Payload) == 0 {
			t.Fatalf("WebhookDeliveries = %+v, %v", ds, err)
		}
		if got.Load() != 1 {
			t.Errorf("the receiver got %d signed deliveries, want 1", got.Load())
		}
	})

	step("reset", func(t *testing.T) {
		if st := create(t, tg.Key, "suite-gone", "gone@suite.example"); st != 202 {
			t.Fatalf("POST /clients = %d", st)
		}
		if _, err := ctl.AddFault(mockserver.Fault{Operation: mockserver.OpMe, Status: 500}); err != nil {
			t.Fatal(err)
		}
		if err := ctl.ResetAll(); err != nil {
			t.Fatal(err)
		}
		if _, err := ctl.LinkedClient(tg.Key, "suite-gone"); !errors.Is(err, mockserver.ErrNotFound) {
			t.Errorf("LinkedClient after ResetAll = %v, want ErrNotFound", err)
		}
		if rules, err := ctl.ListFaults(); err != nil || len(rules) != 0 {
			t.Errorf("ListFaults after ResetAll = %+v, %v", rules, err)
		}
		if j, err := ctl.JournalEntries(mockserver.JournalFilter{}); err != nil || len(j) != 0 {
			t.Errorf("journal after ResetAll has %d entries (%v)", len(j), err)
		}
	})
}

// JSONRequest builds a request to the mock with body (nil: none) as JSON and the partner key
// key ("": none). Content-Type is application/json when there is a body and on every /__mock/
// route (the control API asks for it even without one).
func JSONRequest(t testing.TB, method, url, key string, body any) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("XApiKey", key)
	}
	if body != nil || strings.Contains(url, "/__mock/") {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}
