package debitura

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"
	"weak"

	"golang.org/x/oauth2"

	"github.com/debitura-go/debitura/internal/redaction"
)

// TokenSource supplies Customer API tokens. Implementations must be safe for concurrent use and
// must return promptly with ctx's error when ctx ends.
type TokenSource interface {
	// Token returns a token that is valid now, or an error.
	Token(ctx context.Context) (*Token, error)
}

// TokenSourceFunc adapts a function to a TokenSource.
type TokenSourceFunc func(ctx context.Context) (*Token, error)

// Token calls f(ctx).
func (f TokenSourceFunc) Token(ctx context.Context) (*Token, error) { return f(ctx) }

// DefaultRefreshBefore is how long before expiry the sources of [TokensService.Source] replace
// a cached token.
const DefaultRefreshBefore = 60 * time.Second

// refreshTimeout bounds one refresh, which runs detached from the context of the caller that
// started it.
const refreshTimeout = 2 * time.Minute

// minRefreshInterval is the shortest time a CachedTokenSource serves a token it received
// before it refreshes on its own, however short-lived (or expired on arrival) the token is.
const minRefreshInterval = time.Second

// CachedTokenSource is a TokenSource that caches the token of another source and refreshes it
// shortly before it expires. However many goroutines ask at once, exactly one refresh is in
// flight; the others wait for it. A waiting caller whose ctx ends returns ctx's error at once,
// without cancelling the refresh for the others (the refresh runs under the values of the ctx
// that started it, without its cancellation, for at most two minutes). When a refresh fails
// while the cached token is still usable, the cached token is returned. A failed refresh is not
// cached: the next call tries again. It is safe for concurrent use.
//
// A source never refreshes in a loop. A token is served until its refresh time: refreshBefore
// ahead of its expiry, or half-way through its life for a token that lives less than twice
// refreshBefore, and in any case for at least one second after it arrived. So a source whose
// tokens are short-lived, or already expired on arrival (such a token is returned as it is;
// the API refuses it), is asked at most once a second, not on every call. Only
// [CachedTokenSource.Invalidate] (and a [Transport] that got a 401) asks for a new token
// sooner.
type CachedTokenSource struct {
	src   TokenSource
	early time.Duration
	now   func() time.Time
	// forget, when set (Tokens.Source with WithTokenCache), drops the token from the fleet's
	// cache when this source drops it as refused.
	forget func()

	mu        sync.Mutex
	tok       *Token
	refreshAt time.Time // when tok is due for refresh; see keepLocked
	call      *refreshCall
}

type refreshCall struct {
	done chan struct{}
	tok  *Token
	err  error
}

// NewCachedTokenSource returns a source that caches the tokens of src and refreshes one
// refreshBefore ahead of its expiry (a negative refreshBefore is taken as 0). Wrap a source of
// your own, or use [TokensService.Source], which wraps [TokensService.Mint].
func NewCachedTokenSource(src TokenSource, refreshBefore time.Duration) *CachedTokenSource {
	return &CachedTokenSource{src: src, early: max(refreshBefore, 0), now: time.Now}
}

// String describes the source without its token.
func (s *CachedTokenSource) String() string { return "debitura.CachedTokenSource" }

// GoString is String, so %#v never prints the cached token.
func (s *CachedTokenSource) GoString() string { return s.String() }

// Format prints String for every verb.
func (s *CachedTokenSource) Format(f fmt.State, verb rune) { redaction.Format(f, verb, s.String()) }

// LogValue keeps the cached token out of slog output.
func (s *CachedTokenSource) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Token returns the cached token until its refresh time (see [CachedTokenSource]), and
// otherwise waits for a refresh (starting one if none is in flight).
//
// Errors: ctx's error (wrapped) when ctx ends first; the refresh's error otherwise, for example a
// *[ValidationError] or an *[APIError] from [TokensService.Mint].
func (s *CachedTokenSource) Token(ctx context.Context) (*Token, error) {
	if ctx == nil {
		return nil, errors.New("debitura: CachedTokenSource.Token: nil context")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("debitura: token source: %w", err)
	}
	s.mu.Lock()
	if s.freshLocked(s.now()) {
		t := s.tok
		s.mu.Unlock()
		return t, nil
	}
	call := s.call
	if call == nil {
		call = &refreshCall{done: make(chan struct{})}
		s.call = call
		go s.refresh(context.WithoutCancel(ctx), call)
	}
	s.mu.Unlock()

	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("debitura: token source: %w", ctx.Err())
	}
	if call.err != nil {
		s.mu.Lock()
		t := s.tok
		s.mu.Unlock()
		if t.validAt(s.now(), expiryDelta) {
			return t, nil
		}
		return nil, call.err
	}
	return call.tok, nil
}

func (s *CachedTokenSource) refresh(ctx context.Context, call *refreshCall) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	var tok *Token
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("debitura: token source: refresh panicked: %v", p)
			}
		}()
		tok, err = s.src.Token(ctx)
	}()
	if err == nil && (tok == nil || tok.AccessToken.IsZero()) {
		err = errors.New("debitura: token source: the source returned no token")
	}
	s.mu.Lock()
	call.tok, call.err = tok, err
	if err == nil {
		arrived := s.now()
		if s.tok == nil || !tok.Expiry.Before(s.tok.Expiry) {
			s.keepLocked(tok, arrived)
		} else if next := arrived.Add(minRefreshInterval); s.refreshAt.Before(next) {
			// The cached token outlives the new one and stays; it is not refreshed again at once.
			s.refreshAt = next
		}
	}
	if s.call == call {
		s.call = nil
	}
	s.mu.Unlock()
	close(call.done)
}

// freshLocked reports whether the cached token is served without a refresh at now.
func (s *CachedTokenSource) freshLocked(now time.Time) bool {
	if s.tok == nil || s.tok.AccessToken.IsZero() {
		return false
	}
	return s.tok.Expiry.IsZero() || now.Before(s.refreshAt)
}

// keepLocked caches tok, which arrived at arrived, and schedules its refresh: early ahead of
// its expiry, half-way through its life when it lives less than twice early, and never sooner
// than minRefreshInterval after it arrived, so that short-lived tokens, or tokens expired on
// arrival, cannot make every call refresh.
func (s *CachedTokenSource) keepLocked(tok *Token, arrived time.Time) {
	s.tok = tok
	at := tok.Expiry.Add(-s.early)
	if life := tok.Expiry.Sub(arrived); life < 2*s.early {
		at = arrived.Add(life / 2)
	}
	if floor := arrived.Add(minRefreshInterval); at.Before(floor) {
		at = floor
	}
	s.refreshAt = at
}

// Invalidate drops the cached token, so the next Token call refreshes. Use it when the Customer
// API refused the token (401).
func (s *CachedTokenSource) Invalidate() {
	s.mu.Lock()
	s.tok = nil
	s.mu.Unlock()
	if s.forget != nil {
		s.forget()
	}
}

// invalidateToken drops the cached token only if it is stale (the token that was refused), so
// that concurrent 401s do not throw away a token another goroutine has just refreshed.
func (s *CachedTokenSource) invalidateToken(stale *Token) {
	s.mu.Lock()
	dropped := s.tok != nil && stale != nil && s.tok.AccessToken.Equal(stale.AccessToken)
	if dropped {
		s.tok = nil
	}
	s.mu.Unlock()
	if dropped && s.forget != nil {
		s.forget()
	}
}

// replace caches tok (a token issued by Rotate) in place of the current one.
func (s *CachedTokenSource) replace(tok *Token) {
	s.mu.Lock()
	s.keepLocked(tok, s.now())
	s.mu.Unlock()
}

// OAuth2 adapts s to golang.org/x/oauth2, for [oauth2.NewClient]. See [OAuth2TokenSource].
func (s *CachedTokenSource) OAuth2(ctx context.Context) oauth2.TokenSource {
	return OAuth2TokenSource(ctx, s)
}

// OAuth2TokenSource adapts ts to golang.org/x/oauth2's TokenSource, whose Token method takes no
// context: every Token call uses ctx, which the adapter holds for its lifetime (the oauth2
// interface leaves no other way). Build the adapter with a context that lives as long as the
// HTTP client that uses it. Note that *oauth2.Token, unlike [Token], prints its access token.
func OAuth2TokenSource(ctx context.Context, ts TokenSource) oauth2.TokenSource {
	return &oauth2Adapter{ctx: ctx, ts: ts}
}

type oauth2Adapter struct {
	ctx context.Context
	ts  TokenSource
}

func (a *oauth2Adapter) Token() (*oauth2.Token, error) {
	t, err := a.ts.Token(a.ctx)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.AccessToken.Reveal(), TokenType: "Bearer", Expiry: t.Expiry}, nil
}

// ---- per-Client token state ----

// tokenState is the token state of one Client: the registry of the sources Tokens.Source
// handed out, so Rotate can update the source of a client. Sources are held weakly, so a bulk
// job that asks for the sources of 100,000 clients does not keep them all alive.
type tokenState struct {
	mu      sync.Mutex
	sources map[string]weak.Pointer[CachedTokenSource]
}

func (c *Client) tokenState() *tokenState { return c.tokens }

// source returns the live source of id, or registers a new one.
func (st *tokenState) source(s *TokensService, id string) *CachedTokenSource {
	st.mu.Lock()
	defer st.mu.Unlock()
	if wp, ok := st.sources[id]; ok {
		if src := wp.Value(); src != nil {
			return src
		}
	}
	if st.sources == nil {
		st.sources = make(map[string]weak.Pointer[CachedTokenSource])
	}
	mint := func(ctx context.Context) (*Token, error) { return s.Mint(ctx, id) }
	fetch := mint
	tc := s.client.cfg.tokenCache
	if tc != nil {
		// The fleet's cache: one mint per client per token lifetime across every replica.
		fetch = func(ctx context.Context) (*Token, error) { return tc.Token(ctx, id, mint) }
	}
	src := NewCachedTokenSource(TokenSourceFunc(fetch), DefaultRefreshBefore)
	src.now = s.client.now
	if tc != nil {
		src.forget = func() {
			ctx, cancel := context.WithTimeout(context.Background(), forgetTimeout)
			defer cancel()
			_ = tc.Forget(ctx, id) // a token left behind is refused again and forgotten then
		}
	}
	wp := weak.Make(src)
	st.sources[id] = wp
	runtime.AddCleanup(src, func(id string) {
		st.mu.Lock()
		if cur, ok := st.sources[id]; ok && cur.Value() == nil {
			delete(st.sources, id)
		}
		st.mu.Unlock()
	}, id)
	return src
}

// forgetTimeout bounds TokenCache.Forget after a refused token.
const forgetTimeout = 2 * time.Second

// lookup returns the live source of id, or nil.
func (st *tokenState) lookup(id string) *CachedTokenSource {
	st.mu.Lock()
	defer st.mu.Unlock()
	if wp, ok := st.sources[id]; ok {
		return wp.Value()
	}
	return nil
}
