package mockserver

import (
	"context"
	"fmt"
	"time"
)

// Controller is the control surface a test drives the mock through: seed partners and
// creditors, act as the customer (onboarding, link approval), move the clock, inject faults, set
// rate limits, read the journal and the webhook deliveries, and reset. *[Backend] (and so
// *[Server]) implements it in memory; [Dial] returns one that drives a running debitura-mock
// binary over its /__mock/ routes, so one test can run against either.
//
// Every method returns an error: a bad argument wraps [ErrInvalid], an unknown partner, client,
// link request or fault [ErrNotFound], a clash with the state [ErrConflict] (a link request past
// its TTL [ErrExpired]). The remote implementation adds transport errors.
type Controller interface {
	// AddPartner adds a referral partner (see [PartnerSpec]) and returns it with its defaults.
	AddPartner(p PartnerSpec) (PartnerSpec, error)
	// AddCreditor adds a Debitura account that exists before any link and returns its id.
	AddCreditor(c CreditorSpec) (string, error)
	// CompleteOnboarding signs the current agreement for the partner's client.
	CompleteOnboarding(apiKey, externalTenantID string) error
	// LinkedClient returns the mock's view of the partner's active client.
	LinkedClient(apiKey, externalTenantID string) (ClientInfo, error)
	// ApprovePendingLink approves the pending link request of the partner's externalTenantID,
	// as the existing client would on the approval page; no approval URL is needed.
	ApprovePendingLink(apiKey, externalTenantID string) error
	// DeclinePendingLink declines the pending link request of the partner's externalTenantID.
	DeclinePendingLink(apiKey, externalTenantID string) error
	// ExpirePendingLink lets the pending link request of the partner's externalTenantID expire
	// now (client.link_expired fires), as if its TTL had passed.
	ExpirePendingLink(apiKey, externalTenantID string) error
	// ExpireLinkRequests marks the link requests past their TTL expired; it returns how many.
	ExpireLinkRequests() (int, error)
	// AdvanceClock moves the mock clock forward and returns the new time.
	AdvanceClock(d time.Duration) (time.Time, error)
	// AddFault arms a fault rule and returns its id.
	AddFault(f Fault) (string, error)
	// DeleteFault removes one fault rule.
	DeleteFault(id string) error
	// ListFaults lists the armed fault rules with their ids.
	ListFaults() ([]FaultRule, error)
	// SetRateLimit replaces the rate-limit windows and forgets the counters.
	SetRateLimit(c RateLimitConfig) error
	// RateLimits returns the rate-limit windows.
	RateLimits() (RateLimitConfig, error)
	// JournalEntries returns the journal entries that pass f, oldest first.
	JournalEntries(f JournalFilter) ([]JournalEntry, error)
	// FlushWebhooks delivers every due webhook now and waits for the attempts.
	FlushWebhooks(ctx context.Context) error
	// WebhookDeliveries lists every webhook delivery with its payload, oldest first.
	WebhookDeliveries() ([]DeliveryInfo, error)
	// ResetAll wipes state, journal, faults and rate-limit counters (the clock stays).
	ResetAll() error
}

var _ Controller = (*Backend)(nil)

// FaultRule is an armed [Fault] with its id (for DeleteFault). Times is what is left of it.
type FaultRule struct {
	ID string `json:"id"`
	Fault
}

// pendingLinkToken finds the token of the pending link request of the partner (API key or id)
// for externalTenantID, evaluating expiry on the mock clock first.
func (b *Backend) pendingLinkToken(apiKey, externalTenantID string) (string, error) {
	b.mu.Lock()
	defer b.mu.unlockUnchanged()
	p, err := b.partnerLocked(apiKey)
	if err != nil {
		return "", err
	}
	lr := p.pending[externalTenantID]
	if lr == nil {
		return "", fmt.Errorf("%w: no link request for %q", ErrNotFound, externalTenantID)
	}
	return lr.Token, nil
}

// PendingLinkRequest returns the latest link request of the partner (API key or id) for
// externalTenantID, whatever its status.
func (b *Backend) PendingLinkRequest(apiKey, externalTenantID string) (LinkRequestInfo, error) {
	tok, err := b.pendingLinkToken(apiKey, externalTenantID)
	if err != nil {
		return LinkRequestInfo{}, err
	}
	return b.LinkRequest(tok)
}

// ApprovePendingLink approves the link request of the partner (API key or id) for
// externalTenantID (see [Backend.ApproveLink]).
func (b *Backend) ApprovePendingLink(apiKey, externalTenantID string) error {
	tok, err := b.pendingLinkToken(apiKey, externalTenantID)
	if err != nil {
		return err
	}
	return b.ApproveLink(tok)
}

// DeclinePendingLink declines the link request of the partner (API key or id) for
// externalTenantID (see [Backend.DeclineLink]).
func (b *Backend) DeclinePendingLink(apiKey, externalTenantID string) error {
	tok, err := b.pendingLinkToken(apiKey, externalTenantID)
	if err != nil {
		return err
	}
	return b.DeclineLink(tok)
}

// ExpirePendingLink lets the pending link request of the partner (API key or id) for
// externalTenantID expire now, as if its TTL had passed: its status becomes expired and
// client.link_expired fires. [ErrNotFound] when there is none, [ErrConflict] when it was decided.
func (b *Backend) ExpirePendingLink(apiKey, externalTenantID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, err := b.partnerLocked(apiKey)
	if err != nil {
		return err
	}
	lr := p.pending[externalTenantID]
	if lr == nil {
		return fmt.Errorf("%w: no link request for %q", ErrNotFound, externalTenantID)
	}
	now := b.now()
	b.expireIfDueLocked(lr, now, nil)
	if lr.Status != "pending" {
		return fmt.Errorf("%w: link request already %s", ErrConflict, lr.Status)
	}
	lr.ExpiresAt = now
	b.expireIfDueLocked(lr, now, nil)
	b.recordControl("expireLink", p.ID, []string{EffectLinkExpired})
	return nil
}

// ExpireLinkRequests is [Backend.ExpireLinks] with the Controller's signature.
func (b *Backend) ExpireLinkRequests() (int, error) { return b.ExpireLinks(), nil }

// DeleteFault removes one fault rule ([ErrNotFound] when there is none with this id).
func (b *Backend) DeleteFault(id string) error {
	if !b.RemoveFault(id) {
		return fmt.Errorf("%w: fault %q", ErrNotFound, id)
	}
	return nil
}

// ListFaults lists the armed fault rules with their ids, in the order they are matched.
func (b *Backend) ListFaults() ([]FaultRule, error) { return b.faultRules(), nil }

// RateLimits returns the rate-limit configuration.
func (b *Backend) RateLimits() (RateLimitConfig, error) { return b.RateLimit(), nil }

// JournalEntries returns the journal entries that pass f, oldest first. An unknown operation
// id or an out-of-range status is an error wrapping [ErrInvalid].
func (b *Backend) JournalEntries(f JournalFilter) ([]JournalEntry, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return f.apply(b.Journal()), nil
}

// WebhookDeliveries is [Backend.Deliveries] with the Controller's signature.
func (b *Backend) WebhookDeliveries() ([]DeliveryInfo, error) { return b.Deliveries(), nil }

// ResetAll is [Backend.Reset] with the Controller's signature.
func (b *Backend) ResetAll() error {
	b.Reset()
	return nil
}
