package debitura

import (
	"encoding/json"
)

// ConflictType is the type of a 409 conflict on POST /clients (ConflictResponse.type).
type ConflictType string

// Conflict types of POST /clients. Types the SDK does not know are kept verbatim in
// [ConflictError].Type.
const (
	// ClientExistsNeedsLinking: the client already exists in Debitura (matched by e-mail); a link
	// request was created and the client must approve it at the approval URL.
	ClientExistsNeedsLinking ConflictType = "ClientExistsNeedsLinking"
	// ClientAlreadyLinkedToAnotherPartner: the client is linked to another referral partner; a
	// hard block (contact Debitura support). The current wire value.
	ClientAlreadyLinkedToAnotherPartner ConflictType = "ClientAlreadyLinkedToAnotherPartner"
	// AlreadyLinkedToAnotherPartner is the other spelling of ClientAlreadyLinkedToAnotherPartner
	// found in the published spec's prose; the SDK treats both alike.
	AlreadyLinkedToAnotherPartner ConflictType = "AlreadyLinkedToAnotherPartner"
	// InvalidClientType: the matched account is not a creditor (for example a collection
	// partner).
	InvalidClientType ConflictType = "InvalidClientType"
	// AlreadyLinkedDifferentTenant: the client is linked to this partner under another
	// externalTenantId (older docs; probably obsolete).
	AlreadyLinkedDifferentTenant ConflictType = "AlreadyLinkedDifferentTenant"
)

// ConflictError is the 409 answer of POST /clients (Clients.Create): the client could not be
// created or linked as asked. It unwraps to the *APIError of the answer, so
// errors.Is(err, ErrConflict) holds. For the two documented types the SDK returns the more
// specific [ClientExistsNeedsLinkingError] or [AlreadyLinkedToAnotherPartnerError], which unwrap
// to the *ConflictError. The 409 of withdraw is not a link conflict and stays a plain *APIError.
type ConflictError struct {
	// Type is the conflict type, verbatim from the body.
	Type ConflictType
	// Message is the human-readable message.
	Message string
	// ExternalTenantID is data.externalTenantId, when present.
	ExternalTenantID string
	// ApprovalURL is data.onboardingLinks.url: where the existing client approves the link.
	ApprovalURL string
	// Data is the raw data object of the body; nil when it is missing or null.
	Data json.RawMessage
	// Err is the underlying API error.
	Err *APIError
}

// Error is the Error of the underlying *APIError.
func (e *ConflictError) Error() string {
	if e.Err == nil {
		return "debitura: 409 " + string(e.Type) + ": " + e.Message
	}
	return e.Err.Error()
}

// Unwrap returns the *APIError.
func (e *ConflictError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// errorOr is the Error of e, or for a nil e a message naming typ. The specific conflict errors
// share it, so one built without its *ConflictError still prints.
func (e *ConflictError) errorOr(typ ConflictType) string {
	if e == nil {
		return "debitura: 409 " + string(typ)
	}
	return e.Error()
}

// asError returns e as an error: nil (not a typed nil) when e is nil, so errors.Is and errors.As
// stop there.
func (e *ConflictError) asError() error {
	if e == nil {
		return nil
	}
	return e
}

// ClientExistsNeedsLinkingError is the ClientExistsNeedsLinking conflict: the client already
// exists in Debitura and a link request was created. Send the client to ApprovalURL; once it
// approves, the link is active (with isAttributedClient=false). Calling Clients.Create again
// with the same externalTenantId after the request expired issues a fresh URL.
type ClientExistsNeedsLinkingError struct {
	// ExternalTenantID is the partner's id of the client.
	ExternalTenantID string
	// ApprovalURL is where the existing client approves the link.
	ApprovalURL string
	// Err is the general conflict error.
	Err *ConflictError
}

// Error is the Error of the underlying *APIError.
func (e *ClientExistsNeedsLinkingError) Error() string {
	return e.Err.errorOr(ClientExistsNeedsLinking)
}

// Unwrap returns the *ConflictError.
func (e *ClientExistsNeedsLinkingError) Unwrap() error { return e.Err.asError() }

// AlreadyLinkedToAnotherPartnerError is the conflict of a client already linked to another
// referral partner (type ClientAlreadyLinkedToAnotherPartner or AlreadyLinkedToAnotherPartner).
// It is a hard block: only Debitura support can resolve it.
type AlreadyLinkedToAnotherPartnerError struct {
	// ExternalTenantID is the partner's id of the client.
	ExternalTenantID string
	// Err is the general conflict error.
	Err *ConflictError
}

// Error is the Error of the underlying *APIError.
func (e *AlreadyLinkedToAnotherPartnerError) Error() string {
	return e.Err.errorOr(ClientAlreadyLinkedToAnotherPartner)
}

// Unwrap returns the *ConflictError.
func (e *AlreadyLinkedToAnotherPartnerError) Unwrap() error { return e.Err.asError() }
