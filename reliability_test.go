package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/debitura-go/debitura/webhook"
)

// The fault matrix: every SDK operation against the mock over loopback, under every fault the
// mock can inject, must end with the outcome its retry class documents (DESIGN.md, "retry
// class" table) and must leave the mock's journal without a duplicated side effect.
//
// Waits are kept short: WithMaxRetryWait(faultMaxWait) caps the SDK's own backoff at 100 ms (its
// floor), and the 429 bodies ask for 0.05 s (raised to the SDK's 100 ms floor).

const (
	faultMaxRetries = 3
	faultMaxWait    = 100 * time.Millisecond
	// faultAttemptTimeout is the per-attempt http.Client Timeout of the "timeout" case; the fault's
	// latency (faultLatency) is far above it, and a normal loopback answer far below it.
	faultAttemptTimeout = 300 * time.Millisecond
	faultLatency        = time.Second
)

// opEnv is one subtest's world: its own mock, an SDK client, and the externalTenantId the
// operation works on.
type opEnv struct {
	srv *mockserver.Server
	c   *debitura.Client
	ext string
	// hook and hookSecret are the webhook subscription setup made (opCase.hook), subscribed to
	// client.linked; "" otherwise.
	hook, hookSecret string
}

// outcome is what a fault case expects of the call.
type outcome int

const (
	outSuccess     outcome = iota // the call succeeds (after retries)
	outServerError                // *APIError matching ErrServer after every attempt
	outRateLimited                // *APIError matching ErrRateLimited with RetryAfter, not slept
	outNotImpl                    // 501: *APIError, never retried
	outCutBody                    // the 2xx body was cut after the handler ran: retried like a broken connection (see opCase.cutBody)
	// outUnknown: the attempt's outcome is unknown (a 5xx, a broken connection, a cut body, a
	// timeout) and the operation is retried only when nothing happened, so the call returns the
	// first attempt's error: an *APIError with faultCase.errStatus, or a transport error when
	// errStatus is 0. Its effect is recorded as often as the handler ran (faultCase.ranHandler).
	outUnknown
)

// faultCase is one column of the matrix.
type faultCase struct {
	name  string
	fault mockserver.Fault
	// timeout is the per-attempt http.Client Timeout (0: none).
	timeout time.Duration
	outcome outcome
	// attempts is how many requests the mock must see (0: not checked).
	attempts int
	// ranHandler is how many of those requests ran the real handler (and so could have had an
	// effect); -1 when it depends on timing (the latency case: the mock runs the handler once the
	// client has gone away, concurrently with the retry).
	ranHandler int
	// errStatus is the status of the *APIError a outUnknown call returns (0: a transport error).
	errStatus int
}

func faultCases() []faultCase {
	return []faultCase{
		{name: "reset", fault: mockserver.Fault{Reset: true, Times: 1}, attempts: 2, ranHandler: 1},
		{name: "reset-after", fault: mockserver.Fault{Reset: true, After: true, Times: 1}, attempts: 2, ranHandler: 2},
		{name: "truncate", fault: mockserver.Fault{Truncate: true, Times: 1}, attempts: 2, ranHandler: 1},
		{name: "truncate-after", fault: mockserver.Fault{Truncate: true, After: true, Times: 1}, outcome: outCutBody, attempts: 2, ranHandler: 2},
		{name: "500", fault: mockserver.Fault{Status: 500, Times: 1}, attempts: 2, ranHandler: 1},
		{name: "500-after", fault: mockserver.Fault{Status: 500, After: true, Times: 1}, attempts: 2, ranHandler: 2},
		{name: "502-html", fault: mockserver.Fault{Status: 502, Shape: mockserver.ShapeHTML, Times: 1}, attempts: 2, ranHandler: 1},
		{name: "503", fault: mockserver.Fault{Status: 503, Shape: mockserver.ShapeProblemDetails, Times: 2}, attempts: 3, ranHandler: 1},
		{name: "504", fault: mockserver.Fault{Status: 504, Shape: mockserver.ShapeEmpty, Times: 1}, attempts: 2, ranHandler: 1},
		{name: "429-body", fault: mockserver.Fault{Shape: mockserver.ShapeRateLimit, RetryAfter: 0.05, Times: 1}, attempts: 2, ranHandler: 1},
		{name: "429-legacy-body", fault: mockserver.Fault{Status: 429, Times: 1,
			Body: `{"error":{"type":"rate_limit_error","message":"Too many requests","retry_after":0.05}}`}, attempts: 2, ranHandler: 1},
		{name: "429-header", fault: mockserver.Fault{Shape: mockserver.ShapeRateLimitHeaderOnly, Times: 1,
			Header: http.Header{"Retry-After": {"0.05"}}}, attempts: 2, ranHandler: 1},
		{name: "429-over-max-wait", fault: mockserver.Fault{Shape: mockserver.ShapeRateLimitHeaderOnly, RetryAfter: 5, Times: 1},
			outcome: outRateLimited, attempts: 1, ranHandler: 0},
		{name: "timeout", fault: mockserver.Fault{Latency: faultLatency, Times: 1}, timeout: faultAttemptTimeout, attempts: 2, ranHandler: -1},
		{name: "503-persistent", fault: mockserver.Fault{Status: 503}, outcome: outServerError, attempts: faultMaxRetries + 1, ranHandler: 0},
		{name: "501", fault: mockserver.Fault{Status: 501, Times: 1}, outcome: outNotImpl, attempts: 1, ranHandler: 0},
	}
}

// opCase is one row of the matrix: an SDK operation.
type opCase struct {
	name string
	op   string // the mock's operation id
	// onboard completes onboarding in setup (Mint and Rotate need it; Withdraw must not have it).
	onboard bool
	run     func(ctx context.Context, e *opEnv) (any, error)
	// check verifies the result and the state after a successful call.
	check func(t *testing.T, e *opEnv, res any)
	// effect is the side effect the operation records; "" for reads.
	effect string
	// perRun: the effect is recorded once per handler run and a repeat is harmless by design
	// (an extra token for Mint, the same PATCH applied twice for Update). Otherwise the effect
	// must be recorded exactly once, whatever the number of attempts.
	perRun bool
	// cutBody says what a 2xx answer cut off mid-body does: true when the operation decodes a
	// body (the SDK retries it as an attempt whose outcome is unknown, so the handler runs twice
	// and the effect must still be recorded once), false when the answer has none (204: the cut
	// changes nothing).
	cutBody bool
	// morePages is how many requests a successful call sends beyond the first (All's next pages).
	morePages int
	// hook: setup creates a webhook subscription to client.linked (opEnv.hook).
	hook bool
	// deleteClass: the retry class "safe in effect" (Withdraw, Reset, Webhooks.Delete): after a
	// first attempt whose outcome is unknown, the retry is answered 404 and the call succeeds.
	deleteClass bool
	// expect replaces the shared expectation of faultCases for the named faults: the operations
	// retried only when nothing happened use unsentExpect. Every key must name a fault.
	expect map[string]faultCase
	// state checks the mock's state after the call, whatever its outcome, given how many times
	// the effect was recorded (nil: nothing more to check).
	state func(t *testing.T, e *opEnv, effects int)
}

// unsentExpect is the expectation of the retry class "only when nothing happened"
// (Webhooks.Create, Webhooks.Update with RegenerateSecret, Webhooks.Test; doc.go, "Retries and
// rate limits"). A 429 was rejected before it did anything and is retried as for every
// operation; a 501 and a 429 over the maximum wait end the call as for every operation. Every
// other fault leaves the outcome of the attempt unknown to the SDK - a 5xx answer, a reset or cut
// connection, a timeout - so the call returns that first attempt's error without a retry,
// whether or not the handler really ran: the SDK cannot tell "reset" from "reset-after". The
// effect (a subscription, a new secret, a queued delivery) then exists exactly as often as the
// handler ran: once after the -after faults, never after the others.
func unsentExpect() map[string]faultCase {
	unknown := func(ranHandler, errStatus int) faultCase {
		return faultCase{outcome: outUnknown, attempts: 1, ranHandler: ranHandler, errStatus: errStatus}
	}
	return map[string]faultCase{
		"reset":          unknown(0, 0),
		"reset-after":    unknown(1, 0),
		"truncate":       unknown(0, 500), // the fault's 500 body, cut: still a 500 answer
		"truncate-after": unknown(1, 0),   // the real 200, cut mid-body: a read error
		"500":            unknown(0, 500),
		"500-after":      unknown(1, 500),
		"502-html":       unknown(0, 502),
		"503":            unknown(0, 503),
		"504":            unknown(0, 504),
		"timeout":        unknown(-1, 0), // the handler runs after the client gave up, or not
		"503-persistent": unknown(0, 503),
	}
}

// kycReq is the SubmitKYC row's submission.
var kycReq = &debitura.KYCRequest{
	DirectorFullName:    "Rita Reliable",
	DirectorHomeAddress: "Faultvej 1, 2100 København Ø",
	DirectorDateOfBirth: debitura.Date{Year: 1980, Month: time.May, Day: 17},
}

func opCases() []opCase {
	return []opCase{
		{name: "Create", op: mockserver.OpPostClients, effect: mockserver.EffectClientCreated, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) {
				return e.c.Clients.Create(ctx, createReq(e.ext+"-new", ""))
			},
			check: func(t *testing.T, e *opEnv, res any) {
				lc := res.(*debitura.LinkedClient)
				if lc.ExternalTenantID != e.ext+"-new" || lc.StatusCode != http.StatusAccepted {
					t.Errorf("Create = %s %d, want %s-new 202", lc.ExternalTenantID, lc.StatusCode, e.ext)
				}
				if _, err := e.srv.LinkedClient(mockserver.DefaultAPIKey, e.ext+"-new"); err != nil {
					t.Errorf("mock has no link after Create: %v", err)
				}
			}},
		{name: "Get", op: mockserver.OpGetClient, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Clients.Get(ctx, e.ext) },
			check: func(t *testing.T, e *opEnv, res any) {
				if lc := res.(*debitura.LinkedClient); lc.ExternalTenantID != e.ext {
					t.Errorf("Get = %q, want %q", lc.ExternalTenantID, e.ext)
				}
			}},
		{name: "List", op: mockserver.OpGetClients, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Clients.List(ctx, nil) },
			check: func(t *testing.T, e *opEnv, res any) {
				if l := res.(*debitura.ClientList); len(l.Clients) != 3 {
					t.Errorf("List has %d clients, want 3", len(l.Clients))
				}
			}},
		{name: "All", op: mockserver.OpGetClients, cutBody: true, morePages: 1,
			run: func(ctx context.Context, e *opEnv) (any, error) {
				var ids []string
				for lc, err := range e.c.Clients.All(ctx, &debitura.ClientListOptions{PageSize: 2, Sort: debitura.SortNameAsc}) {
					if err != nil {
						return ids, err
					}
					ids = append(ids, lc.ExternalTenantID)
				}
				return ids, nil
			},
			check: func(t *testing.T, e *opEnv, res any) {
				want := []string{e.ext, e.ext + "-b", e.ext + "-c"}
				if got := res.([]string); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("All = %v, want %v", got, want)
				}
			}},
		{name: "Withdraw", op: mockserver.OpWithdraw, effect: mockserver.EffectClientWithdrawn, deleteClass: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return nil, e.c.Clients.Withdraw(ctx, e.ext) },
			check: func(t *testing.T, e *opEnv, _ any) {
				if _, err := e.srv.LinkedClient(mockserver.DefaultAPIKey, e.ext); !errors.Is(err, mockserver.ErrNotFound) {
					t.Errorf("mock LinkedClient after Withdraw = %v, want ErrNotFound", err)
				}
			}},
		{name: "Reset", op: mockserver.OpDeleteClient, effect: mockserver.EffectClientReset, deleteClass: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return nil, e.c.Clients.Reset(ctx, e.ext) },
			check: func(t *testing.T, e *opEnv, _ any) {
				if _, err := e.srv.LinkedClient(mockserver.DefaultAPIKey, e.ext); !errors.Is(err, mockserver.ErrNotFound) {
					t.Errorf("mock LinkedClient after Reset = %v, want ErrNotFound", err)
				}
			}},
		{name: "IsDeletable", op: mockserver.OpIsDeletable, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Clients.IsDeletable(ctx, e.ext) },
			check: func(t *testing.T, e *opEnv, res any) {
				if d := res.(*debitura.Deletability); !d.IsDeletable {
					t.Errorf("IsDeletable = %+v, want deletable", d)
				}
			}},
		{name: "SubmitKYC", op: mockserver.OpKYC, effect: mockserver.EffectKYCRecorded, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) {
				return e.c.Clients.SubmitKYC(ctx, e.ext, &debitura.KYCRequest{DirectorFullName: kycReq.DirectorFullName, DirectorHomeAddress: kycReq.DirectorHomeAddress, DirectorDateOfBirth: kycReq.DirectorDateOfBirth, SendChatNotification: debitura.Ptr(false)})
			},
			check: func(t *testing.T, e *opEnv, res any) {
				if k := res.(*debitura.KYCVerification); k.DirectorFullName != kycReq.DirectorFullName {
					t.Errorf("SubmitKYC = %+v", k)
				}
			}},
		{name: "Update", op: mockserver.OpPatchClient, effect: mockserver.EffectClientUpdated, perRun: true, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) {
				return e.c.Clients.Update(ctx, e.ext, &debitura.ClientUpdateRequest{Metadata: map[string]any{"plan": "gold", "seats": 7}})
			},
			check: func(t *testing.T, e *opEnv, res any) {
				p := res.(*debitura.ClientProfile)
				info, err := e.srv.LinkedClient(mockserver.DefaultAPIKey, e.ext)
				if err != nil || p.Metadata["plan"] != "gold" || fmt.Sprint(info.Metadata) != "map[plan:gold seats:7]" {
					t.Errorf("Update = %v, mock metadata %v (%v)", p.Metadata, info.Metadata, err)
				}
			}},
		{name: "Profile", op: mockserver.OpProfile, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Clients.Profile(ctx, e.ext) },
			check: func(t *testing.T, e *opEnv, res any) {
				if p := res.(*debitura.ClientProfile); p.ExternalTenantID != e.ext {
					t.Errorf("Profile = %+v", p)
				}
			}},
		{name: "Suspend", op: mockserver.OpSuspend, effect: mockserver.EffectClientSuspended, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Clients.Suspend(ctx, e.ext) },
			check: func(t *testing.T, e *opEnv, res any) {
				info, _ := e.srv.LinkedClient(mockserver.DefaultAPIKey, e.ext)
				if p := res.(*debitura.ClientProfile); p.Status != debitura.ClientSuspended || !info.Suspended {
					t.Errorf("Suspend = %+v, mock suspended=%v", p, info.Suspended)
				}
			}},
		{name: "Reactivate", op: mockserver.OpReactivate, effect: mockserver.EffectClientReactivated, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Clients.Reactivate(ctx, e.ext) },
			check: func(t *testing.T, e *opEnv, res any) {
				info, _ := e.srv.LinkedClient(mockserver.DefaultAPIKey, e.ext)
				if p := res.(*debitura.ClientProfile); p.Status == debitura.ClientSuspended || info.Suspended {
					t.Errorf("Reactivate = %+v, mock suspended=%v", p, info.Suspended)
				}
			}},
		{name: "Mint", op: mockserver.OpToken, onboard: true, effect: mockserver.EffectTokenMinted, perRun: true, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Tokens.Mint(ctx, e.ext) },
			check: func(t *testing.T, e *opEnv, res any) {
				tok := res.(*debitura.Token)
				if st := e.srv.CheckToken(tok.AccessToken.Reveal()); !st.Valid {
					t.Errorf("minted token is not valid at the mock: %+v", st)
				}
			}},
		{name: "Rotate", op: mockserver.OpRotateToken, onboard: true, effect: mockserver.EffectTokenRotated, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Tokens.Rotate(ctx, e.ext, nil) },
			check: func(t *testing.T, e *opEnv, res any) {
				rt := res.(*debitura.RotatedToken)
				if st := e.srv.CheckToken(rt.Token.AccessToken.Reveal()); !st.Valid {
					t.Errorf("rotated token is not valid at the mock: %+v", st)
				}
			}},
		{name: "Me", op: mockserver.OpMe, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Partner.Me(ctx) },
			check: func(t *testing.T, e *opEnv, res any) {
				if p := res.(*debitura.Partner); p.ID != mockserver.DefaultPartnerID {
					t.Errorf("Me = %+v", p)
				}
			}},
		{name: "WebhookCreate", op: mockserver.OpPostWebhooks, effect: mockserver.EffectWebhookCreated, cutBody: true,
			expect: unsentExpect(),
			run: func(ctx context.Context, e *opEnv) (any, error) {
				return e.c.Webhooks.Create(ctx, &debitura.WebhookCreateRequest{URL: hookURL, Events: []webhook.EventType{webhook.ClientLinked}})
			},
			check: func(t *testing.T, e *opEnv, res any) {
				w := res.(*debitura.Webhook)
				hs := e.srv.Webhooks(mockserver.DefaultAPIKey)
				if len(hs) != 1 || w.ID != hs[0].ID || w.Secret.IsZero() || w.Secret.Reveal() != hs[0].Secret || w.URL != hookURL {
					t.Errorf("Create = %v; the mock has %d subscriptions", w, len(hs))
				}
			},
			state: func(t *testing.T, e *opEnv, effects int) {
				// Never a second subscription: exactly one when the handler ran, none otherwise.
				if hs := e.srv.Webhooks(mockserver.DefaultAPIKey); len(hs) != effects || len(hs) > 1 {
					t.Errorf("the mock has %d subscriptions after %d creations, want %d (at most 1)", len(hs), effects, effects)
				}
			}},
		{name: "WebhookList", op: mockserver.OpGetWebhooks, hook: true, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Webhooks.List(ctx) },
			check: func(t *testing.T, e *opEnv, res any) {
				if l := res.([]*debitura.Webhook); len(l) != 1 || l[0].ID != e.hook || !l[0].Secret.IsZero() {
					t.Errorf("List = %v, want the one subscription %s without its secret", l, e.hook)
				}
			}},
		{name: "WebhookGet", op: mockserver.OpGetWebhook, hook: true, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return e.c.Webhooks.Get(ctx, e.hook) },
			check: func(t *testing.T, e *opEnv, res any) {
				if w := res.(*debitura.Webhook); w.ID != e.hook || w.URL != hookURL || !w.Secret.IsZero() {
					t.Errorf("Get = %v, want %s without its secret", w, e.hook)
				}
			}},
		{name: "WebhookUpdate", op: mockserver.OpPutWebhook, hook: true, effect: mockserver.EffectWebhookUpdated, perRun: true, cutBody: true,
			run: func(ctx context.Context, e *opEnv) (any, error) {
				return e.c.Webhooks.Update(ctx, e.hook, &debitura.WebhookUpdateRequest{
					Events: []webhook.EventType{webhook.ClientLinked, webhook.ClientLinkDeclined}, IsTestMode: debitura.Ptr(true)})
			},
			check: func(t *testing.T, e *opEnv, res any) {
				w := res.(*debitura.Webhook)
				hs := e.srv.Webhooks(mockserver.DefaultAPIKey)
				if len(hs) != 1 || len(w.Events) != 2 || !w.IsTestMode || len(hs[0].Events) != 2 || !hs[0].IsTestMode || !w.Secret.IsZero() {
					t.Errorf("Update = %v; mock %+v", w, hs)
				}
			},
			state: func(t *testing.T, e *opEnv, _ int) {
				// A plain update never touches the secret, however often it is applied.
				if hs := e.srv.Webhooks(mockserver.DefaultAPIKey); len(hs) != 1 || hs[0].Secret != e.hookSecret {
					t.Errorf("after a plain Update the mock has %d subscriptions, secret changed: %v", len(hs), len(hs) == 1 && hs[0].Secret != e.hookSecret)
				}
			}},
		{name: "WebhookRegenerateSecret", op: mockserver.OpPutWebhook, hook: true, effect: mockserver.EffectWebhookSecretRotated, cutBody: true,
			expect: unsentExpect(),
			run: func(ctx context.Context, e *opEnv) (any, error) {
				return e.c.Webhooks.Update(ctx, e.hook, &debitura.WebhookUpdateRequest{RegenerateSecret: true})
			},
			check: func(t *testing.T, e *opEnv, res any) {
				w := res.(*debitura.Webhook)
				hs := e.srv.Webhooks(mockserver.DefaultAPIKey)
				if len(hs) != 1 || w.Secret.IsZero() || w.Secret.Reveal() == e.hookSecret || w.Secret.Reveal() != hs[0].Secret {
					t.Errorf("Update(RegenerateSecret) returned a secret that is not the mock's new one")
				}
			},
			state: func(t *testing.T, e *opEnv, effects int) {
				// The secret changed exactly when the handler ran: a caller that got an error
				// knows it may have to regenerate again, never that a second one happened.
				hs := e.srv.Webhooks(mockserver.DefaultAPIKey)
				if len(hs) != 1 || (hs[0].Secret != e.hookSecret) != (effects == 1) {
					t.Errorf("after %d regenerations the secret changed = %v", effects, len(hs) == 1 && hs[0].Secret != e.hookSecret)
				}
			}},
		{name: "WebhookDelete", op: mockserver.OpDeleteWebhook, hook: true, effect: mockserver.EffectWebhookDeleted, deleteClass: true,
			run: func(ctx context.Context, e *opEnv) (any, error) { return nil, e.c.Webhooks.Delete(ctx, e.hook) },
			check: func(t *testing.T, e *opEnv, _ any) {
				if hs := e.srv.Webhooks(mockserver.DefaultAPIKey); len(hs) != 0 {
					t.Errorf("the mock still has %d subscriptions after Delete", len(hs))
				}
			}},
		{name: "WebhookTest", op: mockserver.OpTestWebhook, hook: true, effect: mockserver.EffectWebhookTestEnqueued, cutBody: true,
			expect: unsentExpect(),
			run: func(ctx context.Context, e *opEnv) (any, error) {
				return e.c.Webhooks.Test(ctx, &debitura.WebhookTestRequest{EventType: webhook.ClientLinked, ExternalTenantID: e.ext})
			},
			check: func(t *testing.T, e *opEnv, res any) {
				if r := res.(*debitura.WebhookTestResult); r.EnqueuedCount != 1 || r.EventType != webhook.ClientLinked {
					t.Errorf("Test = %+v, want 1 delivery of %s queued", r, webhook.ClientLinked)
				}
			}},
	}
}

// setupOp builds the subtest's world: a mock and an SDK client (per-attempt timeout: the
// http.Client's), seeded by seedOp. The journal is cleared afterwards, so only the call under
// test is in it.
func setupOp(t *testing.T, rc opCase, seed int64, timeout time.Duration) *opEnv {
	t.Helper()
	srv := mockserver.NewTest(t, mockserver.WithSeed(seed), mockserver.WithWebhookTransport(sinkTransport{}))
	hc := *srv.Client()
	hc.Timeout = timeout
	c := newContractClient(t, mockserver.DefaultAPIKey, srv.URL, &hc,
		debitura.WithMaxRetries(faultMaxRetries), debitura.WithMaxRetryWait(faultMaxWait))
	e := &opEnv{srv: srv, c: c, ext: "rel-a"}
	seedOp(t, e, rc, mockserver.DefaultAPIKey)
	srv.ResetJournal()
	return e
}

// seedOp gives e what rc needs: three linked clients of the partner key (e.ext, e.ext-b,
// e.ext-c), e.ext onboarded when rc.onboard and suspended for Reactivate, and a webhook
// subscription when rc.hook.
func seedOp(t *testing.T, e *opEnv, rc opCase, key string) {
	t.Helper()
	ctx := t.Context()
	for _, ext := range []string{e.ext, e.ext + "-b", e.ext + "-c"} {
		if _, err := e.c.Clients.Create(ctx, createReq(ext, "")); err != nil {
			t.Fatalf("setup Create(%s): %v", ext, err)
		}
	}
	if rc.onboard {
		if err := e.srv.CompleteOnboarding(key, e.ext); err != nil {
			t.Fatalf("setup CompleteOnboarding: %v", err)
		}
	}
	if rc.name == "Reactivate" {
		if _, err := e.c.Clients.Suspend(ctx, e.ext); err != nil {
			t.Fatalf("setup Suspend: %v", err)
		}
	}
	if rc.hook {
		addHook(t, e)
	}
}

// addHook subscribes hookURL to client.linked for the subtest (opEnv.hook, hookSecret).
func addHook(t *testing.T, e *opEnv) {
	t.Helper()
	w, err := e.c.Webhooks.Create(t.Context(), &debitura.WebhookCreateRequest{URL: hookURL, Events: []webhook.EventType{webhook.ClientLinked}})
	if err != nil {
		t.Fatalf("setup Webhooks.Create: %v", err)
	}
	e.hook, e.hookSecret = w.ID, w.Secret.Reveal()
}

func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, rf := range faultCases() {
		names[rf.name] = true
	}
	var cases []subtest
	for _, rc := range opCases() {
		for name := range rc.expect {
			if !names[name] {
				t.Fatalf("%s: expect names fault %q, which is not in faultCases", rc.name, name)
			}
		}
		for _, rf := range faultCases() {
			seed := int64(len(cases) + 1)
			cases = append(cases, subtest{rc.name + "/" + rf.name, func(t *testing.T) { runFaultCase(t, rc, rf, seed) }})
		}
	}
	runWaiting(t, cases)
}

// subtest is one named case for runWaiting.
type subtest struct {
	name string
	run  func(t *testing.T)
}

// runWaiting runs each case as a subtest, up to 16 at once, and returns when all have ended.
// These cases mostly wait (injected latency, backoff, Retry-After) and use little CPU, while
// t.Parallel would run only -parallel (GOMAXPROCS) of them at a time: two on a 2-core machine,
// which made the fault matrix take 23 s instead of 4.
func runWaiting(t *testing.T, cases []subtest) {
	t.Helper()
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, c := range cases {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.Run(c.name, c.run)
		}()
	}
	wg.Wait()
}

func runFaultCase(t *testing.T, rc opCase, rf faultCase, seed int64) {
	if x, ok := rc.expect[rf.name]; ok { // this operation's retry class expects otherwise
		x.name, x.fault, x.timeout = rf.name, rf.fault, rf.timeout
		rf = x
	}
	e := setupOp(t, rc, seed, rf.timeout)
	f := rf.fault
	f.Operation = rc.op
	e.srv.InjectFault(f)

	outcome := rf.outcome
	if outcome == outCutBody {
		outcome = outSuccess
		if !rc.cutBody { // a 204 has no body to cut: one attempt
			rf.attempts, rf.ranHandler = 1, 1
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	res, err := rc.run(ctx, e)
	elapsed := time.Since(start)
	// Close the mock before reading its journal: Close waits for every handler still running. A
	// request is journaled when its handler returns, which can be after the SDK saw the answer
	// (a cut body, a reset) - or long after the SDK gave up on it: a request with a body does
	// not notice that the client went away, so the "timeout" case's first attempt sits out the
	// whole latency and then runs the handler, after the retry has already succeeded.
	e.srv.Close()
	// Close does not wait for hijacked connections (reset and truncate): the handler journals
	// the request just after it closed the connection, so give it a bounded moment.
	wantReqs := rf.attempts
	if outcome == outSuccess {
		wantReqs += rc.morePages
	}
	for deadline := time.Now().Add(2 * time.Second); len(e.srv.Requests(rc.op)) < wantReqs && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}

	var apiErr *debitura.APIError
	switch outcome {
	case outSuccess:
		if err != nil {
			t.Fatalf("%s under %s: err = %v, want success", rc.name, rf.name, err)
		}
		rc.check(t, e, res)
	case outServerError:
		if !errors.As(err, &apiErr) || !errors.Is(err, debitura.ErrServer) || apiErr.StatusCode != 503 {
			t.Fatalf("err = %v (%T), want a 503 *APIError matching ErrServer", err, err)
		}
		if apiErr.Attempts != faultMaxRetries+1 {
			t.Errorf("Attempts = %d, want %d", apiErr.Attempts, faultMaxRetries+1)
		}
	case outRateLimited:
		if !errors.As(err, &apiErr) || !errors.Is(err, debitura.ErrRateLimited) {
			t.Fatalf("err = %v (%T), want a 429 *APIError matching ErrRateLimited", err, err)
		}
		if apiErr.RetryAfter != 5*time.Second || apiErr.Attempts != 1 {
			t.Errorf("RetryAfter = %s, Attempts = %d; want 5s and 1 (a wait over the maximum is not slept)", apiErr.RetryAfter, apiErr.Attempts)
		}
		if elapsed > 2*time.Second {
			t.Errorf("the call took %s: it slept the 5s wait", elapsed)
		}
	case outNotImpl:
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 501 || apiErr.Attempts != 1 || !errors.Is(err, debitura.ErrServer) {
			t.Fatalf("err = %v (%T), want a 501 *APIError after 1 attempt", err, err)
		}
	case outUnknown:
		switch {
		case err == nil:
			t.Fatalf("%s under %s: err = nil, want the first attempt's error (not retried: the outcome is unknown)", rc.name, rf.name)
		case rf.errStatus != 0:
			if !errors.As(err, &apiErr) || apiErr.StatusCode != rf.errStatus || apiErr.Attempts != 1 || !errors.Is(err, debitura.ErrServer) {
				t.Fatalf("err = %v (%T), want a %d *APIError after 1 attempt", err, err, rf.errStatus)
			}
		case errors.As(err, &apiErr):
			t.Fatalf("err = %v, want a transport error (the answer was lost), not an *APIError", err)
		case strings.Contains(err.Error(), "attempts"):
			t.Errorf("err = %v: more than one attempt", err)
		}
	}
	if err != nil && strings.Contains(err.Error(), e.srv.URL) {
		t.Errorf("error text carries the URL: %v", err)
	}

	// The journal: how many requests, how many ran the handler, how many effects.
	reqs := e.srv.Requests(rc.op)
	if rf.attempts > 0 && len(reqs) != wantReqs {
		t.Errorf("the mock saw %d %s requests, want %d: %s", len(reqs), rc.op, wantReqs, journalText(reqs))
	}
	if rc.deleteClass {
		// After an ambiguous first attempt (the handler ran, the answer was lost) the retry
		// answers 404 and the SDK reports success.
		if rf.ranHandler == 2 && (len(reqs) != 2 || reqs[1].Status != http.StatusNotFound) {
			t.Errorf("want the retry to be answered 404: %s", journalText(reqs))
		}
	}
	if rc.effect == "" {
		return
	}
	n := e.srv.EffectCount(rc.effect)
	if rc.state != nil {
		rc.state(t, e, n)
	}
	want := 1
	switch {
	case outcome == outServerError || outcome == outRateLimited || outcome == outNotImpl:
		want = 0 // the fault answered before the handler ran
	case outcome == outUnknown:
		want = rf.ranHandler // not retried: the effect happened as often as the one attempt ran the handler
	case rc.perRun && rf.ranHandler > 0:
		want = rf.ranHandler
	}
	if (rc.perRun || outcome == outUnknown) && rf.ranHandler < 0 {
		if n < 1 || n > len(reqs) {
			t.Errorf("%s recorded %d times, want 1..%d", rc.effect, n, len(reqs))
		}
		return
	}
	if n != want {
		t.Errorf("%s recorded %d times, want %d: %s", rc.effect, n, want, journalText(e.srv.Journal()))
	}
	if rc.name == "Create" && e.srv.EffectCount(mockserver.EffectClientCreated) > 1 {
		t.Errorf("duplicate client created")
	}
}
