package debitura

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/debitura-go/debitura/internal/syncbuf"
)

const testBearer = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0LTEifQ.c2VjcmV0c2lnbg"

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, h := setup(t, WithLogger(logger), WithMaxRetries(1))
	echo := `{"message":"invalid key ` + testAPIKey + `","error":"Authorization: Bearer ` + testBearer + `"}`
	h.script(
		status(200, `{}`, "X-Request-Id", "req-ok"), // success
		status(503, echo), // retried
		status(401, echo, "X-Request-Id", "req-401"),
		reset(), reset(), reset(), reset(), // transport failure path
	)

	var errs []error
	if _, err := c.do(t.Context(), opGet(), nil); err != nil {
		t.Fatalf("first do() = %v", err)
	}
	_, err := c.do(t.Context(), opKYC(), nil)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("second do() = %v, want ErrUnauthorized", err)
	}
	errs = append(errs, err)
	_, err = c.do(t.Context(), opReset(), nil)
	if err == nil {
		t.Fatal("third do() = nil, want a transport error")
	}
	errs = append(errs, err)

	var apiErr *APIError
	errors.As(errs[0], &apiErr)
	var texts []string
	for _, v := range []any{c, *c, c.cfg, &c.cfg, apiErr, *apiErr, errs[0], errs[1]} {
		for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			texts = append(texts, fmt.Sprintf(f, v))
		}
	}
	var lv bytes.Buffer
	slog.New(slog.NewTextHandler(&lv, nil)).Info("values", "client", c, "cfg", c.cfg, "err", apiErr)
	texts = append(texts, lv.String(), logs.String(), apiErr.Body, apiErr.Message)

	for i, s := range texts {
		for _, secret := range []string{testAPIKey, testBearer, "c2VjcmV0c2lnbg"} {
			if strings.Contains(s, secret) {
				t.Errorf("text %d leaks a secret: %s", i, s)
			}
		}
	}
	if !strings.Contains(logs.String(), `"route":"/clients/{externalTenantId}/kyc-verification"`) ||
		!strings.Contains(logs.String(), `"request_id":"req-401"`) {
		t.Errorf("logs lack the route template or request id:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), h.url) {
		t.Errorf("logs carry the URL:\n%s", logs.String())
	}
}

func TestNoLoggerLogsNothing(t *testing.T) {
	t.Parallel()
	c, h := setup(t, WithLogger(nil))
	h.script(status(503, ""), status(200, "{}"))
	if _, err := c.do(t.Context(), opGet(), nil); err != nil {
		t.Fatalf("do() = %v", err)
	}
	// Nothing to assert on output: the test passes when no nil-logger panic happens, and the
	// retry engine's own logger is off (it would print to stderr).
	cl, err := c.newCall(opGet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if l := cl.engine().Logger; l != nil {
		t.Errorf("retryablehttp Logger = %v, want nil", l)
	}
}
