package mockserver

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/debitura-go/debitura/internal/contract"
)

// The mock deliberately sends three documented shapes that the published schemas do not declare
// (see "Where the mock knowingly differs" in doc.go): contract.Mock validates against the API
// documents with exactly these three additions and nothing else (internal/contract/mock.go says
// why each one exists).
func documentedDeviations() (*contract.Validator, error) { return contract.Mock() }

// newTestServer is NewTest with the backend wrapped in the contract validator: every response
// the suite receives from an operation of the API documents is checked against them (responses
// marked X-Mock-Fault are skipped by the validator). Requests are sent with
// contract.SkipRequestHeader, because many tests send invalid requests on purpose.
func newTestServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	v, err := documentedDeviations()
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	b := NewBackend(opts...)
	srv := httptest.NewServer(v.Middleware(t, b))
	t.Cleanup(srv.Close)
	if b.PublicURL() == "" {
		b.SetPublicURL(srv.URL)
	}
	return &Server{Backend: b, URL: srv.URL, srv: srv}
}

func TestContractStrictOnPlainResponses(t *testing.T) {
	t.Parallel()
	// The unmodified documents accept everything except the three documented deviations.
	v, err := contract.Default()
	if err != nil {
		t.Fatal(err)
	}
	s := NewTest(t)
	req := httptest.NewRequest("GET", "/me", nil)
	rec := httptest.NewRecorder()
	req.Header.Set("XApiKey", key)
	s.ServeHTTP(rec, req)
	if err := v.ValidateResponse(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil || rec.Code != http.StatusOK {
		t.Errorf("GET /me = %d, contract: %v", rec.Code, err)
	}
}
