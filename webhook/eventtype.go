package webhook

import "strings"

// EventType is the name of a webhook event, e.g. "client.linked". Names the package does not
// know are kept verbatim, since Debitura may add events.
type EventType string

// The event names Debitura documents.
const (
	// ClientLinked: an existing Debitura client approved the partner's link request.
	ClientLinked EventType = "client.linked"
	// ClientLinkDeclined: an existing client declined the link request.
	ClientLinkDeclined EventType = "client.link_declined"
	// ClientLinkRequested: POST /clients answered 409 ClientExistsNeedsLinking and a link
	// request was created.
	ClientLinkRequested EventType = "client.link_requested"
	// ClientLinkExpired: a link request passed its TTL without an answer.
	ClientLinkExpired EventType = "client.link_expired"
	// ClientContractSigned: the client signed the agreement (SDCA); onboarding is done.
	ClientContractSigned EventType = "client.onboarding.contract_signed"
	// ClientPOASigned: the client signed a power of attorney (data carries signedAt).
	ClientPOASigned EventType = "client.onboarding.poa_signed"
	// CasesReplayFailed: a case stored with a 409 POST /clients request could not be created
	// when the link was approved; create it through the Customer API.
	CasesReplayFailed EventType = "cases.replay_failed"
	// CaseCreated, CaseUpdated and CaseClosed are case events, not client events; their data
	// is passed through as raw JSON.
	CaseCreated EventType = "case.created"
	CaseUpdated EventType = "case.updated"
	CaseClosed  EventType = "case.closed"
)

// ClientEvents returns the names of every client-related event: the six client.* events and
// cases.replay_failed. Each call returns a new slice.
func ClientEvents() []EventType {
	return []EventType{
		ClientLinked, ClientLinkDeclined, ClientLinkRequested, ClientLinkExpired,
		ClientContractSigned, ClientPOASigned, CasesReplayFailed,
	}
}

// IsClient reports whether t is a client event (its name starts with "client.").
func (t EventType) IsClient() bool { return strings.HasPrefix(string(t), "client.") }

// IsCase reports whether t is a case event (its name starts with "case.").
func (t EventType) IsCase() bool { return strings.HasPrefix(string(t), "case.") }

// Known reports whether t is one of the events Debitura documents.
func (t EventType) Known() bool {
	switch t {
	case ClientLinked, ClientLinkDeclined, ClientLinkRequested, ClientLinkExpired,
		ClientContractSigned, ClientPOASigned, CasesReplayFailed,
		CaseCreated, CaseUpdated, CaseClosed:
		return true
	}
	return false
}
