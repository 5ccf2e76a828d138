package debitura_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// secAPIKey is a distinctive partner key: any occurrence of it (or of its distinctive middle)
// in a log line, an error or a printed value is a leak.
const secAPIKey = "mock_rel_SECRETKEY_7f3a9c1e5b2d4608"

// secBuf is a goroutine-safe log sink.
type secBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *secBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *secBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// secSecrets collects the secrets of one subtest: the API key, every token the mock handed out
// and the link-approval token of a 409.
type secSecrets struct {
	mu   sync.Mutex
	list []string
}

func (s *secSecrets) add(v string) {
	if v == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, v)
}

func (s *secSecrets) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.list...)
}

// secTexts renders v every way a caller might print or log it.
func secTexts(v any) []string {
	var out []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out = append(out, fmt.Sprintf(f, v))
	}
	var js bytes.Buffer
	slog.New(slog.NewJSONHandler(&js, nil)).Info("value", "v", v)
	var tx bytes.Buffer
	slog.New(slog.NewTextHandler(&tx, nil)).Info("value", "v", v)
	return append(out, js.String(), tx.String())
}

// secErrTexts renders an error and every error in its tree.
func secErrTexts(err error) []string {
	if err == nil {
		return nil
	}
	out := append(secTexts(err), err.Error())
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, secErrTexts(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, secErrTexts(e)...)
		}
	}
	var apiErr *debitura.APIError
	if errors.As(err, &apiErr) {
		out = append(out, apiErr.Body, apiErr.Message, fmt.Sprintf("%#v", *apiErr))
	}
	return out
}

// secEchoBody is an error body that echoes the API key and a token back, as a careless server
// or proxy might: the SDK must strip both from everything it prints.
func secEchoBody(token string) string {
	return fmt.Sprintf(`{"error":"Authorization: Bearer %s","message":"rejected XApiKey %s for token %s",`+
		`"businessErrors":[{"type":"Echo","message":"key=%s accessToken=%s"}],"extra":{"XApiKey":"%s"}}`,
		token, secAPIKey, token, secAPIKey, token, secAPIKey)
}

// TestSecretsEveryOperation runs every operation to success and to failure (404, 409, 429,
// 500, connection reset; error bodies that echo the key and a live token) with a Debug JSON
// logger, and checks that neither the API key nor any token the mock issued appears in a log
// line, an error (Error(), %v, %+v, %#v, slog) or a printed result.
func TestSecretsEveryOperation(t *testing.T) {
	t.Parallel()
	for _, rc := range relCases() {
		t.Run(rc.name, func(t *testing.T) {
			t.Parallel()
			secRunOperation(t, rc)
		})
	}
}

func secRunOperation(t *testing.T, rc relCase) {
	srv := mockserver.NewTest(t, mockserver.WithSeed(4242), mockserver.WithPartner(mockserver.PartnerSpec{APIKey: secAPIKey, CompanyName: "Secret Partner ApS"}))
	var logs secBuf
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	newClient := func() *debitura.Client {
		c, err := debitura.New(secAPIKey, debitura.WithBaseURL(srv.URL), debitura.WithHTTPClient(contractHTTPClient(t, srv.Client())),
			debitura.WithLogger(logger), debitura.WithMaxRetries(1), debitura.WithMaxRetryWait(100*time.Millisecond))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return c
	}
	secrets := &secSecrets{}
	secrets.add(secAPIKey)
	var texts []string
	ctx := t.Context()

	// Setup: three clients, ext onboarded (Mint and Rotate need it; Withdraw then answers its
	// natural 409), a live token to echo back in error bodies.
	c := newClient()
	e := &relEnv{srv: srv, c: c, ext: "rel-a"}
	for _, ext := range []string{e.ext, e.ext + "-b", e.ext + "-c"} {
		if _, err := c.Clients.Create(ctx, relCreateReq(ext)); err != nil {
			t.Fatalf("setup Create(%s): %v", ext, err)
		}
	}
	if rc.onboard {
		if err := srv.CompleteOnboarding(secAPIKey, e.ext); err != nil {
			t.Fatalf("CompleteOnboarding: %v", err)
		}
	}
	if err := srv.CompleteOnboarding(secAPIKey, e.ext+"-b"); err != nil {
		t.Fatalf("CompleteOnboarding: %v", err)
	}
	live, err := c.Tokens.Mint(ctx, e.ext+"-b")
	if err != nil {
		t.Fatalf("setup Mint: %v", err)
	}
	secrets.add(live.AccessToken)
	texts = append(texts, secTexts(live)...)
	if rc.name == "Reactivate" {
		if _, err := c.Clients.Suspend(ctx, e.ext); err != nil {
			t.Fatalf("setup Suspend: %v", err)
		}
	}

	// Success.
	res, err := rc.run(ctx, e)
	if err != nil {
		t.Fatalf("%s: %v", rc.name, err)
	}
	switch r := res.(type) {
	case *debitura.Token:
		secrets.add(r.AccessToken)
	case *debitura.RotatedToken:
		secrets.add(r.Token.AccessToken)
		texts = append(texts, secTexts(*r)...)
		texts = append(texts, secTexts(r.Token)...)
	}
	texts = append(texts, secTexts(res)...)
	logger.Info("result", "op", rc.name, "result", res) // a caller logging the result

	// Failures. Each kind gets a fresh Client, so that one kind's 429 gate does not hold the
	// next. Every operation is retryable, so the persistent faults are seen on both attempts.
	echo := secEchoBody(live.AccessToken)
	failures := []struct {
		name  string
		fault *mockserver.Fault
		ext   string // per-client operations run on this id (404: one that does not exist)
	}{
		{name: "404", ext: "rel-missing", fault: &mockserver.Fault{Status: 404, Body: echo}},
		{name: "409", fault: &mockserver.Fault{Status: 409, Body: echo}},
		{name: "422", fault: &mockserver.Fault{Status: 422, Body: echo}},
		{name: "429", fault: &mockserver.Fault{Status: 429, Body: strings.TrimSuffix(echo, "}") + `,"retryAfter":0.05}`}},
		{name: "429-over-max-wait", fault: &mockserver.Fault{Shape: mockserver.ShapeRateLimit, RetryAfter: 30}},
		{name: "500", fault: &mockserver.Fault{Status: 500, Body: echo}},
		{name: "502-html", fault: &mockserver.Fault{Status: 502, Shape: mockserver.ShapeHTML}},
		{name: "reset", fault: &mockserver.Fault{Reset: true}},
		{name: "reset-after", fault: &mockserver.Fault{Reset: true, After: true}},
	}
	for _, fl := range failures {
		srv.ClearFaults()
		f := *fl.fault
		f.Operation = rc.op
		if fl.name == "404" && rc.name != "Create" && rc.name != "List" && rc.name != "All" && rc.name != "Me" {
			f = mockserver.Fault{} // the natural 404 of an unknown externalTenantId
		}
		if f.Operation != "" {
			srv.InjectFault(f)
		}
		fe := &relEnv{srv: srv, c: newClient(), ext: e.ext}
		if fl.ext != "" {
			fe.ext = fl.ext
		}
		res, err := rc.run(ctx, fe)
		if err == nil {
			t.Errorf("%s/%s: err = nil, want an error", rc.name, fl.name)
		}
		switch r := res.(type) {
		case *debitura.Token:
			if r != nil {
				secrets.add(r.AccessToken)
			}
		case *debitura.RotatedToken:
			if r != nil {
				secrets.add(r.Token.AccessToken)
			}
		}
		if res != nil {
			texts = append(texts, secTexts(res)...)
		}
		texts = append(texts, secErrTexts(err)...)
		logger.Info("call failed", "op", rc.name, "failure", fl.name, "err", err) // a caller logging the error
	}
	srv.ClearFaults()

	if rc.name == "Create" {
		// The natural 409 ClientExistsNeedsLinking carries the approval URL with its token.
		if _, err := srv.AddCreditor(mockserver.CreditorSpec{CompanyName: "Existing ApS", Country: "DK", Emails: []string{"cfo@existing.example"}, OnboardingDone: true}); err != nil {
			t.Fatalf("AddCreditor: %v", err)
		}
		req := relCreateReq("rel-existing")
		req.Users[0].Email = "cfo@existing.example"
		_, err := newClient().Clients.Create(ctx, req)
		var need *debitura.ClientExistsNeedsLinkingError
		if !errors.As(err, &need) {
			t.Fatalf("Create of an existing creditor: err = %v, want ClientExistsNeedsLinkingError", err)
		}
		u, perr := url.Parse(need.ApprovalURL)
		if perr != nil || u.Query().Get("token") == "" {
			t.Fatalf("approval URL %q has no token", need.ApprovalURL)
		}
		approval := u.Query().Get("token")
		// The approval URL is the conflict's payload (the caller sends the client there), so it
		// is in the typed error's ApprovalURL field and in %#v of the struct; it must not be in
		// the error's text, in %v / %+v of the error, or in any log line.
		for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%s", err)} {
			if strings.Contains(s, approval) {
				t.Errorf("the error text carries the approval token: %s", s)
			}
		}
		logger.Info("conflict", "err", err)
		if strings.Contains(logs.String(), approval) {
			t.Errorf("a log line carries the approval token")
		}
	}

	// Tokens issued by reset-after attempts never reached the SDK (the answer was dropped), so
	// they cannot leak through it; every token the SDK received is in secrets.
	logText := logs.String()
	if !strings.Contains(logText, `"route"`) {
		t.Errorf("the logger recorded no attempt: %q", logText)
	}
	texts = append(texts, logText)
	for _, s := range secrets.all() {
		for i, txt := range texts {
			if strings.Contains(txt, s) {
				t.Errorf("text %d leaks secret %.12s...: %s", i, s, txt)
			}
		}
	}
	// The key's distinctive middle must not appear either (a partial redaction is a leak too).
	if strings.Contains(strings.Join(texts, "\n"), "SECRETKEY_7f3a9c1e") {
		t.Errorf("some text carries part of the API key")
	}
	for _, line := range strings.Split(logText, "\n") {
		// The SDK's own records (not the result lines this test logs) never carry a URL.
		if strings.Contains(line, `"msg":"debitura:`) && strings.Contains(line, srv.URL) {
			t.Errorf("an SDK log line carries the URL: %s", line)
		}
	}
}
