// Package debitura is a typed client for Debitura's Referral Partner API: it links a SaaS
// platform's customers to Debitura's debt-collection network and mints Customer API tokens for
// them.
//
// # Usage
//
// Build one [Client] per API key with [New] and share it: it is immutable and safe for
// concurrent use. Without [WithBaseURL] it talks to production ([ProductionBaseURL]); use
// [TestBaseURL] for Debitura's test environment, or the URL of the bundled mock server. The
// operations hang off four services: [Client].Clients ([ClientsService]), [Client].Tokens
// ([TokensService]), [Client].Partner ([PartnerService]) and [Client].Webhooks
// ([WebhooksService]). Every operation takes a [context.Context] first, which bounds the whole
// call, retries and waits included.
//
//	c, err := debitura.New(os.Getenv("DEBITURA_API_KEY"), debitura.WithBaseURL(debitura.TestBaseURL))
//	if err != nil {
//		return err
//	}
//	lc, err := c.Clients.Create(ctx, &debitura.ClientCreateRequest{
//		ExternalTenantID: "tenant-42", // your own id for the customer
//		Client: debitura.ClientDetails{Name: "Acme ApS", Country: "DK", SupportEmail: "support@acme.example"},
//		Users:  []debitura.ClientUser{{Name: "Ada Lovelace", Email: "ada@acme.example"}},
//	})
//	if err != nil {
//		return err
//	}
//	if !lc.OnboardingDone {
//		// 202: send the customer to lc.OnboardingURL() to sign Debitura's agreement.
//	}
//
// [ClientsService.Create] is idempotent per ExternalTenantID: calling it again returns the
// client's current state, 201 (LinkedClient.StatusCode) once onboarding is done and 202 with an
// onboarding URL while it is not. A client that was onboarded can get 202 again when Debitura
// releases a new agreement version. The other operations are [ClientsService.Get],
// [ClientsService.List], [ClientsService.All], [ClientsService.Withdraw],
// [ClientsService.SubmitKYC], the test-environment-only [ClientsService.Reset] and
// [ClientsService.IsDeletable], and [PartnerService.Me], the cheapest check that a key works.
//
// # Authentication and tokens
//
// The API key passed to [New] is sent in the XApiKey header of every request. It never appears
// in an error, a log record or the output of fmt or slog for a [Client].
//
// A linked, onboarded client can be given a Customer API bearer token: [TokensService.Mint]
// mints one (a 30-minute JWT; there is no refresh token, so a new one is minted on expiry).
// Most programs want [TokensService.Source] instead: a [CachedTokenSource] per client that
// mints on first use, serves the cached token, refreshes it [DefaultRefreshBefore] ahead of
// expiry with one refresh in flight however many goroutines ask, and lets a waiting caller give
// up when its own ctx ends. [TokensService.Transport] wraps that source in a [Transport], an
// [net/http.RoundTripper] for the Customer API that sets "Authorization: Bearer ..." on a clone
// of each request and, after a 401, drops the refused token and retries once with a fresh one.
// It sets the token only on requests to the origin of the caller's request: a redirect that
// leaves that origin (another host or port, or https to http) is sent without it.
// To use golang.org/x/oauth2 instead, adapt the source with [CachedTokenSource.OAuth2] (or
// [OAuth2TokenSource] for any [TokenSource]) and pass it to oauth2.NewClient.
//
// A [Token] is a plain value that redacts its AccessToken under every fmt verb, slog and JSON
// encoding. The AccessToken is a [Secret], as are a webhook's signing secret and the API key a
// [Client] holds: it prints redacted even inside a struct of yours that fmt prints field by
// field; call [Secret.Reveal] to use it. Note that *oauth2.Token prints its access token.
//
// # Errors
//
// A request the SDK refuses to send because it breaks the API's schema (a missing required
// field, a page size out of range, metadata over its limits) is a *[ValidationError]; nothing
// was sent. It lists every problem of the request, each a [FieldProblem] naming its field in the
// API's JSON spelling ("users[0].email"), and its message reads the first in full.
// [ValidationProblems] returns that list from a *ValidationError, or from an *[APIError] whose
// body carried field errors, so a caller can show the problems of either side the same way.
// Every answer other than 2xx is an *[APIError] with the status, the error type and
// message, business and field errors, the request id for Debitura support and the wait the
// server asked for, whatever shape the body had. Transport errors and a ctx that ends are
// wrapped with %w, so *url.Error, [context.Canceled] and [context.DeadlineExceeded] stay
// reachable with errors.Is and errors.As. Branch on kinds with errors.Is and the sentinels
// [ErrUnauthorized], [ErrForbidden], [ErrNotFound], [ErrConflict], [ErrValidation] (400 and 422,
// and a *ValidationError), [ErrRateLimited] and [ErrServer]; read details with errors.As. Four
// more sentinels match failures that are not an answer of the API: [ErrRedirectRefused] (a
// redirect to another origin), [ErrAttemptTimeout] (the last attempt ran out of its time),
// [ErrResponseTooLarge] (a success body over the limit) and [ErrEmptyResponse] (a 2xx whose body
// is empty or null where the operation returns a resource, so no zero value is ever passed off
// as an answer).
//
// The 409 of [ClientsService.Create] is a *[ConflictError] that unwraps to the *APIError. Its
// two documented types have types of their own: *[ClientExistsNeedsLinkingError] (the customer
// already has a Debitura account; a link request was created and the customer approves it at
// ApprovalURL) and *[AlreadyLinkedToAnotherPartnerError] (a hard block that only Debitura
// support can lift). The 409 of [ClientsService.Withdraw] is not a link conflict and stays a
// plain *APIError.
//
//	lc, err := c.Clients.Create(ctx, req)
//	var needsLinking *debitura.ClientExistsNeedsLinkingError
//	var linkedElsewhere *debitura.AlreadyLinkedToAnotherPartnerError
//	var apiErr *debitura.APIError
//	switch {
//	case err == nil:
//		// use lc
//	case errors.As(err, &needsLinking):
//		// ask the customer to approve the link at needsLinking.ApprovalURL
//	case errors.As(err, &linkedElsewhere):
//		// hard block: the customer must contact Debitura support
//	case errors.Is(err, debitura.ErrConflict):
//		// another conflict type (see ConflictType), kept verbatim in *ConflictError
//	case errors.Is(err, debitura.ErrRateLimited) && errors.As(err, &apiErr):
//		// reschedule after apiErr.RetryAfter
//	default:
//		return err
//	}
//
// # Retries and rate limits
//
// Every operation goes through one request path that retries what is safe to retry and nothing
// else. Connection errors (not certificate errors) and the answers 429, 500, 502, 503 and 504
// are retried; 400, 401, 403, 404, 409, 422, 501 and every other status are final, and a
// conflict is a business answer that is never retried. Whether an operation may be sent again
// depends on its retry class:
//
//   - Safe: every GET, [ClientsService.Update] (PATCH), [ClientsService.Suspend],
//     [ClientsService.Reactivate], [ClientsService.Create] (POST /clients is idempotent per
//     externalTenantId) and [TokensService.Mint] (an extra token is harmless). When Create had
//     to be sent more than once after an attempt whose outcome is unknown, the result's
//     Uncertain is true and its IdempotencyViolation case failures are marked PossiblyCreated.
//   - Safe only with an Idempotency-Key: [ClientsService.SubmitKYC] and [TokensService.Rotate].
//     The SDK generates a key per call (or sends the caller's, from [WithIdempotencyKey]) and
//     reuses it on every retry, so a retry never submits or rotates twice.
//   - Safe in effect: [ClientsService.Withdraw] and [ClientsService.Reset]. When a retry after an
//     attempt whose outcome is unknown answers 404, the first attempt worked and the call
//     returns nil. [WebhooksService.Delete] is in this class too.
//   - Only when nothing happened: [WebhooksService.Create], [WebhooksService.Update] with
//     RegenerateSecret and [WebhooksService.Test] are retried only after an attempt that
//     provably had no effect (the connection could not be made, or a 429); after a 5xx or a
//     broken connection the error is returned, because a second attempt could create a second
//     subscription, a secret the caller never saw, or a second delivery.
//
// A success answer whose body is cut off mid-read counts as an attempt whose outcome is unknown,
// and follows the same rules.
//
// The wait before a retry is, in this order: the body's retryAfter (seconds, fractional), the
// legacy body's retry_after, the Retry-After header (seconds or an HTTP date), and otherwise
// exponential backoff with full jitter (from 0.5s, doubling, capped at 8s or the maximum wait
// if smaller). [WithMaxRetries] sets how many retries a call may make (default 3; 0 turns
// retries off); beyond it, an interactive call still retries 429s (which did nothing) while its
// rate-limit waits in all stay within the maximum wait. [WithMaxRetryWait] sets the longest wait the SDK sleeps (default 30s): when the
// server asks for longer, the call does not sleep but returns the answer as an *APIError whose
// RetryAfter says how long the server asked for, so the caller can reschedule. Every wait ends
// early when ctx ends, and a wait that would outlive ctx's deadline is not started.
//
// Every attempt of every call first takes a slot of the Client's request [Budget], which
// models Debitura's documented limits per API key exactly ([DefaultLimits]: 2,000 requests per
// sliding minute counted in 10-second segments, where the next slot frees at the end of the
// oldest segment that still holds requests; 20,000 per fixed hour; 100,000 per fixed day), so a
// busy Client (LinkMany, many goroutines) paces itself to the windows instead of meeting a 429
// in each of them. [WithLimits] sets other numbers, for a partner whose limits were raised. The
// budget has two lanes: interactive calls (the default) may fill each window; bulk calls
// (LinkMany, or [WithLane](LaneBulk)) only (1 − BulkReserve) of it, 80 % by default, so a
// back-fill never takes the slots live calls need, and interactive calls never queue behind
// bulk ones. After a 429, the budget holds every request (of this Client, or of every holder of
// a shared budget) until the server's wait has passed. A wait for a slot follows the rules of
// every other wait: an interactive call waits at most the maximum retry wait in all, a bulk call
// single waits up to [WithBulkMaxWait]; a longer wait, or one past ctx's deadline, is not
// started, and the call returns a 429 *APIError (Attempts 0 when nothing was sent; the 429 that
// holds the budget when there is one) whose RetryAfter is the refused wait.
//
// The budget corrects itself when the server turns out stricter than its limits (a 429 for a
// request it admitted while no hold was in force, for example a key with lower limits or a
// server whose windows are shaped differently): it learns the server's window from the requests
// admitted since the last reopening, at least 10 of them, over the time until the server's
// retryAfter, and from then on also keeps 95 % of that; the learned window relaxes by 1 % per
// second and is dropped once it has doubled. This is the former adaptive pacer's learning, now
// only a correction; [WithAdaptivePacing](false) turns it off. It applies to the in-memory
// budget; a shared budget (package redisfleet) uses its configured limits and the shared hold.
//
// # Running many replicas
//
// A partner runs several replicas of its service on one API key. [WithBudget], [WithTokenCache]
// and [WithLinkLocker] plug in what they share; package redisfleet implements all three on
// Redis (plus a webhook de-dupe store), and redisfleet.Fleet.Options returns them at once: one
// budget for the whole fleet (a 429 seen by one replica holds all), one token mint per client
// per token lifetime across the fleet (tokens sealed with AES-256-GCM under a key the partner
// supplies), and one POST /clients per new tenant when several replicas run EnsureLinked for it
// (the lock holder creates; the next holder reads the tenant again and finds it). When Redis is
// unreachable or slow, each of them falls back to the in-process equivalent, logs a Warn at most
// every 30 seconds, and goes back to Redis when it answers: no call fails, hangs or panics
// because Redis did. See the README's "Running many replicas" and examples/fleet.

// # Per-call options and response metadata
//
// Every service method takes [CallOption] values last. The options given to [New] are the
// defaults of every call; a CallOption changes one call only:
//
//   - [WithHeader] adds a header (a trace or correlation id, say). It refuses the headers that
//     carry credentials (XApiKey, Authorization) and the ones the SDK sets itself.
//   - [WithCallMaxRetries] and [WithCallAttemptTimeout] override [WithMaxRetries] and
//     [WithAttemptTimeout] for the call. They have names of their own, because a client Option and
//     a CallOption are different types: the Call in the name says which level it sets.
//   - [WithIdempotencyKey] sends your Idempotency-Key instead of a generated one, on the two
//     operations that take one ([ClientsService.SubmitKYC] and [TokensService.Rotate]); any other
//     operation refuses it.
//   - [WithResponse] fills a [Response] when the call returns, on success and failure alike: the
//     status, headers and request id of the last answer, the number of attempts, the time spent
//     waiting because of rate limits and in backoff, whether the outcome was uncertain, and the
//     Idempotency-Key sent.
//
// An invalid option fails the call with a *[ValidationError] before anything is sent.
//
//	var resp debitura.Response
//	lc, err := c.Clients.Get(ctx, "tenant-42",
//		debitura.WithHeader("X-Correlation-Id", corrID),
//		debitura.WithCallMaxRetries(0),
//		debitura.WithResponse(&resp))
//
// # Logging
//
// [WithLogger] makes the Client log to a *slog.Logger; by default it logs nothing. Each call
// ends with one record that carries its duration: "debitura: call done" at Debug when it
// succeeded, "debitura: call failed" at Info when the API answered with a final 4xx (other than
// 429: an answer the caller handles, such as a 404 or a conflict) and at Warn when the call failed
// otherwise (a 429 or 5xx left after its retries, a transport error, a timeout, a ctx that ended).
// Each retried attempt, and each wait for a slot of the request budget, is a Debug record
// with the wait. Records carry the operationId (op), method, route template, attempt number,
// status and request id, never a URL with its query, a header, a body or a secret.
//
// # Redirects, response size and timeouts
//
// The SDK follows a redirect only within the origin (scheme, host and port) of the base URL,
// so it never sends the API key or a request body to another host and never downgrades https
// to http; any other redirect ends the call with an error matching [ErrRedirectRefused] that
// names the target origin, and is not retried. The CheckRedirect of an *http.Client given with
// [WithHTTPClient] applies on top, as an extra restriction.
//
// Success bodies are read up to [WithMaxResponseBytes] ([DefaultMaxResponseBytes], 16 MiB, by
// default; error bodies up to 1 MiB): a longer one fails the call with [ErrResponseTooLarge],
// without a retry. Each attempt is bounded by [WithAttemptTimeout] ([DefaultAttemptTimeout],
// 30s, by default; the Timeout of the caller's *http.Client replaces the default, and when both
// are set the shorter wins). A timed-out attempt counts as one whose outcome is unknown and is
// retried by the rules of its retry class; the ctx of the call bounds the whole call.
//
// # Pagination
//
// [ClientsService.List] returns one page of GET /clients ([ClientList]) with its [PageData] and
// the partner's [ClientsSummary]; set [ClientListOptions].Page to resume a walk. The page size
// is 1 to [MaxPageSize] (100); the API's default is 50. [ClientsService.All] returns a lazy
// iter.Seq2 over every matching client, 100 per page: no request is sent before the loop
// starts, the caller's options are copied, the first error is yielded once and ends the walk,
// breaking out of the loop stops it, and a list that changes during the walk cannot make it
// loop forever or yield a client twice.
//
//	for lc, err := range c.Clients.All(ctx, &debitura.ClientListOptions{OnboardingDone: debitura.Ptr(false)}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(lc.ExternalTenantID, lc.OnboardingURL())
//	}
//
// # Linking helpers
//
// [ClientsService.EnsureLinked] is the just-in-time pattern in one call: it reads the client
// (GET) and, when it is not linked, creates or links it (POST /clients), and returns a
// [LinkOutcome] whose [LinkState] says what to do next: [LinkReady] (mint a token),
// [LinkOnboardingRequired] (send the customer to OnboardingURL) or [LinkApprovalRequired] (the
// customer already has a Debitura account and approves the link at ApprovalURL). The blocking
// conflicts come back as errors (*[AlreadyLinkedToAnotherPartnerError], *[ConflictError]).
// Concurrent calls for one ExternalTenantID on one Client share one round of requests.
//
// [ClientsService.LinkMany] is bulk linking for back-fill jobs: one POST /clients per distinct
// ExternalTenantID with bounded concurrency ([LinkManyOptions].Concurrency, default
// [DefaultLinkConcurrency]), every request in the budget's bulk lane and under its shared hold,
// a progress callback ([LinkProgress]), and one [LinkResult] per input in input order.
// No single failure aborts the batch: a failed input carries its error in LinkResult.Err, and
// LinkMany itself fails only for invalid options or a ctx that ended.
//
// # Concurrency
//
// A [Client] and its services are safe for concurrent use by many goroutines and immutable
// after [New]; build one per API key and share it. Each Client owns its *http.Client (a copy of
// the one given with [WithHTTPClient]), its 429 gate and its token sources:
// [TokensService.Source] returns the same [CachedTokenSource] for the same id while it is in
// use. [Token] values are safe to copy and share. A [TokenSource] of your own must be safe for
// concurrent use.
//
// # Testing with the mock
//
// The module ships an in-memory backend that behaves like Debitura, in
// github.com/debitura-go/debitura/mockserver: state per partner, Debitura accounts that exist
// before any link (for both 409s), the 201/202 flip, link requests with an approval page,
// 30-minute tokens, the rate-limit windows, fault injection, a journal and an injectable clock.
// In tests, start one with mockserver.NewTest (closed when the test ends) or mockserver.New
// (close it yourself), point the Client at its URL with [WithBaseURL] (http is allowed on
// loopback hosts only) and use mockserver.DefaultAPIKey, or a key of a partner added with
// AddPartner (prefer keys that start with "mock_", and never give the mock a real key). Its control
// methods play the customer's part: CompleteOnboarding signs the agreement, AddCreditor seeds
// an existing account, ApproveLink approves a link request. WithSeed makes ids deterministic.
//
//	func TestSignup(t *testing.T) {
//		srv := mockserver.NewTest(t, mockserver.WithSeed(1))
//		c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(srv.URL))
//		if err != nil {
//			t.Fatal(err)
//		}
//		// ... exercise your code with c ...
//	}
//
// For a service under test that runs as its own process, or for code in other languages, the
// same backend runs as a binary, with its control routes under /__mock/ and the hosted pages:
//
//	go run github.com/debitura-go/debitura/cmd/debitura-mock -addr 127.0.0.1:8080 -seed 1
//
// It serves the partner mockserver.DefaultAPIKey (-api-key changes it), can keep its state in a
// file (-state) and imitates the production environment with -env production. The programs
// under examples/ run against an embedded mock by default.
//
// # Webhooks
//
// Partners learn that a customer approved, declined or let a link request expire, or signed
// the agreement, only through webhooks. [Client].Webhooks ([WebhooksService]) manages the
// subscriptions: List, Get, Create (its answer carries the Base64 signing secret, once), Update
// (RegenerateSecret returns a new one; IsActive re-enables a subscription Debitura disabled),
// Delete and Test (the test-environment trigger). Subscription URLs must be https; http is
// accepted on loopback hosts only, so a test can receive deliveries from the bundled mock.
//
// The receiving end is package [github.com/debitura-go/debitura/webhook]. Its
// [webhook.Handler] is an [net/http.Handler]: it verifies the X-Debitura-Signature header
// (HMAC-SHA256 over "{t}.{raw body}" keyed with the Base64-decoded secret, compared in constant
// time, with a 300 s tolerance), decodes the [webhook.Event], drops redeliveries of an event it
// has processed (by event id, in memory by default; plug in a shared store with
// [webhook.WithDeduper]) and calls your function. An error or a panic of it answers 500, so
// Debitura delivers again. [webhook.Verifier], [webhook.Verify] and [webhook.Parse] do the same
// checks for code that receives deliveries another way; [webhook.Sign] signs a body as Debitura
// does, for tests. The event names are typed [webhook.EventType] constants, which the
// subscription requests take too; [webhook.Event.ClientData] decodes the data of the client
// events.
//
//	http.Handle("/debitura/webhooks", webhook.Handler(secret,
//		func(ctx context.Context, ev *webhook.Event) error {
//			if ev.Event == webhook.ClientLinked {
//				data, err := ev.ClientData()
//				if err != nil {
//					return err
//				}
//				return markLinked(ctx, data.ExternalTenantID) // then EnsureLinked reports LinkReady
//			}
//			return nil
//		}))
//
// # Guide operations
//
// Debitura's legacy client-linking guide describes operations that the published v1 API does
// not list: [ClientsService.Update] (support e-mail, phone and metadata), [ClientsService.Profile],
// [ClientsService.Suspend], [ClientsService.Reactivate] and [TokensService.Rotate] (a new token,
// with the earlier ones valid for at most 24 hours more). The SDK keeps them in the shapes of the
// project's guide extension, and the bundled mock serves them; Debitura's API may answer 404 or
// 405 to them.
package debitura
