package webhook

import (
	"encoding/json"
	"time"

	"github.com/debitura-go/debitura/internal/apitime"
)

// This file decodes the data of the events whose shape Debitura documents.

// ClientData is the data of a client.* event.
type ClientData struct {
	// ExternalTenantID is the partner's id of the client.
	ExternalTenantID string
	// Creditor is the client's Debitura creditor; nil when the event leaves it out.
	Creditor *Creditor
	// SignedAt is when the document was signed (client.onboarding.poa_signed); nil otherwise.
	SignedAt *time.Time
	// Raw is the whole data object, for fields the package does not know.
	Raw json.RawMessage
}

// Creditor is the creditor of a client event.
type Creditor struct {
	// ID is the creditor's UUID (the Client.ID of the SDK's LinkedClient).
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
// Errors: one wrapping [ErrMalformed] when e is not a client event or its data is not a JSON
// object of the documented shape.
func (e *Event) ClientData() (*ClientData, error) {
	if !e.Event.IsClient() {
		return nil, errorf(ErrMalformed, "event %q is not a client event", e.Event)
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
		SignedAt *apitime.Time `json:"signedAt"`
	}
	if err := e.decodeData(&wire); err != nil {
		return nil, err
	}
	out := &ClientData{ExternalTenantID: deref(wire.ExternalTenantID), Raw: e.Data}
	if c := wire.Creditor; c != nil {
		out.Creditor = &Creditor{
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

// ReplayFailedData is the data of a cases.replay_failed event. Debitura does not publish its
// fields; the package reads externalTenantId and a failedCases list in the shape of
// POST /clients' failed cases, and keeps the whole object in Raw.
type ReplayFailedData struct {
	// ExternalTenantID is the partner's id of the client whose stored cases were replayed.
	ExternalTenantID string
	// FailedCases are the cases that could not be created; create them through the Customer
	// API.
	FailedCases []FailedCase
	// Raw is the whole data object.
	Raw json.RawMessage
}

// FailedCase is a stored case that could not be created, in the shape of the API's
// CaseCreationFailure (the SDK's CaseCreationFailure).
type FailedCase struct {
	// CaseIndex is the zero-based index of the case in the POST /clients request that stored it.
	CaseIndex         int    `json:"caseIndex"`
	CreditorReference string `json:"creditorReference,omitempty"`
	// ErrorType says why, e.g. "NoPartnerAvailable", "ValidationError", "DuplicateReference",
	// "IdempotencyViolation" or "UnexpectedError"; values Debitura adds are kept verbatim.
	ErrorType    string `json:"errorType,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	// ValidationErrors maps a field to its messages when the failure was a validation error.
	ValidationErrors map[string][]string `json:"validationErrors,omitempty"`
}

// ReplayFailedData decodes the data of a cases.replay_failed event.
//
// Errors: one wrapping [ErrMalformed] when e is another event or its data is not a JSON object
// of the expected shape.
func (e *Event) ReplayFailedData() (*ReplayFailedData, error) {
	if e.Event != CasesReplayFailed {
		return nil, errorf(ErrMalformed, "event %q is not %s", e.Event, CasesReplayFailed)
	}
	var wire struct {
		ExternalTenantID *string      `json:"externalTenantId"`
		FailedCases      []FailedCase `json:"failedCases"`
	}
	if err := e.decodeData(&wire); err != nil {
		return nil, err
	}
	return &ReplayFailedData{ExternalTenantID: deref(wire.ExternalTenantID), FailedCases: wire.FailedCases, Raw: e.Data}, nil
}
