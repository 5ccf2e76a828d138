package mockserver

import (
	"sync"
	"time"
	"unicode/utf8"
)

// Side effects recorded in [JournalEntry.Effects].
const (
	EffectClientCreated     = "client.created"
	EffectLinkRequested     = "link.requested"
	EffectLinkApproved      = "link.approved"
	EffectLinkDeclined      = "link.declined"
	EffectLinkExpired       = "link.expired"
	EffectCaseCreated       = "case.created"
	EffectCaseFailed        = "case.failed"
	EffectCaseClosed        = "case.closed"
	EffectCasesReplayFailed = "cases.replay_failed"
	EffectChatMessage       = "case.chat_message"
	EffectKYCRecorded       = "kyc.recorded"
	EffectTokenMinted       = "token.minted"
	EffectTokenRotated      = "token.rotated"
	EffectClientWithdrawn   = "client.withdrawn"
	EffectClientReset       = "client.reset"
	EffectClientUpdated     = "client.updated"
	EffectClientSuspended   = "client.suspended"
	EffectClientReactivated = "client.reactivated"
	EffectOnboardingSigned  = "onboarding.contract_signed"
	EffectDetailsSubmitted  = "onboarding.details_submitted"
	EffectAgreementReleased = "agreement.released"
	EffectIdempotentReplay  = "idempotency.replayed"
)

// JournalEntry is one recorded request (or one control action, with an empty Method). It never
// holds an API key, a bearer token or a link-approval token. Path is the request path without
// the query string (which is never recorded), cut to [MaxJournalPath] bytes ending in
// [JournalCutMarker], so requests with huge paths cannot make the journal hold more than its
// entry limit times that length.
type JournalEntry struct {
	Seq       int64         `json:"seq"`
	Time      time.Time     `json:"time"`
	Method    string        `json:"method,omitempty"`
	Path      string        `json:"path,omitempty"`
	Route     string        `json:"route,omitempty"`
	Operation string        `json:"operation"`
	Status    int           `json:"status"`
	PartnerID string        `json:"partnerId,omitempty"`
	Fault     string        `json:"fault,omitempty"`
	Effects   []string      `json:"effects,omitempty"`
	Duration  time.Duration `json:"durationNs"`
	// Webhook is set on the entries of outgoing webhook delivery attempts (Operation
	// "webhookDelivery").
	Webhook *WebhookAttempt `json:"webhook,omitempty"`
}

// MaxJournalPath is the most bytes of a request path (and of a webhook attempt's error text) a
// [JournalEntry] keeps; a longer one is cut at a character boundary and ends in
// [JournalCutMarker]. With the default entry limit ([WithJournalLimit]) the journal's paths take at
// most about 100 MiB however long the requests' paths are.
const MaxJournalPath = 1024

// JournalCutMarker ends a journal string that was cut to [MaxJournalPath].
const JournalCutMarker = "...(cut)"

// cutJournal bounds s to MaxJournalPath bytes.
func cutJournal(s string) string {
	if len(s) <= MaxJournalPath {
		return s
	}
	n := MaxJournalPath - len(JournalCutMarker)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + JournalCutMarker // a new string: the request's path is not kept
}

type journal struct {
	mu      sync.Mutex
	limit   int
	seq     int64
	entries []JournalEntry // a ring once the limit is reached: the oldest is entries[head]
	head    int
	counts  map[string]int
}

func newJournal(limit int) *journal {
	return &journal{limit: limit, counts: map[string]int{}}
}

func (j *journal) add(e JournalEntry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	e.Path = cutJournal(e.Path)
	if e.Webhook != nil && len(e.Webhook.Error) > MaxJournalPath {
		w := *e.Webhook
		w.Error = cutJournal(w.Error)
		e.Webhook = &w
	}
	j.counts[e.Operation]++
	if j.limit > 0 && len(j.entries) >= j.limit {
		// Full: overwrite the oldest entry in place (O(1); copying the whole journal down on
		// every request made a full 100,000-entry journal the mock's bottleneck).
		j.entries[j.head] = e
		j.head = (j.head + 1) % len(j.entries)
		return
	}
	j.entries = append(j.entries, e)
}

// Journal returns a copy of the recorded requests, oldest first.
func (b *Backend) Journal() []JournalEntry {
	j := b.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]JournalEntry, len(j.entries))
	copy(out, j.entries[j.head:])
	copy(out[len(j.entries)-j.head:], j.entries[:j.head])
	for i := range out {
		out[i].Effects = append([]string(nil), out[i].Effects...)
	}
	return out
}

// ResetJournal forgets every recorded request and every count; state and faults stay.
func (b *Backend) ResetJournal() {
	j := b.journal
	j.mu.Lock()
	j.entries, j.head, j.counts = nil, 0, map[string]int{}
	j.mu.Unlock()
}

// Requests returns the journal entries of one operation (operation ids of the API documents,
// e.g. "postClients"), oldest first.
func (b *Backend) Requests(operation string) []JournalEntry {
	var out []JournalEntry
	for _, e := range b.Journal() {
		if e.Operation == operation {
			out = append(out, e)
		}
	}
	return out
}

// Count reports how many requests of an operation were served since the last reset (including
// ones dropped from the capped journal).
func (b *Backend) Count(operation string) int {
	j := b.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.counts[operation]
}

// Counts reports the number of requests per operation since the last reset.
func (b *Backend) Counts() map[string]int {
	j := b.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make(map[string]int, len(j.counts))
	for k, v := range j.counts {
		out[k] = v
	}
	return out
}

// EffectCount reports how many times a side effect (e.g. [EffectClientCreated]) was recorded in
// the retained journal.
func (b *Backend) EffectCount(effect string) int {
	n := 0
	for _, e := range b.Journal() {
		for _, x := range e.Effects {
			if x == effect {
				n++
			}
		}
	}
	return n
}

// recordControl journals a control action (typed API or hosted page) and its effects.
func (b *Backend) recordControl(op, partnerID string, effects []string) {
	if len(effects) == 0 {
		return
	}
	b.journal.add(JournalEntry{Time: b.now(), Operation: op, PartnerID: partnerID, Effects: effects})
}
