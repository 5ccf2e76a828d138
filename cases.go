package debitura

import "time"

// This file holds the case types that travel with the clients resource: the cases a partner may
// send with POST /clients (CreateCollectionCaseRequestApiViewModel) and the cases the API reports
// as created (InvoiceDto and the DTOs it contains).

// CaseRequest is a collection case sent with POST /clients
// (CreateCollectionCaseRequestApiViewModel). CurrencyCode is required; empty optional fields are
// not sent. Pointer fields distinguish "not set" from zero.
type CaseRequest struct {
	// CurrencyCode is the ISO 4217 currency of the amounts. Required.
	CurrencyCode string `json:"currencyCode"`
	// Date is the invoice date.
	Date time.Time `json:"date,omitzero"`
	// DueDate is the invoice due date.
	DueDate time.Time `json:"dueDate,omitzero"`
	// Comments, e.g. payment history; at most 4000 characters.
	Comments string `json:"comments,omitempty"`
	// ClaimDescription describes the claim; at most 4000 characters.
	ClaimDescription string `json:"claimDescription,omitempty"`
	// CreditorReference is the partner's or client's reference; at most 50 characters and
	// unique within one request.
	CreditorReference string `json:"creditorReference,omitempty"`
	// Debtor is the party that owes the debt.
	Debtor *Debtor `json:"debtor,omitempty"`
	// CreditorDivisionID is a division UUID of the creditor.
	CreditorDivisionID string `json:"creditorDivisionId,omitempty"`
	// AmountToRecover is the total principal to recover.
	AmountToRecover float64 `json:"amountToRecover"`
	// AmountToRecoverOver6Months is the part older than 6 months: <= AmountToRecover and >=
	// AmountToRecoverOver12Months.
	AmountToRecoverOver6Months *float64 `json:"amountToRecoverOver6Months,omitempty"`
	// AmountToRecoverOver12Months is the part older than 12 months; set it together with
	// AmountToRecoverOver24Months.
	AmountToRecoverOver12Months *float64 `json:"amountToRecoverOver12Months,omitempty"`
	// AmountToRecoverOver24Months is the part older than 24 months; set it together with
	// AmountToRecoverOver12Months.
	AmountToRecoverOver24Months *float64 `json:"amountToRecoverOver24Months,omitempty"`
	// SkipDebituraVerification sends the case straight to the collection partner.
	SkipDebituraVerification bool `json:"skipDebituraVerification,omitempty"`
	// SkipCreationEmails is accepted and ignored by the API.
	//
	// Deprecated: the API ignores it.
	SkipCreationEmails bool `json:"skipCreationEmails,omitempty"`
	// AllowPendingContracts accepts the case in PendingContractSigning while contracts are
	// unsigned, instead of a 422.
	AllowPendingContracts bool `json:"allowPendingContracts,omitempty"`
	// IsTest marks the case as test data.
	IsTest bool `json:"isTest,omitempty"`
	// Tag groups test data; at most 100 characters.
	Tag string `json:"tag,omitempty"`
	// CollectionPartnerID forces a collection partner (UUID).
	CollectionPartnerID string `json:"collectionPartnerId,omitempty"`
	// AssignedUserEmail is the creditor team member who owns the case; at most 320 characters.
	AssignedUserEmail string `json:"assignedUserEmail,omitempty"`
	// ReturnURL is where the signing chain lands afterwards; at most 2048 characters.
	ReturnURL string `json:"returnUrl,omitempty"`
}

// DebtorType is the kind of debtor. The schema documents "Company" and "Person"; the docs' case
// validation mentions "Private". Other values are sent verbatim.
type DebtorType string

// The debtor types the API's schema documents.
const (
	DebtorCompany DebtorType = "Company"
	DebtorPerson  DebtorType = "Person"
)

// Debtor is the party that owes a debt (DebtorDto), in requests and in responses. Type and Name
// are required in requests.
type Debtor struct {
	Type DebtorType `json:"type"`
	Name string     `json:"name"`
	// ContactPerson is required for companies and unused for persons.
	ContactPerson             string `json:"contactPerson,omitempty"`
	CompanyRegistrationNumber string `json:"companyRegistrationNumber,omitempty"`
	Address                   string `json:"address,omitempty"`
	ZipCode                   string `json:"zipCode,omitempty"`
	City                      string `json:"city,omitempty"`
	State                     string `json:"state,omitempty"`
	// StateAlpha2 is a US state: "CA", "US-CA" or the full name.
	StateAlpha2 string `json:"stateAlpha2,omitempty"`
	// CountryAlpha2 is an ISO 3166-1 alpha-2 code.
	CountryAlpha2 string `json:"countryAlpha2,omitempty"`
	Country       string `json:"country,omitempty"`
	Email         string `json:"email,omitempty"`
	Phone         string `json:"phone,omitempty"`
}

// Invoice is a case the API created (InvoiceDto), as reported in
// CaseResults.SuccessfulCases. Nullable fields that are null or absent decode to zero values.
type Invoice struct {
	ID                     string    `json:"id,omitempty"`
	DateCreated            time.Time `json:"dateCreated,omitzero"`
	DateUpdated            time.Time `json:"dateUpdated,omitzero"`
	Reference              string    `json:"reference,omitempty"`
	CreditorReference      string    `json:"creditorReference,omitempty"`
	CreditorComments       string    `json:"creditorComments,omitempty"`
	ClaimDescription       string    `json:"claimDescription,omitempty"`
	GrossAmount            float64   `json:"grossAmount"`
	Remainder              float64   `json:"remainder"`
	InterestFees           float64   `json:"interestFees"`
	ReminderFees           float64   `json:"reminderFees"`
	CollectionFees         float64   `json:"collectionFees"`
	TotalAddedFees         float64   `json:"totalAddedFees"`
	Currency               string    `json:"currency,omitempty"`
	IsTestCase             bool      `json:"isTestCase"`
	Lifecycle              string    `json:"lifecycle,omitempty"`
	DueDate                time.Time `json:"dueDate,omitzero"`
	Date                   time.Time `json:"date,omitzero"`
	DateFinished           time.Time `json:"dateFinished,omitzero"`
	DateCollectionStarted  time.Time `json:"dateCollectionStarted,omitzero"`
	CloseCode              string    `json:"closeCode,omitempty"`
	CurrentEngagementPhase string    `json:"currentEngagementPhase,omitempty"`
	ClaimType              string    `json:"claimType,omitempty"`
	CreditorDivisionID     string    `json:"creditorDivisionId,omitempty"`

	Debtor            *Debtor            `json:"debtor,omitempty"`
	CollectionPartner *CollectionPartner `json:"collectionPartner,omitempty"`
	Creditor          *CaseCreditor      `json:"creditor,omitempty"`
	BankAccount       *BankAccount       `json:"bankAccount,omitempty"`

	// BlendedAgeUpliftPoints (0-20) is set for multi-invoice cases only.
	BlendedAgeUpliftPoints *float64 `json:"blendedAgeUpliftPoints,omitempty"`
	// PreLegalSuccessFee is the total pre-legal success fee percentage, when calculated.
	PreLegalSuccessFee *float64 `json:"preLegalSuccessFee,omitempty"`
	// SolutionURL is the signing page of a case created with pending contracts.
	//
	// Deprecated: use SigningHandoff.CombinedSigningURL.
	SolutionURL            string                 `json:"solutionUrl,omitempty"`
	SigningHandoff         *SigningHandoff        `json:"signingHandoff,omitempty"`
	ExclusivePeriodEndDate time.Time              `json:"exclusivePeriodEndDate,omitzero"`
	DisputeStatus          string                 `json:"disputeStatus,omitempty"`
	Validation             *CaseValidation        `json:"validation,omitempty"`
	AssignedUser           *AssignedUser          `json:"assignedUser,omitempty"`
	AllocationOutstanding  *AllocationOutstanding `json:"allocationOutstanding,omitempty"`
}

// CollectionPartner is the collection agency working a case (CollectionPartnerDto).
type CollectionPartner struct {
	Name        string `json:"name,omitempty"`
	OfficeEmail string `json:"officeEmail,omitempty"`
	OfficePhone string `json:"officePhone,omitempty"`
	PublicSite  string `json:"publicSite,omitempty"`
	// SurveyCadenceMode is 0 or 1.
	SurveyCadenceMode int `json:"surveyCadenceMode"`
}

// CaseCreditor is the creditor of a case (CreditorDto of the cases contracts).
type CaseCreditor struct {
	ID                        string            `json:"id,omitempty"`
	CompanyName               string            `json:"companyName,omitempty"`
	CompanyRegistrationNumber string            `json:"companyRegistrationNumber,omitempty"`
	OfficeEmail               string            `json:"officeEmail,omitempty"`
	OfficePhone               string            `json:"officePhone,omitempty"`
	Address                   string            `json:"address,omitempty"`
	City                      string            `json:"city,omitempty"`
	ZipCode                   string            `json:"zipCode,omitempty"`
	State                     string            `json:"state,omitempty"`
	Country                   string            `json:"country,omitempty"`
	Division                  *CreditorDivision `json:"division,omitempty"`
}

// CreditorDivision is a division of a creditor (CreditorDivisionDto).
type CreditorDivision struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// BankAccount is the account payments of a case go to (BankAccountDto).
type BankAccount struct {
	ID                  int    `json:"id"`
	Label               string `json:"label,omitempty"`
	Scheme              string `json:"scheme,omitempty"`
	CurrencyCode        string `json:"currencyCode,omitempty"`
	BankCountryCode     string `json:"bankCountryCode,omitempty"`
	AccountHolderName   string `json:"accountHolderName,omitempty"`
	IBAN                string `json:"iban,omitempty"`
	BIC                 string `json:"bic,omitempty"`
	AccountNumber       string `json:"accountNumber,omitempty"`
	LocalIdentifier     string `json:"localIdentifier,omitempty"`
	LocalIdentifierType string `json:"localIdentifierType,omitempty"`
	BankName            string `json:"bankName,omitempty"`
	BankAddress         string `json:"bankAddress,omitempty"`
	BankCity            string `json:"bankCity,omitempty"`
	BankZipCode         string `json:"bankZipCode,omitempty"`
	BankState           string `json:"bankState,omitempty"`
}

// CaseValidation summarises a case's latest validation run (CaseValidationLeanDto).
type CaseValidation struct {
	// NeedsInfo is true when the creditor must act.
	NeedsInfo bool `json:"needsInfo"`
}

// AssignedUser is the creditor team member who owns a case (AssignedUserDto).
type AssignedUser struct {
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// AllocationOutstanding is what is still outstanding per ledger bucket
// (InvoiceAllocationOutstandingDto).
type AllocationOutstanding struct {
	Principal      float64 `json:"principal"`
	Interest       float64 `json:"interest"`
	ReminderFees   float64 `json:"reminderFees"`
	CollectionFees float64 `json:"collectionFees"`
}
