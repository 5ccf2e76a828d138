// Package webhook receives Debitura's webhook deliveries: it verifies their signatures, decodes
// the event envelope and its typed data, and de-duplicates redeliveries. It is the receiving
// side; the subscriptions themselves are managed with the SDK's client (c.Webhooks in package
// github.com/debitura-go/debitura).
//
// # Receiving
//
// [Handler] is an [net/http.Handler] that does everything: it reads the body (at most 1 MiB),
// verifies the X-Debitura-Signature header with the subscription's Base64 secret (HMAC-SHA256
// over "{t}.{raw body}", compared in constant time, with a 300 s tolerance), decodes the [Event],
// drops an event it has processed before (by id, in a [MemoryDeduper] or a shared store given
// with [WithDeduper]) and calls your function. An error or a panic of the function answers 500,
// so Debitura delivers again.
//
//	http.Handle("/debitura/webhooks", webhook.Handler(secret,
//		func(ctx context.Context, ev *webhook.Event) error {
//			if ev.Event == webhook.ClientLinked {
//				data, err := ev.ClientData()
//				if err != nil {
//					return err
//				}
//				return markLinked(ctx, data.ExternalTenantID)
//			}
//			return nil
//		}))
//
// # Verifying by hand
//
// [Verify], [Parse] and a [Verifier] (several secrets, for rotation; a tolerance; a clock) do the
// same checks for code that receives deliveries another way. Their errors match [ErrSignature],
// [ErrTimestamp], [ErrMalformed] and [ErrSecret] with errors.Is, and never contain a secret.
//
// # Testing
//
// [Sign] signs a body as Debitura does, so tests can feed a Handler signed deliveries without
// Debitura; the SDK's mock server (package mockserver) delivers signed events too.
//
// # Secrets
//
// No error, log line or fmt output of this package contains a signing secret: a [Verifier]
// keeps its secrets behind an unexported pointer, so even printing a struct that holds one shows
// only an address.
package webhook
