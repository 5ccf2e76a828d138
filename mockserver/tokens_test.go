package mockserver

import (
	"net/http"
	"testing"
	"time"
)

func whoami(t *testing.T, s *Server, tok string) resp {
	t.Helper()
	if tok == "" {
		return do(t, s, "GET", CustomerAPIWhoamiPath, "", nil)
	}
	return do(t, s, "GET", CustomerAPIWhoamiPath, "", nil, "Authorization", "Bearer "+tok)
}

func mint(t *testing.T, s *Server, k, ext string) (resp, string) {
	t.Helper()
	r := do(t, s, "POST", "/oauth/token", k, map[string]any{"externalTenantId": ext})
	if r.status != 200 {
		return r, ""
	}
	var at wireAccessToken
	r.decode(t, &at)
	return r, deref(at.AccessToken)
}

func TestTokenMintRules(t *testing.T) {
	t.Parallel()
	clock := NewFakeClock(time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC))
	s := newTestServer(t, WithClock(clock))
	created := mustCreate(t, s, key, "tok", "t@x.example")
	if r, _ := mint(t, s, key, "tok"); r.status != 404 {
		t.Errorf("mint before onboarding = %d, want 404", r.status)
	}
	if r, _ := mint(t, s, key, "none"); r.status != 404 {
		t.Errorf("mint unknown = %d, want 404", r.status)
	}
	for _, body := range []any{map[string]any{}, map[string]any{"externalTenantId": ""}, "", map[string]any{"externalTenantId": string(make([]byte, 256))}} {
		if r := do(t, s, "POST", "/oauth/token", key, body); r.status != 400 {
			t.Errorf("mint with %v = %d, want 400", body, r.status)
		}
	}
	if err := s.CompleteOnboarding(key, "tok"); err != nil {
		t.Fatal(err)
	}
	r, tok := mint(t, s, key, "tok")
	var at wireAccessToken
	r.decode(t, &at)
	if r.status != 200 || at.ExpiresIn != 1800 || deref(at.TokenType) != "Bearer" || at.CreditorID != str(created, "client", "id") || deref(at.ExternalTenantID) != "tok" {
		t.Fatalf("mint = %d %s", r.status, r.body)
	}
	// PascalCase body works too.
	if r := do(t, s, "POST", "/oauth/token", key, `{"ExternalTenantId":"tok"}`); r.status != 200 {
		t.Errorf("PascalCase mint = %d", r.status)
	}
	if r := whoami(t, s, tok); r.status != 200 || str(r.json(t), "creditorId") != at.CreditorID || str(r.json(t), "externalTenantId") != "tok" {
		t.Errorf("whoami = %d %s", r.status, r.body)
	}
	for name, bad := range map[string]string{"missing": "", "malformed": "abc", "bad signature": tok[:len(tok)-4] + "AAAA"} {
		if r := whoami(t, s, bad); r.status != 401 {
			t.Errorf("whoami %s = %d, want 401", name, r.status)
		}
	}
	if r := do(t, s, "GET", CustomerAPIWhoamiPath, "", nil, "Authorization", "Basic "+tok); r.status != 401 {
		t.Errorf("whoami with Basic = %d, want 401", r.status)
	}

	// Suspension: mint 403, existing tokens 403; reactivation restores both.
	if r := do(t, s, "POST", "/clients/tok/suspend", key, nil); r.status != 200 || str(r.json(t), "status") != "suspended" {
		t.Fatalf("suspend = %d %s", r.status, r.body)
	}
	if r := do(t, s, "POST", "/clients/tok/suspend", key, nil); r.status != 200 {
		t.Errorf("second suspend = %d, want 200", r.status)
	}
	if r, _ := mint(t, s, key, "tok"); r.status != 403 {
		t.Errorf("mint while suspended = %d, want 403", r.status)
	}
	if r := whoami(t, s, tok); r.status != 403 {
		t.Errorf("whoami while suspended = %d, want 403", r.status)
	}
	if r := do(t, s, "POST", "/clients/tok/rotate-token", key, nil); r.status != 403 {
		t.Errorf("rotate while suspended = %d, want 403", r.status)
	}
	if r := do(t, s, "POST", "/clients/tok/reactivate", key, nil); r.status != 200 || str(r.json(t), "status") != "active" {
		t.Fatalf("reactivate = %d %s", r.status, r.body)
	}
	if r := whoami(t, s, tok); r.status != 200 {
		t.Errorf("whoami after reactivate = %d, want 200", r.status)
	}

	// Expiry on the mock clock.
	clock.Advance(30 * time.Minute)
	if st := s.CheckToken(tok); st.Valid || st.Reason != "expired" || st.HTTPStatus != 401 {
		t.Errorf("CheckToken after 30m = %+v, want expired", st)
	}
}

func TestTokenRotationGrace(t *testing.T) {
	t.Parallel()
	clock := NewFakeClock(time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC))
	s := newTestServer(t, WithClock(clock))
	mustCreate(t, s, key, "rot", "r@x.example")
	if r := do(t, s, "POST", "/clients/rot/rotate-token", key, nil); r.status != 404 {
		t.Errorf("rotate before onboarding = %d, want 404", r.status)
	}
	if err := s.CompleteOnboarding(key, "rot"); err != nil {
		t.Fatal(err)
	}
	_, old := mint(t, s, key, "rot")
	clock.Advance(10 * time.Minute)
	r := do(t, s, "POST", "/clients/rot/rotate-token", key, nil, "Idempotency-Key", "rot-1")
	var rot wireRotate
	r.decode(t, &rot)
	if r.status != 200 || rot.TokenType != "Bearer" || rot.ExpiresIn != 1800 || rot.PreviousTokenExpiresAt != ts(clock.Now().Add(20*time.Minute)) {
		t.Fatalf("rotate = %d %s", r.status, r.body)
	}
	// Replay with the same key: same token, no second rotation.
	r2 := do(t, s, "POST", "/clients/rot/rotate-token", key, nil, "Idempotency-Key", "rot-1")
	if string(r2.body) != string(r.body) || s.EffectCount(EffectTokenRotated) != 1 {
		t.Errorf("rotate replay = %s, rotations %d", r2.body, s.EffectCount(EffectTokenRotated))
	}
	// The old token keeps working until its own expiry (earlier than now+24h).
	if st := s.CheckToken(old); !st.Valid {
		t.Errorf("old token right after rotation = %+v, want valid", st)
	}
	if st := s.CheckToken(rot.AccessToken); !st.Valid {
		t.Errorf("new token = %+v, want valid", st)
	}
	clock.Advance(20 * time.Minute)
	if st := s.CheckToken(old); st.Valid {
		t.Errorf("old token at its expiry = %+v, want invalid", st)
	}
	if st := s.CheckToken(rot.AccessToken); !st.Valid {
		t.Errorf("new token = %+v, want valid", st)
	}
	// A second rotation caps the first rotation's token.
	r3 := do(t, s, "POST", "/clients/rot/rotate-token", key, nil)
	if r3.status != 200 || s.EffectCount(EffectTokenRotated) != 2 {
		t.Errorf("second rotation = %d", r3.status)
	}
	if r := whoami(t, s, rot.AccessToken); r.status != http.StatusOK {
		t.Errorf("previous token within grace = %d, want 200", r.status)
	}
}

func TestRotationCapsAt24Hours(t *testing.T) {
	t.Parallel()
	clock := NewFakeClock(time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC))
	s := newTestServer(t, WithClock(clock))
	mustCreate(t, s, key, "g", "g@x.example")
	if err := s.CompleteOnboarding(key, "g"); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	l := s.st.Partners[DefaultPartnerID].active["g"]
	// A long-lived token (as if TokenTTL were days) to see the 24-hour cap bite.
	l.TokenSeq++
	long := signJWT(s.st.TokenSecret, jwtClaims{Sub: l.CreditorID, Ext: "g", PID: l.PartnerID, LID: l.ID, Seq: l.TokenSeq, Iat: clock.Now().Unix(), Exp: clock.Now().Add(72 * time.Hour).Unix()})
	s.mu.Unlock()
	do(t, s, "POST", "/clients/g/rotate-token", key, nil)
	clock.Advance(24*time.Hour - time.Second)
	if st := s.CheckToken(long); !st.Valid {
		t.Errorf("before the 24h grace ends = %+v, want valid", st)
	}
	clock.Advance(time.Second)
	if st := s.CheckToken(long); st.Valid || st.Reason != "revoked" {
		t.Errorf("after the 24h grace = %+v, want revoked", st)
	}
}
