// Package mockserver is an in-memory, stateful fake of Debitura's Referral Partner API
// (client linking), for tests that must pass against Debitura when they pass against it.
//
// It serves every route of api/openapi.yaml (including /v1/Webhooks*, with signed deliveries)
// and every route of api/guide-extension.openapi.yaml, with the wire shapes of those documents, and models the
// state behind them: partners isolated by API key, Debitura creditors that exist before any link
// (to produce every 409), link requests with a TTL and replayed cases, the 201/202 agreement flip,
// withdraw and test-environment reset, KYC with a real Idempotency-Key, 30-minute Customer API
// tokens with suspension and rotation, the documented rate-limit windows, fault injection, an
// injected clock and a request journal. It does not import the SDK.
//
// # Usage in Go
//
//	s := mockserver.NewTest(t)                      // closed when the test ends
//	c, _ := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(s.URL))
//	s.AddCreditor(mockserver.CreditorSpec{CompanyName: "Existing ApS", Emails: []string{"cfo@existing.example"}})
//	... c.Clients.Create(ctx, ...)                  // 409 ClientExistsNeedsLinking
//	s.ApproveLink(token)                            // as the client would on the approval page
//	s.CompleteOnboarding(mockserver.DefaultAPIKey, "tenant-1")
//	s.ReleaseAgreement()                            // 201 becomes 202 with the ContractUpgrade URL
//	s.InjectFault(mockserver.Fault{Operation: "postClients", Status: 503, Times: 2})
//
// [NewBackend] returns the bare http.Handler; [New] puts it behind a loopback httptest server;
// [NewTest] adds t.Cleanup. Options: [WithClock] (use [NewFakeClock] to drive TTLs, token
// expiry and rate limits), [WithSeed] (deterministic ids, tokens and fault draws),
// [WithEnvironment], [WithPartner], [WithRateLimit], [WithRetryAfterHeader], [WithPublicURL],
// [WithCoverage], [WithJournalLimit]. Options that are invalid make NewBackend panic, as setup
// helpers in httptest do. The Backend is safe for concurrent use (one mutex around the store).
//
// Every Backend starts with one partner whose key is [DefaultAPIKey] ([WithDefaultAPIKey] gives it
// another); [Backend.AddPartner] adds more. Any key of 1-256 printable ASCII characters without
// spaces works; prefer keys that start with "mock_", so a key of the mock is never mistaken for a
// real Debitura key, and never give the mock a real one.
//
// # Routes
//
// Referral Partner API (header XApiKey): POST /clients, GET /clients, GET|PATCH|DELETE
// /clients/{externalTenantId}, GET /clients/{externalTenantId}/is-deletable, /profile, POST
// /clients/{externalTenantId}/withdraw, /kyc-verification, /suspend, /reactivate, /rotate-token,
// POST /oauth/token, GET /me, GET|POST /v1/Webhooks, GET|PUT|DELETE /v1/Webhooks/{id}, POST
// /v1/Webhooks/test (see "Webhooks" below). The mock's Customer API check is GET /customer-api/whoami with
// "Authorization: Bearer <accessToken>": 200 {"creditorId","externalTenantId"}; 401 when the token
// is missing, malformed, badly signed, expired, cut off by a rotation, or its link was withdrawn or
// reset; 403 when the client is suspended ([Backend.CheckToken] gives the same verdict in Go).
// Hosted pages: {public}/onboarding/companydetails/{linkId},
// {public}/onboarding/ContractUpgrade/Sign/{linkId}, {public}/ReferralPartner/Approve?token=...
// (served by pages.go; their typed API is [Backend.OnboardingPage], [Backend.SubmitCompanyDetails],
// [Backend.SignAgreement], [Backend.SignContractUpgrade], [Backend.LinkRequest],
// [Backend.ApproveLink], [Backend.DeclineLink]). Onboarding continues at
// {public}/onboarding/Agreement/Sign/{linkId} and ends at {public}/onboarding/Done/{linkId};
// approval results are at {public}/ReferralPartner/Approve/Result?token=. The pages are plain
// HTML, work in Production too, change state only on POST (answered 303), show the partner's
// branding, and give tests stable element ids (#company-name, #sign-agreement, #approve,
// #decline, ...) and a #status element whose data-status names the state; the comment at the
// top of pages.go lists them.
//
// # Control API over HTTP (/__mock/)
//
// For clients not written in Go; JSON in and out; errors are ApiErrorResponseDto; every route
// answers 403 in the Production environment. Not rate-limited and not journaled.
//
// Because the control API can wipe the state and read webhook payloads, it refuses what a web
// page in the developer's browser could send (admin_guard.go): a Host that is not a loopback name
// (localhost, 127.0.0.0/8, ::1), the public URL's host or a [WithAdminHosts] name gets 403 (DNS
// rebinding); an Origin header that does not name the mock itself gets 403 (cross-site requests;
// Go clients and curl send none); and POST, PUT, PATCH and DELETE without Content-Type:
// application/json get 415, also when they have no body, so a browser would need a CORS
// preflight, which the mock never grants. The API and the hosted pages are not affected.
//
// Bad input is a 400 whose message names the field (for example "apiKey: ...",
// "windows[0].segments: ...", "status: must be 0 (the shape's default) or 200-599"): a fault
// status outside 200-599, a probability outside 0-1, negative times or latency, an unknown shape
// or an invalid header; a clock advance that is negative or over 100 years; a rate window with
// more than 3600 segments or segments shorter than 1ms. The control API is strict
// (admin_strict.go): unknown JSON members, an unknown fault operation id or shape, a fault for an
// unknown partner id or one that changes nothing, a clock advance without exactly one of
// "seconds" and "duration", PUT /__mock/rate-limit without windows (unless disabled), and an
// unknown journal filter are 400s whose message lists the valid members or values. The typed
// methods return the same errors wrapping [ErrInvalid] ([Backend.AddFault],
// [Backend.SetRateLimit], [Backend.AdvanceClock]; [Backend.InjectFault] panics instead).
//
//	POST   /__mock/reset                                   Reset(): state, journal, faults, rate counters
//	POST   /__mock/partners                                AddPartner(PartnerSpec) -> 201 PartnerSpec
//	POST   /__mock/creditors                               AddCreditor(CreditorSpec) -> 201 {"id"}
//	POST   /__mock/clients/{externalTenantId}/complete-onboarding
//	                                                       CompleteOnboarding (partner from XApiKey, default partner without it) -> 204
//	GET    /__mock/clients/{externalTenantId}              LinkedClient (fee snapshot, metadata, link id) -> 200 ClientInfo
//	POST   /__mock/agreement/release                       ReleaseAgreement -> {"agreementVersion"}
//	POST   /__mock/links/{token}/approve | /decline        ApproveLink / DeclineLink -> 204 (404, 409 when decided or expired)
//	POST   /__mock/links/expire                            ExpireLinks -> {"expired": n}
//	POST   /__mock/clock/advance                           {"seconds": 90} or {"duration": "1h"} -> {"now"}; 409 if the clock cannot advance
//	GET    /__mock/rate-limit, PUT /__mock/rate-limit      {"disabled":false,"windows":[{"limit":100,"period":"1s","segments":0,"anchorFirstRequest":false}]}
//	POST   /__mock/faults                                  Fault as JSON ("latency": "250ms") -> 201 {"id"}
//	GET    /__mock/faults (each rule with its "id"), DELETE /__mock/faults, DELETE /__mock/faults/{id}
//	GET    /__mock/journal[?operation=postClients&status=4xx&partnerId=...], DELETE /__mock/journal
//	GET    /__mock/state                                   state without secrets (no keys, approval tokens, signing secret, stored idempotent bodies)
//	POST   /__mock/token/check                             {"token"} -> TokenStatus
//	POST   /__mock/webhooks/flush                          FlushWebhooks -> {"pending": n}
//	GET    /__mock/webhooks                                Webhooks (partner from XApiKey, default partner without it; no secrets)
//	GET    /__mock/webhooks/deliveries                     Deliveries -> []DeliveryInfo (with each payload)
//	GET    /__mock/health                                  200 {"status":"ok","version"}: no key, any Host, also in Production
//	GET    /__mock/                                        the dashboard (HTML; dashboard.go), GET /__mock/dashboard.js its script
//	GET    /__mock/clients/{externalTenantId}/link-request PendingLinkRequest (partner from ?partnerId=, else XApiKey, else the default)
//	POST   /__mock/clients/{externalTenantId}/link-request/approve | /decline | /expire
//	                                                       ApprovePendingLink / DeclinePendingLink / ExpirePendingLink -> 204
//	POST   /__mock/webhooks/redeliver                      {"eventId","subscriptionId"} RedeliverWebhook -> 202
//
// A known /__mock/ path under another method answers 405 with Allow. [Dial] returns a
// [Controller] that drives these routes on a running debitura-mock, the interface *Backend
// implements in process.
//
// # Faults, rate limits, journal, persistence
//
// [Fault] rules are keyed by operationId (postClients, getClients, getClientsByExternalTenantId,
// deleteClientsByExternalTenantId, getClientsByExternalTenantIdIsDeletable,
// postClientsByExternalTenantIdWithdraw, postClientsByExternalTenantIdKycVerification,
// postOauthToken, getMe, patchClient, getClientProfile, suspendClient, reactivateClient,
// rotateClientToken, customerApiWhoami). Responses a fault altered carry [FaultHeader] (X-Mock-Fault) so
// contract validation skips them; a latency-only fault delays the real response unmarked. Rate limits ([RateLimitConfig]) apply per API key before the key
// is checked; unknown and missing keys share one partition. The journal ([Backend.Journal],
// [Backend.Requests], [Backend.Count], [Backend.EffectCount]) records operation, route, status,
// partner id, fault and side effects, and never a key or token. [Backend.Snapshot] and
// [Backend.Restore] write and read the whole state as JSON (for a -state file).
//
// # Where the mock knowingly differs from Debitura
//
// Open questions of REFERENCE §7.4, and how the mock answers them:
//
//   - 401 body: ApiErrorResponseDto {"error","message","businessErrors":[{"type":"Unauthorized"}]},
//     for a missing and an unknown key alike (the newest docs use businessErrors everywhere).
//   - Retry-After: not sent by default (the newest rate-limiting page says Debitura does not send
//     it); [WithRetryAfterHeader](true) adds it in whole seconds, rounded up. The body's
//     retryAfter is the exact wait rounded up to 0.1 s.
//   - 422 IdempotencyConflict: ApiErrorResponseDto with businessErrors[0].type
//     "IdempotencyConflict" (error and message carry the text).
//   - PageSize > 100 (and < 1, Page < 1, unparsable values, an unknown Sort field or direction):
//     400 ApiErrorResponseDto, not a clamp, so a client that relies on clamping fails here first.
//   - A repeat POST /clients during a pending link request: 409 ClientExistsNeedsLinking again
//     with the same URL until the TTL passes; after it, a fresh link request and URL. Cases sent
//     with the repeat are ignored (the first request's cases are the ones replayed).
//   - InvalidClientType: a 409 ConflictResponse without data, when the e-mail matches an account
//     whose Kind is not "creditor" (e.g. a collection partner).
//   - The data of client.link_* webhook events: only the documented common part
//     (externalTenantId, creditor with isAttributed false, as the link would be unattributed;
//     link_declined without isAttributed). See "Webhooks".
//   - users[].name split: at the last space ("Anna Maria Jensen" -> "Anna Maria" / "Jensen"); a
//     single word is the first name with an empty last name.
//   - Nulls: nullable members are written as null (Newtonsoft's default); objects the spec does not
//     mark nullable are omitted when there is nothing to say (kycVerification before any KYC,
//     caseResults outside POST /clients responses that carried cases, collectionPartner,
//     verificationStatus while not reviewed).
//
// Other choices:
//
//   - Wire values: kycStatus is snake_case (not_required before any KYC submission, pending after
//     one, verified once its review status is Completed), as the spec's description says, though
//     its enum lists PascalCase. The 409 for another partner uses ClientAlreadyLinkedToAnotherPartner.
//   - 400 bodies: field and business validation are ApiErrorResponseDto with the documented texts
//     in error, message and businessErrors[].message (type "ValidationError"); all field errors of
//     a body come at once, business rules (onboarding-user rules, unknown country) one at a time.
//     "Case validation failed" adds the docs' validationErrors map keyed Cases[n].Field, beside
//     the declared members. Malformed JSON, type mismatches and unknown members are ASP.NET's
//     ValidationProblemDetails (application/problem+json) keyed "$.member". These three are the
//     only places responses go beyond the declared schemas.
//   - Unknown members are rejected (additionalProperties: false), member names match
//     case-insensitively (PascalCase input works), as with ASP.NET's binder.
//   - E-mail matching is exact and case-insensitive over the request's user e-mails (in order)
//     and then its support e-mail; the first match wins. Withdrawn and reset creditors leave
//     matching. A match on a creditor linked to the same partner under another externalTenantId
//     is 409 AlreadyLinkedDifferentTenant with data {externalTenantId, existingExternalTenantId}.
//   - Cases: validated before anything is created; created in PendingContractSigning with a
//     signingHandoff to the onboarding URL; a case fails with NoPartnerAvailable when the debtor's
//     jurisdiction (countryAlpha2, else country, else the client's country) is not covered. By
//     default every ISO country is covered except AF, AQ, BV, BY, CU, EH, GS, HM, IO, IR, KP, MM,
//     PN, RU, SD, SS, SY, TF, UM, VE and YE; [WithCoverage] replaces the set. Cases of a 409 request
//     are stored and replayed on approval with AllowPendingContracts forced.
//   - The referral fee percentage is snapshotted when the link is created (on approval for a
//     link request); it is visible in [Backend.LinkedClient], GET /__mock/clients/{id} and the
//     state, not in the API (ClientCreatedResponse has no such member).
//   - ApprovalTtlDays per partner ([PartnerSpec].ApprovalTTLDays, default 7, clamped 1-30); expiry
//     is evaluated lazily on the mock clock whenever a link request is read.
//   - GET /clients: summary counts the partner's whole portfolio (all active links), not only the
//     filtered ones; Query matches company name, support ("office") e-mail and registration
//     number; DateCreatedTo is inclusive; a Sort field without a direction is ascending; ties
//     break by creation order; the response's clients is [] (never null).
//   - Withdraw also answers 409 when the client has completed onboarding (the spec describes
//     withdraw as for clients that never finished onboarding). Closed cases use close code
//     CaseNeverStartedInternal (the spec; the docs say CaseNeverStarted).
//   - Reset (DELETE, test environment) deletes cases, the creditor and its users; pending link
//     requests for that creditor expire. is-deletable reports one blocker when any case is past
//     PendingContractSigning and not closed; there are no leads.
//   - Idempotency-Key (kyc-verification and rotate-token): scoped per partner and operation;
//     the fingerprint is the path plus the canonical JSON body (member order and spacing ignored,
//     member-name case not); every response except 400 and 5xx is stored and replayed verbatim
//     with Idempotent-Replayed: true. A stored answer expires after IdempotencyTTL (24 hours on
//     the mock clock, as Debitura's legacy docs said); each partner keeps at most
//     IdempotencyKeysPerPartner of them, the oldest dropped first. A key past either is new.
//   - /oauth/token: 404 when there is no active link or onboarding is not done, 403 when the
//     client is suspended (a guide operation's rule). Tokens are HS256 JWTs signed with a per-mock
//     secret, valid 30 minutes. rotate-token caps every earlier token at min(its expiry, now+24h);
//     previousTokenExpiresAt is the latest earlier token's expiry capped likewise (now when none).
//   - PATCH: supportEmail null leaves it unchanged (a client always has one); supportPhone null
//     clears it; a new supportEmail is matched from then on.
//   - /me: every partner is returned as configured; isActive=false changes nothing else.
//   - Unknown routes answer 404 ApiErrorResponseDto; a known path under another method answers
//     405 with Allow and an empty body, as ASP.NET Core does (after the key check, as every route).
//   - No e-mails, no /cases, /coverage or reporting routes.
//
// # Webhooks
//
// Subscriptions belong to a partner (the XApiKey) and live in the state (Snapshot/Restore keep
// them with their secrets; State and the journal never show a secret or a signature). POST
// /v1/Webhooks answers 200 WebhookDto with the Base64 secret (32 random bytes from the seeded
// generator); GET never shows it; PUT with regenerateSecret=true shows the new one. Member names
// bind case-insensitively; unknown members are a ValidationProblemDetails 400 as elsewhere. The
// /v1/Webhooks routes answer 401 without a body (the published spec declares no 401 body there,
// unlike the docs' statement for the other routes). An id that is not a UUID, or belongs to
// another partner, is 404.
//
// Validation (400 ApiErrorResponseDto, all messages at once): url required, absolute, at most
// 1024 characters, https, port 443 or 8443, not localhost and not a private, link-local or
// unspecified IP literal. Divergence: in the Test environment the mock also accepts http or https
// on loopback hosts (localhost, *.localhost, 127.0.0.0/8, ::1) on any port, so tests can receive
// on an httptest server; Debitura rejects them, and so does the mock in Production. events:
// at least one, each one of [WebhookEvents] (unknown names are a 400; duplicates are dropped);
// PUT events=[] is a 400 too. isTestMode defaults to false. PUT isActive=false cancels pending
// deliveries; isActive=true re-enables and clears disabledReason (earlier deliveries are not
// resent). DELETE is permanent and forgets the subscription's deliveries.
//
// Classification: every event in the Test environment is test-classified, every event in
// Production production-classified. An isTestMode=true subscription receives test-classified
// events only (so nothing in Production); an isTestMode=false subscription receives events of
// both classes. So in the Test environment every subscription receives everything, which is what
// a partner testing there expects; Debitura's own rule for Production subscriptions and test data
// is not documented.
//
// Events fire from the state changes, once per change, to every active subscription of the
// partner that names the event (no id is drawn when none does):
//
//   - client.link_requested: POST /clients creates a link request (409 ClientExistsNeedsLinking);
//     not on the repeat 409s of the same pending request.
//   - client.linked: ApproveLink (the approval page), isAttributed false.
//   - client.link_declined: DeclineLink; creditor without isAttributed.
//   - client.link_expired: when the link request's status becomes expired on the mock clock, which
//     happens exactly once, whoever notices first: a lazy read (POST /clients, LinkRequest,
//     ApproveLink, DeclineLink), [Backend.ExpireLinks], [Backend.FlushWebhooks] (which sweeps
//     first) or POST /__mock/clock/advance (which sweeps after moving the clock). There is no
//     background sweeper: Debitura's is an hourly job; the timestamp is when the mock noticed.
//     A request expired by a test-environment DELETE of the creditor fires nothing.
//   - client.onboarding.contract_signed: a signature that completes onboarding (SignAgreement,
//     CompleteOnboarding, the hosted page, SignContractUpgrade); signing again while up to date
//     fires nothing.
//   - client.onboarding.poa_signed (with data.signedAt): just before contract_signed when the
//     client has a case in PendingContractSigning (the combined signing flow signs the power of
//     attorney for it), and from [Backend.SignPowerOfAttorney] (a standalone signature).
//   - cases.replay_failed: ApproveLink when some stored case fails on replay; one event per
//     approval, with the mock's own data.failedCases (CaseFailure objects).
//   - case.created, case.updated, case.closed: only from the test trigger (the mock's own data:
//     caseId, lifecycle, oldLifecycle/newLifecycle, closeCode/closeComment).
//
// Envelope: {"id" (uuid, one per event, shared by its deliveries),"specVersion":"1.0","event",
// "timestamp" (mock clock, RFC 3339),"data":{"externalTenantId","creditor":{"id","companyName",
// "registrationNumber","countryId" ([CountryID]: a fixed name-based UUID per country),
// "isAttributed"}, ...},"links":{"client":"{public URL}/clients/{externalTenantId}"}}.
//
// POST /v1/Webhooks/test (403 in Production) needs eventType (one of [WebhookEvents]),
// externalTenantId of an active link of the caller for client.* and cases.replay_failed (404
// otherwise), caseId of a case of the caller's for case.* (404 otherwise); it answers
// {eventType, enqueuedCount (deliveries queued), message} and its deliveries carry
// X-Debitura-Test: true.
//
// Delivery is asynchronous, never under the state lock: POST with Content-Type application/json,
// X-Debitura-Signature "t={unix},v1={hex}" (HMAC-SHA256 over "{t}.{body}" keyed with the
// Base64-decoded secret; [SignWebhook]), X-Debitura-Timestamp, X-Debitura-Event. t is the mock
// clock's time of the attempt (a FakeClock far from real time fails a receiver's 300 s window
// unless the receiver uses the same clock). Each attempt has [WebhookTimeout] (10 s), follows no
// redirect (3xx is a failure), reads at most 64 KiB of the answer. 2xx is delivered; 410 Gone
// disables the subscription at once; anything else (and no answer) is retried after
// [WebhookBackoff] (2^n s after attempt n, on the mock clock) up to [WebhookMaxAttempts] (8) in
// all, after which the subscription is disabled with a disabledReason. Deliveries of one
// Backend run one at a time, earliest due first. A goroutine runs while work is due; while
// retries wait, a real-time timer looks at the mock clock at least every second, so an advanced
// FakeClock is noticed. Tests call [Backend.FlushWebhooks] instead of sleeping: it attempts every
// due delivery now and waits for attempts under way. The mock's own transport uses no proxy,
// keeps no connections and dials only public addresses, plus loopback in the Test environment;
// [WithWebhookTransport] replaces it (in-memory or TLS receivers). Every attempt is a journal
// entry (operation "webhookDelivery", status, effects webhook.delivered / webhook.failed /
// webhook.disabled, and [WebhookAttempt]: subscription, event id and type, attempt number).
// [Backend.Deliveries] lists deliveries with their state and payload. Reset clears
// subscriptions and deliveries; Restore keeps the snapshot's subscriptions and drops pending
// deliveries (they are not part of a snapshot).
package mockserver
