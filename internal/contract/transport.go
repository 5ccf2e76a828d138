package contract

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
)

// Transport returns a RoundTripper that sends requests through base (nil
// means a clone of http.DefaultTransport, closed at the end of the test) and
// validates every request and response against [Documents], reporting each
// violation with t.Errorf as [Middleware] does. Use it on the SDK's side, around an httptest client's transport or an
// httpmock.MockTransport.
//
// The caller's request is not modified: a clone carrying a replayable copy of
// the body is sent. The response body is read in full for validation and
// replaced by a reader over the same bytes; a read that fails part-way (a
// fault that cut the connection) is replayed with the same error and the
// response is not validated.
func Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	t.Helper()
	return must(t, Default).Transport(t, base)
}

// Transport is [Transport] with this Validator.
func (v *Validator) Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		// A transport of the test's own rather than http.DefaultTransport: every
		// httptest.Server.Close of a parallel test calls the default transport's
		// CloseIdleConnections, which can fail a request that is just picking up an idle
		// connection ("http: CloseIdleConnections called").
		tr := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(tr.CloseIdleConnections)
		base = tr
	}
	return &transport{t: t, v: v, base: base}
}

type transport struct {
	t    testing.TB
	v    *Validator
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	m, err := tr.v.find(req)
	if errors.Is(err, ErrNotInContract) {
		return tr.base.RoundTrip(req)
	}
	skipReq := req.Header.Get(SkipRequestHeader) != ""

	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var readErr error
		body, readErr = io.ReadAll(req.Body)
		_ = req.Body.Close() // a RoundTripper must close the request body
		if readErr != nil {
			return nil, readErr
		}
	}
	out := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}

	var reqErr error
	if !skipReq {
		if err != nil {
			reqErr = err
		} else {
			reqErr = tr.v.validateRequest(req, body, m)
		}
	}

	resp, rtErr := tr.base.RoundTrip(out)
	if rtErr != nil {
		if reqErr != nil {
			tr.t.Errorf("contract: %s %s -> no response: request violates %s: %v",
				req.Method, req.URL.Path, where(m), reqErr)
		}
		return resp, rtErr
	}
	resp.Request = req
	if reqErr != nil {
		tr.t.Errorf("contract: %s %s -> %d: request violates %s: %v",
			req.Method, req.URL.Path, resp.StatusCode, where(m), reqErr)
	}
	if m == nil {
		return resp, nil
	}

	var respBody []byte
	var readErr error
	if resp.Body != nil {
		respBody, readErr = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		resp.Body = &replayBody{r: bytes.NewReader(respBody), err: readErr}
	}
	if readErr != nil || req.Method == http.MethodHead {
		return resp, nil
	}
	if respErr := tr.v.validateResponse(req, resp.StatusCode, resp.Header, respBody, m); respErr != nil {
		tr.t.Errorf("contract: %s %s -> %d: response violates %s: %v",
			req.Method, req.URL.Path, resp.StatusCode, m.describe(), respErr)
	}
	return resp, nil
}
