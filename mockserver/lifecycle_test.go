package mockserver

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWithdraw(t *testing.T) {
	t.Parallel()
	t.Run("closes pending cases and archives; re-POST creates a new client", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		r := do(t, s, "POST", "/clients", key, newClient("w", "w@x.example", caseBody("r1", "DK"), caseBody("r2", "DK")))
		oldID := str(r.json(t), "client", "id")
		cases, _ := s.Cases(key, "w")
		if r := do(t, s, "POST", "/clients/w/withdraw", key, nil); r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("withdraw = %d %s, want 204", r.status, r.body)
		}
		if r := do(t, s, "GET", "/clients/w", key, nil); r.status != 404 {
			t.Errorf("GET after withdraw = %d, want 404", r.status)
		}
		if r := do(t, s, "POST", "/clients/w/withdraw", key, nil); r.status != 404 {
			t.Errorf("second withdraw = %d, want 404", r.status)
		}
		s.mu.Lock()
		for _, c := range cases {
			if cs := s.st.Cases[c.ID]; cs.Lifecycle != LifecycleClosed || cs.CloseCode != "CaseNeverStartedInternal" {
				t.Errorf("case %s = %s/%s, want Closed/CaseNeverStartedInternal", c.ID, cs.Lifecycle, cs.CloseCode)
			}
		}
		s.mu.Unlock()
		r = do(t, s, "POST", "/clients", key, newClient("w", "w@x.example"))
		if r.status != 202 || str(r.json(t), "client", "id") == oldID {
			t.Errorf("re-POST after withdraw = %d %s, want 202 with a new client id", r.status, r.body)
		}
	})
	t.Run("409 when not attributed", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		if _, err := s.AddCreditor(CreditorSpec{CompanyName: "L", Emails: []string{"l@x.example"}, LinkedToPartner: key, LinkedAsExternalTenantID: "l"}); err != nil {
			t.Fatal(err)
		}
		r := do(t, s, "POST", "/clients/l/withdraw", key, nil)
		var e wireAPIError
		r.decode(t, &e)
		if r.status != 409 || len(e.BusinessErrors) != 1 || e.Message == nil {
			t.Errorf("withdraw non-attributed = %d %s, want 409 ApiErrorResponseDto", r.status, r.body)
		}
	})
	t.Run("409 when a case progressed", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		do(t, s, "POST", "/clients", key, newClient("p", "p@x.example", caseBody("r1", "DK")))
		cases, _ := s.Cases(key, "p")
		if err := s.SetCaseLifecycle(cases[0].ID, LifecycleActive); err != nil {
			t.Fatal(err)
		}
		if r := do(t, s, "POST", "/clients/p/withdraw", key, nil); r.status != 409 {
			t.Errorf("withdraw = %d, want 409", r.status)
		}
		r := do(t, s, "GET", "/clients/p/is-deletable", key, nil)
		var d wireDeletable
		r.decode(t, &d)
		if r.status != 200 || d.IsDeletable || len(d.Blockers) != 1 {
			t.Errorf("is-deletable = %d %s, want a blocker", r.status, r.body)
		}
	})
}

func TestResetCascade(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	do(t, s, "POST", "/clients", key, newClient("r", "r@x.example", caseBody("c1", "DK")))
	if err := s.CompleteOnboarding(key, "r"); err != nil {
		t.Fatal(err)
	}
	r := do(t, s, "GET", "/clients/r/is-deletable", key, nil)
	if diff := cmp.Diff(`{"isDeletable":true,"blockers":[]}`, string(r.body)); diff != "" {
		t.Errorf("is-deletable (-want +got):\n%s", diff)
	}
	tok := do(t, s, "POST", "/oauth/token", key, map[string]any{"externalTenantId": "r"}).json(t)["accessToken"].(string)
	if r := do(t, s, "DELETE", "/clients/r", key, nil); r.status != 204 {
		t.Fatalf("DELETE = %d %s", r.status, r.body)
	}
	if r := do(t, s, "DELETE", "/clients/r", key, nil); r.status != 404 {
		t.Errorf("second DELETE = %d, want 404", r.status)
	}
	if st := s.CheckToken(tok); st.Valid || st.Reason != "link_archived" {
		t.Errorf("token after reset = %+v, want link_archived", st)
	}
	s.mu.Lock()
	nCases, nCreds := len(s.st.Cases), len(s.st.Creditors)
	s.mu.Unlock()
	if nCases != 0 || nCreds != 0 {
		t.Errorf("after reset: %d cases, %d creditors; want 0, 0", nCases, nCreds)
	}
	// The e-mail left matching: a new attributed client, not a 409.
	r = do(t, s, "POST", "/clients", key, newClient("r2", "r@x.example"))
	if r.status != 202 || !strings.Contains(string(r.body), `"isAttributedClient":true`) {
		t.Errorf("POST after reset = %d %s, want 202 attributed", r.status, r.body)
	}
	// A pending link request cannot be reset.
	if _, err := s.AddCreditor(CreditorSpec{CompanyName: "E", Emails: []string{"e@x.example"}}); err != nil {
		t.Fatal(err)
	}
	do(t, s, "POST", "/clients", key, newClient("pending", "e@x.example"))
	if r := do(t, s, "DELETE", "/clients/pending", key, nil); r.status != 404 {
		t.Errorf("DELETE pending link request = %d, want 404", r.status)
	}
}

func TestProductionEnvironment(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithEnvironment(Production))
	mustCreate(t, s, key, "p", "p@x.example")
	for _, rq := range []struct{ method, path string }{
		{"DELETE", "/clients/p"}, {"GET", "/clients/p/is-deletable"}, {"POST", "/__mock/reset"}, {"GET", "/__mock/state"},
	} {
		r := do(t, s, rq.method, rq.path, key, nil)
		var e wireAPIError
		r.decode(t, &e)
		if r.status != http.StatusForbidden || e.Message == nil {
			t.Errorf("%s %s in production = %d %s, want 403 ApiErrorResponseDto", rq.method, rq.path, r.status, r.body)
		}
	}
	if r := do(t, s, "GET", "/clients/p", key, nil); r.status != 200 {
		t.Errorf("GET in production = %d, want 200", r.status)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	for _, k := range []string{"", "mock_test_unknown", "deb_live_realkey"} {
		r := do(t, s, "GET", "/me", k, nil)
		var e wireAPIError
		r.decode(t, &e)
		if r.status != 401 || len(e.BusinessErrors) != 1 || deref(e.BusinessErrors[0].Type) != "Unauthorized" {
			t.Errorf("GET /me with key %q = %d %s, want 401 ApiErrorResponseDto", k, r.status, r.body)
		}
	}
	r := do(t, s, "GET", "/me", key, nil)
	var me wirePartner
	r.decode(t, &me)
	if r.status != 200 || me.ID != DefaultPartnerID || me.ReferralFeePercentage != 20 || me.InvoicingTriggerMode != "PayWhenPaid" || !me.IsActive {
		t.Errorf("GET /me = %d %s", r.status, r.body)
	}
	for _, bad := range []string{"", "has space", "tab\tkey", "n\u00f8gle", strings.Repeat("k", 257)} {
		if _, err := s.AddPartner(PartnerSpec{APIKey: bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddPartner(key %q) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := s.AddPartner(PartnerSpec{APIKey: "KEY"}); err != nil {
		t.Errorf("AddPartner(key \"KEY\") = %v, want nil (any well-formed key works)", err)
	}
}
