package mockserver

import (
	"fmt"
	"strings"
)

// The typed API behind the hosted onboarding pages ({public}/onboarding/companydetails/{linkId}
// and {public}/onboarding/ContractUpgrade/Sign/{linkId}).

// Onboarding steps reported by [OnboardingPage].
const (
	StepCompanyDetails  = "company_details"
	StepSignAgreement   = "sign_agreement"
	StepContractUpgrade = "contract_upgrade"
	StepDone            = "done"
)

// CompanyDetails are the client's details as the onboarding page shows and edits them.
type CompanyDetails struct {
	Name               string `json:"name"`
	RegistrationNumber string `json:"registrationNumber,omitempty"`
	Address            string `json:"address,omitempty"`
	ZipCode            string `json:"zipCode,omitempty"`
	City               string `json:"city,omitempty"`
	State              string `json:"state,omitempty"`
	Country            string `json:"country"` // ISO alpha-2 code or English name on input; code on output
	SupportEmail       string `json:"supportEmail"`
	SupportPhone       string `json:"supportPhone,omitempty"`
}

// PageUser is a user as the onboarding page shows it.
type PageUser struct {
	ID        int32  `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Role      string `json:"role"`
}

// OnboardingPageData is everything an onboarding page needs for one link.
type OnboardingPageData struct {
	LinkID                 string          `json:"linkId"`
	ExternalTenantID       string          `json:"externalTenantId"`
	Step                   string          `json:"step"`
	AgreementVersion       int             `json:"agreementVersion"`
	SignedAgreementVersion int             `json:"signedAgreementVersion"`
	DetailsSubmitted       bool            `json:"detailsSubmitted"`
	OnboardingDone         bool            `json:"onboardingDone"`
	Attributed             bool            `json:"attributed"`
	Company                CompanyDetails  `json:"company"`
	Users                  []PageUser      `json:"users"`
	Partner                PartnerBranding `json:"partner"`
}

func (b *Backend) pageLinkLocked(linkID string) (*linkRec, error) {
	l := b.st.Links[linkID]
	if l == nil || l.Archived || l.cred == nil {
		return nil, fmt.Errorf("%w: onboarding link", ErrNotFound)
	}
	return l, nil
}

// OnboardingPage returns the data of the onboarding page of a link (the {linkId} of an
// onboarding URL). ErrNotFound when the link does not exist or is archived.
func (b *Backend) OnboardingPage(linkID string) (OnboardingPageData, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, err := b.pageLinkLocked(linkID)
	if err != nil {
		return OnboardingPageData{}, err
	}
	c := l.cred
	d := OnboardingPageData{
		LinkID: l.ID, ExternalTenantID: l.ExternalTenantID, AgreementVersion: b.st.AgreementVersion,
		SignedAgreementVersion: c.SignedAgreementVersion, DetailsSubmitted: c.DetailsSubmitted,
		OnboardingDone: b.st.onboardingDone(c), Attributed: l.Attributed,
		Company: CompanyDetails{Name: c.CompanyName, RegistrationNumber: c.RegistrationNumber, Address: c.Address,
			ZipCode: c.ZipCode, City: c.City, State: c.State, Country: c.CountryCode, SupportEmail: c.SupportEmail,
			SupportPhone: c.SupportPhone},
		Partner: branding(b.st.Partners[l.PartnerID]),
	}
	for _, u := range c.Users {
		d.Users = append(d.Users, PageUser{ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Role: u.Role})
	}
	switch {
	case d.OnboardingDone:
		d.Step = StepDone
	case c.SignedAgreementVersion > 0:
		d.Step = StepContractUpgrade
	case !c.DetailsSubmitted:
		d.Step = StepCompanyDetails
	default:
		d.Step = StepSignAgreement
	}
	return d, nil
}

// SubmitCompanyDetails stores the company details entered on the onboarding page. Name,
// Country (known ISO code or name) and a valid SupportEmail are required (ErrInvalid).
func (b *Backend) SubmitCompanyDetails(linkID string, d CompanyDetails) error {
	code, _, ok := resolveCountry(d.Country)
	switch {
	case strings.TrimSpace(d.Name) == "":
		return fmt.Errorf("%w: company name is required", ErrInvalid)
	case !ok:
		return fmt.Errorf("%w: Unknown country: %s", ErrInvalid, d.Country)
	case !validEmail(strings.TrimSpace(d.SupportEmail)):
		return fmt.Errorf("%w: support e-mail is not valid", ErrInvalid)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l, err := b.pageLinkLocked(linkID)
	if err != nil {
		return err
	}
	c := l.cred
	b.st.editCreditor(c, func() {
		c.CompanyName, c.RegistrationNumber, c.Address = strings.TrimSpace(d.Name), d.RegistrationNumber, d.Address
		c.ZipCode, c.City, c.State, c.CountryCode = d.ZipCode, d.City, d.State, code
		c.SupportEmail, c.SupportPhone = strings.TrimSpace(d.SupportEmail), d.SupportPhone
		c.DetailsSubmitted = true
	})
	l.UpdatedAt = b.now()
	b.recordControl("submitCompanyDetails", l.PartnerID, []string{EffectDetailsSubmitted})
	return nil
}

// SignAgreement records the client's signature of the current agreement version (with the
// signing time): onboardingDone becomes true, POST /clients answers 201 and /oauth/token works.
func (b *Backend) SignAgreement(linkID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, err := b.pageLinkLocked(linkID)
	if err != nil {
		return err
	}
	now := b.now()
	wasDone := b.st.onboardingDone(l.cred)
	l.cred.SignedAgreementVersion, l.cred.SignedAt, l.cred.DetailsSubmitted = b.st.AgreementVersion, &now, true
	l.UpdatedAt = now
	if !wasDone {
		b.onAgreementSignedLocked(l, now) // client.onboarding.poa_signed / contract_signed
	}
	b.recordControl("signAgreement", l.PartnerID, []string{EffectOnboardingSigned})
	return nil
}

// SignContractUpgrade signs the newest agreement version for a client that signed an older one
// (the ContractUpgrade page). ErrConflict when the client never signed or is up to date.
func (b *Backend) SignContractUpgrade(linkID string) error {
	b.mu.Lock()
	l, err := b.pageLinkLocked(linkID)
	if err == nil && (l.cred.SignedAgreementVersion == 0 || b.st.onboardingDone(l.cred)) {
		err = fmt.Errorf("%w: no contract upgrade is pending", ErrConflict)
	}
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return b.SignAgreement(linkID)
}
