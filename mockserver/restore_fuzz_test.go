package mockserver

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// restoreSeed is a saved state with every kind of record: partners, an active link with a case,
// a creditor behind a pending link request, an archived (reset) link, a webhook subscription
// and a stored idempotent response.
func restoreSeed(t testing.TB) []byte {
	t.Helper()
	b := NewBackend(WithSeed(3), WithRateLimit(RateLimitConfig{Disabled: true}), WithCoverage("DK", "SE"))
	defer b.Close()
	serve := func(method, path, body string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		r.Header.Set("XApiKey", DefaultAPIKey)
		r.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		b.ServeHTTP(w, r)
		if w.Code >= 300 && w.Code != http.StatusConflict {
			t.Fatalf("seed %s %s = %d %s", method, path, w.Code, w.Body)
		}
		return w
	}
	client := func(ext, email, cases string) string {
		return `{"externalTenantId":"` + ext + `","client":{"name":"Co ` + ext + `","country":"DK","supportEmail":"` + email + `"},"users":[{"name":"U ` + ext + `","email":"` + email + `"}]` + cases + `}`
	}
	serve("POST", "/clients", client("t-1", "a@fz.example", `,"cases":[{"currencyCode":"DKK","amountToRecover":10,"creditorReference":"R1","debtor":{"type":"Company","name":"D","countryAlpha2":"SE"}}]`))
	serve("POST", "/clients", client("t-2", "b@fz.example", ""))
	serve("DELETE", "/clients/t-2", "")
	if _, err := b.AddCreditor(CreditorSpec{CompanyName: "Pre ApS", Emails: []string{"pre@fz.example"}}); err != nil {
		t.Fatal(err)
	}
	serve("POST", "/clients", client("t-3", "pre@fz.example", ""))
	serve("POST", "/v1/Webhooks", `{"url":"https://hooks.fz.example/in","events":["client.linked"]}`)
	serve("POST", "/clients/t-1/kyc-verification", `{"directorFullName":"A B","directorHomeAddress":"Street 1","directorDateOfBirth":"1980-01-02"}`, "Idempotency-Key", "k-1")
	if _, err := b.AddPartner(PartnerSpec{APIKey: "mock_second", ID: "p-2"}); err != nil {
		t.Fatal(err)
	}
	snap := mustSnapshot(t, b)
	return snap
}

// Null records and dangling references make Restore fail with ErrInvalid (it used to panic on
// the nulls), leave the state alone, and say what is wrong.
func TestRestoreRejectsUnusableSnapshots(t *testing.T) {
	t.Parallel()
	const head = `{"format":1,"store":{"tokenSecret":"c2VjcmV0","partners":{"p":{"id":"p","apiKey":"mock_p"}}`
	tests := []struct{ name, snap, want string }{
		{"null partner", `{"format":1,"store":{"tokenSecret":"c2VjcmV0","partners":{"x":null}}}`, `partners["x"] is null`},
		{"null creditor", head + `,"creditors":{"x":null}}}`, `creditors["x"] is null`},
		{"null link", head + `,"links":{"x":null}}}`, `links["x"] is null`},
		{"null link request", head + `,"linkRequests":{"secret-token":null}}}`, `linkRequests has a null record`},
		{"null case", head + `,"cases":{"x":null}}}`, `cases["x"] is null`},
		{"null webhook", head + `,"webhooks":{"x":null}}}`, `webhooks["x"] is null`},
		{"null idempotency record", head + `,"idempotency":{"x":null}}}`, `idempotency has a null record`},
		{"link to a missing partner", head + `,"creditors":{"c":{"id":"c"}},"links":{"l":{"id":"l","partnerId":"nope","creditorId":"c"}}}}`, `links["l"].partnerId "nope" names no partner`},
		{"active link to a missing creditor", head + `,"links":{"l":{"id":"l","partnerId":"p","creditorId":"gone"}}}}`, `links["l"].creditorId "gone" names no creditor`},
		{"creditor naming a missing link", head + `,"creditors":{"c":{"id":"c","linkId":"l"}}}}`, `creditors["c"].linkId "l" names no link`},
		{"creditor naming a missing case", head + `,"creditors":{"c":{"id":"c","caseIds":["k"]}}}}`, `creditors["c"].caseIds: case "k" does not exist`},
		{"pending request to a missing creditor", head + `,"linkRequests":{"tok":{"token":"tok","id":"r","partnerId":"p","creditorId":"gone","status":"pending"}}}}`, `linkRequests[id "r"].creditorId "gone" names no creditor`},
		{"request to a missing partner", head + `,"linkRequests":{"tok":{"token":"tok","id":"r","partnerId":"nope","status":"expired"}}}}`, `linkRequests[id "r"].partnerId "nope" names no partner`},
		{"case of a missing creditor", head + `,"cases":{"k":{"id":"k","creditorId":"gone","linkId":"l"}}}}`, `cases["k"].creditorId "gone" names no creditor`},
		{"webhook of a missing partner", head + `,"webhooks":{"w":{"id":"w","partnerId":"nope"}}}}`, `webhooks["w"].partnerId "nope" names no partner`},
		{"record under another id", `{"format":1,"store":{"tokenSecret":"c2VjcmV0","partners":{"p":{"id":"q","apiKey":"mock_p"}}}}`, `partners["p"] has id "q"`},
		{"duplicate API key", `{"format":1,"store":{"tokenSecret":"c2VjcmV0","partners":{"p":{"id":"p","apiKey":"mock_p"},"q":{"id":"q","apiKey":"mock_p"}}}}`, `partners["q"].apiKey is also the key of partner "p"`},
		{"invalid API key", `{"format":1,"store":{"tokenSecret":"c2VjcmV0","partners":{"p":{"id":"p","apiKey":""}}}}`, `partners["p"].apiKey is not`},
	}
	for _, tt := range tests {
		b := NewBackend()
		before, _ := b.Snapshot()
		err := b.Restore([]byte(tt.snap))
		after, _ := b.Snapshot()
		b.Close()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Restore = %v, want ErrInvalid saying %s", tt.name, err, tt.want)
		}
		if err != nil && (strings.Contains(err.Error(), "mock_p") || strings.Contains(err.Error(), "secret-token")) {
			t.Errorf("%s: the error shows a key or token: %v", tt.name, err)
		}
		if string(before) != string(after) {
			t.Errorf("%s: a refused Restore changed the state", tt.name)
		}
	}
	// A state the mock saved itself, with a reset client (archived link, creditor and cases
	// deleted) and a pending link request, restores.
	b := NewBackend()
	defer b.Close()
	if err := b.Restore(restoreSeed(t)); err != nil {
		t.Errorf("Restore of a saved state: %v", err)
	}
}

// FuzzRestore: any bytes to Restore -> never a panic; a refusal wraps ErrInvalid; a snapshot it
// accepts can be served: the API answers every partner without a 5xx, the state saves and
// restores again.
func FuzzRestore(f *testing.F) {
	f.Add(restoreSeed(f))
	for _, s := range []string{
		`{"format":1,"store":{"tokenSecret":"c2VjcmV0","partners":{"x":null}}}`,
		`{"format":1,"store":{"tokenSecret":"c2VjcmV0","partners":{"p":{"id":"p","apiKey":"mock_p"}},"creditors":{"x":null},"links":{"x":null},"linkRequests":{"x":null},"cases":{"x":null}}}`,
		`{"format":1,"store":{"tokenSecret":"c2VjcmV0","partners":{"p":{"id":"p","apiKey":"mock_p"}},"creditors":{"c":{"id":"c","linkId":"l","companyName":"C"}},"links":{"l":{"id":"l","partnerId":"p","creditorId":"c","externalTenantId":"e"}}}}`,
		`{"format":1,"store":{"tokenSecret":"c2VjcmV0","partners":{"p":{"id":"p","apiKey":"mock_p"}},"links":{"l":{"id":"l","partnerId":"ghost","creditorId":"c"}}}}`,
		`{"format":1,"store":null}`,
		`{"format":2}`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBackend(WithRateLimit(RateLimitConfig{Disabled: true}))
		defer b.Close()
		if err := b.Restore(data); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Restore error %v does not wrap ErrInvalid", err)
			}
			return
		}
		b.mu.Lock()
		var keys, exts, tokens []string
		for _, p := range b.st.Partners {
			keys = append(keys, p.APIKey)
			for ext := range p.active {
				exts = append(exts, ext)
			}
		}
		for tok := range b.st.LinkRequests {
			tokens = append(tokens, tok)
		}
		b.mu.Unlock()
		get := func(key, path string, query ...string) {
			r := httptest.NewRequest("GET", "http://127.0.0.1/", nil)
			r.URL.Path = path
			if len(query) > 0 {
				r.URL.RawQuery = query[0]
			}
			r.Header.Set("XApiKey", key)
			w := httptest.NewRecorder()
			b.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("GET %s = %d %s", path, w.Code, w.Body)
			}
		}
		for _, k := range keys {
			get(k, "/me")
			get(k, "/clients")
			get(k, "/v1/Webhooks")
			for _, ext := range exts {
				get(k, "/clients/"+ext)
				get(k, "/clients/"+ext+"/profile")
				get(k, "/clients/"+ext+"/is-deletable")
			}
		}
		for _, tok := range tokens {
			_, _ = b.LinkRequest(tok)
			get("", "/ReferralPartner/Approve", "token="+url.QueryEscape(tok))
		}
		b.ExpireLinks()
		if _, err := b.State(); err != nil {
			t.Fatalf("State after an accepted Restore: %v", err)
		}
		snap, err := b.Snapshot()
		if err != nil {
			t.Fatalf("Snapshot after an accepted Restore: %v", err)
		}
		again := NewBackend()
		defer again.Close()
		if err := again.Restore(snap); err != nil {
			t.Fatalf("a snapshot of an accepted state does not restore: %v", err)
		}
	})
}
