package debitura

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const secretJWT = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.SECRET-SIGNATURE"

// mintServer answers POST /oauth/token with numbered tokens and counts the mints. gate, when set,
// holds every answer until it is closed.
type mintServer struct {
	mints atomic.Int32
	gate  chan struct{}
	fail  atomic.Bool
}

func (m *mintServer) handler(w http.ResponseWriter, r *http.Request) {
	n := m.mints.Add(1)
	if m.gate != nil {
		<-m.gate
	}
	w.Header().Set("Content-Type", "application/json")
	if m.fail.Load() {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"bad","message":"bad","businessErrors":null}`))
		return
	}
	var req struct {
		ExternalTenantID string `json:"externalTenantId"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	_, _ = fmt.Fprintf(w, `{"accessToken":"%s-%d","expiresIn":1800,"creditorId":"3f1c2a9e-1111-4c3b-9a55-0a0b0c0d0e0f","externalTenantId":%q,"tokenType":"Bearer"}`,
		secretJWT, n, req.ExternalTenantID)
}

func TestTokensMint(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	m := &mintServer{}
	h.mux.HandleFunc("POST /oauth/token", m.handler)
	got, err := c.Tokens.Mint(t.Context(), "tenant/1")
	if err != nil {
		t.Fatalf("Tokens.Mint: %v", err)
	}
	checkRequest(t, h.only(), wantRequest{Method: "POST", Path: "/oauth/token", Body: `{"externalTenantId":"tenant/1"}`})
	want := &Token{AccessToken: NewSecret(secretJWT + "-1"), TokenType: "Bearer", Expiry: h.clock.Now().Add(30 * time.Minute),
		CreditorID: "3f1c2a9e-1111-4c3b-9a55-0a0b0c0d0e0f", ExternalTenantID: "tenant/1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tokens.Mint mismatch (-want +got):\n%s", diff)
	}
}

func TestTokensMintNotFound(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.answer("POST /oauth/token", http.StatusNotFound, `{"error":"No active client link","message":"No active client link","businessErrors":null}`)
	_, err := c.Tokens.Mint(t.Context(), "t1")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Tokens.Mint = %v, want ErrNotFound", err)
	}
}

func TestTokenValid(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, tc := range []struct {
		name string
		tok  *Token
		want bool
	}{
		{"nil", nil, false},
		{"empty", &Token{}, false},
		{"fresh", &Token{AccessToken: NewSecret("x"), Expiry: now.Add(time.Hour)}, true},
		{"expires in 5s", &Token{AccessToken: NewSecret("x"), Expiry: now.Add(5 * time.Second)}, false},
		{"expired", &Token{AccessToken: NewSecret("x"), Expiry: now.Add(-time.Second)}, false},
		{"no expiry", &Token{AccessToken: NewSecret("x")}, true},
	} {
		if got := tc.tok.Valid(); got != tc.want {
			t.Errorf("%s: Token.Valid() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTokenNeverPrintsAccessToken(t *testing.T) {
	t.Parallel()
	tok := Token{AccessToken: NewSecret(secretJWT), TokenType: "Bearer", Expiry: time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC), CreditorID: "c1", ExternalTenantID: "t1"}
	type holder struct {
		Tok  Token
		PTok *Token
	}
	rot := RotatedToken{Token: &tok, PreviousTokenExpiresAt: tok.Expiry}
	var outs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outs = append(outs, fmt.Sprintf(f, tok), fmt.Sprintf(f, &tok), fmt.Sprintf(f, holder{tok, &tok}), fmt.Sprintf(f, rot), fmt.Sprintf(f, &rot))
	}
	outs = append(outs, tok.String(), tok.GoString(), fmt.Sprint(tok), fmt.Sprintln(&tok))
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("minted", "token", tok, "ptr", &tok)
		l.Info("minted", slog.Any("token", tok))
	}
	outs = append(outs, buf.String())
	b, err := json.Marshal(holder{tok, &tok})
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	outs = append(outs, string(b))
	for _, s := range outs {
		if strings.Contains(s, "SECRET") || strings.Contains(s, "eyJ") {
			t.Errorf("output leaks the access token: %s", s)
		}
	}
	if !strings.Contains(tok.String(), redactedMark) || !strings.Contains(tok.String(), "t1") {
		t.Errorf("Token.String() = %q, want a redacted description naming the tenant", tok.String())
	}
}

// newMintAPI returns setup's Client and harness with a mint server on POST /oauth/token.
func newMintAPI(t *testing.T) (*Client, *harness, *mintServer) {
	t.Helper()
	c, h := setup(t)
	m := &mintServer{}
	h.mux.HandleFunc("POST /oauth/token", m.handler)
	return c, h, m
}

func TestTokenSourceCachesAndRefreshesEarly(t *testing.T) {
	t.Parallel()
	c, h, m := newMintAPI(t)
	src := c.Tokens.Source("t1")
	if src != c.Tokens.Source("t1") {
		t.Errorf("Tokens.Source(t1) returned two different sources")
	}
	if src == c.Tokens.Source("t2") {
		t.Errorf("Tokens.Source(t2) returned the source of t1")
	}
	ctx := t.Context()
	t1, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	t2, _ := src.Token(ctx)
	if t1 != t2 || m.mints.Load() != 1 {
		t.Errorf("second Token call: same token %v, mints %d; want the cached token and 1 mint", t1 == t2, m.mints.Load())
	}
	h.clock.Advance(30*time.Minute - DefaultRefreshBefore - time.Second) // just outside the window
	if t3, _ := src.Token(ctx); t3 != t1 || m.mints.Load() != 1 {
		t.Errorf("Token before the refresh window: mints %d, want 1", m.mints.Load())
	}
	h.clock.Advance(2 * time.Second) // inside the window: still valid, but refreshed early
	t4, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if t4 == t1 || m.mints.Load() != 2 {
		t.Errorf("Token inside the refresh window: mints %d, new token %v; want 2 mints and a new token", m.mints.Load(), t4 != t1)
	}
}

func TestTokenSourceOneMintForManyCallers(t *testing.T) {
	t.Parallel()
	c, _, m := newMintAPI(t)
	m.gate = make(chan struct{})
	src := c.Tokens.Source("t1")
	const callers = 2000
	var wg sync.WaitGroup
	var started sync.WaitGroup
	errs := make(chan error, callers)
	toks := make(chan *Token, callers)
	started.Add(callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			tok, err := src.Token(t.Context())
			if err != nil {
				errs <- err
				return
			}
			toks <- tok
		}()
	}
	started.Wait()
	time.Sleep(20 * time.Millisecond) // let the callers reach the wait
	close(m.gate)
	wg.Wait()
	close(errs)
	close(toks)
	for err := range errs {
		t.Errorf("Token: %v", err)
	}
	var first *Token
	for tok := range toks {
		if first == nil {
			first = tok
		}
		if !tok.AccessToken.Equal(first.AccessToken) {
			t.Errorf("callers got different tokens")
			break
		}
	}
	if n := m.mints.Load(); n != 1 {
		t.Errorf("%d concurrent callers caused %d mints, want 1", callers, n)
	}
}

func TestTokenSourceCallerGivesUpWithoutCancellingRefresh(t *testing.T) {
	t.Parallel()
	c, _, m := newMintAPI(t)
	m.gate = make(chan struct{})
	src := c.Tokens.Source("t1")

	ctx1, cancel1 := context.WithCancel(t.Context())
	done1 := make(chan error, 1)
	go func() {
		_, err := src.Token(ctx1)
		done1 <- err
	}()
	done2 := make(chan *Token, 1)
	go func() {
		tok, err := src.Token(t.Context())
		if err != nil {
			t.Errorf("patient caller: %v", err)
		}
		done2 <- tok
	}()
	for m.mints.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel1()
	select {
	case err := <-done1:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("impatient caller: err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("impatient caller did not return after its ctx ended")
	}
	close(m.gate)
	if tok := <-done2; tok == nil || !strings.HasSuffix(tok.AccessToken.Reveal(), "-1") {
		t.Errorf("patient caller got %v, want the first minted token", tok)
	}
	if n := m.mints.Load(); n != 1 {
		t.Errorf("mints = %d, want 1", n)
	}
	// A caller whose ctx has already ended does not start anything.
	ctx3, cancel3 := context.WithCancel(t.Context())
	cancel3()
	src.Invalidate()
	if _, err := src.Token(ctx3); !errors.Is(err, context.Canceled) {
		t.Errorf("Token(cancelled ctx) = %v, want context.Canceled", err)
	}
	if n := m.mints.Load(); n != 1 {
		t.Errorf("mints after a cancelled call = %d, want 1", n)
	}
}

func TestTokenSourceRefreshFailureKeepsUsableToken(t *testing.T) {
	t.Parallel()
	c, h, m := newMintAPI(t)
	src := c.Tokens.Source("t1")
	t1, err := src.Token(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	m.fail.Store(true)
	h.clock.Advance(29*time.Minute + 30*time.Second) // in the refresh window, not expired
	if got, err := src.Token(t.Context()); err != nil || got != t1 {
		t.Errorf("Token with a failing refresh = %v, %v; want the still-usable cached token", got, err)
	}
	h.clock.Advance(time.Minute) // expired
	if _, err := src.Token(t.Context()); !errors.Is(err, ErrValidation) {
		t.Errorf("Token with a failing refresh and an expired token = %v, want the mint's error", err)
	}
}

func TestTokensRotateReplacesCachedToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []CallOption
		key  string
	}{
		{"generated key", nil, "*"},
		{"caller key", []CallOption{WithIdempotencyKey("rotate-t1-1")}, "rotate-t1-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, h, m := newMintAPI(t)
			h.answer("POST /clients/{id}/rotate-token", http.StatusOK,
				`{"accessToken":"rotated-SECRET","tokenType":"Bearer","expiresIn":1800,"previousTokenExpiresAt":"2025-03-01T12:30:00Z"}`)
			src := c.Tokens.Source("t/1")
			if _, err := src.Token(t.Context()); err != nil {
				t.Fatalf("Token: %v", err)
			}
			got, err := c.Tokens.Rotate(t.Context(), "t/1", tc.opts...)
			if err != nil {
				t.Fatalf("Tokens.Rotate: %v", err)
			}
			calls := h.requests()
			checkRequest(t, calls[len(calls)-1], wantRequest{Method: "POST", Path: "/clients/t%2F1/rotate-token", IdemKey: tc.key})
			want := &RotatedToken{
				Token:                  &Token{AccessToken: NewSecret("rotated-SECRET"), TokenType: "Bearer", Expiry: h.clock.Now().Add(30 * time.Minute), ExternalTenantID: "t/1"},
				PreviousTokenExpiresAt: time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Tokens.Rotate mismatch (-want +got):\n%s", diff)
			}
			cached, err := src.Token(t.Context())
			if err != nil || cached.AccessToken.Reveal() != "rotated-SECRET" {
				t.Errorf("Source after Rotate = %v, %v; want the rotated token", cached, err)
			}
			if n := m.mints.Load(); n != 1 {
				t.Errorf("mints = %d, want 1", n)
			}
		})
	}
}

func TestOAuth2TokenSource(t *testing.T) {
	t.Parallel()
	c, h, _ := newMintAPI(t)
	ots := c.Tokens.Source("t1").OAuth2(t.Context())
	got, err := ots.Token()
	if err != nil {
		t.Fatalf("oauth2 Token: %v", err)
	}
	if got.AccessToken != secretJWT+"-1" || got.TokenType != "Bearer" || !got.Expiry.Equal(h.clock.Now().Add(30*time.Minute)) {
		t.Errorf("oauth2 Token = %q %q %v, want the minted token", "...", got.TokenType, got.Expiry)
	}
}
