package debitura

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Tests of the token-lifetime rule (MaxTokenLifetime) and of a CachedTokenSource that must
// never mint in a loop (issue 9 item 7). The script server does not validate answers against
// the API documents, so it can send what the documents forbid (expiresIn beyond int32).

func TestTokenLifetimeRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		expiresIn string // the JSON member, "" for none
		want      time.Duration
		wantErr   bool
	}{
		{name: "absent", want: DefaultTokenLifetime},
		{name: "null", expiresIn: `"expiresIn":null,`, want: DefaultTokenLifetime},
		{name: "documented", expiresIn: `"expiresIn":1800,`, want: 30 * time.Minute},
		{name: "one second", expiresIn: `"expiresIn":1,`, want: time.Second},
		{name: "maximum", expiresIn: `"expiresIn":86400,`, want: MaxTokenLifetime},
		{name: "just over the maximum", expiresIn: `"expiresIn":86401,`, want: MaxTokenLifetime},
		{name: "overflows a Duration", expiresIn: `"expiresIn":10000000000,`, want: MaxTokenLifetime},
		{name: "largest int64", expiresIn: `"expiresIn":9223372036854775807,`, want: MaxTokenLifetime},
		{name: "zero", expiresIn: `"expiresIn":0,`, wantErr: true},
		{name: "negative", expiresIn: `"expiresIn":-5,`, wantErr: true},
	} {
		for _, op := range []string{"Mint", "Rotate"} {
			t.Run(op+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				c, h := setup(t)
				h.script(status(200, `{"accessToken":"tok-lifetime",`+tc.expiresIn+`"tokenType":"Bearer","previousTokenExpiresAt":"2025-03-01T12:30:00Z"}`))
				var tok *Token
				var err error
				if op == "Mint" {
					tok, err = c.Tokens.Mint(t.Context(), "t1")
				} else {
					var rot *RotatedToken
					if rot, err = c.Tokens.Rotate(t.Context(), "t1", nil); rot != nil {
						tok = rot.Token
					}
				}
				if tc.wantErr {
					if err == nil {
						t.Fatalf("Tokens.%s with %s = %v, want an error", op, tc.expiresIn, tok)
					}
					return
				}
				if err != nil {
					t.Fatalf("Tokens.%s with %s: %v", op, tc.expiresIn, err)
				}
				if got := tok.Expiry.Sub(h.clock.Now()); got != tc.want {
					t.Errorf("Tokens.%s with %s: lifetime %v, want %v", op, tc.expiresIn, got, tc.want)
				}
			})
		}
	}
}

// TestTokenSourceNeverMintsInALoop calls a source 100 times, the clock moving on by step each
// call, for tokens that are absurdly long-lived, short-lived or expired on arrival, and bounds
// how often it mints.
func TestTokenSourceNeverMintsInALoop(t *testing.T) {
	t.Parallel()
	const calls = 100
	t.Run("Tokens.Source", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			expiresIn string
			step      time.Duration
			maxMints  int
		}{
			{"10000000000", time.Second, 1},             // taken as 24 h: one mint in 100 s
			{"86401", time.Second, 1},                   // likewise
			{"1", 100 * time.Millisecond, calls/10 + 1}, // at most once a second over 10 s
			{"30", 100 * time.Millisecond, 1},           // refreshed at half-life (15 s), not within 10 s
			{"1800", 100 * time.Millisecond, 1},         // the ordinary case
			{"10000000000", 100 * time.Millisecond, 1},  // the overflow of issue 9
			{"9223372036854775807", 100 * time.Millisecond, 1},
		} {
			t.Run(tc.expiresIn+"/"+tc.step.String(), func(t *testing.T) {
				t.Parallel()
				c, h := setup(t)
				h.script(status(200, `{"accessToken":"tok-loop","expiresIn":`+tc.expiresIn+`,"tokenType":"Bearer"}`))
				src := c.Tokens.Source("t1")
				for i := range calls {
					tok, err := src.Token(t.Context())
					if err != nil || tok == nil {
						t.Fatalf("call %d: Token() = %v, %v", i, tok, err)
					}
					_ = h.clock.Sleep(t.Context(), tc.step)
				}
				if got := len(h.requests()); got < 1 || got > tc.maxMints {
					t.Errorf("%d calls over %v minted %d times, want 1 to %d", calls, calls*tc.step, got, tc.maxMints)
				}
			})
		}
	})
	t.Run("own source", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name     string
			life     time.Duration // of each token, from when it is made
			step     time.Duration
			maxMints int32
		}{
			{"expired on arrival, clock still", -time.Minute, 0, 1},
			{"expired on arrival", -time.Minute, 100 * time.Millisecond, calls/10 + 1},
			{"zero lifetime", 0, 100 * time.Millisecond, calls/10 + 1},
			{"shorter than the refresh window", 10 * time.Second, 100 * time.Millisecond, 2}, // half-life 5 s
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				clock := newFakeClock()
				var mints atomic.Int32
				src := NewCachedTokenSource(TokenSourceFunc(func(context.Context) (*Token, error) {
					n := mints.Add(1)
					return &Token{AccessToken: NewSecret(fmt.Sprintf("own-%d", n)), Expiry: clock.Now().Add(tc.life)}, nil
				}), DefaultRefreshBefore)
				src.now = clock.Now
				for i := range calls {
					// The token is returned as it is, even when it is already invalid.
					if tok, err := src.Token(t.Context()); err != nil || tok == nil {
						t.Fatalf("call %d: Token() = %v, %v", i, tok, err)
					}
					_ = clock.Sleep(t.Context(), tc.step)
				}
				if got := mints.Load(); got < 1 || got > tc.maxMints {
					t.Errorf("%d calls over %v minted %d times, want 1 to %d", calls, calls*tc.step, got, tc.maxMints)
				}
			})
		}
	})
	t.Run("concurrent callers share one mint", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		gate := make(chan struct{})
		var mints atomic.Int32
		src := NewCachedTokenSource(TokenSourceFunc(func(context.Context) (*Token, error) {
			mints.Add(1)
			<-gate
			return &Token{AccessToken: NewSecret("expired-on-arrival"), Expiry: clock.Now().Add(-time.Minute)}, nil
		}), DefaultRefreshBefore)
		src.now = clock.Now
		var wg sync.WaitGroup
		for range calls {
			wg.Go(func() {
				if tok, err := src.Token(t.Context()); err != nil || tok == nil {
					t.Errorf("Token() = %v, %v", tok, err)
				}
			})
		}
		for mints.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond) // let the other callers reach the wait
		close(gate)
		wg.Wait()
		for range calls { // and after it: served from the cache
			if _, err := src.Token(t.Context()); err != nil {
				t.Fatalf("Token() after the mint: %v", err)
			}
		}
		if got := mints.Load(); got != 1 {
			t.Errorf("%d concurrent callers, then %d more, minted %d times, want 1", calls, calls, got)
		}
	})
}
