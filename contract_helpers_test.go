package debitura_test

import (
	"net/http"
	"testing"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/internal/contract"
)

// contractHTTPClient returns a copy of hc (nil: a zero http.Client) whose transport validates
// every request the SDK sends and every response it receives against the API documents, with
// the mock's three documented deviations (contract.Mock), reporting violations with t.Errorf.
// Traffic to paths the documents do not describe (/__mock/..., hosted pages) passes unchecked;
// responses marked contract.FaultHeader (injected faults) are not checked. Every SDK client in
// the tests that talks to a server goes through it (or through newContractClient).
func contractHTTPClient(t testing.TB, hc *http.Client) *http.Client {
	t.Helper()
	var c http.Client
	if hc != nil {
		c = *hc
	}
	c.Transport = contract.MockTransport(t, c.Transport)
	return &c
}

// newContractClient is debitura.New(key) pointed at baseURL over contractHTTPClient(t, hc);
// opts come after (a later WithHTTPClient in opts would bypass validation: don't).
func newContractClient(t testing.TB, key, baseURL string, hc *http.Client, opts ...debitura.Option) *debitura.Client {
	t.Helper()
	all := append([]debitura.Option{debitura.WithBaseURL(baseURL), debitura.WithHTTPClient(contractHTTPClient(t, hc))}, opts...)
	c, err := debitura.New(key, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}
