package debitura

import (
	"errors"
	"io"
	"net/http"
)

// Transport is an http.RoundTripper that authenticates requests to Debitura's Customer API with
// tokens from Source. It clones each request before setting "Authorization: Bearer <token>", so
// the caller's request is never changed. When the answer is 401 it invalidates the refused token
// (if Source is a *[CachedTokenSource]), takes a new token and sends the request once more; a
// second 401 is returned as is. A request whose body cannot be replayed (a non-nil Body without
// GetBody) is not sent again. Token errors are returned as RoundTrip errors and never contain a
// token. Transport is safe for concurrent use if Source and Base are.
type Transport struct {
	// Source supplies the tokens. Required.
	Source TokenSource
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// tokenInvalidator is implemented by sources that can drop a token the server refused.
type tokenInvalidator interface {
	invalidateToken(stale *Token)
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip sends req with a bearer token, and once more with a new token after a 401.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			_ = req.Body.Close()
		}
	}
	if t.Source == nil {
		closeBody()
		return nil, errors.New("debitura: Transport: Source is nil")
	}
	ctx := req.Context()
	tok, err := t.Source.Token(ctx)
	if err != nil {
		closeBody()
		return nil, err
	}
	r1 := req.Clone(ctx)
	r1.Header.Set("Authorization", tok.authorization())
	resp, err := t.base().RoundTrip(r1)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}

	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !replayable {
		return resp, nil
	}
	if inv, ok := t.Source.(tokenInvalidator); ok {
		inv.invalidateToken(tok)
	}
	tok2, err := t.Source.Token(ctx)
	if err != nil || tok2.AccessToken.Equal(tok.AccessToken) {
		return resp, nil // no other token to try: the 401 stands
	}
	r2 := req.Clone(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		r2.Body = body
	}
	r2.Header.Set("Authorization", tok2.authorization())
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return t.base().RoundTrip(r2)
}

// Transport returns a [Transport] that authenticates requests to the Customer API as the client
// linked under externalTenantID, with the tokens of [TokensService.Source] (so a 401 invalidates
// the cached token and the request is retried once with a fresh one). base sends the requests;
// nil means http.DefaultTransport. Use it as the Transport of an *http.Client pointed at
// customer-api.debitura.com.
func (s *TokensService) Transport(externalTenantID string, base http.RoundTripper) *Transport {
	return &Transport{Source: s.Source(externalTenantID), Base: base}
}
