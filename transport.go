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
//
// The token goes only to the origin (scheme, host and port) of the request the caller sent.
// When the *http.Client that uses the Transport follows a redirect, net/http hands the
// Transport a new request whose Response field holds the redirect; the Transport walks that
// chain back to the caller's request and sets the token only when the new request has the same
// origin. A redirect to another host (subdomains included), another port or from https to
// http is sent without the token, and no token is taken from Source for it. A request whose
// chain cannot be walked back (a Response without its Request) gets no token either. To refuse
// such redirects altogether, give the *http.Client a CheckRedirect.
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

// send sends r with Base and makes sure the response names its request, as http.Transport
// does, so that a redirect chain through a Base that does not can still be walked back.
func (t *Transport) send(r *http.Request) (*http.Response, error) {
	resp, err := t.base().RoundTrip(r)
	if resp != nil && resp.Request == nil {
		resp.Request = r
	}
	return resp, err
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
	if first := firstRequest(req); first == nil || !sameOrigin(req.URL, first.URL) {
		// A redirect that left the caller's origin (or whose origin is unknown): the token
		// is not for this host.
		return t.send(req)
	}
	ctx := req.Context()
	tok, err := t.Source.Token(ctx)
	if err != nil {
		closeBody()
		return nil, err
	}
	r1 := req.Clone(ctx)
	r1.Header.Set("Authorization", tok.authorization())
	resp, err := t.send(r1)
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
	return t.send(r2)
}

// firstRequest returns the request that started req's redirect chain: net/http sets Response
// on the request of each redirect it follows, and Response.Request is the request before it.
// It returns nil when the chain is broken (a Response without its Request) or longer than any
// chain net/http builds, so that the caller's origin is never guessed.
func firstRequest(req *http.Request) *http.Request {
	first := req
	for range 100 {
		if first.Response == nil {
			return first
		}
		if first.Response.Request == nil {
			return nil
		}
		first = first.Response.Request
	}
	return nil
}

// Transport returns a [Transport] that authenticates requests to the Customer API as the client
// linked under externalTenantID, with the tokens of [TokensService.Source] (so a 401 invalidates
// the cached token and the request is retried once with a fresh one). base sends the requests;
// nil means http.DefaultTransport. Use it as the Transport of an *http.Client pointed at
// customer-api.debitura.com.
func (s *TokensService) Transport(externalTenantID string, base http.RoundTripper) *Transport {
	return &Transport{Source: s.Source(externalTenantID), Base: base}
}
