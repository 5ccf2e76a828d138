package mockserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/debitura-go/debitura/internal/apikey"
)

// Errors of the typed control API. They are matched with errors.Is.
var (
	// ErrNotFound: no such partner, client, link, link request or case.
	ErrNotFound = errors.New("mockserver: not found")
	// ErrConflict: the request clashes with the current state (e.g. the creditor is already
	// linked, the link request was already decided).
	ErrConflict = errors.New("mockserver: conflict with current state")
	// ErrExpired: the link request passed its TTL.
	ErrExpired = errors.New("mockserver: link request expired")
	// ErrInvalid: a spec or argument is invalid.
	ErrInvalid = errors.New("mockserver: invalid argument")
)

// PartnerSpec describes a referral partner. APIKey is 1-256 printable ASCII characters without
// spaces (prefer a "mock_" prefix). Zero values get defaults: a generated ID, ReferralFeePercentage 20, InvoicingTriggerMode "PayWhenPaid",
// ApprovalTTLDays 7 (always clamped to 1-30).
type PartnerSpec struct {
	ID                    string  `json:"id,omitempty"`
	APIKey                string  `json:"apiKey"`
	CompanyName           string  `json:"companyName,omitempty"`
	ShortName             string  `json:"shortName,omitempty"`
	ContactEmail          string  `json:"contactEmail,omitempty"`
	ExternalSystemID      string  `json:"externalSystemId,omitempty"`
	ReferralFeePercentage float64 `json:"referralFeePercentage,omitempty"`
	Inactive              bool    `json:"inactive,omitempty"`
	IsPublicDemo          bool    `json:"isPublicDemo,omitempty"`
	LogoURL               string  `json:"logoUrl,omitempty"`
	BackgroundColorCode   string  `json:"backgroundColorCode,omitempty"`
	FontColor             string  `json:"fontColor,omitempty"`
	FontFamily            string  `json:"fontFamily,omitempty"`
	InvoicingTriggerMode  string  `json:"invoicingTriggerMode,omitempty"`
	ApprovalTTLDays       int     `json:"approvalTtlDays,omitempty"`
}

// UserSpec is a user of a pre-existing creditor.
type UserSpec struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// CreditorSpec describes an account that exists in "Debitura" before any link, so that POST
// /clients can run into it through the e-mail match. Emails is a shorthand for Users whose
// names are derived from the address. Kind is [KindCreditor] (default) or any other value such as
// [KindCollectionPartner] (matched -> 409 InvalidClientType). LinkedToPartner (an API key or a
// partner id) creates an active link under LinkedAsExternalTenantID (default
// "existing-<creditor id>"), attributed when Attributed is set. OnboardingDone means the creditor
// has signed the current agreement.
type CreditorSpec struct {
	ID                       string     `json:"id,omitempty"`
	CompanyName              string     `json:"companyName"`
	Country                  string     `json:"country,omitempty"`
	RegistrationNumber       string     `json:"registrationNumber,omitempty"`
	Address                  string     `json:"address,omitempty"`
	ZipCode                  string     `json:"zipCode,omitempty"`
	City                     string     `json:"city,omitempty"`
	SupportEmail             string     `json:"supportEmail,omitempty"`
	SupportPhone             string     `json:"supportPhone,omitempty"`
	Users                    []UserSpec `json:"users,omitempty"`
	Emails                   []string   `json:"emails,omitempty"`
	Kind                     string     `json:"kind,omitempty"`
	LinkedToPartner          string     `json:"linkedToPartner,omitempty"`
	LinkedAsExternalTenantID string     `json:"linkedAsExternalTenantId,omitempty"`
	Attributed               bool       `json:"attributed,omitempty"`
	OnboardingDone           bool       `json:"onboardingDone,omitempty"`
}

// AddPartner adds a partner and returns its spec with defaults filled in.
func (b *Backend) AddPartner(p PartnerSpec) (PartnerSpec, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addPartnerLocked(p)
}

func (b *Backend) addPartnerLocked(p PartnerSpec) (PartnerSpec, error) {
	if !apikey.Valid(p.APIKey) {
		return p, fmt.Errorf("%w: apiKey: a partner API key is 1-256 printable ASCII characters without spaces", ErrInvalid)
	}
	if p.ID != "" && !apikey.Valid(p.ID) {
		return p, fmt.Errorf("%w: id: a partner id is 1-256 printable ASCII characters without spaces", ErrInvalid)
	}
	if math.IsNaN(p.ReferralFeePercentage) || p.ReferralFeePercentage < 0 || p.ReferralFeePercentage > 100 {
		return p, fmt.Errorf("%w: referralFeePercentage: must be between 0 and 100", ErrInvalid)
	}
	if b.st.partnerByKey[p.APIKey] != nil {
		return p, fmt.Errorf("%w: apiKey: a partner with this API key exists", ErrConflict)
	}
	if p.ID == "" {
		p.ID = b.ids.uuid()
	}
	if b.st.Partners[p.ID] != nil {
		return p, fmt.Errorf("%w: id: partner id %s exists", ErrConflict, p.ID)
	}
	if p.CompanyName == "" {
		p.CompanyName = "Partner " + p.ID[:min(8, len(p.ID))]
	}
	if p.ShortName == "" {
		p.ShortName = strings.ToLower(strings.ReplaceAll(p.CompanyName, " ", ""))
	}
	if p.ReferralFeePercentage == 0 {
		p.ReferralFeePercentage = 20
	}
	if p.InvoicingTriggerMode == "" {
		p.InvoicingTriggerMode = "PayWhenPaid"
	}
	p.ApprovalTTLDays = clampTTL(p.ApprovalTTLDays)
	rec := &partnerRec{
		ID: p.ID, APIKey: p.APIKey, CompanyName: p.CompanyName, ShortName: p.ShortName, ContactEmail: p.ContactEmail,
		ExternalSystemID: p.ExternalSystemID, ReferralFeePercentage: p.ReferralFeePercentage, Inactive: p.Inactive,
		IsPublicDemo: p.IsPublicDemo, LogoURL: p.LogoURL, BackgroundColorCode: p.BackgroundColorCode,
		FontColor: p.FontColor, FontFamily: p.FontFamily, InvoicingTriggerMode: p.InvoicingTriggerMode,
		ApprovalTTLDays: p.ApprovalTTLDays,
	}
	b.st.addPartner(rec)
	return p, nil
}

// partnerLocked finds a partner by API key or id.
func (b *Backend) partnerLocked(keyOrID string) (*partnerRec, error) {
	if p := b.st.partnerByKey[keyOrID]; p != nil {
		return p, nil
	}
	if p := b.st.Partners[keyOrID]; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: partner", ErrNotFound)
}

// SetReferralFeePercentage changes a partner's current referral fee. Links created before keep
// the percentage snapshotted when they were created.
func (b *Backend) SetReferralFeePercentage(apiKey string, pct float64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, err := b.partnerLocked(apiKey)
	if err != nil {
		return err
	}
	p.ReferralFeePercentage = pct
	return nil
}

// AddCreditor adds a pre-existing Debitura account and returns its id.
func (b *Backend) AddCreditor(spec CreditorSpec) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if strings.TrimSpace(spec.CompanyName) == "" {
		return "", fmt.Errorf("%w: companyName: is required", ErrInvalid)
	}
	if spec.Country == "" {
		spec.Country = "DK"
	}
	code, _, ok := resolveCountry(spec.Country)
	if !ok {
		return "", fmt.Errorf("%w: country: unknown country %q", ErrInvalid, spec.Country)
	}
	if spec.Kind == "" {
		spec.Kind = KindCreditor
	}
	users := append([]UserSpec{}, spec.Users...)
	for _, e := range spec.Emails {
		local, _, _ := strings.Cut(e, "@")
		users = append(users, UserSpec{Name: strings.ReplaceAll(local, ".", " "), Email: e})
	}
	if spec.SupportEmail == "" && len(users) > 0 {
		spec.SupportEmail = users[0].Email
	}
	if spec.SupportEmail == "" {
		return "", fmt.Errorf("%w: supportEmail: a supportEmail, users or emails is required", ErrInvalid)
	}
	if spec.ID == "" {
		spec.ID = b.ids.uuid()
	}
	if b.st.Creditors[spec.ID] != nil {
		return "", fmt.Errorf("%w: id: creditor id %s exists", ErrConflict, spec.ID)
	}
	var p *partnerRec
	if spec.LinkedToPartner != "" {
		var err error
		if p, err = b.partnerLocked(spec.LinkedToPartner); err != nil {
			return "", err
		}
		if spec.LinkedAsExternalTenantID == "" {
			spec.LinkedAsExternalTenantID = "existing-" + spec.ID
		}
		if p.active[spec.LinkedAsExternalTenantID] != nil {
			return "", fmt.Errorf("%w: the partner already has a client %q", ErrConflict, spec.LinkedAsExternalTenantID)
		}
	}
	now := b.now()
	c := &creditorRec{
		ID: spec.ID, Seq: b.st.nextSeq(), Kind: spec.Kind, CompanyName: spec.CompanyName, RegistrationNumber: spec.RegistrationNumber,
		Address: spec.Address, ZipCode: spec.ZipCode, City: spec.City, CountryCode: code, SupportEmail: spec.SupportEmail,
		SupportPhone: spec.SupportPhone, Created: now, DetailsSubmitted: true,
	}
	for i, u := range users {
		first, last := splitName(u.Name)
		role := "CreditorUser"
		if i == 0 {
			role = "CreditorAdmin"
		}
		c.Users = append(c.Users, userRec{ID: b.st.nextUserID(), Email: u.Email, FirstName: first, LastName: last, Role: role})
	}
	if spec.OnboardingDone {
		c.SignedAgreementVersion, c.SignedAt = b.st.AgreementVersion, &now
	}
	b.st.addCreditor(c)
	if p != nil {
		l := &linkRec{
			ID: b.ids.uuid(), Seq: b.st.nextSeq(), PartnerID: p.ID, ExternalTenantID: spec.LinkedAsExternalTenantID,
			CreditorID: c.ID, Attributed: spec.Attributed, Created: now, ReferralFeePercentage: p.ReferralFeePercentage,
			UpdatedAt: now, cred: c,
		}
		b.st.addActiveLink(p, l)
	}
	return c.ID, nil
}

// linkForLocked finds the active client ext of the partner with apiKey (key or partner id).
func (b *Backend) linkForLocked(apiKey, ext string) (*linkRec, error) {
	p, err := b.partnerLocked(apiKey)
	if err != nil {
		return nil, err
	}
	l := p.active[ext]
	if l == nil {
		return nil, fmt.Errorf("%w: no active client %q", ErrNotFound, ext)
	}
	return l, nil
}

// CompleteOnboarding signs the current agreement for the partner's client ext, as the client
// would on the hosted onboarding page (onboardingDone becomes true; POST /clients answers 201).
func (b *Backend) CompleteOnboarding(apiKey, ext string) error {
	b.mu.Lock()
	l, err := b.linkForLocked(apiKey, ext)
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return b.SignAgreement(l.ID)
}

// ReleaseAgreement publishes a new agreement (SDCA) version: every client that signed an older
// one is onboardingDone=false again and POST /clients answers 202 with the ContractUpgrade URL.
// It returns the new version number.
func (b *Backend) ReleaseAgreement() int {
	b.mu.Lock()
	b.st.AgreementVersion++
	v := b.st.AgreementVersion
	b.mu.Unlock()
	b.recordControl("releaseAgreement", "", []string{EffectAgreementReleased})
	return v
}

// AgreementVersion reports the current agreement version (1 at start).
func (b *Backend) AgreementVersion() int {
	b.mu.Lock()
	defer b.mu.unlockUnchanged()
	return b.st.AgreementVersion
}

// LinkRequestInfo describes a pending or decided link request (what the approval page shows).
type LinkRequestInfo struct {
	ID               string          `json:"id"`
	ExternalTenantID string          `json:"externalTenantId"`
	PartnerID        string          `json:"partnerId"`
	Partner          PartnerBranding `json:"partner"`
	CreditorID       string          `json:"creditorId"`
	CompanyName      string          `json:"companyName"`
	Status           string          `json:"status"` // pending, approved, declined, expired
	Created          time.Time       `json:"created"`
	ExpiresAt        time.Time       `json:"expiresAt"`
	CaseCount        int             `json:"caseCount"`
	LinkID           string          `json:"linkId,omitempty"`
}

// PartnerBranding is what the hosted pages show of a partner.
type PartnerBranding struct {
	CompanyName         string `json:"companyName"`
	ShortName           string `json:"shortName"`
	LogoURL             string `json:"logoUrl,omitempty"`
	BackgroundColorCode string `json:"backgroundColorCode,omitempty"`
	FontColor           string `json:"fontColor,omitempty"`
	FontFamily          string `json:"fontFamily,omitempty"`
}

func branding(p *partnerRec) PartnerBranding {
	if p == nil {
		return PartnerBranding{}
	}
	return PartnerBranding{CompanyName: p.CompanyName, ShortName: p.ShortName, LogoURL: p.LogoURL,
		BackgroundColorCode: p.BackgroundColorCode, FontColor: p.FontColor, FontFamily: p.FontFamily}
}

// LinkRequest looks up a link request by its approval token (the token query parameter of the
// approval URL). Expiry is evaluated on the mock clock.
func (b *Backend) LinkRequest(token string) (LinkRequestInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lr := b.st.LinkRequests[token]
	if lr == nil {
		return LinkRequestInfo{}, fmt.Errorf("%w: link request", ErrNotFound)
	}
	b.expireIfDueLocked(lr, b.now(), nil)
	info := LinkRequestInfo{
		ID: lr.ID, ExternalTenantID: lr.ExternalTenantID, PartnerID: lr.PartnerID, Partner: branding(b.st.Partners[lr.PartnerID]),
		CreditorID: lr.CreditorID, Status: lr.Status, Created: lr.Created, ExpiresAt: lr.ExpiresAt,
		CaseCount: len(lr.Cases), LinkID: lr.LinkID,
	}
	if c := b.st.Creditors[lr.CreditorID]; c != nil {
		info.CompanyName = c.CompanyName
	}
	return info, nil
}

// ApproveLink approves a link request as the existing client would on the approval page: an
// active link with isAttributedClient=false is created, the partner's current referral fee is
// snapshotted, and the cases stored with the 409 request are replayed (AllowPendingContracts
// forced) into PendingContractSigning; cases that fail record cases.replay_failed.
func (b *Backend) ApproveLink(token string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	ce := &call{}
	lr, err := b.undecidedLinkRequestLocked(token, now, ce)
	if err != nil {
		return err
	}
	p := b.st.Partners[lr.PartnerID]
	c := b.st.Creditors[lr.CreditorID]
	if p == nil || c == nil || c.Withdrawn {
		return fmt.Errorf("%w: the creditor or partner no longer exists", ErrNotFound)
	}
	if c.LinkID != "" {
		return fmt.Errorf("%w: the creditor is already linked", ErrConflict)
	}
	if p.active[lr.ExternalTenantID] != nil {
		return fmt.Errorf("%w: the partner already has an active client %q", ErrConflict, lr.ExternalTenantID)
	}
	l := &linkRec{
		ID: b.ids.uuid(), Seq: b.st.nextSeq(), PartnerID: p.ID, ExternalTenantID: lr.ExternalTenantID, CreditorID: c.ID,
		Attributed: false, Created: now, ReferralFeePercentage: p.ReferralFeePercentage, UpdatedAt: now, cred: c,
	}
	b.st.addActiveLink(p, l)
	lr.Status, lr.DecidedAt, lr.LinkID = "approved", &now, l.ID
	ce.effect(EffectLinkApproved)
	b.onLinkedLocked(l, now)
	if len(lr.Cases) > 0 {
		cases := make([]reqCase, len(lr.Cases))
		copy(cases, lr.Cases)
		for i := range cases {
			cases[i].AllowPendingContracts = true
		}
		res := b.createCasesLocked(cases, c, l, now, b.PublicURL(), ce)
		if len(res.FailedCases) > 0 {
			ce.effect(EffectCasesReplayFailed)
			b.onReplayFailedLocked(l, res.FailedCases, now)
		}
	}
	b.recordControl("approveLink", p.ID, ce.effects)
	return nil
}

// DeclineLink declines a link request as the existing client would on the approval page.
func (b *Backend) DeclineLink(token string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	lr, err := b.undecidedLinkRequestLocked(token, now, nil)
	if err != nil {
		return err
	}
	lr.Status, lr.DecidedAt = "declined", &now
	b.onLinkDeclinedLocked(lr, now)
	b.recordControl("declineLink", lr.PartnerID, []string{EffectLinkDeclined})
	return nil
}

// undecidedLinkRequestLocked finds the link request with the approval token and checks that it
// can still be decided: ErrNotFound, ErrExpired (a request past its TTL expires here, its effect
// recorded in ce when ce is not nil), or ErrConflict when it was approved or declined already.
func (b *Backend) undecidedLinkRequestLocked(token string, now time.Time, ce *call) (*linkReqRec, error) {
	lr := b.st.LinkRequests[token]
	if lr == nil {
		return nil, fmt.Errorf("%w: link request", ErrNotFound)
	}
	b.expireIfDueLocked(lr, now, ce)
	switch lr.Status {
	case "expired":
		return nil, ErrExpired
	case "approved", "declined":
		return nil, fmt.Errorf("%w: link request already %s", ErrConflict, lr.Status)
	}
	return lr, nil
}

// ExpireLinks marks every pending link request whose TTL has passed (on the mock clock) as
// expired and reports how many it marked. Expiry is also evaluated lazily whenever a request is
// read, so calling this is only needed to make the state snapshot current.
func (b *Backend) ExpireLinks() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	n := 0
	for _, lr := range b.st.LinkRequests {
		if lr.Status == "pending" && !now.Before(lr.ExpiresAt) {
			b.expireIfDueLocked(lr, now, nil)
			n++
		}
	}
	return n
}

// ClientInfo is the mock's full view of one client link, including what the API does not show
// (the snapshotted referral fee, suspension, metadata, the link id used in onboarding URLs).
type ClientInfo struct {
	LinkID                 string         `json:"linkId"`
	CreditorID             string         `json:"creditorId"`
	ExternalTenantID       string         `json:"externalTenantId"`
	CompanyName            string         `json:"companyName"`
	Attributed             bool           `json:"attributed"`
	OnboardingDone         bool           `json:"onboardingDone"`
	SignedAgreementVersion int            `json:"signedAgreementVersion"`
	ReferralFeePercentage  float64        `json:"referralFeePercentage"`
	Suspended              bool           `json:"suspended"`
	Metadata               map[string]any `json:"metadata,omitempty"`
	Created                time.Time      `json:"created"`
	CaseIDs                []string       `json:"caseIds,omitempty"`
}

// LinkedClient returns the mock's view of the partner's active client ext.
func (b *Backend) LinkedClient(apiKey, ext string) (ClientInfo, error) {
	b.mu.Lock()
	defer b.mu.unlockUnchanged()
	l, err := b.linkForLocked(apiKey, ext)
	if err != nil {
		return ClientInfo{}, err
	}
	md := map[string]any{}
	for k, v := range l.Metadata {
		md[k] = v
	}
	return ClientInfo{
		LinkID: l.ID, CreditorID: l.CreditorID, ExternalTenantID: l.ExternalTenantID, CompanyName: l.cred.CompanyName,
		Attributed: l.Attributed, OnboardingDone: b.st.onboardingDone(l.cred), SignedAgreementVersion: l.cred.SignedAgreementVersion,
		ReferralFeePercentage: l.ReferralFeePercentage, Suspended: l.Suspended, Metadata: md, Created: l.Created,
		CaseIDs: append([]string(nil), l.cred.CaseIDs...),
	}, nil
}

// CaseInfo is the mock's view of a case.
type CaseInfo struct {
	ID                string   `json:"id"`
	CreditorReference string   `json:"creditorReference,omitempty"`
	Lifecycle         string   `json:"lifecycle"`
	CloseCode         string   `json:"closeCode,omitempty"`
	Jurisdiction      string   `json:"jurisdiction"`
	ChatMessages      []string `json:"chatMessages,omitempty"`
}

// Cases lists the cases of the partner's active client ext, oldest first.
func (b *Backend) Cases(apiKey, ext string) ([]CaseInfo, error) {
	b.mu.Lock()
	defer b.mu.unlockUnchanged()
	l, err := b.linkForLocked(apiKey, ext)
	if err != nil {
		return nil, err
	}
	var out []CaseInfo
	for _, cs := range b.st.casesOf(l.cred) {
		out = append(out, CaseInfo{ID: cs.ID, CreditorReference: deref(cs.Request.CreditorReference), Lifecycle: cs.Lifecycle,
			CloseCode: cs.CloseCode, Jurisdiction: cs.Jurisdiction, ChatMessages: append([]string(nil), cs.ChatMessages...)})
	}
	return out, nil
}

// SetCaseLifecycle moves a case to another lifecycle (e.g. [LifecycleActive], which blocks
// withdraw and makes is-deletable report a blocker).
func (b *Backend) SetCaseLifecycle(caseID, lifecycle string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	cs := b.st.Cases[caseID]
	if cs == nil {
		return fmt.Errorf("%w: case", ErrNotFound)
	}
	now := b.now()
	cs.Lifecycle, cs.Updated = lifecycle, &now
	return nil
}

// SetKYCVerificationStatus sets the review status of the client's latest KYC submission
// ("Processing", "Completed", or "" for not yet reviewed); kycStatus follows ("verified" when
// Completed).
func (b *Backend) SetKYCVerificationStatus(apiKey, ext, status string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, err := b.linkForLocked(apiKey, ext)
	if err != nil {
		return err
	}
	if l.cred.KYC == nil {
		return fmt.Errorf("%w: no KYC submission", ErrNotFound)
	}
	if status != "" && status != "Processing" && status != "Completed" {
		return fmt.Errorf("%w: status must be Processing, Completed or empty", ErrInvalid)
	}
	now := b.now()
	l.cred.KYC.VerificationStatus, l.cred.KYC.StatusUpdatedAt = status, &now
	return nil
}

// Reset wipes all state (back to the configured partners), the journal, the fault rules and the
// rate-limit counters. The clock is left alone.
func (b *Backend) Reset() {
	if err := b.resetState(); err != nil {
		panic("mockserver: Reset: " + err.Error())
	}
	b.wh.reset()
	b.ResetJournal()
	b.ClearFaults()
	b.limiter.set(b.limiter.config())
}

// snapshotFormat is the version of the Snapshot JSON.
const snapshotFormat = 1

type snapshotFile struct {
	Format int    `json:"format"`
	Store  *store `json:"store"`
}

// Snapshot returns the whole state as JSON (partners with their keys, creditors, links, link
// requests, cases, stored idempotent responses and the token-signing secret), for the
// debitura-mock binary's -state file. Journal, faults and rate-limit counters are not included.
//
// The state is copied under the lock and encoded outside it (snapshot_copy.go), so a large
// state does not stall requests while it is encoded. Idempotency records past [IdempotencyTTL]
// are left out.
func (b *Backend) Snapshot() ([]byte, error) {
	b.mu.Lock()
	st := b.st.clone(b.now())
	b.mu.unlockUnchanged()
	return json.Marshal(snapshotFile{Format: snapshotFormat, Store: st})
}

// Restore replaces the state with one produced by Snapshot. It checks the whole snapshot first
// and returns an error wrapping [ErrInvalid] (leaving the state as it was) for anything the mock
// could not serve: null records, a record stored under another id, invalid or duplicate API
// keys, and references to partners, creditors, links or cases that do not exist.
func (b *Backend) Restore(data []byte) error {
	var f snapshotFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrInvalid, err)
	}
	if f.Format != snapshotFormat || f.Store == nil {
		return fmt.Errorf("%w: snapshot format %d", ErrInvalid, f.Format)
	}
	s := f.Store
	s.Partners, s.Creditors, s.Links = orEmpty(s.Partners), orEmpty(s.Creditors), orEmpty(s.Links)
	s.LinkRequests, s.Cases, s.Idempotency = orEmpty(s.LinkRequests), orEmpty(s.Cases), orEmpty(s.Idempotency)
	s.Webhooks = orEmpty(s.Webhooks)
	if len(s.TokenSecret) == 0 {
		return fmt.Errorf("%w: snapshot has no token secret", ErrInvalid)
	}
	if err := s.validate(); err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrInvalid, err)
	}
	s.reindex()
	b.mu.Lock()
	b.st = s
	b.mu.Unlock()
	b.wh.reset() // pending deliveries are not part of a snapshot
	return nil
}

func orEmpty[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// State returns the state as JSON without secrets: no API keys, no approval tokens, no
// token-signing secret, no stored idempotent responses (they can hold bearer tokens).
func (b *Backend) State() ([]byte, error) {
	raw, err := b.Snapshot()
	if err != nil {
		return nil, err
	}
	var f struct {
		Store map[string]any `json:"store"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	st := f.Store
	delete(st, "tokenSecret")
	delete(st, "idempotency")
	if hs, ok := st["webhooks"].(map[string]any); ok {
		for _, h := range hs {
			if hm, ok := h.(map[string]any); ok {
				delete(hm, "secret")
			}
		}
	}
	if ps, ok := st["partners"].(map[string]any); ok {
		for _, p := range ps {
			if pm, ok := p.(map[string]any); ok {
				delete(pm, "apiKey")
			}
		}
	}
	if lrs, ok := st["linkRequests"].(map[string]any); ok {
		list := map[string]any{}
		for _, lr := range lrs {
			if m, ok := lr.(map[string]any); ok {
				delete(m, "token")
				if id, ok := m["id"].(string); ok {
					list[id] = m
				}
			}
		}
		st["linkRequests"] = list
	}
	return json.Marshal(st)
}
