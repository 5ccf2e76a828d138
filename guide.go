package debitura

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/debitura-go/debitura/internal/redaction"
)

// This file holds the guide operations: the client-lifecycle operations of Debitura's legacy
// client-linking guide that the published v1 API does not list (update with metadata, profile,
// suspend, reactivate, token rotation), in the shapes of api/guide-extension.openapi.yaml. The
// bundled mock serves them; Debitura's production API may answer 404 or 405.

// ClientStatus is a linked client's lifecycle status in the guide operations. Values the SDK
// does not know are kept verbatim.
type ClientStatus string

// The lifecycle statuses of the guide operations.
const (
	ClientActive            ClientStatus = "active"
	ClientPendingOnboarding ClientStatus = "pending_onboarding"
	ClientSuspended         ClientStatus = "suspended"
)

// ClientProfile is a linked client's lifecycle status, contact details and metadata, as the guide
// operations return it (ClientProfile of api/guide-extension.openapi.yaml). It is not part of the
// published v1 API.
type ClientProfile struct {
	ExternalTenantID string `json:"externalTenantId"`
	// Status is suspended while suspended, otherwise pending_onboarding until the agreement is
	// signed, then active.
	Status       ClientStatus `json:"status"`
	SupportEmail string       `json:"supportEmail,omitempty"`
	SupportPhone string       `json:"supportPhone,omitempty"`
	// Metadata holds the stored key/value pairs; numbers decode as float64.
	Metadata map[string]any `json:"metadata"`
	// UpdatedAt is when the profile last changed.
	UpdatedAt time.Time `json:"updatedAt"`
	// SuspendedAt is when the client was suspended; zero when it is not.
	SuspendedAt time.Time `json:"suspendedAt,omitzero"`
}

// ClientUpdateRequest is the body of the guide's PATCH /clients/{externalTenantId}
// (UpdateClientRequest). Nil fields are left unchanged. Metadata is merged key by key: a key with
// a value replaces the stored value, a key whose value is nil removes it.
type ClientUpdateRequest struct {
	// SupportEmail replaces the support e-mail address.
	SupportEmail *string `json:"supportEmail,omitempty"`
	// SupportPhone replaces the support phone number.
	SupportPhone *string `json:"supportPhone,omitempty"`
	// Metadata values must be strings, numbers (any Go integer or float kind, or json.Number),
	// bools, or nil to remove the key. At most 50 keys of 1 to 40 characters, at most 16 KB as
	// JSON.
	Metadata map[string]any `json:"metadata,omitempty"`
}

// validate checks r before it is sent and reports every problem it finds.
func (r *ClientUpdateRequest) validate(op string) error {
	if r == nil {
		return invalid(op, "request", "is nil")
	}
	if r.SupportEmail == nil && r.SupportPhone == nil && len(r.Metadata) == 0 {
		return invalid(op, "request", "changes nothing: set SupportEmail, SupportPhone or Metadata")
	}
	p := &problems{op: op}
	if r.SupportEmail != nil {
		p.email("supportEmail", *r.SupportEmail)
	}
	checkMetadata(p, r.Metadata)
	return p.err()
}

// Update changes a linked client's support e-mail, support phone and metadata
// (PATCH /clients/{externalTenantId}). It is a guide operation: the published v1 API does not
// list it; the bundled mock serves it. It is retried after failures whose outcome is unknown
// (repeating it has the same effect).
//
// Errors: *[ValidationError] before sending (empty id, nil or empty request, a support e-mail
// that is not an address, metadata over its limits or with a value that is not a string, number,
// bool or nil; the error names the key); *[APIError] matching ErrValidation (400: the merged
// metadata is over the limits) or ErrNotFound.
func (s *ClientsService) Update(ctx context.Context, externalTenantID string, req *ClientUpdateRequest, callOpts ...CallOption) (*ClientProfile, error) {
	return doOperation[ClientProfile](ctx, s.client, operation{name: "Clients.Update", op: "patchClient",
		method: "PATCH", route: "/clients/{externalTenantId}", retry: retrySafe, body: req, validate: req.validate}, externalTenantID, callOpts)
}

// Profile returns a linked client's lifecycle status, contact details and metadata
// (GET /clients/{externalTenantId}/profile). It is a guide operation: the published v1 API does
// not list it; the bundled mock serves it.
//
// Errors: *[ValidationError] for an empty id; *[APIError] matching ErrNotFound.
func (s *ClientsService) Profile(ctx context.Context, externalTenantID string, callOpts ...CallOption) (*ClientProfile, error) {
	return doOperation[ClientProfile](ctx, s.client, operation{name: "Clients.Profile", op: "getClientProfile",
		method: "GET", route: "/clients/{externalTenantId}/profile", retry: retrySafe}, externalTenantID, callOpts)
}

// Suspend blocks new cases for a linked client (POST /clients/{externalTenantId}/suspend); its
// existing cases continue, and minting or using its tokens is refused with 403 while it is
// suspended. Suspending a suspended client changes nothing. It is a guide operation: the
// published v1 API does not list it; the bundled mock serves it.
//
// Errors: *[ValidationError] for an empty id; *[APIError] matching ErrNotFound.
func (s *ClientsService) Suspend(ctx context.Context, externalTenantID string, callOpts ...CallOption) (*ClientProfile, error) {
	return doOperation[ClientProfile](ctx, s.client, operation{name: "Clients.Suspend", op: "suspendClient",
		method: "POST", route: "/clients/{externalTenantId}/suspend", retry: retrySafe}, externalTenantID, callOpts)
}

// Reactivate lifts a suspension (POST /clients/{externalTenantId}/reactivate). Reactivating a
// client that is not suspended changes nothing. It is a guide operation: the published v1 API
// does not list it; the bundled mock serves it.
//
// Errors: *[ValidationError] for an empty id; *[APIError] matching ErrNotFound.
func (s *ClientsService) Reactivate(ctx context.Context, externalTenantID string, callOpts ...CallOption) (*ClientProfile, error) {
	return doOperation[ClientProfile](ctx, s.client, operation{name: "Clients.Reactivate", op: "reactivateClient",
		method: "POST", route: "/clients/{externalTenantId}/reactivate", retry: retrySafe}, externalTenantID, callOpts)
}

// RotatedToken is the answer of [TokensService.Rotate] (RotateTokenResponse): the new token and
// when the tokens issued before it stop working.
type RotatedToken struct {
	// Token is the new token. Its CreditorID is empty (the answer does not carry it). A
	// TokensService.Source of the same client that is in use serves it from then on.
	Token *Token
	// PreviousTokenExpiresAt is when every earlier token of the client stops working: the
	// earlier of its own expiry and 24 hours after the rotation.
	PreviousTokenExpiresAt time.Time
}

// String describes r with the token redacted.
func (r RotatedToken) String() string {
	tok := "<nil>"
	if r.Token != nil {
		tok = r.Token.String()
	}
	return fmt.Sprintf("debitura.RotatedToken{Token: %s, PreviousTokenExpiresAt: %s}", tok, r.PreviousTokenExpiresAt.Format(time.RFC3339))
}

// GoString is String: %#v prints r redacted too.
func (r RotatedToken) GoString() string { return r.String() }

// Format prints r redacted for every verb.
func (r RotatedToken) Format(f fmt.State, verb rune) { redaction.Format(f, verb, r.String()) }

// LogValue makes slog log r without the token.
func (r RotatedToken) LogValue() slog.Value { return slog.StringValue(r.String()) }

// rotateTokenResponse is the wire shape of RotateTokenResponse.
type rotateTokenResponse struct {
	AccessToken            string  `json:"accessToken"`
	TokenType              string  `json:"tokenType"`
	ExpiresIn              *int64  `json:"expiresIn"` // nil when absent or null
	PreviousTokenExpiresAt apiTime `json:"previousTokenExpiresAt"`
}

// Rotate issues a new bearer token for a linked client and schedules every earlier token to stop
// working at PreviousTokenExpiresAt (POST /clients/{externalTenantId}/rotate-token). If a
// [TokensService.Source] of the client is in use, its cached token is replaced by the new one; a
// Source first asked for after the rotation mints a token of its own. With 30-minute tokens,
// PreviousTokenExpiresAt is in practice the old token's own expiry: the guide's 24-hour grace
// period only caps it. The call carries an Idempotency-Key (the caller's, from
// [WithIdempotencyKey], or one the SDK generates) reused on every retry, so a retry never rotates
// twice. It is a guide operation: the published v1 API does not list it; the
// bundled mock serves it.
//
// Errors: *[ValidationError] before sending (empty id, an Idempotency-Key over 255 characters);
// *[APIError] matching ErrForbidden (the client is suspended) or ErrNotFound (no active link,
// or onboarding not done); an error for an answer without an access token or with an
// expiresIn of zero or less (the rotation took effect; the Expiry rule is [MaxTokenLifetime]'s).
func (s *TokensService) Rotate(ctx context.Context, externalTenantID string, callOpts ...CallOption) (*RotatedToken, error) {
	const name = "Tokens.Rotate"
	out, err := doOperation[rotateTokenResponse](ctx, s.client, operation{name: name, op: "rotateClientToken",
		method: "POST", route: "/clients/{externalTenantId}/rotate-token", retry: retryWithKey}, externalTenantID, callOpts)
	if err != nil {
		return nil, err
	}
	life, err := tokenLifetime(name, out.AccessToken, out.ExpiresIn)
	if err != nil {
		return nil, err
	}
	tok := tokenFromResponse(s.client.now(), out.AccessToken, out.TokenType, life, "", externalTenantID)
	if src := s.client.tokenState().lookup(externalTenantID); src != nil {
		src.replace(tok)
	}
	return &RotatedToken{Token: tok, PreviousTokenExpiresAt: time.Time(out.PreviousTokenExpiresAt)}, nil
}
