package mockserver

// Wire shapes of the published spec (openapi.yaml) and the guide extension, in camelCase. Nullable
// fields are pointers without omitempty, so an absent value is written as null (Newtonsoft's
// default); objects the spec does not mark nullable are omitted when the mock has nothing to say.

type wireAPIError struct {
	Error          *string             `json:"error"`
	Message        *string             `json:"message"`
	BusinessErrors []wireBusinessError `json:"businessErrors"`
	// ValidationErrors is sent only with "Case validation failed" (the docs' shape); see doc.go.
	ValidationErrors map[string][]string `json:"validationErrors,omitempty"`
}

type wireBusinessError struct {
	Type        *string `json:"type"`
	Message     *string `json:"message"`
	SolutionURL *string `json:"solutionUrl"`
}

type wireProblem struct {
	Type    string              `json:"type"`
	Title   string              `json:"title"`
	Status  int                 `json:"status"`
	Detail  *string             `json:"detail,omitempty"`
	Errors  map[string][]string `json:"errors,omitempty"`
	TraceID string              `json:"traceId"`
}

type wireConflict struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

type wireOnboardingLinks struct {
	URL *string `json:"url"`
}

type wireNeedsLinkingData struct {
	ExternalTenantID   string              `json:"externalTenantId"`
	OnboardingLinks    wireOnboardingLinks `json:"onboardingLinks"`
	IsAttributedClient bool                `json:"isAttributedClient"`
}

type wireAlreadyLinkedData struct {
	ExternalTenantID string `json:"externalTenantId"`
}

type wireDifferentTenantData struct {
	ExternalTenantID         string `json:"externalTenantId"`
	ExistingExternalTenantID string `json:"existingExternalTenantId"`
}

type wireCreditor struct {
	ID                        string  `json:"id"`
	CompanyName               *string `json:"companyName"`
	OfficeEmail               *string `json:"officeEmail"`
	Country                   *string `json:"country"`
	Address                   *string `json:"address"`
	City                      *string `json:"city"`
	ZipCode                   *string `json:"zipCode"`
	CompanyRegistrationNumber *string `json:"companyRegistrationNumber"`
}

type wireUser struct {
	ID        int32   `json:"id"`
	Email     *string `json:"email"`
	FirstName *string `json:"firstName"`
	LastName  *string `json:"lastName"`
}

type wireCaseStats struct {
	CasesTotal  int32   `json:"casesTotal"`
	CasesClosed int32   `json:"casesClosed"`
	EarningsUSD float64 `json:"earningsUsd"`
}

type wireKYC struct {
	DirectorFullName            *string `json:"directorFullName"`
	DirectorHomeAddress         *string `json:"directorHomeAddress"`
	DirectorDateOfBirth         string  `json:"directorDateOfBirth"`
	DateCreated                 string  `json:"dateCreated"`
	VerificationStatus          *string `json:"verificationStatus,omitempty"`
	VerificationStatusUpdatedAt *string `json:"verificationStatusUpdatedAt"`
}

type wireClient struct {
	ExternalTenantID   *string             `json:"externalTenantId"`
	OnboardingDone     bool                `json:"onboardingDone"`
	OnboardingLinks    wireOnboardingLinks `json:"onboardingLinks"`
	Client             wireCreditor        `json:"client"`
	Users              []wireUser          `json:"users"`
	IsAttributedClient bool                `json:"isAttributedClient"`
	DateLinked         string              `json:"dateLinked"`
	CaseStats          wireCaseStats       `json:"caseStats"`
	KycStatus          string              `json:"kycStatus"`
	KycVerification    *wireKYC            `json:"kycVerification,omitempty"`
	CaseResults        *wireCaseResults    `json:"caseResults,omitempty"`
}

type wireCaseResults struct {
	SuccessfulCases []wireInvoice     `json:"successfulCases"`
	FailedCases     []wireCaseFailure `json:"failedCases"`
}

type wireCaseFailure struct {
	CaseIndex         int32               `json:"caseIndex"`
	CreditorReference *string             `json:"creditorReference"`
	ErrorType         *string             `json:"errorType"`
	ErrorMessage      *string             `json:"errorMessage"`
	ValidationErrors  map[string][]string `json:"validationErrors"`
}

type wireDebtor struct {
	Type                      string  `json:"type"`
	Name                      string  `json:"name"`
	ContactPerson             *string `json:"contactPerson"`
	CompanyRegistrationNumber *string `json:"companyRegistrationNumber"`
	Address                   *string `json:"address"`
	ZipCode                   *string `json:"zipCode"`
	City                      *string `json:"city"`
	State                     *string `json:"state"`
	StateAlpha2               *string `json:"stateAlpha2"`
	CountryAlpha2             *string `json:"countryAlpha2"`
	Country                   *string `json:"country"`
	Email                     *string `json:"email"`
	Phone                     *string `json:"phone"`
}

type wireCollectionPartner struct {
	Name              *string `json:"name"`
	OfficeEmail       *string `json:"officeEmail"`
	OfficePhone       *string `json:"officePhone"`
	PublicSite        *string `json:"publicSite"`
	SurveyCadenceMode int     `json:"surveyCadenceMode"`
}

type wireCaseCreditor struct {
	ID                        string  `json:"id"`
	CompanyName               *string `json:"companyName"`
	CompanyRegistrationNumber *string `json:"companyRegistrationNumber"`
	OfficeEmail               *string `json:"officeEmail"`
	OfficePhone               *string `json:"officePhone"`
	Address                   *string `json:"address"`
	City                      *string `json:"city"`
	ZipCode                   *string `json:"zipCode"`
	State                     *string `json:"state"`
	Country                   *string `json:"country"`
}

type wireSigningHandoff struct {
	CombinedSigningURL *string `json:"combinedSigningUrl"`
}

type wireInvoice struct {
	ID                     string                 `json:"id"`
	DateCreated            string                 `json:"dateCreated"`
	DateUpdated            *string                `json:"dateUpdated"`
	Reference              *string                `json:"reference"`
	CreditorReference      *string                `json:"creditorReference"`
	CreditorComments       *string                `json:"creditorComments"`
	ClaimDescription       *string                `json:"claimDescription"`
	GrossAmount            float64                `json:"grossAmount"`
	Remainder              float64                `json:"remainder"`
	InterestFees           float64                `json:"interestFees"`
	ReminderFees           float64                `json:"reminderFees"`
	CollectionFees         float64                `json:"collectionFees"`
	TotalAddedFees         float64                `json:"totalAddedFees"`
	Currency               *string                `json:"currency"`
	IsTestCase             bool                   `json:"isTestCase"`
	Lifecycle              *string                `json:"lifecycle"`
	DueDate                string                 `json:"dueDate"`
	Date                   string                 `json:"date"`
	DateFinished           *string                `json:"dateFinished"`
	DateCollectionStarted  *string                `json:"dateCollectionStarted"`
	CloseCode              *string                `json:"closeCode"`
	CurrentEngagementPhase *string                `json:"currentEngagementPhase"`
	ClaimType              *string                `json:"claimType"`
	CreditorDivisionID     *string                `json:"creditorDivisionId"`
	Debtor                 wireDebtor             `json:"debtor"`
	CollectionPartner      *wireCollectionPartner `json:"collectionPartner,omitempty"`
	Creditor               wireCaseCreditor       `json:"creditor"`
	SolutionURL            *string                `json:"solutionUrl"`
	SigningHandoff         *wireSigningHandoff    `json:"signingHandoff,omitempty"`
	ExclusivePeriodEndDate *string                `json:"exclusivePeriodEndDate"`
	DisputeStatus          *string                `json:"disputeStatus"`
}

type wirePageData struct {
	TotalResults  int32 `json:"totalResults"`
	PageSize      int32 `json:"pageSize"`
	CurrentPage   int32 `json:"currentPage"`
	ResponseCount int32 `json:"responseCount"`
	TotalPages    int32 `json:"totalPages"`
}

type wireSummary struct {
	TotalClients       int32 `json:"totalClients"`
	AttributedClients  int32 `json:"attributedClients"`
	OnboardingComplete int32 `json:"onboardingComplete"`
	OnboardingPending  int32 `json:"onboardingPending"`
	TotalCases         int32 `json:"totalCases"`
}

type wireClientList struct {
	Page    wirePageData `json:"page"`
	Summary wireSummary  `json:"summary"`
	Clients []wireClient `json:"clients"`
}

type wireDeletable struct {
	IsDeletable bool     `json:"isDeletable"`
	Blockers    []string `json:"blockers"`
}

type wireAccessToken struct {
	AccessToken      *string `json:"accessToken"`
	ExpiresIn        int32   `json:"expiresIn"`
	CreditorID       string  `json:"creditorId"`
	ExternalTenantID *string `json:"externalTenantId"`
	TokenType        *string `json:"tokenType"`
}

type wirePartner struct {
	ID                    string  `json:"id"`
	CompanyName           *string `json:"companyName"`
	ShortName             *string `json:"shortName"`
	ContactEmail          *string `json:"contactEmail"`
	ExternalSystemID      *string `json:"externalSystemId"`
	ReferralFeePercentage float64 `json:"referralFeePercentage"`
	IsActive              bool    `json:"isActive"`
	IsPublicDemo          bool    `json:"isPublicDemo"`
	LogoURL               *string `json:"logoUrl"`
	BackgroundColorCode   *string `json:"backgroundColorCode"`
	FontColor             *string `json:"fontColor"`
	FontFamily            *string `json:"fontFamily"`
	InvoicingTriggerMode  string  `json:"invoicingTriggerMode"`
}

type wireProfile struct {
	ExternalTenantID string         `json:"externalTenantId"`
	Status           string         `json:"status"`
	SupportEmail     *string        `json:"supportEmail"`
	SupportPhone     *string        `json:"supportPhone"`
	Metadata         map[string]any `json:"metadata"`
	UpdatedAt        string         `json:"updatedAt"`
	SuspendedAt      *string        `json:"suspendedAt"`
}

type wireRotate struct {
	AccessToken            string `json:"accessToken"`
	TokenType              string `json:"tokenType"`
	ExpiresIn              int32  `json:"expiresIn"`
	PreviousTokenExpiresAt string `json:"previousTokenExpiresAt"`
}

type wireRateLimit struct {
	Error      string  `json:"error"`
	Message    string  `json:"message"`
	RetryAfter float64 `json:"retryAfter"`
}

// ---- request side (decoded case-insensitively by encoding/json, unknown members rejected)

type reqCreateClient struct {
	ExternalTenantID *string          `json:"externalTenantId"`
	Client           *reqClientDetail `json:"client"`
	Users            []reqUser        `json:"users"`
	Cases            []reqCase        `json:"cases"`
}

type reqClientDetail struct {
	Name               *string `json:"name"`
	RegistrationNumber *string `json:"registrationNumber"`
	Address            *string `json:"address"`
	ZipCode            *string `json:"zipCode"`
	City               *string `json:"city"`
	State              *string `json:"state"`
	Country            *string `json:"country"`
	SupportEmail       *string `json:"supportEmail"`
	SupportPhone       *string `json:"supportPhone"`
}

type reqUser struct {
	Name             *string `json:"name"`
	Email            *string `json:"email"`
	IsOnboardingUser bool    `json:"isOnboardingUser"`
}

// reqCase is CreateCollectionCaseRequestApiViewModel. It is also what a link request stores for
// replay, so its fields are exported-by-tag and plain.
type reqCase struct {
	CurrencyCode                *string    `json:"currencyCode"`
	Date                        *string    `json:"date,omitempty"`
	DueDate                     *string    `json:"dueDate,omitempty"`
	Comments                    *string    `json:"comments,omitempty"`
	ClaimDescription            *string    `json:"claimDescription,omitempty"`
	CreditorReference           *string    `json:"creditorReference,omitempty"`
	Debtor                      *reqDebtor `json:"debtor,omitempty"`
	CreditorDivisionID          *string    `json:"creditorDivisionId,omitempty"`
	AmountToRecover             *float64   `json:"amountToRecover,omitempty"`
	AmountToRecoverOver6Months  *float64   `json:"amountToRecoverOver6Months,omitempty"`
	AmountToRecoverOver12Months *float64   `json:"amountToRecoverOver12Months,omitempty"`
	AmountToRecoverOver24Months *float64   `json:"amountToRecoverOver24Months,omitempty"`
	SkipDebituraVerification    bool       `json:"skipDebituraVerification,omitempty"`
	SkipCreationEmails          bool       `json:"skipCreationEmails,omitempty"`
	AllowPendingContracts       bool       `json:"allowPendingContracts,omitempty"`
	IsTest                      bool       `json:"isTest,omitempty"`
	Tag                         *string    `json:"tag,omitempty"`
	CollectionPartnerID         *string    `json:"collectionPartnerId,omitempty"`
	AssignedUserEmail           *string    `json:"assignedUserEmail,omitempty"`
	ReturnURL                   *string    `json:"returnUrl,omitempty"`
}

type reqDebtor struct {
	Type                      *string `json:"type"`
	Name                      *string `json:"name"`
	ContactPerson             *string `json:"contactPerson,omitempty"`
	CompanyRegistrationNumber *string `json:"companyRegistrationNumber,omitempty"`
	Address                   *string `json:"address,omitempty"`
	ZipCode                   *string `json:"zipCode,omitempty"`
	City                      *string `json:"city,omitempty"`
	State                     *string `json:"state,omitempty"`
	StateAlpha2               *string `json:"stateAlpha2,omitempty"`
	CountryAlpha2             *string `json:"countryAlpha2,omitempty"`
	Country                   *string `json:"country,omitempty"`
	Email                     *string `json:"email,omitempty"`
	Phone                     *string `json:"phone,omitempty"`
}

type reqKYC struct {
	DirectorFullName    *string `json:"directorFullName"`
	DirectorHomeAddress *string `json:"directorHomeAddress"`
	DirectorDateOfBirth *string `json:"directorDateOfBirth"`
}

type reqToken struct {
	ExternalTenantID *string `json:"externalTenantId"`
}

func strp(s string) *string { return &s }

// nz returns nil for "" so that empty values go out as null.
func nz(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
