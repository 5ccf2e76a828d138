package debitura_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/debitura-go/debitura/webhook"
)

// leakKey is a distinctive partner key: any occurrence of it (or of its distinctive middle)
// in a log line, an error or a printed value is a leak.
const leakKey = "mock_rel_SECRETKEY_7f3a9c1e5b2d4608"

// printed renders v every way a caller might print or log it (renders: every fmt verb that
// fits, Print, Println, slog's text and JSON handlers).
func printed(v any) []string {
	var out []string
	for _, txt := range renders(v) {
		out = append(out, txt)
	}
	return out
}

// printedErr renders an error and every error in its tree.
func printedErr(err error) []string {
	if err == nil {
		return nil
	}
	out := append(printed(err), err.Error())
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, printedErr(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, printedErr(e)...)
		}
	}
	var apiErr *debitura.APIError
	if errors.As(err, &apiErr) {
		out = append(out, apiErr.Body, apiErr.Message, fmt.Sprintf("%#v", *apiErr))
	}
	return out
}

// echoBody is an error body that echoes the API key and a token back, as a careless server
// or proxy might: the SDK must strip both from everything it prints.
func echoBody(token string) string {
	return fmt.Sprintf(`{"error":"Authorization: Bearer %s","message":"rejected XApiKey %s for token %s",`+
		`"businessErrors":[{"type":"Echo","message":"key=%s accessToken=%s"}],"extra":{"XApiKey":"%s"}}`,
		token, leakKey, token, leakKey, token, leakKey)
}

// TestSecretsEveryOperation runs every operation to success and to failure (404, 409, 429,
// 500, connection reset; error bodies that echo the key and a live token) with a Debug JSON
// logger, and checks that neither the API key nor any token the mock issued appears in a log
// line, an error (Error(), %v, %+v, %#v, slog) or a printed result.
//
// The operations are the fault matrix's (opCases: the Clients, Tokens, Partner and Webhooks
// services; a webhook's signing secret is a secret too, shown only in the Webhook.Secret field)
// and the helpers built on them (helperCases: EnsureLinked, LinkMany, Tokens.Source, the
// Customer API Transport with its 401 path, the OAuth2 adapter).
func TestSecretsEveryOperation(t *testing.T) {
	t.Parallel()
	var cases []subtest
	for _, rc := range append(opCases(), helperCases()...) {
		cases = append(cases, subtest{rc.name, func(t *testing.T) { runLeakCheck(t, rc) }})
	}
	runWaiting(t, cases)
}

// injected404 are the operations whose 404 is injected: they have no natural one (a list, a
// create, the partner) or they would succeed on an unknown id (EnsureLinked and LinkMany create
// the client).
var injected404 = map[string]bool{"Create": true, "List": true, "All": true, "Me": true,
	"WebhookCreate": true, "WebhookList": true, "EnsureLinked": true, "LinkMany": true}

// missingHookID is a subscription id the mock does not know (the natural 404 of the webhook rows).
const missingHookID = "00000000-0000-4000-8000-000000000404"

// tenantSeq numbers the tenants of the EnsureLinked row.
var tenantSeq atomic.Int64

// whoamiResult is the answer of the mock's Customer API check, read through Tokens.Transport.
type whoamiResult struct {
	Status int
	Body   string
}

// helperCases are the helpers on top of the services, as opCase rows for the secrets test
// only (op is where its failures are injected).
func helperCases() []opCase {
	return []opCase{
		// EnsureLinked on a new tenant each call: its GET answers 404, so the POST it sends next
		// is where the failures are injected (an injected 404 on the GET would only make it create).
		{name: "EnsureLinked", op: mockserver.OpPostClients,
			run: func(ctx context.Context, e *opEnv) (any, error) {
				return e.c.Clients.EnsureLinked(ctx, createReq(fmt.Sprintf("%s-el%d", e.ext, tenantSeq.Add(1)), ""))
			}},
		{name: "LinkMany", op: mockserver.OpPostClients,
			run: func(ctx context.Context, e *opEnv) (any, error) {
				res, err := e.c.Clients.LinkMany(ctx, []*debitura.ClientCreateRequest{createReq(e.ext+"-m1", ""), createReq(e.ext+"-m2", "")}, nil)
				if err != nil {
					return res, err
				}
				for _, r := range res {
					if r.Err != nil {
						return res, r.Err
					}
				}
				return res, nil
			}},
		{name: "SourceToken", op: mockserver.OpToken, onboard: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Tokens.Source(e.ext).Token(ctx) }},
		{name: "Transport", op: mockserver.OpToken, onboard: true,
			run: func(ctx context.Context, e *opEnv) (any, error) {
				// The first answer of the Customer API is a 401 whose body echoes the partner key
				// and a live token: the Transport drops its token, mints a new one and retries once.
				e.srv.InjectFault(mockserver.Fault{Operation: mockserver.OpCustomerAPIWhoami, Status: http.StatusUnauthorized,
					Body: echoBody(e.hookSecret), Times: 1})
				hc := &http.Client{Transport: e.c.Tokens.Transport(e.ext, e.srv.Client().Transport)}
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+mockserver.CustomerAPIWhoamiPath, nil)
				if err != nil {
					return nil, err
				}
				resp, err := hc.Do(req)
				if err != nil {
					return nil, err
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				if err != nil {
					return nil, err
				}
				if resp.StatusCode != http.StatusOK {
					return &whoamiResult{resp.StatusCode, string(body)}, fmt.Errorf("whoami answered %d", resp.StatusCode)
				}
				return &whoamiResult{resp.StatusCode, string(body)}, nil
			}},
		{name: "OAuth2", op: mockserver.OpToken, onboard: true,
			run: func(ctx context.Context, e *opEnv) (any, error) {
				tok, err := e.c.Tokens.Source(e.ext).OAuth2(ctx).Token()
				if err != nil {
					return nil, err
				}
				// *oauth2.Token prints its access token (documented), so it is not a result to
				// print: hand the token back as a *debitura.Token, which the test records as a
				// secret and prints redacted.
				return &debitura.Token{AccessToken: debitura.NewSecret(tok.AccessToken), TokenType: tok.TokenType, Expiry: tok.Expiry}, nil
			}},
	}
}

func runLeakCheck(t *testing.T, rc opCase) {
	srv := mockserver.NewTest(t, mockserver.WithSeed(4242), mockserver.WithWebhookTransport(sinkTransport{}),
		mockserver.WithPartner(mockserver.PartnerSpec{APIKey: leakKey, CompanyName: "Secret Partner ApS"}))
	// slog's handler serialises its writes (one Write per record), so a plain buffer takes
	// the SDK's concurrent records; the test reads it once the calls have returned.
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	newClient := func() *debitura.Client {
		return newContractClient(t, leakKey, srv.URL, srv.Client(),
			debitura.WithLogger(logger), debitura.WithMaxRetries(1), debitura.WithMaxRetryWait(100*time.Millisecond))
	}
	// secrets are this subtest's: the API key, every token the mock handed out and every
	// webhook secret.
	secrets := []string{leakKey}
	addSecret := func(v string) {
		if v != "" {
			secrets = append(secrets, v)
		}
	}
	var texts []string
	ctx := t.Context()

	// Setup: seedOp's three clients and, for a live token to echo back in error bodies, ext-b
	// onboarded and minted for (ext itself is onboarded only when the row needs it: Withdraw
	// then answers its natural 409).
	c := newClient()
	e := &opEnv{srv: srv, c: c, ext: "rel-a"}
	seedOp(t, e, rc, leakKey)
	if err := srv.CompleteOnboarding(leakKey, e.ext+"-b"); err != nil {
		t.Fatalf("CompleteOnboarding: %v", err)
	}
	live, err := c.Tokens.Mint(ctx, e.ext+"-b")
	if err != nil {
		t.Fatalf("setup Mint: %v", err)
	}
	addSecret(live.AccessToken.Reveal())
	texts = append(texts, printed(live)...)
	// Every row has a webhook secret to leak: the hook's, or one made for this purpose (the
	// Transport row echoes it in a 401 body).
	if e.hookSecret == "" {
		w, err := c.Webhooks.Create(ctx, &debitura.WebhookCreateRequest{URL: hookURL + "/other", Events: []webhook.EventType{webhook.CaseClosed}})
		if err != nil {
			t.Fatalf("setup Webhooks.Create: %v", err)
		}
		e.hookSecret = w.Secret.Reveal()
		texts = append(texts, printed(w)...)
		texts = append(texts, printed(*w)...)
	}
	addSecret(e.hookSecret)

	// Success.
	res, err := rc.run(ctx, e)
	if err != nil {
		t.Fatalf("%s: %v", rc.name, err)
	}
	switch r := res.(type) {
	case *debitura.Token:
		addSecret(r.AccessToken.Reveal())
	case *debitura.RotatedToken:
		addSecret(r.Token.AccessToken.Reveal())
		texts = append(texts, printed(*r)...)
		texts = append(texts, printed(r.Token)...)
	case *debitura.Webhook:
		// The secret is in the Secret field (the caller stores it from there) and nowhere else.
		if (rc.name == "WebhookCreate" || rc.name == "WebhookRegenerateSecret") && r.Secret.IsZero() {
			t.Errorf("%s returned no secret", rc.name)
		}
		addSecret(r.Secret.Reveal())
		texts = append(texts, printed(*r)...)
		texts = append(texts, printed([]*debitura.Webhook{r})...)
		texts = append(texts, printed(struct{ W *debitura.Webhook }{r})...)
		if js, err := json.Marshal(r); err != nil {
			t.Errorf("json.Marshal(Webhook): %v", err)
		} else {
			texts = append(texts, string(js))
		}
	}
	texts = append(texts, printed(res)...)
	logger.Info("result", "op", rc.name, "result", res) // a caller logging the result
	// The 401 path was taken: refused, then a fresh token accepted.
	if rc.name == "Transport" {
		reqs := srv.Requests(mockserver.OpCustomerAPIWhoami)
		if len(reqs) != 2 || reqs[0].Status != http.StatusUnauthorized || reqs[1].Status != http.StatusOK {
			t.Errorf("whoami through the Transport: %s, want 401 then 200", journalText(reqs))
		}
	}

	// Failures. Each kind gets a fresh Client, so that one kind's 429 gate does not hold the
	// next. Every operation is retryable, so the persistent faults are seen on both attempts.
	echo := echoBody(live.AccessToken.Reveal())
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
		fe := &opEnv{srv: srv, c: newClient(), ext: e.ext, hook: e.hook, hookSecret: e.hookSecret}
		if fl.name == "404" && !injected404[rc.name] {
			f = mockserver.Fault{} // the natural 404 of an unknown externalTenantId or subscription
			fe.ext, fe.hook = fl.ext, missingHookID
		}
		if f.Operation != "" {
			srv.InjectFault(f)
		}
		res, err := rc.run(ctx, fe)
		if err == nil {
			t.Errorf("%s/%s: err = nil, want an error", rc.name, fl.name)
		}
		switch r := res.(type) {
		case *debitura.Token:
			if r != nil {
				addSecret(r.AccessToken.Reveal())
			}
		case *debitura.RotatedToken:
			if r != nil {
				addSecret(r.Token.AccessToken.Reveal())
			}
		case *debitura.Webhook:
			if r != nil {
				addSecret(r.Secret.Reveal())
			}
		}
		if res != nil {
			texts = append(texts, printed(res)...)
		}
		texts = append(texts, printedErr(err)...)
		logger.Info("call failed", "op", rc.name, "failure", fl.name, "err", err) // a caller logging the error
	}
	srv.ClearFaults()

	if rc.name == "Create" {
		// The natural 409 ClientExistsNeedsLinking carries the approval URL with its token.
		if _, err := srv.AddCreditor(mockserver.CreditorSpec{CompanyName: "Existing ApS", Country: "DK", Emails: []string{"cfo@existing.example"}, OnboardingDone: true}); err != nil {
			t.Fatalf("AddCreditor: %v", err)
		}
		req := createReq("rel-existing", "")
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
	// they cannot leak through it; every token the SDK received is in secrets. Every webhook
	// secret the mock ever holds is checked all the same (a regeneration whose answer was lost
	// included).
	for _, h := range srv.Webhooks(leakKey) {
		addSecret(h.Secret)
	}
	logText := logs.String()
	if !strings.Contains(logText, `"route"`) {
		t.Errorf("the logger recorded no attempt: %q", logText)
	}
	texts = append(texts, logText)
	for _, s := range secrets {
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
