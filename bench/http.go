package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"

	"github.com/debitura-go/debitura/mockserver"
)

// The bench's own HTTP plumbing, for the requests it makes without the SDK (to load the mock,
// or as the baseline the SDK is compared with) and the round trippers it puts under the SDK.

// newTransport is a fresh transport (no connections shared between measurements) that keeps
// enough idle connections for the bench's concurrency.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

// setAPIHeaders sets what every raw request to the mock carries: the API key and, with a body,
// its JSON content type.
func setAPIHeaders(h http.Header, hasBody bool) {
	h.Set("XApiKey", mockserver.DefaultAPIKey)
	if hasBody {
		h.Set("Content-Type", "application/json")
	}
}

// bodyReader reads body; nil (no body) for a nil body.
func bodyReader(body []byte) io.Reader {
	if body == nil {
		return nil
	}
	return bytes.NewReader(body)
}

// drain reads the rest of resp's body and closes it, so that its connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// doReq sends one request with the mock's API key and reports an error unless the answer's
// status is one of want.
func doReq(hc *http.Client, method, url string, body []byte, want ...int) error {
	req, err := http.NewRequest(method, url, bodyReader(body))
	if err != nil {
		return err
	}
	setAPIHeaders(req.Header, body != nil)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	drain(resp)
	for _, w := range want {
		if resp.StatusCode == w {
			return nil
		}
	}
	return fmt.Errorf("%s %s: %s", method, url, resp.Status)
}

// serve sends one request through a Backend's handler, without sockets.
func serve(h http.Handler, method, target string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, bodyReader(body))
	setAPIHeaders(req.Header, body != nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// shortTokens rewrites the expiresIn of POST /oauth/token answers to shortTokenLife while on is
// set, so that the source holds a short-lived token that falls due for a refresh within
// seconds.
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
		m["expiresIn"] = int(shortTokenLife.Seconds())
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
