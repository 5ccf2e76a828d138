package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

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
	// The first mint's answer says expiresIn = DefaultRefreshBefore: the token the source caches
	// is inside its refresh window (expired for the source) from the moment it arrives. Later
	// mints carry the mock's normal 30-minute lifetime.
	src := c.Tokens.Source(id)
	if _, err := src.Token(ctx); err != nil {
		return err
	}
	short.on.Store(false)
	if short.rewritten.Load() != 1 {
		return fmt.Errorf("tokens: the first token answer was not shortened")
	}
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
	r.add(eq("token_mints_for_10k_concurrent", float64(mints), "", 1))
	r.note("token_mints_for_10k_concurrent: POST /oauth/token counted at the mock while %d goroutines call Token on one Tokens.Source whose cached token expired (its first mint was answered with expiresIn = the refresh window, %s); exactly 1 refresh is the target (0 would mean a stale token was served)", sz.tokenGoroutines, debitura.DefaultRefreshBefore)
	return nil
}

// eq builds a figure whose target is exactly limit.
func eq(key string, v float64, unit string, limit float64) figure {
	return figure{key: key, value: v, unit: unit, target: "== " + num(limit), pass: v == limit, hasT: true}
}

// shortTokens rewrites the expiresIn of POST /oauth/token answers to DefaultRefreshBefore while
// on is set, so that the SDK computes a token that expires for its source at once.
type shortTokens struct {
	base      http.RoundTripper
	on        atomic.Bool
	rewritten atomic.Int32
}

func (t *shortTokens) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || !t.on.Load() || req.URL.Path != "/oauth/token" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err == nil {
		m["expiresIn"] = int(debitura.DefaultRefreshBefore.Seconds())
		if b, err := json.Marshal(m); err == nil {
			data = b
			t.rewritten.Add(1)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	resp.Header.Set("Content-Length", strconv.Itoa(len(data)))
	return resp, nil
}
