package mockserver

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJournalHasNoSecrets(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	if _, err := s.AddCreditor(CreditorSpec{CompanyName: "E", Emails: []string{"e@x.example"}}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, key, "j", "j@x.example")
	if err := s.CompleteOnboarding(key, "j"); err != nil {
		t.Fatal(err)
	}
	_, tok := mint(t, s, key, "j")
	rot := do(t, s, "POST", "/clients/j/rotate-token", key, nil).json(t)["accessToken"].(string)
	whoami(t, s, tok)
	approval := tokenFromURL(t, str(do(t, s, "POST", "/clients", key, newClient("e", "e@x.example")).json(t), "data", "onboardingLinks", "url"))
	if err := s.ApproveLink(approval); err != nil {
		t.Fatal(err)
	}
	do(t, s, "GET", "/me", "mock_test_wrong_key_secret", nil)

	raw, _ := json.Marshal(s.Journal())
	state, _ := s.State()
	http := do(t, s, "GET", "/__mock/journal", "", nil).body
	for _, secret := range []string{key, "mock_test_wrong_key_secret", tok, rot, approval, strings.Split(tok, ".")[2]} {
		for name, blob := range map[string][]byte{"Journal()": raw, "State()": state, "/__mock/journal": http} {
			if strings.Contains(string(blob), secret) {
				t.Errorf("%s contains a secret (%.12s...)", name, secret)
			}
		}
	}
	ops := map[string]bool{}
	effects := map[string]bool{}
	for _, e := range s.Journal() {
		ops[e.Operation] = true
		for _, x := range e.Effects {
			effects[x] = true
		}
	}
	for _, want := range []string{OpPostClients, OpToken, OpRotateToken, OpCustomerAPIWhoami, OpMe, "approveLink"} {
		if !ops[want] {
			t.Errorf("journal has no %s entry", want)
		}
	}
	for _, want := range []string{EffectClientCreated, EffectTokenMinted, EffectTokenRotated, EffectLinkRequested, EffectLinkApproved} {
		if !effects[want] {
			t.Errorf("journal has no %s effect", want)
		}
	}
	if got := s.Requests(OpPostClients); len(got) != 2 || got[0].PartnerID != DefaultPartnerID || got[0].Route != "POST /clients" || got[0].Status != 202 {
		t.Errorf("Requests(postClients) = %+v", got)
	}
	s.ResetJournal()
	if len(s.Journal()) != 0 || s.Count(OpPostClients) != 0 {
		t.Error("ResetJournal left entries")
	}
}
