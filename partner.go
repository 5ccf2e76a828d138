package debitura

import "context"

// InvoicingTriggerMode says what makes a partner payout ready to invoice. Values the API does not
// document are kept verbatim.
type InvoicingTriggerMode string

// The invoicing trigger modes the API documents.
const (
	InvoicingPayWhenPaid       InvoicingTriggerMode = "PayWhenPaid"
	InvoicingConfirmedPipeline InvoicingTriggerMode = "ConfirmedPipeline"
)

// Partner is the authenticated referral partner (ReferralPartnerResponse). Nullable fields that
// are null or absent decode to "".
type Partner struct {
	// ID is the partner's UUID.
	ID               string `json:"id,omitempty"`
	CompanyName      string `json:"companyName,omitempty"`
	ShortName        string `json:"shortName,omitempty"`
	ContactEmail     string `json:"contactEmail,omitempty"`
	ExternalSystemID string `json:"externalSystemId,omitempty"`
	// ReferralFeePercentage is the share of Debitura's earnings paid to the partner, in percent.
	ReferralFeePercentage float64 `json:"referralFeePercentage"`
	IsActive              bool    `json:"isActive"`
	// IsPublicDemo marks a partner used for public onboarding demos.
	IsPublicDemo bool `json:"isPublicDemo"`
	// LogoURL, BackgroundColorCode, FontColor and FontFamily brand the hosted onboarding pages.
	LogoURL              string               `json:"logoUrl,omitempty"`
	BackgroundColorCode  string               `json:"backgroundColorCode,omitempty"`
	FontColor            string               `json:"fontColor,omitempty"`
	FontFamily           string               `json:"fontFamily,omitempty"`
	InvoicingTriggerMode InvoicingTriggerMode `json:"invoicingTriggerMode,omitempty"`
}

// Me returns the partner the API key belongs to (GET /me). It is the cheapest way to check that
// a key works.
//
// Errors: *[APIError] matching ErrUnauthorized (missing or invalid key) or ErrNotFound (the
// partner's configuration is invalid).
func (s *PartnerService) Me(ctx context.Context, callOpts ...CallOption) (*Partner, error) {
	return doResult[Partner](ctx, s.client, &apiRequest{
		name:   "Partner.Me",
		op:     "getMe",
		method: "GET",
		route:  "/me",
		path:   "/me",
		retry:  retrySafe,
	}, callOpts)
}
