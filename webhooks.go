package debitura

import (
	"bytes"
	"container/list"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file receives webhook deliveries: event names, the event envelope and its typed data,
// signature verification, and an http.Handler that verifies, de-duplicates and dispatches.
// The subscriptions themselves are managed by WebhooksService (webhooks_service.go).

// The event names Debitura documents. They are untyped string constants, so they serve both as
// an [EventType] (ev.Event == EventClientLinked) and in the []string of
// [WebhookCreateRequest.Events].
const (
	// EventClientLinked: an existing Debitura client approved the partner's link request.
	EventClientLinked = "client.linked"
	// EventClientLinkDeclined: an existing client declined the link request.
	EventClientLinkDeclined = "client.link_declined"
	// EventClientLinkRequested: POST /clients answered 409 ClientExistsNeedsLinking and a link
	// request was created.
	EventClientLinkRequested = "client.link_requested"
	// EventClientLinkExpired: a link request passed its TTL without an answer.
	EventClientLinkExpired = "client.link_expired"
	// EventClientContractSigned: the client signed the agreement (SDCA); onboarding is done.
	EventClientContractSigned = "client.onboarding.contract_signed"
	// EventClientPOASigned: the client signed a power of attorney (data carries signedAt).
	EventClientPOASigned = "client.onboarding.poa_signed"
	// EventCasesReplayFailed: a case stored with a 409 POST /clients request could not be
	// created when the link was approved; create it through the Customer API.
	EventCasesReplayFailed = "cases.replay_failed"
	// EventCaseCreated, EventCaseUpdated and EventCaseClosed are case events, not client
	// events; the SDK passes their data through as raw JSON.
	EventCaseCreated = "case.created"
	EventCaseUpdated = "case.updated"
	EventCaseClosed  = "case.closed"
)

// ClientEvents returns the names of every client-related event: the six client.* events and
// cases.replay_failed. Each call returns a new slice.
func ClientEvents() []string {
	return []string{
		EventClientLinked, EventClientLinkDeclined, EventClientLinkRequested, EventClientLinkExpired,
		EventClientContractSigned, EventClientPOASigned, EventCasesReplayFailed,
	}
}

// EventType is the name of a webhook event, e.g. "client.linked". Names the SDK does not know
// are kept verbatim.
type EventType string

// IsClient reports whether t is a client event (its name starts with "client.").
func (t EventType) IsClient() bool { return strings.HasPrefix(string(t), "client.") }

// IsCase reports whether t is a case event (its name starts with "case.").
func (t EventType) IsCase() bool { return strings.HasPrefix(string(t), "case.") }

// Known reports whether t is one of the events Debitura documents.
func (t EventType) Known() bool {
	switch t {
	case EventClientLinked, EventClientLinkDeclined, EventClientLinkRequested, EventClientLinkExpired,
		EventClientContractSigned, EventClientPOASigned, EventCasesReplayFailed,
		EventCaseCreated, EventCaseUpdated, EventCaseClosed:
		return true
	}
	return false
}

// The headers of a webhook delivery.
const (
	// WebhookSignatureHeader carries "t={unix seconds},v1={lower-case hex HMAC-SHA256}"; several
	// v1 values may be present.
	WebhookSignatureHeader = "X-Debitura-Signature"
	// WebhookEventHeader carries the event name.
	WebhookEventHeader = "X-Debitura-Event"
	// WebhookTimestampHeader carries the delivery time.
	WebhookTimestampHeader = "X-Debitura-Timestamp"
	// WebhookTestHeader is "true" on deliveries triggered with WebhooksService.Test.
	WebhookTestHeader = "X-Debitura-Test"
)

// DefaultWebhookTolerance is how far the signature's timestamp may be from the receiver's clock,
// in either direction, before a delivery is refused as a replay (or a badly skewed clock).
const DefaultWebhookTolerance = 300 * time.Second

// DefaultWebhookMaxBody is the largest delivery body WebhookHandler reads (1 MiB).
const DefaultWebhookMaxBody = 1 << 20

// Errors of webhook verification, matched with errors.Is. Their text never contains a secret.
var (
	// ErrWebhookSignature: the delivery carries no signature, or none of its v1 values matches
	// the body under any of the secrets.
	ErrWebhookSignature = errors.New("debitura: webhook signature does not match")
	// ErrWebhookTimestamp: the signature is valid but its timestamp is further than the
	// tolerance from now, in the past (a replay, or a delivery that waited too long) or in the
	// future (a skewed clock).
	ErrWebhookTimestamp = errors.New("debitura: webhook timestamp outside the tolerance")
	// ErrWebhookMalformed: the signature header cannot be parsed (no t, no v1, t not a number,
	// v1 not 64 hex digits), or the signed body is not an event envelope.
	ErrWebhookMalformed = errors.New("debitura: malformed webhook")
	// ErrWebhookSecret: the secret given to the verifier is empty or not Base64. This is a
	// configuration error of the receiver, not a fault of the delivery.
	ErrWebhookSecret = errors.New("debitura: webhook secret is not valid Base64")
)

// webhookError is a verification error: a sentinel and a reason that never holds a secret.
type webhookError struct {
	kind   error
	reason string
}

func (e *webhookError) Error() string {
	if e.reason == "" {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.reason
}

func (e *webhookError) Unwrap() error { return e.kind }

func webhookErr(kind error, format string, args ...any) error {
	return &webhookError{kind: kind, reason: fmt.Sprintf(format, args...)}
}

// WebhookVerifier checks the signatures of webhook deliveries. The zero value is not usable: set
// Secret. A WebhookVerifier is safe for concurrent use as long as its fields are not changed.
// The secrets are [Secret] values, so a verifier prints no secret even field by field.
type WebhookVerifier struct {
	// Secret is the subscription's Base64 secret, as Create or Update returned it
	// ([Webhook].Secret), or NewSecret(s) of a secret kept elsewhere.
	Secret Secret
	// Secrets are further secrets that are also accepted. After WebhooksService.Update with
	// RegenerateSecret, put the new secret in Secret and the old one here until deliveries
	// signed with it have stopped arriving.
	Secrets []Secret
	// Tolerance is how far the signature's timestamp may be from Now in either direction. Zero
	// or less means DefaultWebhookTolerance (300 s).
	Tolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// String describes v without its secrets, so that %v, %+v and %#v never print them.
func (v WebhookVerifier) String() string {
	return fmt.Sprintf("debitura.WebhookVerifier{Secret: %s, Secrets: %d more, Tolerance: %s}",
		redactedMark, len(v.Secrets), v.Tolerance)
}

// GoString is String, so %#v never prints the secrets.
func (v WebhookVerifier) GoString() string { return v.String() }

// Format prints String for every verb.
func (v WebhookVerifier) Format(f fmt.State, verb rune) { formatRedacted(f, verb, v.String()) }

// LogValue keeps the secrets out of slog output.
func (v WebhookVerifier) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("extraSecrets", len(v.Secrets)), slog.Duration("tolerance", v.Tolerance))
}

// Verify checks sigHeader (the value of the X-Debitura-Signature header) against body, the raw
// request body exactly as received. It computes HMAC-SHA256 over "{t}.{body}" keyed with the
// Base64-decoded secret, compares it in constant time with every v1 value of the header, and
// accepts a match under Secret or any of Secrets when t is within Tolerance of Now. It returns
// the time t of the signature.
//
// Errors (errors.Is): ErrWebhookSignature (no header, or no match), ErrWebhookTimestamp (a match
// whose t is too old or too far in the future), ErrWebhookMalformed (a header that cannot be
// parsed), ErrWebhookSecret (a secret that is empty or not Base64).
func (v *WebhookVerifier) Verify(sigHeader string, body []byte) (time.Time, error) {
	keys, err := v.keys()
	if err != nil {
		return time.Time{}, err
	}
	sig, err := parseSignatureHeader(sigHeader)
	if err != nil {
		return time.Time{}, err
	}
	matched := false
	for _, k := range keys {
		want := computeSignature(k, sig.ts, body)
		for _, got := range sig.v1 {
			if hmac.Equal(want, got) {
				matched = true
			}
		}
	}
	if !matched {
		return time.Time{}, webhookErr(ErrWebhookSignature, "no v1 signature matches the body")
	}
	at := time.Unix(sig.ts, 0)
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultWebhookTolerance
	}
	if d := now.Sub(at); d > tol || d < -tol {
		return time.Time{}, webhookErr(ErrWebhookTimestamp, "signed at %s, %s from now (tolerance %s)",
			at.UTC().Format(time.RFC3339), d.Round(time.Second), tol)
	}
	return at, nil
}

// Parse verifies a delivery (its header h and raw body) and decodes the event envelope. The
// event's Test and SignatureTime fields come from the headers; Event falls back to the
// X-Debitura-Event header when the body leaves it out.
//
// Errors: those of Verify, and ErrWebhookMalformed for a body that is not a JSON envelope with
// an id and an event.
func (v *WebhookVerifier) Parse(h http.Header, body []byte) (*WebhookEvent, error) {
	at, err := v.Verify(h.Get(WebhookSignatureHeader), body)
	if err != nil {
		return nil, err
	}
	ev := new(WebhookEvent)
	if err := json.Unmarshal(body, ev); err != nil {
		return nil, webhookErr(ErrWebhookMalformed, "body is not an event envelope: %v", err)
	}
	// The event name comes from the signed body only: the X-Debitura-Event header is not
	// covered by the signature.
	if ev.ID == "" || ev.Event == "" {
		return nil, webhookErr(ErrWebhookMalformed, "the envelope has no id or no event")
	}
	ev.Test, _ = strconv.ParseBool(strings.TrimSpace(h.Get(WebhookTestHeader)))
	ev.SignatureTime = at
	return ev, nil
}

// keys decodes Secret and Secrets.
func (v *WebhookVerifier) keys() ([][]byte, error) {
	all := append([]Secret{v.Secret}, v.Secrets...)
	keys := make([][]byte, 0, len(all))
	for i, s := range all {
		if i > 0 && s.IsZero() {
			continue
		}
		k, err := decodeWebhookSecret(s.Reveal())
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// VerifyWebhook checks the X-Debitura-Signature value sigHeader of a delivery against its raw
// body with secret (Base64, as Create returned it), at time now, with the default tolerance of
// 300 s. It is [WebhookVerifier.Verify] with one secret; see there for the errors.
func VerifyWebhook(secret, sigHeader string, body []byte, now time.Time) error {
	v := WebhookVerifier{Secret: NewSecret(secret), Now: func() time.Time { return now }}
	_, err := v.Verify(sigHeader, body)
	return err
}

// ParseWebhook verifies a delivery (its headers h and raw body) with secret at time now, with
// the default tolerance, and decodes its envelope. It is [WebhookVerifier.Parse] with one
// secret; see there for the errors. Read the body whole and unchanged before calling it: any
// re-encoding breaks the signature.
func ParseWebhook(secret string, h http.Header, body []byte, now time.Time) (*WebhookEvent, error) {
	v := WebhookVerifier{Secret: NewSecret(secret), Now: func() time.Time { return now }}
	return v.Parse(h, body)
}

// SignWebhook returns the X-Debitura-Signature value Debitura would send for body at time t
// with secret (Base64): "t={unix seconds},v1={hex}". It is meant for tests: to feed a
// WebhookHandler or a verifier signed deliveries without Debitura. The only error is
// ErrWebhookSecret.
func SignWebhook(secret string, t time.Time, body []byte) (string, error) {
	k, err := decodeWebhookSecret(secret)
	if err != nil {
		return "", err
	}
	ts := t.Unix()
	return "t=" + strconv.FormatInt(ts, 10) + ",v1=" + hex.EncodeToString(computeSignature(k, ts, body)), nil
}

func computeSignature(key []byte, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// decodeWebhookSecret decodes a Base64 secret (standard alphabet, padded or not; the URL-safe
// alphabet is accepted too). Surrounding white space is ignored.
func decodeWebhookSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, webhookErr(ErrWebhookSecret, "the secret is empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) > 0 {
			return k, nil
		}
	}
	return nil, webhookErr(ErrWebhookSecret, "pass the secret exactly as the API returned it")
}

type signatureHeader struct {
	ts int64
	v1 [][]byte
}

// parseSignatureHeader parses "t=1700000000,v1=ab12...[,v1=...]". Unknown keys (a future v2
// scheme) are ignored.
func parseSignatureHeader(h string) (*signatureHeader, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil, webhookErr(ErrWebhookSignature, "no %s header", WebhookSignatureHeader)
	}
	sig := &signatureHeader{}
	haveT := false
	for part := range strings.SplitSeq(h, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, webhookErr(ErrWebhookMalformed, "signature header element without '='")
		}
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		switch k {
		case "t":
			if haveT {
				return nil, webhookErr(ErrWebhookMalformed, "signature header has two t values")
			}
			if val == "" || strings.TrimLeft(val, "0123456789") != "" {
				return nil, webhookErr(ErrWebhookMalformed, "signature timestamp t is not a number of seconds")
			}
			ts, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return nil, webhookErr(ErrWebhookMalformed, "signature timestamp t is out of range")
			}
			sig.ts, haveT = ts, true
		case "v1":
			b, err := hex.DecodeString(val)
			if err != nil || len(b) != sha256.Size {
				return nil, webhookErr(ErrWebhookMalformed, "v1 signature is not %d hex digits", 2*sha256.Size)
			}
			sig.v1 = append(sig.v1, b)
		}
	}
	switch {
	case !haveT:
		return nil, webhookErr(ErrWebhookMalformed, "signature header has no t")
	case len(sig.v1) == 0:
		return nil, webhookErr(ErrWebhookMalformed, "signature header has no v1 signature")
	}
	return sig, nil
}

// WebhookEvent is a webhook delivery: the envelope Debitura sends, plus what the delivery's
// headers say. Data is kept as raw JSON; ClientData and ReplayFailedData decode it.
type WebhookEvent struct {
	// ID is the event's UUID. Debitura may deliver an event more than once; de-duplicate on
	// it (WebhookHandler does).
	ID string `json:"id"`
	// SpecVersion is "1.0".
	SpecVersion string `json:"specVersion"`
	// Event is the event name, e.g. EventClientLinked.
	Event EventType `json:"event"`
	// Timestamp is when the event happened.
	Timestamp time.Time `json:"timestamp"`
	// Data is the event's data object as received.
	Data json.RawMessage `json:"data,omitempty"`
	// Links holds API URLs of the resources the event is about.
	Links WebhookEventLinks `json:"links"`

	// Test is true when the delivery carries "X-Debitura-Test: true" (an event triggered with
	// WebhooksService.Test). The header is not covered by the signature.
	Test bool `json:"-"`
	// SignatureTime is the time t of the delivery's signature.
	SignatureTime time.Time `json:"-"`
}

// WebhookEventLinks are the links of an event envelope.
type WebhookEventLinks struct {
	// Client is the API URL of the client the event is about, when it is about one.
	Client string `json:"client,omitempty"`
}

// UnmarshalJSON decodes an envelope in camelCase or PascalCase; the timestamp may come with or
// without a time zone (none is read as UTC).
func (e *WebhookEvent) UnmarshalJSON(b []byte) error {
	var wire struct {
		ID          string          `json:"id"`
		SpecVersion string          `json:"specVersion"`
		Event       string          `json:"event"`
		Timestamp   apiTime         `json:"timestamp"`
		Data        json.RawMessage `json:"data"`
		Links       *struct {
			Client *string `json:"client"`
		} `json:"links"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		return err
	}
	*e = WebhookEvent{ID: wire.ID, SpecVersion: wire.SpecVersion, Event: EventType(wire.Event), Timestamp: time.Time(wire.Timestamp)}
	if d := bytes.TrimSpace(wire.Data); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		e.Data = append(json.RawMessage(nil), d...)
	}
	if wire.Links != nil {
		e.Links.Client = deref(wire.Links.Client)
	}
	return nil
}

// ClientEventData is the data of a client.* event.
type ClientEventData struct {
	// ExternalTenantID is the partner's id of the client.
	ExternalTenantID string
	// Creditor is the client's Debitura creditor; nil when the event leaves it out.
	Creditor *EventCreditor
	// SignedAt is when the document was signed (client.onboarding.poa_signed); nil otherwise.
	SignedAt *time.Time
	// Raw is the whole data object, for fields the SDK does not know.
	Raw json.RawMessage
}

// EventCreditor is the creditor of a client event.
type EventCreditor struct {
	// ID is the creditor's UUID (LinkedClient's Client.ID).
	ID                 string
	CompanyName        string
	RegistrationNumber string
	// CountryID is the UUID of the creditor's country.
	CountryID string
	// IsAttributed says whether the client was created through the partner (true) or linked
	// after approval (false); nil when the event leaves it out, as client.link_declined does.
	IsAttributed *bool
}

// ClientData decodes the data of a client.* event. Fields the event leaves out stay zero.
//
// Errors: one wrapping ErrWebhookMalformed when e is not a client event or its data is not a
// JSON object of the documented shape.
func (e *WebhookEvent) ClientData() (*ClientEventData, error) {
	if !e.Event.IsClient() {
		return nil, webhookErr(ErrWebhookMalformed, "event %q is not a client event", e.Event)
	}
	var wire struct {
		ExternalTenantID *string `json:"externalTenantId"`
		Creditor         *struct {
			ID                 *string `json:"id"`
			CompanyName        *string `json:"companyName"`
			RegistrationNumber *string `json:"registrationNumber"`
			CountryID          *string `json:"countryId"`
			IsAttributed       *bool   `json:"isAttributed"`
		} `json:"creditor"`
		SignedAt *apiTime `json:"signedAt"`
	}
	if err := e.decodeData(&wire); err != nil {
		return nil, err
	}
	out := &ClientEventData{ExternalTenantID: deref(wire.ExternalTenantID), Raw: e.Data}
	if c := wire.Creditor; c != nil {
		out.Creditor = &EventCreditor{
			ID: deref(c.ID), CompanyName: deref(c.CompanyName), RegistrationNumber: deref(c.RegistrationNumber),
			CountryID: deref(c.CountryID), IsAttributed: c.IsAttributed,
		}
	}
	if wire.SignedAt != nil && !time.Time(*wire.SignedAt).IsZero() {
		t := time.Time(*wire.SignedAt)
		out.SignedAt = &t
	}
	return out, nil
}

// CasesReplayFailedData is the data of a cases.replay_failed event. Debitura does not publish
// its fields; the SDK reads externalTenantId and a failedCases list in the shape of
// POST /clients' failed cases, and keeps the whole object in Raw.
type CasesReplayFailedData struct {
	// ExternalTenantID is the partner's id of the client whose stored cases were replayed.
	ExternalTenantID string
	// FailedCases are the cases that could not be created; create them through the Customer
	// API.
	FailedCases []CaseCreationFailure
	// Raw is the whole data object.
	Raw json.RawMessage
}

// ReplayFailedData decodes the data of a cases.replay_failed event.
//
// Errors: one wrapping ErrWebhookMalformed when e is another event or its data is not a JSON
// object of the expected shape.
func (e *WebhookEvent) ReplayFailedData() (*CasesReplayFailedData, error) {
	if e.Event != EventCasesReplayFailed {
		return nil, webhookErr(ErrWebhookMalformed, "event %q is not %s", e.Event, EventCasesReplayFailed)
	}
	var wire struct {
		ExternalTenantID *string               `json:"externalTenantId"`
		FailedCases      []CaseCreationFailure `json:"failedCases"`
	}
	if err := e.decodeData(&wire); err != nil {
		return nil, err
	}
	return &CasesReplayFailedData{ExternalTenantID: deref(wire.ExternalTenantID), FailedCases: wire.FailedCases, Raw: e.Data}, nil
}

func (e *WebhookEvent) decodeData(v any) error {
	if len(e.Data) == 0 {
		return nil
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return webhookErr(ErrWebhookMalformed, "%s data: %v", e.Event, err)
	}
	return nil
}

// WebhookClaim is the answer of [WebhookDeduper.Claim].
type WebhookClaim int

const (
	// WebhookClaimed: the id is new, and the caller now holds it: it must process the event and
	// then call Complete, or Release if processing failed.
	WebhookClaimed WebhookClaim = iota
	// WebhookInFlight: another delivery of the id is being processed right now.
	WebhookInFlight
	// WebhookDone: the id was processed successfully before.
	WebhookDone
)

// WebhookDeduper remembers which event ids were processed, so that a redelivered event is
// handled once. Implementations must be safe for concurrent use, and Claim must be atomic: of
// concurrent Claims of one id, one gets WebhookClaimed.
//
// [MemoryWebhookDeduper] keeps ids in memory, which suits one process. With several replicas,
// implement it over shared storage; with Redis, for example: Claim is
// SET key "inflight" NX EX <lease> (WebhookClaimed when it was set, otherwise WebhookDone or
// WebhookInFlight by the stored value), Complete is SET key "done" EX <retention>, Release is
// DEL key. The lease should outlast the handler's longest run, so that a process that dies
// mid-event does not block the id forever.
type WebhookDeduper interface {
	// Claim reports whether id is new (and then claims it), in flight, or done.
	Claim(ctx context.Context, id string) (WebhookClaim, error)
	// Complete marks a claimed id as processed.
	Complete(ctx context.Context, id string) error
	// Release drops the claim of an id whose processing failed, so a redelivery is processed.
	Release(ctx context.Context, id string) error
}

// MemoryWebhookDeduper is an in-memory WebhookDeduper: it remembers up to a fixed number of
// processed ids, each for a fixed time, forgetting the oldest first. It is safe for concurrent
// use. The zero value is not usable; call NewMemoryWebhookDeduper.
type MemoryWebhookDeduper struct {
	max int
	ttl time.Duration
	now func() time.Time // tests

	mu       sync.Mutex
	inflight map[string]struct{}
	done     map[string]*list.Element // values are doneID
	order    *list.List               // doneID, oldest first
}

type doneID struct {
	id string
	at time.Time
}

// Defaults of NewMemoryWebhookDeduper.
const (
	DefaultWebhookDedupeSize = 10000
	DefaultWebhookDedupeTTL  = 72 * time.Hour
)

// NewMemoryWebhookDeduper returns a deduper that remembers the last size processed ids for ttl
// each. Zero or negative values mean DefaultWebhookDedupeSize and DefaultWebhookDedupeTTL; the
// TTL should outlast Debitura's retries of a delivery (8 attempts with exponential backoff).
func NewMemoryWebhookDeduper(size int, ttl time.Duration) *MemoryWebhookDeduper {
	if size <= 0 {
		size = DefaultWebhookDedupeSize
	}
	if ttl <= 0 {
		ttl = DefaultWebhookDedupeTTL
	}
	return &MemoryWebhookDeduper{max: size, ttl: ttl, inflight: map[string]struct{}{}, done: map[string]*list.Element{}, order: list.New()}
}

func (d *MemoryWebhookDeduper) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}

// Claim implements WebhookDeduper.
func (d *MemoryWebhookDeduper) Claim(_ context.Context, id string) (WebhookClaim, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(d.clock())
	if _, ok := d.done[id]; ok {
		return WebhookDone, nil
	}
	if _, ok := d.inflight[id]; ok {
		return WebhookInFlight, nil
	}
	d.inflight[id] = struct{}{}
	return WebhookClaimed, nil
}

// Complete implements WebhookDeduper.
func (d *MemoryWebhookDeduper) Complete(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inflight, id)
	now := d.clock()
	if el, ok := d.done[id]; ok {
		d.order.Remove(el)
	}
	d.done[id] = d.order.PushBack(doneID{id: id, at: now})
	for d.order.Len() > d.max {
		d.drop(d.order.Front())
	}
	d.expire(now)
	return nil
}

// Release implements WebhookDeduper.
func (d *MemoryWebhookDeduper) Release(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inflight, id)
	return nil
}

// Len returns how many processed ids the deduper remembers.
func (d *MemoryWebhookDeduper) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len()
}

func (d *MemoryWebhookDeduper) expire(now time.Time) {
	for el := d.order.Front(); el != nil && now.Sub(el.Value.(doneID).at) >= d.ttl; el = d.order.Front() {
		d.drop(el)
	}
}

func (d *MemoryWebhookDeduper) drop(el *list.Element) {
	delete(d.done, el.Value.(doneID).id)
	d.order.Remove(el)
}

// WebhookOption configures [WebhookHandler].
type WebhookOption func(*webhookConfig)

type webhookConfig struct {
	verifier WebhookVerifier
	dedupe   WebhookDeduper
	maxBody  int64
	logger   *slog.Logger
}

// WithWebhookSecrets adds secrets that are also accepted, for the time after a secret
// regeneration when deliveries signed with the old secret may still arrive.
func WithWebhookSecrets(secrets ...string) WebhookOption {
	return func(c *webhookConfig) {
		for _, s := range secrets {
			c.verifier.Secrets = append(c.verifier.Secrets, NewSecret(s))
		}
	}
}

// WithWebhookTolerance sets how far a signature's timestamp may be from now; zero or less means
// DefaultWebhookTolerance.
func WithWebhookTolerance(d time.Duration) WebhookOption {
	return func(c *webhookConfig) { c.verifier.Tolerance = d }
}

// WithWebhookClock sets the clock signatures are checked against; nil means time.Now.
func WithWebhookClock(now func() time.Time) WebhookOption {
	return func(c *webhookConfig) { c.verifier.Now = now }
}

// WithWebhookDeduper sets where processed event ids are remembered. The default is a
// NewMemoryWebhookDeduper(0, 0) of the handler's own; nil turns de-duplication off.
func WithWebhookDeduper(d WebhookDeduper) WebhookOption {
	return func(c *webhookConfig) { c.dedupe = d }
}

// WithWebhookMaxBody sets the largest body the handler reads; zero or less means
// DefaultWebhookMaxBody (1 MiB).
func WithWebhookMaxBody(n int64) WebhookOption {
	return func(c *webhookConfig) { c.maxBody = n }
}

// WithWebhookLogger makes the handler log refused deliveries and failures of fn (event id and
// name, never a secret or a body); nil, the default, logs nothing.
func WithWebhookLogger(l *slog.Logger) WebhookOption {
	return func(c *webhookConfig) { c.logger = l }
}

// WebhookHandler returns an http.Handler that receives Debitura's webhook deliveries: it reads
// the body (at most 1 MiB by default), verifies the signature with secret (see
// [WebhookVerifier.Verify]), decodes the event, drops events it has processed before (by id),
// and calls fn with the request's context. fn runs at most once at a time per event id, and
// once per id when it succeeds. Debitura waits 10 s for an answer: do slow work elsewhere.
//
// It answers:
//   - 200 when fn returned nil, and for an event already processed (a redelivery);
//   - 500 when fn returned an error (or panicked): the id is not marked processed, so
//     Debitura's retry is handled; also when the deduper fails or secret is not Base64;
//   - 409 with Retry-After while another delivery of the same event is being processed, so
//     that Debitura tries again later instead of taking it as delivered (the first delivery
//     may still fail);
//   - 401 for a missing or wrong signature (ErrWebhookSignature) or a timestamp outside the
//     tolerance (ErrWebhookTimestamp): the delivery cannot be trusted;
//   - 400 for a malformed signature header or a body that is not an event (ErrWebhookMalformed);
//   - 413 for a body over the limit, 405 for a method other than POST.
//
// Answers carry a short plain-text reason and never the text of fn's error. The handler is safe
// for concurrent use.
func WebhookHandler(secret string, fn func(ctx context.Context, ev *WebhookEvent) error, opts ...WebhookOption) http.Handler {
	cfg := webhookConfig{verifier: WebhookVerifier{Secret: NewSecret(secret)}, dedupe: NewMemoryWebhookDeduper(0, 0), maxBody: DefaultWebhookMaxBody}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.maxBody <= 0 {
		cfg.maxBody = DefaultWebhookMaxBody
	}
	return &webhookHandler{cfg: cfg, fn: fn}
}

type webhookHandler struct {
	cfg webhookConfig
	fn  func(ctx context.Context, ev *WebhookEvent) error
}

// webhookRetryAfter is the Retry-After of the 409 for a delivery already in flight.
const webhookRetryAfter = "30"

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log(ctx, slog.LevelWarn, "debitura: webhook body over the limit", nil, "limit", h.cfg.maxBody)
			reply(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		reply(w, http.StatusBadRequest, "cannot read body")
		return
	}
	ev, err := h.cfg.verifier.Parse(r.Header, body)
	if err != nil {
		status, msg := http.StatusBadRequest, "malformed delivery"
		level := slog.LevelWarn
		switch {
		case errors.Is(err, ErrWebhookSecret):
			status, msg, level = http.StatusInternalServerError, "receiver misconfigured", slog.LevelError
		case errors.Is(err, ErrWebhookSignature):
			status, msg = http.StatusUnauthorized, "invalid signature"
		case errors.Is(err, ErrWebhookTimestamp):
			status, msg = http.StatusUnauthorized, "signature timestamp outside the tolerance"
		}
		h.log(ctx, level, "debitura: webhook refused", nil, "status", status, "error", err.Error())
		reply(w, status, msg)
		return
	}

	if h.cfg.dedupe != nil {
		claim, err := h.cfg.dedupe.Claim(ctx, ev.ID)
		if err != nil {
			h.log(ctx, slog.LevelError, "debitura: webhook deduper failed", ev, "error", err.Error())
			reply(w, http.StatusInternalServerError, "internal error")
			return
		}
		switch claim {
		case WebhookDone:
			h.log(ctx, slog.LevelDebug, "debitura: webhook already processed", ev)
			reply(w, http.StatusOK, "duplicate")
			return
		case WebhookInFlight:
			h.log(ctx, slog.LevelInfo, "debitura: webhook delivery already in flight", ev)
			w.Header().Set("Retry-After", webhookRetryAfter)
			reply(w, http.StatusConflict, "delivery in progress")
			return
		}
	}

	if err := h.call(ctx, ev); err != nil {
		h.log(ctx, slog.LevelError, "debitura: webhook handler failed", ev, "error", err.Error())
		reply(w, http.StatusInternalServerError, "handler failed")
		return
	}
	reply(w, http.StatusOK, "ok")
}

// call runs fn and settles the claim: Complete on success, Release on an error or a panic. A
// panic of fn becomes the error, so that ServeHTTP answers 500 (re-raised, net/http would drop
// the connection without an answer).
func (h *webhookHandler) call(ctx context.Context, ev *WebhookEvent) (err error) {
	ok := false
	defer func() {
		if h.cfg.dedupe == nil {
			return
		}
		// Settle the claim even when the request's ctx has ended.
		sctx := context.WithoutCancel(ctx)
		if ok {
			if cerr := h.cfg.dedupe.Complete(sctx, ev.ID); cerr != nil {
				// The event was processed: answering 200 is right; a redelivery may run fn again.
				h.log(ctx, slog.LevelError, "debitura: webhook deduper failed to record a processed event", ev, "error", cerr.Error())
			}
			return
		}
		if rerr := h.cfg.dedupe.Release(sctx, ev.ID); rerr != nil {
			h.log(ctx, slog.LevelError, "debitura: webhook deduper failed to release an event", ev, "error", rerr.Error())
		}
	}()
	defer func() { // runs before the settling above, which then sees ok == false
		if p := recover(); p != nil {
			err = fmt.Errorf("debitura: WebhookHandler: the handler function panicked: %v", p)
		}
	}()
	if h.fn == nil {
		return errors.New("debitura: WebhookHandler: nil handler function")
	}
	if err := h.fn(ctx, ev); err != nil {
		return err
	}
	ok = true
	return nil
}

func (h *webhookHandler) log(ctx context.Context, level slog.Level, msg string, ev *WebhookEvent, args ...any) {
	if h.cfg.logger == nil {
		return
	}
	if ev != nil {
		args = append(args, "event_id", ev.ID, "event", string(ev.Event), "test", ev.Test)
	}
	h.cfg.logger.Log(ctx, level, msg, args...)
}

func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
