package debitura

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/debitura-go/debitura/internal/redaction"
)

// TokensService mints and caches Customer API bearer tokens for linked clients. It is safe for
// concurrent use.
//
// Errors: a request the SDK refuses to send is a *[ValidationError]; every answer other than 2xx
// is an *[APIError]. No error text ever contains a token.
type TokensService struct{ service }

// DefaultTokenLifetime is the lifetime of a Customer API token (expiresIn 1800). The SDK assumes
// it when the API leaves expiresIn out (or sends null).
const DefaultTokenLifetime = 30 * time.Minute

// MaxTokenLifetime is the longest lifetime the SDK believes of a token. The rule for the
// answer's expiresIn (seconds) is: absent or null means [DefaultTokenLifetime]; zero or
// negative is refused (Mint and Rotate return an error: such a token is expired on arrival);
// more than MaxTokenLifetime is taken as MaxTokenLifetime, so that an absurd value can neither
// overflow the expiry into the past nor keep a token cached for years. A token that in truth
// expires earlier is refused by the Customer API with 401, which [Transport] answers by
// minting a new one.
const MaxTokenLifetime = 24 * time.Hour

// expiryDelta is how long before its expiry a Token stops being Valid, so that a token is not
// sent that expires in flight.
const expiryDelta = 10 * time.Second

// Token is a short-lived bearer token for Debitura's Customer API, scoped to one linked client.
// It is a plain value, safe to copy and share. It never prints its AccessToken: String,
// GoString, Format (every fmt verb), LogValue (slog) and MarshalJSON all redact it, and the
// AccessToken is a [Secret], which prints redacted even where fmt prints a Token field by field
// (in an unexported field of the caller's struct). Call AccessToken.Reveal to use it; build a
// Token of your own (a [TokenSourceFunc] in a test) with AccessToken: NewSecret(jwt).
type Token struct {
	// AccessToken is the JWT, sent as "Authorization: Bearer <AccessToken.Reveal()>".
	AccessToken Secret
	// TokenType is "Bearer".
	TokenType string
	// Expiry is when the token stops working, computed from expiresIn with the SDK client's
	// clock when the token was received.
	Expiry time.Time
	// CreditorID is the Debitura creditor (client) the token grants access to. Empty for a token
	// from Tokens.Rotate, whose answer does not carry it.
	CreditorID string
	// ExternalTenantID is the partner's id of that client.
	ExternalTenantID string
}

// Valid reports whether t holds an access token that does not expire within the next 10
// seconds. A nil Token is not valid.
func (t *Token) Valid() bool {
	return t.validAt(time.Now(), expiryDelta)
}

func (t *Token) validAt(now time.Time, early time.Duration) bool {
	if t == nil || t.AccessToken.IsZero() {
		return false
	}
	return t.Expiry.IsZero() || now.Add(early).Before(t.Expiry)
}

// authorization returns the Authorization header value of t.
func (t *Token) authorization() string {
	typ := t.TokenType
	if typ == "" || equalFoldASCII(typ, "bearer") {
		typ = "Bearer"
	}
	return typ + " " + t.AccessToken.Reveal()
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// String returns a description of t with the access token redacted.
func (t Token) String() string {
	return fmt.Sprintf("debitura.Token{TokenType: %q, AccessToken: %s, Expiry: %s, CreditorID: %q, ExternalTenantID: %q}",
		t.TokenType, t.AccessToken, t.Expiry.Format(time.RFC3339), t.CreditorID, t.ExternalTenantID)
}

// GoString is String: %#v prints t redacted too.
func (t Token) GoString() string { return t.String() }

// Format prints t redacted for every verb (%v, %+v, %#v, %s, %q, ...).
func (t Token) Format(f fmt.State, verb rune) { redaction.Format(f, verb, t.String()) }

// LogValue makes slog log t as a group without the access token.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token_type", t.TokenType),
		slog.String("access_token", t.AccessToken.String()),
		slog.Time("expiry", t.Expiry),
		slog.String("creditor_id", t.CreditorID),
		slog.String("external_tenant_id", t.ExternalTenantID),
	)
}

// MarshalJSON encodes t with the access token redacted, so JSON loggers cannot leak it either.
func (t Token) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"accessToken":%q,"tokenType":%q,"expiry":%q,"creditorId":%q,"externalTenantId":%q}`,
		t.AccessToken.String(), t.TokenType, t.Expiry.Format(time.RFC3339Nano), t.CreditorID, t.ExternalTenantID), nil
}

// accessTokenRequest is the body of POST /oauth/token (CreateAccessTokenRequest).
type accessTokenRequest struct {
	ExternalTenantID string `json:"externalTenantId"`
}

// accessTokenResponse is the answer of POST /oauth/token (AccessTokenResponse).
type accessTokenResponse struct {
	AccessToken      string `json:"accessToken"`
	ExpiresIn        *int64 `json:"expiresIn"` // nil when absent or null
	CreditorID       string `json:"creditorId"`
	ExternalTenantID string `json:"externalTenantId"`
	TokenType        string `json:"tokenType"`
}

// tokenLifetime checks a token answer (Mint's and Rotate's) and applies the rule of
// [MaxTokenLifetime] to its expiresIn (seconds). An answer without an access token is an error.
func tokenLifetime(op, accessToken string, expiresIn *int64) (time.Duration, error) {
	switch {
	case accessToken == "":
		return 0, fmt.Errorf("debitura: %s: the answer carries no access token", op)
	case expiresIn == nil:
		return DefaultTokenLifetime, nil
	case *expiresIn <= 0:
		return 0, fmt.Errorf("debitura: %s: the answer's expiresIn is %d s; a token lifetime must be positive", op, *expiresIn)
	case *expiresIn > int64(MaxTokenLifetime/time.Second): // compared before multiplying: no overflow
		return MaxTokenLifetime, nil
	}
	return time.Duration(*expiresIn) * time.Second, nil
}

// tokenFromResponse builds a Token whose expiry is now plus life.
func tokenFromResponse(now time.Time, accessToken, tokenType string, life time.Duration, creditorID, externalTenantID string) *Token {
	if tokenType == "" {
		tokenType = "Bearer"
	}
	return &Token{
		AccessToken:      NewSecret(accessToken),
		TokenType:        tokenType,
		Expiry:           now.Add(life),
		CreditorID:       creditorID,
		ExternalTenantID: externalTenantID,
	}
}

// Mint mints a new 30-minute Customer API token for the client linked under externalTenantID
// (POST /oauth/token). Every call mints a new token; use [TokensService.Source] to cache them.
// The client must be linked and onboarded.
//
// The token's Expiry follows the rule of [MaxTokenLifetime].
//
// Errors: *[ValidationError] for an id that is empty or longer than 255 characters; *[APIError]
// matching ErrNotFound (no active link, or onboarding not done), ErrValidation (400) or
// ErrForbidden (a suspended client, in the bundled mock); an error for an answer without an
// access token or with an expiresIn of zero or less.
func (s *TokensService) Mint(ctx context.Context, externalTenantID string, callOpts ...CallOption) (*Token, error) {
	const name = "Tokens.Mint"
	if err := checkExternalTenantID(name, "externalTenantId", externalTenantID, maxTokenTenantIDLen); err != nil {
		return nil, err
	}
	var out accessTokenResponse
	if _, err := s.client.do(ctx, &apiRequest{
		name:   name,
		op:     "postOauthToken",
		method: "POST",
		route:  "/oauth/token",
		path:   "/oauth/token",
		body:   &accessTokenRequest{ExternalTenantID: externalTenantID},
		retry:  retrySafe,
	}, &out, callOpts...); err != nil {
		return nil, err
	}
	life, err := tokenLifetime(name, out.AccessToken, out.ExpiresIn)
	if err != nil {
		return nil, err
	}
	id := out.ExternalTenantID
	if id == "" {
		id = externalTenantID
	}
	return tokenFromResponse(s.client.now(), out.AccessToken, out.TokenType, life, out.CreditorID, id), nil
}

// Source returns the cached, context-aware token source of the client linked under
// externalTenantID. It mints through [TokensService.Mint] and refreshes a token
// [DefaultRefreshBefore] before it expires, with one refresh in flight however many goroutines
// ask. For one Client, the same id returns the same source as long as it is in use, so
// [TokensService.Rotate] can update its cached token. The id is checked on the first Token call
// (*ValidationError).
func (s *TokensService) Source(externalTenantID string) *CachedTokenSource {
	return s.client.tokenState().source(s, externalTenantID)
}
