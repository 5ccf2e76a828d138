package main

import (
	"context"
	"net/http"
	"sync"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

func benchTokens(r *report, sz sizes) error {
	s := mockserver.New(mockserver.WithSeed(9), mockserver.WithRateLimit(mockserver.RateLimitConfig{Disabled: true}))
	defer s.Close()
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(s.URL),
		debitura.WithHTTPClient(&http.Client{Transport: newTransport()}))
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
	src := c.Tokens.Source(id)
	if _, err := src.Token(ctx); err != nil {
		return err
	}
	src.Invalidate() // the cached token is now expired for the source
	before := s.Count(mockserver.OpToken)
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range sz.tokenGoroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := src.Token(ctx); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	mints := s.Count(mockserver.OpToken) - before
	r.add(le("token_mints_for_10k_concurrent", float64(mints), "", 1))
	r.note("token_mints_for_10k_concurrent: POST /oauth/token counted at the mock while %d goroutines call Token on one Tokens.Source whose cached token was invalidated (expired) after a first mint", sz.tokenGoroutines)
	return nil
}
