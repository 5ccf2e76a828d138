package debitura_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/debitura-go/debitura/webhook"
)

// This file holds the table test of issue 9 item 5: every exported type that holds or reaches
// a secret (the API key, a Customer API token, a webhook signing secret), printed every way a
// caller can print it, must never show the secret or a recognisable piece of it.
//
// fmt calls a Format or String method only on values it can reach through exported fields;
// through an unexported field of the caller's own struct it prints field by field, and a
// pointer met there prints as an address, except under a verb that does not fit a pointer
// (%s, %q, %d), which prints the pointee field by field once more. The shapes below reach every
// one of those paths.

// printKey is the partner key of the table test.
const printKey = "pk_test_Hq7Zr2XvB9mLc4TwN8sYd3Kf"

// fragmentLen is the length of a recognisable fragment of a secret: no run of this many
// characters of a secret may appear in any output, raw or hex-encoded (%x of a string).
const fragmentLen = 8

// exportedField and unexportedField are a caller's own structs, with the value in an exported and
// in an unexported field.
type exportedField[T any] struct{ F T }
type unexportedField[T any] struct{ f T }

// shape is one way a caller holds a value.
type shape struct {
	name string
	v    any
}

// shapesOf returns v as a caller may hold it: as is, as an exported and as an unexported
// field (also nested, behind a pointer, behind an interface), in a slice and in a map.
func shapesOf[T any](v T) []shape {
	return []shape{
		{"plain", v},
		{"exported field", exportedField[T]{v}},
		{"pointer to exported field", &exportedField[T]{v}},
		{"unexported field", unexportedField[T]{v}},
		{"pointer to unexported field", &unexportedField[T]{v}},
		{"unexported in exported field", exportedField[unexportedField[T]]{unexportedField[T]{v}}},
		{"exported in unexported field", unexportedField[exportedField[T]]{exportedField[T]{v}}},
		{"interface in unexported field", unexportedField[any]{v}},
		{"slice", []T{v}},
		{"slice in unexported field", unexportedField[[]T]{[]T{v}}},
		{"map", map[string]T{"k": v}},
		{"map in unexported field", unexportedField[map[string]T]{map[string]T{"k": v}}},
	}
}

// heldValue is one exported type held by value or by pointer.
type heldValue struct {
	name   string // type and how it is held
	shapes []shape
}

// byValueAndPointer holds *p by value and p by pointer.
func byValueAndPointer[T any](name string, p *T) []heldValue {
	return []heldValue{{name + " by value", shapesOf(*p)}, {name + " by pointer", shapesOf(p)}}
}

// renders prints v every way the test checks: each fmt verb, Print and Println, and slog's
// text and JSON handlers.
func renders(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	out["Sprint"] = fmt.Sprint(v)
	out["Sprintln"] = fmt.Sprintln(v)
	var tx, js bytes.Buffer
	slog.New(slog.NewTextHandler(&tx, nil)).Info("held", "v", v)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("held", "v", v)
	out["slog text"], out["slog JSON"] = tx.String(), js.String()
	return out
}

// fragments indexes every fragmentLen-long run of each secret, raw and as lower-case
// hex, by the secret's name.
type fragments struct {
	raw, hex map[string]string
}

func newFragments(secrets map[string]string) *fragments {
	f := &fragments{raw: map[string]string{}, hex: map[string]string{}}
	for name, s := range secrets {
		for i := 0; i+fragmentLen <= len(s); i++ {
			w := s[i : i+fragmentLen]
			f.raw[w] = name
			f.hex[hex.EncodeToString([]byte(w))] = name
		}
	}
	return f
}

// find returns the name of a secret that out shows a fragment of, and the fragment.
func (f *fragments) find(out string) (name, frag string) {
	for i := 0; i+fragmentLen <= len(out); i++ {
		if n, ok := f.raw[out[i:i+fragmentLen]]; ok {
			return n, out[i : i+fragmentLen]
		}
	}
	lower := strings.ToLower(out) // %X prints upper-case hex
	for i := 0; i+2*fragmentLen <= len(lower); i++ {
		if n, ok := f.hex[lower[i:i+2*fragmentLen]]; ok {
			return n, lower[i : i+2*fragmentLen]
		}
	}
	return "", ""
}

// TestSecretsUnprintableInCallerStructs enumerates every exported secret-holding type × held
// by value or by pointer × each shape of shapesOf (exported or unexported field, nested, in a
// slice, in a map) × every fmt verb, Print, Println and slog's text and JSON handlers, and
// checks that no output shows the API key, a token or a webhook secret, or any 8-character
// run of one.
func TestSecretsUnprintableInCallerStructs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := mockserver.NewTest(t, mockserver.WithSeed(99), mockserver.WithWebhookTransport(sinkTransport{}),
		mockserver.WithPartner(mockserver.PartnerSpec{APIKey: printKey, CompanyName: "Print Partner ApS"}))
	c := newContractClient(t, printKey, srv.URL, srv.Client(), debitura.WithMaxRetries(0))
	const ext = "print-a"
	if _, err := c.Clients.Create(ctx, createReq(ext, "")); err != nil {
		t.Fatalf("Clients.Create: %v", err)
	}
	if err := srv.CompleteOnboarding(printKey, ext); err != nil {
		t.Fatalf("CompleteOnboarding: %v", err)
	}
	src := c.Tokens.Source(ext)
	tok, err := src.Token(ctx) // src now caches tok
	if err != nil {
		t.Fatalf("Source.Token: %v", err)
	}
	rot, err := c.Tokens.Rotate(ctx, ext, nil)
	if err != nil {
		t.Fatalf("Tokens.Rotate: %v", err)
	}
	hook, err := c.Webhooks.Create(ctx, &debitura.WebhookCreateRequest{URL: hookURL, Events: []webhook.EventType{webhook.ClientLinked}})
	if err != nil {
		t.Fatalf("Webhooks.Create: %v", err)
	}
	secrets := map[string]string{
		"API key":        printKey,
		"token":          tok.AccessToken.Reveal(),
		"rotated token":  rot.Token.AccessToken.Reveal(),
		"webhook secret": hook.Secret.Reveal(),
	}
	for name, s := range secrets {
		if len(s) < 2*fragmentLen {
			t.Fatalf("%s is %d characters long; the test needs a longer one", name, len(s))
		}
	}

	// Errors whose bodies echo the key and a live token, as a careless server might.
	echo := fmt.Sprintf(`{"message":"rejected XApiKey %s with Bearer %s","businessErrors":[{"type":"Echo","message":"key %s"}]}`,
		printKey, tok.AccessToken.Reveal(), printKey)
	srv.InjectFault(mockserver.Fault{Operation: mockserver.OpGetClient, Status: http.StatusUnauthorized, Body: echo, Times: 1})
	_, err = c.Clients.Get(ctx, ext)
	var apiErr *debitura.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("Clients.Get with an injected 401 = %v, want an *APIError", err)
	}
	conflictBody := fmt.Sprintf(`{"type":"ClientExistsNeedsLinking","message":"key %s","data":{"externalTenantId":"print-b",`+
		`"onboardingLinks":{"url":"https://app.example/approve?token=approval-token"},"echo":"%s"}}`, printKey, printKey)
	srv.InjectFault(mockserver.Fault{Operation: mockserver.OpPostClients, Status: http.StatusConflict, Body: conflictBody, Times: 1})
	_, err = c.Clients.Create(ctx, createReq("print-b", ""))
	var needs *debitura.ClientExistsNeedsLinkingError
	if !errors.As(err, &needs) {
		t.Fatalf("Clients.Create with an injected 409 = %v, want a *ClientExistsNeedsLinkingError", err)
	}

	verifier := webhook.NewVerifier(hook.Secret.Reveal(), secrets["rotated token"])
	transport := c.Tokens.Transport(ext, nil)
	secret := hook.Secret
	handler := webhook.Handler(hook.Secret.Reveal(), func(context.Context, *webhook.Event) error { return nil })
	oauth := src.OAuth2(ctx)

	var held []heldValue
	held = append(held, byValueAndPointer("Client", c)...)
	held = append(held, byValueAndPointer("ClientsService", c.Clients)...)
	held = append(held, byValueAndPointer("TokensService", c.Tokens)...)
	held = append(held, byValueAndPointer("PartnerService", c.Partner)...)
	held = append(held, byValueAndPointer("WebhooksService", c.Webhooks)...)
	held = append(held, byValueAndPointer("Token", tok)...)
	held = append(held, byValueAndPointer("RotatedToken", rot)...)
	held = append(held, byValueAndPointer("Webhook", hook)...)
	held = append(held, byValueAndPointer("webhook.Verifier", verifier)...)
	held = append(held, byValueAndPointer("Secret", &secret)...)
	held = append(held, byValueAndPointer("Transport", transport)...)
	held = append(held, byValueAndPointer("APIError", apiErr)...)
	held = append(held, byValueAndPointer("ClientExistsNeedsLinkingError", needs)...)
	held = append(held, byValueAndPointer("ConflictError", needs.Err)...)
	held = append(held,
		// A CachedTokenSource holds a mutex: copying one is a vet error, so it is held by
		// pointer only.
		heldValue{"CachedTokenSource by pointer", shapesOf(src)},
		heldValue{"WebhookHandler as http.Handler", shapesOf(handler)},
		heldValue{"OAuth2 adapter as oauth2.TokenSource", shapesOf(oauth)},
		heldValue{"error", shapesOf(err)},
	)

	frags := newFragments(secrets)
	checked := 0
	for _, h := range held {
		for _, sh := range h.shapes {
			for how, out := range renders(sh.v) {
				checked++
				if name, frag := frags.find(out); name != "" {
					t.Errorf("%s, %s, %s: shows %q of the %s:\n%s", h.name, sh.name, how, frag, name, out)
				}
			}
		}
	}
	if want := len(held) * 12 * 12; checked != want {
		t.Errorf("checked %d outputs, want %d", checked, want)
	}
	// A caller may also call String or GoString itself, not through fmt.
	direct := 0
	for _, h := range held {
		v := h.shapes[0].v // plain
		calls := map[string]string{}
		if s, ok := v.(fmt.Stringer); ok {
			calls["String()"] = s.String()
		}
		if s, ok := v.(fmt.GoStringer); ok {
			calls["GoString()"] = s.GoString()
		}
		for how, out := range calls {
			direct++
			if name, frag := frags.find(out); name != "" {
				t.Errorf("%s, %s: shows %q of the %s:\n%s", h.name, how, frag, name, out)
			}
		}
	}
	if direct == 0 {
		t.Errorf("no held value has a String or GoString method to call")
	}
	// The table is not vacuous: the Secret's value is there to be revealed, and the plain
	// printing of a Token names its redaction.
	if got := secret.Reveal(); got != secrets["webhook secret"] {
		t.Errorf("Secret.Reveal() = %d characters, want the webhook secret", len(got))
	}
	if s := fmt.Sprint(tok); !strings.Contains(s, "[REDACTED]") {
		t.Errorf("fmt.Sprint(Token) = %s, want [REDACTED] in place of the token", s)
	}
}
