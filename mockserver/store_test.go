package mockserver

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// indexView is what the store's unexported indexes say, by ids, so that the live indexes can be
// compared with the ones reindex builds from the records alone.
type indexView struct {
	PartnerByKey map[string]string   // API key -> partner id
	Emails       map[string][]string // e-mail -> matchable creditor ids, sorted
	LinkReqByID  map[string]string   // link request id -> token
	IdemOrder    map[string][]string // partner id -> idempotency scopes, sorted
	Partners     map[string]partnerIndexView
	Creditors    map[string]creditorIndexView
	LinkCred     map[string]string // active link id -> its creditor's id
}

type partnerIndexView struct {
	Active  map[string]string // externalTenantId -> link id
	Pending map[string]string // externalTenantId -> link request id
	ByDate  []string
	ByName  []string
}

type creditorIndexView struct {
	Search, NameKey string
}

func viewIndexes(s *store) indexView {
	v := indexView{
		PartnerByKey: map[string]string{}, Emails: map[string][]string{}, LinkReqByID: map[string]string{},
		IdemOrder: map[string][]string{}, Partners: map[string]partnerIndexView{},
		Creditors: map[string]creditorIndexView{}, LinkCred: map[string]string{},
	}
	for k, p := range s.partnerByKey {
		v.PartnerByKey[k] = p.ID
	}
	for e, list := range s.emailIndex {
		v.Emails[e] = names(list, func(c *creditorRec) string { return c.ID })
		slices.Sort(v.Emails[e])
	}
	for id, lr := range s.linkReqByID {
		v.LinkReqByID[id] = lr.Token
	}
	for pid, q := range s.idemOrder {
		v.IdemOrder[pid] = names(q, func(r *idemRec) string { return r.Scope })
		slices.Sort(v.IdemOrder[pid])
	}
	ids := func(links []*linkRec) []string { return names(links, func(l *linkRec) string { return l.ID }) }
	for id, p := range s.Partners {
		pv := partnerIndexView{Active: map[string]string{}, Pending: map[string]string{},
			ByDate: ids(p.sortedByDate()), ByName: ids(p.sortedByName())}
		for ext, l := range p.active {
			pv.Active[ext] = l.ID
			v.LinkCred[l.ID] = l.cred.ID
		}
		for ext, lr := range p.pending {
			pv.Pending[ext] = lr.ID
		}
		v.Partners[id] = pv
	}
	for id, c := range s.Creditors {
		v.Creditors[id] = creditorIndexView{Search: c.search, NameKey: c.nameKey}
	}
	return v
}

// names lists name(x) for every x of list, in order.
func names[T any](list []T, name func(T) string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, name(x))
	}
	return out
}

// Every write path of the API and the control methods keeps the indexes where reindex (what
// Restore runs) would put them: the store methods do each insert and delete with its upkeep.
func TestStoreIndexesMatchReindex(t *testing.T) {
	t.Parallel()
	const other = "other-partner-key"
	s := newTestServer(t, WithPartner(PartnerSpec{APIKey: other}))
	ok := func(r resp, want int, what string) {
		t.Helper()
		if r.status != want {
			t.Fatalf("%s = %d %s, want %d", what, r.status, r.body, want)
		}
	}
	token := func(r resp) string {
		t.Helper()
		u, err := url.Parse(str(r.json(t), "data", "onboardingLinks", "url"))
		if err != nil || u.Query().Get("token") == "" {
			t.Fatalf("409 without an approval URL: %s", r.body)
		}
		return u.Query().Get("token")
	}

	withCases := newClient("a", "a@x.example")
	withCases["cases"] = []any{caseBody("a1", "DK"), caseBody("a2", "DK")}
	ok(do(t, s, "POST", "/clients", key, withCases), http.StatusAccepted, "POST /clients a")
	mustCreate(t, s, key, "b", "b@x.example")
	mustCreate(t, s, key, "c", "c@x.example")
	mustCreate(t, s, other, "o", "o@x.example")

	// Link requests: one approved, one declined, one left pending.
	for _, e := range []string{"d@x.example", "e@x.example", "f@x.example"} {
		if _, err := s.AddCreditor(CreditorSpec{CompanyName: "Existing " + e, Emails: []string{e}}); err != nil {
			t.Fatal(err)
		}
	}
	r := do(t, s, "POST", "/clients", key, newClient("d", "d@x.example"))
	ok(r, http.StatusConflict, "POST /clients d")
	if err := s.ApproveLink(token(r)); err != nil {
		t.Fatalf("ApproveLink: %v", err)
	}
	r = do(t, s, "POST", "/clients", key, newClient("e", "e@x.example"))
	ok(r, http.StatusConflict, "POST /clients e")
	if err := s.DeclineLink(token(r)); err != nil {
		t.Fatalf("DeclineLink: %v", err)
	}
	ok(do(t, s, "POST", "/clients", other, newClient("f", "f@x.example")), http.StatusConflict, "POST /clients f")
	if _, err := s.AddCreditor(CreditorSpec{CompanyName: "Seeded", Emails: []string{"g@x.example"},
		LinkedToPartner: other, LinkedAsExternalTenantID: "g"}); err != nil {
		t.Fatal(err)
	}

	// Deletes: withdraw, the test reset, a webhook subscription.
	ok(do(t, s, "POST", "/clients/a/withdraw", key, nil), http.StatusNoContent, "withdraw a")
	ok(do(t, s, "DELETE", "/clients/d", key, nil), http.StatusNoContent, "DELETE /clients/d")
	mustCreate(t, s, key, "a", "a@x.example") // a new creditor: the withdrawn one is not matched
	for _, u := range []string{"https://hooks.example/1", "https://hooks.example/2"} {
		ok(do(t, s, "POST", "/v1/Webhooks", key, map[string]any{"url": u, "events": []string{EventClientLinked}}), http.StatusOK, "POST /v1/Webhooks")
	}
	hooks := s.Webhooks(key)
	ok(do(t, s, "DELETE", "/v1/Webhooks/"+hooks[0].ID, key, nil), http.StatusNoContent, "DELETE /v1/Webhooks")

	// Edits: a new support e-mail, new company details (the name order changes under a full
	// name cache).
	ok(do(t, s, "GET", "/clients?Sort=name", key, nil), http.StatusOK, "GET /clients?Sort=name")
	ok(do(t, s, "PATCH", "/clients/b", key, map[string]any{"supportEmail": "new-b@x.example"}), http.StatusOK, "PATCH /clients/b")
	info, err := s.LinkedClient(key, "c")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SubmitCompanyDetails(info.LinkID, CompanyDetails{Name: "Aardvark", Country: "DK", SupportEmail: "c2@x.example"}); err != nil {
		t.Fatalf("SubmitCompanyDetails: %v", err)
	}
	ok(do(t, s, "POST", "/clients/b/suspend", key, nil), http.StatusOK, "suspend b")
	ok(do(t, s, "POST", "/clients/b/kyc-verification", key,
		`{"directorFullName":"Jane D","directorHomeAddress":"1 Main St","directorDateOfBirth":"1980-02-03"}`,
		"Idempotency-Key", "k1"), http.StatusCreated, "KYC b")

	b := s.Backend
	b.mu.Lock()
	defer b.mu.unlockUnchanged()
	live := viewIndexes(b.st)
	b.st.reindex()
	if diff := cmp.Diff(viewIndexes(b.st), live); diff != "" {
		t.Errorf("live indexes differ from reindexed ones (-reindex +live):\n%s", diff)
	}
	if n := len(live.Partners[DefaultPartnerID].Active); n != 3 {
		t.Errorf("default partner has %d active clients, want 3 (b, c and a again; d was reset)", n)
	}
}
