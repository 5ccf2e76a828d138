package mockserver

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// concAllowed is the set of statuses each operation of TestConcurrentMixedOperations may answer.
// Goroutines collide on the same tenants, so an operation can find its tenant missing (404) or,
// for withdraw, already onboarded (409); nothing may answer 5xx or anything else.
var concAllowed = map[string][]int{
	// 201/202: created, or the existing link (idempotent per externalTenantId). 409: both partners
	// use the same support e-mail for a tenant, so a POST matches the creditor the other partner
	// has linked (only ClientAlreadyLinkedToAnotherPartner; see concConflict).
	OpPostClients:  {201, 202, 409},
	OpGetClients:   {200},
	OpToken:        {200, 404},      // 404: no active link, or onboarding not done
	OpWithdraw:     {204, 404, 409}, // 409: onboarding completed
	OpPatchClient:  {200, 404},
	OpDeleteClient: {204, 404},
}

func TestConcurrentMixedOperations(t *testing.T) {
	t.Parallel()
	const other = "mock_test_concurrent_b"
	const otherID = "5b0e3a52-0d5c-4d1e-9a7a-2f1f1c0de0b2"
	s := newTestServer(t, WithPartner(PartnerSpec{ID: otherID, APIKey: other}), WithRateLimit(RateLimitConfig{Disabled: true}))
	var (
		mu  sync.Mutex
		bad []string
		n   = map[string]map[int]int{} // op -> status -> count
	)
	check := func(op, method, path string, r resp) {
		mu.Lock()
		defer mu.Unlock()
		if n[op] == nil {
			n[op] = map[int]int{}
		}
		n[op][r.status]++
		if !slices.Contains(concAllowed[op], r.status) || (r.status == 409 && op == OpPostClients && !concConflict(r.body)) {
			bad = append(bad, fmt.Sprintf("%s %s: %d %s", method, path, r.status, r.body))
		}
	}
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			k := key
			if g%4 == 3 {
				k = other
			}
			for i := range 12 {
				ext := fmt.Sprintf("t%d", (g*7+i)%24) // goroutines collide on the same tenants
				email := fmt.Sprintf("%s-%s@x.example", ext, k[len(k)-4:])
				switch i % 6 {
				case 0, 1:
					check(OpPostClients, "POST", "/clients", do(t, s, "POST", "/clients", k, newClient(ext, email)))
				case 2:
					check(OpGetClients, "GET", "/clients", do(t, s, "GET", "/clients?PageSize=5&Sort=name", k, nil))
				case 3:
					_ = s.CompleteOnboarding(k, ext)
					check(OpToken, "POST", "/oauth/token", do(t, s, "POST", "/oauth/token", k, map[string]any{"externalTenantId": ext}))
				case 4:
					check(OpWithdraw, "POST", "/clients/"+ext+"/withdraw", do(t, s, "POST", "/clients/"+ext+"/withdraw", k, nil))
				case 5:
					check(OpPatchClient, "PATCH", "/clients/"+ext, do(t, s, "PATCH", "/clients/"+ext, k, map[string]any{"metadata": map[string]any{"g": g}}))
					check(OpDeleteClient, "DELETE", "/clients/"+ext, do(t, s, "DELETE", "/clients/"+ext, k, nil))
				}
			}
		})
	}
	wg.Wait()
	for _, b := range bad {
		t.Errorf("status outside the allowed set: %s", b)
	}
	t.Logf("statuses: %v", n)
	for op := range concAllowed {
		if n[op][concAllowed[op][0]] == 0 {
			t.Errorf("%s never answered %d: the mix did not exercise it", op, concAllowed[op][0])
		}
	}

	raw, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string]wireClientList{}
	for _, k := range []string{key, other} {
		var l wireClientList
		r := do(t, s, "GET", "/clients?PageSize=100", k, nil)
		if r.status != 200 {
			t.Fatalf("GET /clients: %d %s", r.status, r.body)
		}
		r.decode(t, &l)
		lists[k] = l
	}
	for _, msg := range concInvariants(raw, map[string]string{key: DefaultPartnerID, other: otherID}, lists) {
		t.Error(msg)
	}
}

// concConflict reports whether a 409 of POST /clients is ClientAlreadyLinkedToAnotherPartner: in
// this mix every creditor that is not withdrawn is linked, so the other 409
// (ClientExistsNeedsLinking, a creditor without a link) would mean an orphaned creditor.
func concConflict(body []byte) bool {
	var e struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(body, &e) == nil && e.Type == "ClientAlreadyLinkedToAnotherPartner"
}

// concState is the part of State() the invariants read.
type concState struct {
	AgreementVersion int `json:"agreementVersion"`
	NextUserID       int `json:"nextUserId"`
	Creditors        map[string]struct {
		ID                     string `json:"id"`
		Kind                   string `json:"kind"`
		SignedAgreementVersion int    `json:"signedAgreementVersion"`
		Withdrawn              bool   `json:"withdrawn"`
		LinkID                 string `json:"linkId"`
		Users                  []struct {
			ID    int    `json:"id"`
			Email string `json:"email"`
		} `json:"users"`
	} `json:"creditors"`
	Links map[string]struct {
		ID               string `json:"id"`
		PartnerID        string `json:"partnerId"`
		ExternalTenantID string `json:"externalTenantId"`
		CreditorID       string `json:"creditorId"`
		Attributed       bool   `json:"attributed"`
		Archived         bool   `json:"archived"`
	} `json:"links"`
}

// concInvariants checks the mock's state (State() JSON) after the concurrent mix: one active link
// per (partner, externalTenantId) and per creditor, every active link's creditor present and
// pointing back, no creditor without a link (every creditor here came from POST /clients), users
// unique, and each partner's list summary equal to the counts recomputed from the state. keys maps
// API keys to partner ids; lists holds each key's GET /clients (one page of every client).
func concInvariants(raw []byte, keys map[string]string, lists map[string]wireClientList) []string {
	var st concState
	if err := json.Unmarshal(raw, &st); err != nil {
		return []string{fmt.Sprintf("State() is not the expected JSON: %v", err)}
	}
	var errs []string
	fail := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }

	activeByTenant := map[[2]string][]string{}
	activeByCreditor := map[string][]string{}
	linked := map[string]bool{} // creditor ids some link (active or archived) points at
	type counts struct{ total, attributed, done int32 }
	want := map[string]*counts{}
	for _, l := range st.Links {
		linked[l.CreditorID] = true
		if l.Archived {
			continue
		}
		k := [2]string{l.PartnerID, l.ExternalTenantID}
		activeByTenant[k] = append(activeByTenant[k], l.ID)
		activeByCreditor[l.CreditorID] = append(activeByCreditor[l.CreditorID], l.ID)
		c, ok := st.Creditors[l.CreditorID]
		switch {
		case !ok:
			fail("active link %s (%s) points at creditor %s, which does not exist", l.ID, l.ExternalTenantID, l.CreditorID)
		case c.Withdrawn:
			fail("active link %s (%s) points at withdrawn creditor %s", l.ID, l.ExternalTenantID, c.ID)
		case c.LinkID != l.ID:
			fail("active link %s (%s): its creditor %s names link %q", l.ID, l.ExternalTenantID, c.ID, c.LinkID)
		}
		if want[l.PartnerID] == nil {
			want[l.PartnerID] = &counts{}
		}
		w := want[l.PartnerID]
		w.total++
		if l.Attributed {
			w.attributed++
		}
		if ok && c.SignedAgreementVersion > 0 && c.SignedAgreementVersion >= st.AgreementVersion {
			w.done++
		}
	}
	for k, ids := range activeByTenant {
		if len(ids) > 1 {
			fail("partner %s has %d active links for %s: %v", k[0], len(ids), k[1], ids)
		}
	}
	for cid, ids := range activeByCreditor {
		if len(ids) > 1 {
			fail("creditor %s has %d active links: %v", cid, len(ids), ids)
		}
	}
	userOwner := map[int]string{}
	liveEmail := map[string]string{}
	for _, c := range st.Creditors {
		if !linked[c.ID] {
			fail("creditor %s is orphaned: no link points at it", c.ID)
		}
		if !c.Withdrawn && len(activeByCreditor[c.ID]) == 0 {
			fail("creditor %s is neither withdrawn nor actively linked (linkId %q)", c.ID, c.LinkID)
		}
		if c.LinkID != "" {
			if l, ok := st.Links[c.LinkID]; !ok || l.Archived || l.CreditorID != c.ID {
				fail("creditor %s names link %s, which is not its active link", c.ID, c.LinkID)
			}
		}
		if len(c.Users) == 0 {
			fail("creditor %s has no users", c.ID)
		}
		for _, u := range c.Users {
			if prev, dup := userOwner[u.ID]; dup {
				fail("user %d belongs to creditors %s and %s", u.ID, prev, c.ID)
			}
			userOwner[u.ID] = c.ID
			if u.ID > st.NextUserID { // nextUserId is the last id handed out
				fail("user %d of creditor %s is above nextUserId %d", u.ID, c.ID, st.NextUserID)
			}
			if !c.Withdrawn {
				if prev, dup := liveEmail[u.Email]; dup && prev != c.ID {
					fail("e-mail %s belongs to two live creditors, %s and %s", u.Email, prev, c.ID)
				}
				liveEmail[u.Email] = c.ID
			}
		}
	}
	for k, pid := range keys {
		l := lists[k]
		w := want[pid]
		if w == nil {
			w = &counts{}
		}
		sum := l.Summary
		if sum.TotalClients != w.total || sum.AttributedClients != w.attributed || sum.OnboardingComplete != w.done ||
			sum.OnboardingPending != w.total-w.done || l.Page.TotalResults != w.total || int32(len(l.Clients)) != w.total {
			fail("partner %s: summary %+v (page total %d, %d listed), recomputed from the state: %d clients, %d attributed, %d onboarded",
				pid, sum, l.Page.TotalResults, len(l.Clients), w.total, w.attributed, w.done)
		}
	}
	return errs
}

// TestConcurrentInvariantsCatch shows that concInvariants is not vacuous: a state with two active
// links for one (partner, externalTenantId) and for one creditor, an orphaned creditor, a
// duplicated user and a summary that disagrees is reported on each count.
func TestConcurrentInvariantsCatch(t *testing.T) {
	t.Parallel()
	const p = DefaultPartnerID
	raw := []byte(`{"agreementVersion":1,"nextUserId":1002,
		"creditors":{
			"c1":{"id":"c1","kind":"creditor","signedAgreementVersion":1,"linkId":"l1","users":[{"id":1001,"email":"a@x.example"}]},
			"c2":{"id":"c2","kind":"creditor","users":[{"id":1001,"email":"b@x.example"}]}},
		"links":{
			"l1":{"id":"l1","partnerId":"` + p + `","externalTenantId":"t1","creditorId":"c1","attributed":true},
			"l2":{"id":"l2","partnerId":"` + p + `","externalTenantId":"t1","creditorId":"c1","attributed":true}}}`)
	var l wireClientList
	l.Summary.TotalClients, l.Summary.AttributedClients, l.Summary.OnboardingComplete = 1, 1, 1
	l.Page.TotalResults = 1
	l.Clients = make([]wireClient, 1)
	errs := concInvariants(raw, map[string]string{key: p}, map[string]wireClientList{key: l})
	for _, want := range []string{"2 active links for t1", "creditor c1 has 2 active links", "creditor c2 is orphaned",
		"user 1001 belongs to creditors", "summary"} {
		found := false
		for _, e := range errs {
			if strings.Contains(e, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("concInvariants did not report %q; it reported %q", want, errs)
		}
	}
}
