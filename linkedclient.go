package debitura

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// This file holds the wire types of the clients resource: the POST /clients request
// (CreateClientRequest and its parts) and the client as the API returns it
// (ClientCreatedResponse, LinkedClient in this SDK). Field names and JSON keys follow
// api/openapi.yaml exactly; the API's binder is case-insensitive and so is encoding/json's
// decoder, so PascalCase keys decode too.

// ClientCreateRequest is the body of POST /clients (CreateClientRequest): the partner's id for
// the client, the client's company details, its users and, optionally, cases to create with it.
// ExternalTenantID, Client.Name, Client.Country, Client.SupportEmail and at least one user with a
// name and an e-mail are required; [ClientsService.Create] checks them before sending.
type ClientCreateRequest struct {
	// ExternalTenantID is the partner's own, case-sensitive id for the client. It keys every
	// per-client route and makes Create idempotent.
	ExternalTenantID string `json:"externalTenantId"`
	// Client holds the company's details.
	Client ClientDetails `json:"client"`
	// Users are the client's users; at least one. With more than one, exactly one must have
	// IsOnboardingUser set; a single user is the onboarding user automatically.
	Users []ClientUser `json:"users"`
	// Cases are optional collection cases created with the client, in PendingContractSigning
	// status. nil or empty sends none.
	Cases []CaseRequest `json:"cases,omitempty"`
}

// ClientDetails are the company details of a new client (ClientDetailsDto). Name, Country and
// SupportEmail are required; empty optional fields are not sent.
type ClientDetails struct {
	// Name is the company name. Required.
	Name string `json:"name"`
	// RegistrationNumber is the company registration (VAT, CVR, ...) number.
	RegistrationNumber string `json:"registrationNumber,omitempty"`
	// Address is the street address, at most 500 characters.
	Address string `json:"address,omitempty"`
	// ZipCode is the postal code, at most 20 characters.
	ZipCode string `json:"zipCode,omitempty"`
	// City is at most 100 characters.
	City string `json:"city,omitempty"`
	// State is the state or region, at most 100 characters.
	State string `json:"state,omitempty"`
	// Country is an ISO 3166-1 alpha-2 code ("GB") or a full English country name. Required; the
	// API answers 400 "Unknown country: XX" for one it does not know.
	Country string `json:"country"`
	// SupportEmail is the company's support e-mail address. Required.
	SupportEmail string `json:"supportEmail"`
	// SupportPhone is the company's support phone number.
	SupportPhone string `json:"supportPhone,omitempty"`
}

// ClientUser is a user of a new client (ClientUserDto). The API returns users split into first
// and last name ([User]); how it splits Name is not documented.
type ClientUser struct {
	// Name is the user's full name. Required.
	Name string `json:"name"`
	// Email is the user's e-mail address. Required.
	Email string `json:"email"`
	// IsOnboardingUser marks the user who goes through onboarding and becomes the client's admin.
	IsOnboardingUser bool `json:"isOnboardingUser,omitempty"`
}

// LinkedClient is a client linked to the partner, as POST /clients, GET /clients/{externalTenantId}
// and GET /clients return it (ClientCreatedResponse). Nullable fields that the API sends as null
// or leaves out decode to their zero values.
type LinkedClient struct {
	// ExternalTenantID is the partner's id for the client.
	ExternalTenantID string `json:"externalTenantId,omitempty"`
	// OnboardingDone is true once the client has signed Debitura's agreement (SDCA). It can turn
	// false again when Debitura releases a new agreement version.
	OnboardingDone bool `json:"onboardingDone"`
	// OnboardingLinks holds the hosted onboarding URL while onboarding is not done.
	OnboardingLinks OnboardingLinks `json:"onboardingLinks,omitzero"`
	// Client is the client's Debitura creditor record.
	Client Creditor `json:"client,omitzero"`
	// Users are the client's users.
	Users []User `json:"users,omitempty"`
	// IsAttributedClient is true for a client created through the partner API (revenue on every
	// case) and false for an existing Debitura client linked after a 409 approval.
	IsAttributedClient bool `json:"isAttributedClient"`
	// DateLinked is when the link was created.
	DateLinked time.Time `json:"dateLinked,omitzero"`
	// CaseStats summarises the client's cases.
	CaseStats CaseStats `json:"caseStats,omitzero"`
	// KYCStatus is the client's KYC status.
	KYCStatus KYCStatus `json:"kycStatus,omitempty"`
	// KYCVerification is the latest KYC submission, or nil when there is none.
	KYCVerification *KYCVerification `json:"kycVerification,omitempty"`
	// CaseResults reports the cases sent with POST /clients. Other operations leave it empty.
	CaseResults CaseResults `json:"caseResults,omitzero"`

	// StatusCode is the HTTP status of the answer: 201 (onboarding done) or 202 (onboarding
	// pending) from Create, 200 from Get. It is 0 for the items of a list.
	StatusCode int `json:"-"`
	// Uncertain is true when Create had to send the request more than once and an earlier
	// attempt may have been processed by Debitura. Failed cases of type IdempotencyViolation are
	// then marked PossiblyCreated: they may have been created by that earlier attempt.
	Uncertain bool `json:"-"`
}

// OnboardingURL returns the hosted onboarding URL to send the client to, or "" when there is
// none (onboarding is done).
func (lc *LinkedClient) OnboardingURL() string {
	if lc == nil {
		return ""
	}
	return lc.OnboardingLinks.URL
}

// OnboardingLinks holds the hosted onboarding URL (OnboardingLinksDto).
type OnboardingLinks struct {
	// URL is the onboarding or agreement-upgrade page, or "" when onboarding is done.
	URL string `json:"url,omitempty"`
}

// Creditor is a client's Debitura creditor record (CreditorDto of the clients resource).
type Creditor struct {
	// ID is the creditor's UUID, the same value /oauth/token returns as creditorId.
	ID                        string `json:"id,omitempty"`
	CompanyName               string `json:"companyName,omitempty"`
	OfficeEmail               string `json:"officeEmail,omitempty"`
	Country                   string `json:"country,omitempty"`
	Address                   string `json:"address,omitempty"`
	City                      string `json:"city,omitempty"`
	ZipCode                   string `json:"zipCode,omitempty"`
	CompanyRegistrationNumber string `json:"companyRegistrationNumber,omitempty"`
}

// User is a user of a linked client as the API returns it (UserDto).
type User struct {
	// ID is Debitura's numeric user id.
	ID        int    `json:"id"`
	Email     string `json:"email,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
}

// CaseStats summarises a client's cases (ClientCaseStats).
type CaseStats struct {
	CasesTotal  int `json:"casesTotal"`
	CasesClosed int `json:"casesClosed"`
	// EarningsUSD is the partner's earnings from the client, in US dollars.
	EarningsUSD float64 `json:"earningsUsd"`
}

// KYCStatus is a client's KYC status. The API's enum lists PascalCase names but its wire format
// is snake_case; decoding accepts both (and any letter case) and normalises to the constants
// below. An unknown value is kept verbatim.
type KYCStatus string

// The KYC statuses the API documents.
const (
	KYCStatusNotRequired KYCStatus = "not_required"
	KYCStatusPending     KYCStatus = "pending"
	KYCStatusVerified    KYCStatus = "verified"
)

// UnmarshalJSON accepts "not_required", "NotRequired", "pending", "Pending", "verified",
// "Verified" in any letter case, and null (the empty status).
func (s *KYCStatus) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*s = ""
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = normalizeKYCStatus(v)
	return nil
}

func normalizeKYCStatus(v string) KYCStatus {
	key := strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(v))
	for _, k := range []KYCStatus{KYCStatusNotRequired, KYCStatusPending, KYCStatusVerified} {
		if key == strings.ReplaceAll(string(k), "_", "") {
			return k
		}
	}
	return KYCStatus(v)
}

// KYCVerificationStatus is the review status of a KYC submission. The empty value means "not yet
// reviewed" (the API sends null).
type KYCVerificationStatus string

// The review statuses the API documents.
const (
	KYCVerificationProcessing KYCVerificationStatus = "Processing"
	KYCVerificationCompleted  KYCVerificationStatus = "Completed"
)

// KYCVerification is a KYC submission as the API returns it (KycVerificationDto).
type KYCVerification struct {
	DirectorFullName    string `json:"directorFullName,omitempty"`
	DirectorHomeAddress string `json:"directorHomeAddress,omitempty"`
	DirectorDateOfBirth Date   `json:"directorDateOfBirth,omitzero"`
	// DateCreated is when the submission was received.
	DateCreated time.Time `json:"dateCreated,omitzero"`
	// VerificationStatus is "" until a reviewer sets it.
	VerificationStatus KYCVerificationStatus `json:"verificationStatus,omitempty"`
	// VerificationStatusUpdatedAt is when VerificationStatus was last set; zero until then.
	VerificationStatusUpdatedAt time.Time `json:"verificationStatusUpdatedAt,omitzero"`
}

// CaseResults reports the cases sent with POST /clients (MultiCaseResult).
type CaseResults struct {
	// SuccessfulCases are the cases that were created.
	SuccessfulCases []Invoice `json:"successfulCases,omitempty"`
	// FailedCases are the cases that were not created, with the reason.
	FailedCases []CaseCreationFailure `json:"failedCases,omitempty"`
}

// CaseErrorType says why a case sent with POST /clients was not created. Values the API does
// not document are kept verbatim.
type CaseErrorType string

// The case error types the API documents.
const (
	CaseErrorNoPartnerAvailable CaseErrorType = "NoPartnerAvailable"
	CaseErrorValidation         CaseErrorType = "ValidationError"
	CaseErrorDuplicateReference CaseErrorType = "DuplicateReference"
	// CaseErrorIdempotencyViolation: the client already existed from an earlier call, so the
	// case was not created again. Informational.
	CaseErrorIdempotencyViolation CaseErrorType = "IdempotencyViolation"
	CaseErrorUnexpected           CaseErrorType = "UnexpectedError"
)

// CaseCreationFailure is a case of POST /clients that was not created (CaseCreationFailure).
type CaseCreationFailure struct {
	// CaseIndex is the zero-based index of the case in ClientCreateRequest.Cases.
	CaseIndex         int           `json:"caseIndex"`
	CreditorReference string        `json:"creditorReference,omitempty"`
	ErrorType         CaseErrorType `json:"errorType,omitempty"`
	ErrorMessage      string        `json:"errorMessage,omitempty"`
	// ValidationErrors maps a field to its messages when the failure was a validation error.
	ValidationErrors map[string][]string `json:"validationErrors,omitempty"`
	SigningHandoff   *SigningHandoff     `json:"signingHandoff,omitempty"`

	// PossiblyCreated is true when the failure is an IdempotencyViolation reported to a Create
	// call that was sent more than once after an attempt whose outcome is unknown: that earlier
	// attempt may have created the case, so it must not be treated as plainly failed. Look the
	// case up (Customer API) before sending it again.
	PossiblyCreated bool `json:"-"`
}

// markUncertain records on lc that the call behind it was retried after an attempt whose outcome
// is unknown, and marks the case failures that such an attempt may have turned into created cases.
func markUncertain(lc *LinkedClient, resp *Response) {
	if lc == nil || resp == nil || !resp.Uncertain {
		return
	}
	lc.Uncertain = true
	for i := range lc.CaseResults.FailedCases {
		if lc.CaseResults.FailedCases[i].ErrorType == CaseErrorIdempotencyViolation {
			lc.CaseResults.FailedCases[i].PossiblyCreated = true
		}
	}
}

// SigningHandoff carries one URL that walks a creditor through every pending signing step
// (SigningHandoffDto).
type SigningHandoff struct {
	CombinedSigningURL string `json:"combinedSigningUrl,omitempty"`
}

// PageData describes one page of a paged list (PageData).
type PageData struct {
	// TotalResults is the number of records matching the query.
	TotalResults int `json:"totalResults"`
	// PageSize is how many records a page holds.
	PageSize int `json:"pageSize"`
	// CurrentPage is the number of this page, from 1.
	CurrentPage int `json:"currentPage"`
	// ResponseCount is how many records this page holds.
	ResponseCount int `json:"responseCount"`
	// TotalPages is the number of pages given TotalResults and PageSize.
	TotalPages int `json:"totalPages"`
}

// ClientsSummary counts the partner's clients (ClientsSummary).
type ClientsSummary struct {
	TotalClients       int `json:"totalClients"`
	AttributedClients  int `json:"attributedClients"`
	OnboardingComplete int `json:"onboardingComplete"`
	OnboardingPending  int `json:"onboardingPending"`
	TotalCases         int `json:"totalCases"`
}

// ClientList is one page of GET /clients (GetClientsResponse).
type ClientList struct {
	// Page describes the page.
	Page PageData `json:"page"`
	// Summary counts all the partner's clients.
	Summary ClientsSummary `json:"summary"`
	// Clients are the clients on this page.
	Clients []*LinkedClient `json:"clients"`
}

// Deletability says whether a client can be reset in the test environment
// (ClientDeletableResponse).
type Deletability struct {
	// IsDeletable is true when the client has no active cases and no leads with active quotes.
	IsDeletable bool `json:"isDeletable"`
	// Blockers lists the reasons the client cannot be deleted; empty when IsDeletable.
	Blockers []string `json:"blockers,omitempty"`
}

// KYCRequest is the body of POST /clients/{externalTenantId}/kyc-verification
// (SubmitKycVerificationRequest). Every field of the body is required.
type KYCRequest struct {
	// DirectorFullName is 1 to 500 characters.
	DirectorFullName string `json:"directorFullName"`
	// DirectorHomeAddress is 1 to 1000 characters.
	DirectorHomeAddress string `json:"directorHomeAddress"`
	// DirectorDateOfBirth is sent as "YYYY-MM-DD".
	DirectorDateOfBirth Date `json:"directorDateOfBirth"`
	// SendChatNotification is sent as the sendChatNotification query parameter, not in the
	// body; nil leaves it out and the API's default (true: post a system message on the
	// client's active cases) applies.
	SendChatNotification *bool `json:"-"`
}
