package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

func benchTokens(r *report, sz sizes) error {
	s := mockserver.New(mockserver.WithSeed(9), mockserver.WithRateLimit(mockserver.RateLimitConfig{Disabled: true}))
	defer s.Close()
	short := &shortTokens{base: newTransport()}
	short.on.Store(true)
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(s.URL),
		debitura.WithHTTPClient(&http.Client{Transport: short}),
		debitura.WithLimits(unlimitedLimits())) // the server has no rate limit
	if err != nil {
		return err
	}
	ctx := context.Background()
	const id = "bench-token-tenant"
	if _, err := c.Clients.Create(ctx, newRequest(id, 1)); err != nil {
		return err
	}
	if err := s.CompleteOnboarding(mockserver.DefaultAPIKey, id); err != nil {
		return err
	}
	// The first mint's answer says expiresIn = shortTokenLife (later mints carry the mock's
	// normal 30-minute lifetime). The source refreshes a token that short half-way through its
	// life, and never sooner than a second after it arrived (tokensource.go): the bench waits
	// until that instant has passed, while the token is still valid, so the cached token is due
	// for its refresh when the goroutines ask.
	src := c.Tokens.Source(id)
	first, err := src.Token(ctx)
	if err != nil {
		return err
	}
	short.on.Store(false)
	if short.rewritten.Load() != 1 {
		return fmt.Errorf("tokens: the first token answer was not shortened")
	}
	time.Sleep(time.Until(first.Expiry.Add(-shortTokenLife/2 + refreshDueMargin)))
	if !time.Now().Before(first.Expiry) {
		return fmt.Errorf("tokens: the first token expired before the goroutines asked (the machine stalled for %v); run again", refreshDueMargin)
	}
	before := s.Count(mockserver.OpToken)
	if err := concurrently(sz.tokenGoroutines, func(int) error {
		_, err := src.Token(ctx)
		return err
	}); err != nil {
		return err
	}
	mints := s.Count(mockserver.OpToken) - before
	r.add(eq("token_mints_for_10k_concurrent", float64(mints), "", 1))
	r.note("token_mints_for_10k_concurrent: POST /oauth/token counted at the mock while %d goroutines call Token on one Tokens.Source whose cached token is due for its refresh (its first mint was answered with expiresIn = %v, so the source refreshes it half-way through its life; the goroutines ask %v after that, while it is still valid); exactly 1 refresh is the target (0 would mean the due token was served without a refresh, more that the refresh was not shared)", sz.tokenGoroutines, shortTokenLife, refreshDueMargin)
	return nil
}

// eq builds a figure whose target is exactly limit.
func eq(key string, v float64, unit string, limit float64) figure {
	return figure{key: key, value: v, unit: unit, target: "== " + num(limit), pass: v == limit, hasT: true}
}

// shortTokenLife is the lifetime the bench gives the first token, and refreshDueMargin how long
// after that token's refresh time (half its life) the goroutines ask for it.
const (
	shortTokenLife   = 2 * time.Second
	refreshDueMargin = 100 * time.Millisecond
)
