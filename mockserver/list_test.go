package mockserver

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func listIDs(t *testing.T, s *Server, query string) (wireClientList, []string) {
	t.Helper()
	r := do(t, s, "GET", "/clients"+query, key, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /clients%s = %d %s", query, r.status, r.body)
	}
	var l wireClientList
	r.decode(t, &l)
	ids := []string{}
	for _, c := range l.Clients {
		ids = append(ids, deref(c.ExternalTenantID))
	}
	return l, ids
}

func TestListClients(t *testing.T) {
	t.Parallel()
	clock := NewFakeClock(time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC))
	s := newTestServer(t, WithClock(clock))
	names := []string{"Charlie", "alpha", "Bravo", "Delta"}
	for i, n := range names {
		body := newClient(fmt.Sprintf("t%d", i), fmt.Sprintf("u%d@x.example", i))
		body["client"].(map[string]any)["name"] = n
		body["client"].(map[string]any)["registrationNumber"] = fmt.Sprintf("REG-%d", i)
		if r := do(t, s, "POST", "/clients", key, body); r.status != 202 {
			t.Fatal(r.status, string(r.body))
		}
		if i < 3 {
			clock.Advance(time.Hour) // t3 is created at the same instant as t2: tie-break by creation order
		}
	}
	if err := s.CompleteOnboarding(key, "t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddCreditor(CreditorSpec{CompanyName: "Echo (linked after 409)", Emails: []string{"e@x.example"}, LinkedToPartner: key, LinkedAsExternalTenantID: "t4"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query string
		want  []string
		total int32
	}{
		{"", []string{"t4", "t3", "t2", "t1", "t0"}, 5},
		{"?Sort=dateCreated:asc", []string{"t0", "t1", "t2", "t3", "t4"}, 5},
		{"?Sort=name", []string{"t1", "t2", "t0", "t3", "t4"}, 5},
		{"?sort=NAME:desc", []string{"t4", "t3", "t0", "t2", "t1"}, 5},
		{"?Query=BRAV", []string{"t2"}, 1},
		{"?Query=u0%40x", []string{}, 0}, // user e-mails are not the office e-mail
		{"?Query=billing%2Bt3", []string{"t3"}, 1},
		{"?Query=reg-1", []string{"t1"}, 1},
		{"?ExternalTenantId=t2", []string{"t2"}, 1},
		{"?ExternalTenantId=T2", []string{}, 0},
		{"?IsAttributedClient=false", []string{"t4"}, 1},
		{"?OnboardingDone=true", []string{"t1"}, 1},
		{"?onboardingdone=false&Sort=dateCreated:asc", []string{"t0", "t2", "t3", "t4"}, 4},
		{"?DateCreatedFrom=2025-05-01T13:00:00Z&DateCreatedTo=2025-05-01T14:00:00Z&Sort=dateCreated:asc", []string{"t1", "t2"}, 2},
		{"?PageSize=2", []string{"t4", "t3"}, 5},
		{"?PageSize=2&Page=3", []string{"t0"}, 5},
		{"?PageSize=2&Page=4", []string{}, 5},
	}
	for _, tt := range tests {
		l, ids := listIDs(t, s, tt.query)
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("GET /clients%s ids (-want +got):\n%s", tt.query, diff)
		}
		if l.Page.TotalResults != tt.total || l.Page.ResponseCount != int32(len(ids)) {
			t.Errorf("GET /clients%s page = %+v, want totalResults %d", tt.query, l.Page, tt.total)
		}
		if diff := cmp.Diff(wireSummary{TotalClients: 5, AttributedClients: 4, OnboardingComplete: 1, OnboardingPending: 4}, l.Summary); diff != "" {
			t.Errorf("GET /clients%s summary (-want +got):\n%s", tt.query, diff)
		}
	}
	l, _ := listIDs(t, s, "?PageSize=2&Page=3")
	if diff := cmp.Diff(wirePageData{TotalResults: 5, PageSize: 2, CurrentPage: 3, ResponseCount: 1, TotalPages: 3}, l.Page); diff != "" {
		t.Errorf("page data (-want +got):\n%s", diff)
	}

	for _, q := range []string{"?PageSize=101", "?PageSize=0", "?Page=0", "?Page=x", "?Sort=size", "?Sort=name:up", "?IsAttributedClient=maybe", "?DateCreatedFrom=yesterday"} {
		if r := do(t, s, "GET", "/clients"+q, key, nil); r.status != 400 {
			t.Errorf("GET /clients%s = %d %s, want 400", q, r.status, r.body)
		}
	}
}

func TestGetClientNotFound(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithPartner(PartnerSpec{APIKey: "mock_test_b"}))
	mustCreate(t, s, key, "Tenant", "a@x.example")
	for _, tc := range []struct{ k, id string }{{key, "tenant"}, {key, "nope"}, {"mock_test_b", "Tenant"}} {
		if r := do(t, s, "GET", "/clients/"+tc.id, tc.k, nil); r.status != 404 {
			t.Errorf("GET /clients/%s as %s = %d, want 404", tc.id, tc.k, r.status)
		}
	}
	// Partner isolation in the list too.
	if l, _ := listIDs(t, s, ""); l.Summary.TotalClients != 1 {
		t.Errorf("own summary = %+v", l.Summary)
	}
	r := do(t, s, "GET", "/clients", "mock_test_b", nil)
	var l wireClientList
	r.decode(t, &l)
	if l.Summary.TotalClients != 0 || len(l.Clients) != 0 {
		t.Errorf("other partner's list = %s, want empty", r.body)
	}
}
