package mockserver

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"
)

// The store holds every record in plain structs with exported, JSON-tagged fields, so that
// Snapshot and Restore can write and read the whole state. Unexported fields are indexes and
// caches rebuilt by reindex; they never go into a snapshot.
//
// Locking and upkeep, one rule each:
//   - Every method of *store expects Backend.mu held; they carry no suffix.
//   - A method of *Backend that expects Backend.mu held ends in Locked; one without the suffix
//     takes the lock itself (or touches no state).
//   - Only methods of *store insert into or delete from the store's maps, and each does the
//     index upkeep of its change (addPartner, addCreditor, editCreditor, addActiveLink,
//     archiveLink, addLinkRequest, addCase, addWebhook, putIdempotency, ...). Handlers and
//     control methods call them and change records' plain fields themselves.

type partnerRec struct {
	ID                    string  `json:"id"`
	APIKey                string  `json:"apiKey"`
	CompanyName           string  `json:"companyName"`
	ShortName             string  `json:"shortName"`
	ContactEmail          string  `json:"contactEmail"`
	ExternalSystemID      string  `json:"externalSystemId,omitempty"`
	ReferralFeePercentage float64 `json:"referralFeePercentage"`
	Inactive              bool    `json:"inactive,omitempty"`
	IsPublicDemo          bool    `json:"isPublicDemo,omitempty"`
	LogoURL               string  `json:"logoUrl,omitempty"`
	BackgroundColorCode   string  `json:"backgroundColorCode,omitempty"`
	FontColor             string  `json:"fontColor,omitempty"`
	FontFamily            string  `json:"fontFamily,omitempty"`
	InvoicingTriggerMode  string  `json:"invoicingTriggerMode"`
	ApprovalTTLDays       int     `json:"approvalTtlDays"`

	active    map[string]*linkRec    // externalTenantId -> active link
	byDate    []*linkRec             // active links, ascending (dateLinked, seq)
	byName    []*linkRec             // cache: active links by (companyName, seq); nil when stale
	dateDirty bool                   // byDate needs a sort (the clock went backwards)
	pending   map[string]*linkReqRec // externalTenantId -> latest link request
}

type userRec struct {
	ID        int32  `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Role      string `json:"role"`
}

type kycRec struct {
	DirectorFullName    string     `json:"directorFullName"`
	DirectorHomeAddress string     `json:"directorHomeAddress"`
	DirectorDateOfBirth string     `json:"directorDateOfBirth"`
	DateCreated         time.Time  `json:"dateCreated"`
	VerificationStatus  string     `json:"verificationStatus,omitempty"`
	StatusUpdatedAt     *time.Time `json:"statusUpdatedAt,omitempty"`
}

type creditorRec struct {
	ID                     string     `json:"id"`
	Seq                    int64      `json:"seq"`
	Kind                   string     `json:"kind"`
	CompanyName            string     `json:"companyName"`
	RegistrationNumber     string     `json:"registrationNumber,omitempty"`
	Address                string     `json:"address,omitempty"`
	ZipCode                string     `json:"zipCode,omitempty"`
	City                   string     `json:"city,omitempty"`
	State                  string     `json:"state,omitempty"`
	CountryCode            string     `json:"countryCode"`
	SupportEmail           string     `json:"supportEmail"`
	SupportPhone           string     `json:"supportPhone,omitempty"`
	Users                  []userRec  `json:"users"`
	Created                time.Time  `json:"created"`
	SignedAgreementVersion int        `json:"signedAgreementVersion"`
	SignedAt               *time.Time `json:"signedAt,omitempty"`
	DetailsSubmitted       bool       `json:"detailsSubmitted,omitempty"`
	KYC                    *kycRec    `json:"kyc,omitempty"`
	Withdrawn              bool       `json:"withdrawn,omitempty"`
	LinkID                 string     `json:"linkId,omitempty"` // the one active referral-partner link
	CaseIDs                []string   `json:"caseIds,omitempty"`

	search  string // lower-cased companyName, supportEmail and registrationNumber for Query
	nameKey string // lower-cased companyName for Sort=name
}

type rotationRec struct {
	BeforeSeq int64     `json:"beforeSeq"` // tokens with a lower sequence number are capped
	NotAfter  time.Time `json:"notAfter"`
}

type linkRec struct {
	ID                    string         `json:"id"`
	Seq                   int64          `json:"seq"`
	PartnerID             string         `json:"partnerId"`
	ExternalTenantID      string         `json:"externalTenantId"`
	CreditorID            string         `json:"creditorId"`
	Attributed            bool           `json:"attributed"`
	Created               time.Time      `json:"created"`
	ReferralFeePercentage float64        `json:"referralFeePercentage"`
	Archived              bool           `json:"archived,omitempty"`
	ArchivedAt            *time.Time     `json:"archivedAt,omitempty"`
	ArchiveReason         string         `json:"archiveReason,omitempty"`
	Suspended             bool           `json:"suspended,omitempty"`
	SuspendedAt           *time.Time     `json:"suspendedAt,omitempty"`
	Metadata              map[string]any `json:"metadata,omitempty"`
	UpdatedAt             time.Time      `json:"updatedAt"`
	TokenSeq              int64          `json:"tokenSeq"`
	LastTokenExpiry       *time.Time     `json:"lastTokenExpiry,omitempty"`
	Rotations             []rotationRec  `json:"rotations,omitempty"`

	cred *creditorRec
}

type linkReqRec struct {
	Token            string     `json:"token"`
	ID               string     `json:"id"`
	Seq              int64      `json:"seq"`
	PartnerID        string     `json:"partnerId"`
	ExternalTenantID string     `json:"externalTenantId"`
	CreditorID       string     `json:"creditorId"`
	Created          time.Time  `json:"created"`
	ExpiresAt        time.Time  `json:"expiresAt"`
	Status           string     `json:"status"` // pending, approved, declined, expired
	DecidedAt        *time.Time `json:"decidedAt,omitempty"`
	Cases            []reqCase  `json:"cases,omitempty"`
	LinkID           string     `json:"linkId,omitempty"`
}

type caseRec struct {
	ID                string     `json:"id"`
	Seq               int64      `json:"seq"`
	Number            int64      `json:"number"`
	CreditorID        string     `json:"creditorId"`
	LinkID            string     `json:"linkId"`
	Lifecycle         string     `json:"lifecycle"`
	CloseCode         string     `json:"closeCode,omitempty"`
	Created           time.Time  `json:"created"`
	Updated           *time.Time `json:"updated,omitempty"`
	Finished          *time.Time `json:"finished,omitempty"`
	Jurisdiction      string     `json:"jurisdiction"`
	CollectionPartner string     `json:"collectionPartner,omitempty"`
	ChatMessages      []string   `json:"chatMessages,omitempty"`
	Request           reqCase    `json:"request"`
}

type idemRec struct {
	Scope       string    `json:"scope"`
	PartnerID   string    `json:"partnerId,omitempty"`
	Created     time.Time `json:"created"` // on the mock clock; the record expires IdempotencyTTL later
	BodyHash    string    `json:"bodyHash"`
	Status      int       `json:"status"`
	ContentType string    `json:"contentType"`
	Body        []byte    `json:"body"`
}

// Case lifecycles the mock uses. Cases created through POST /clients start in
// PendingContractSigning; SetCaseLifecycle moves them on.
const (
	LifecyclePendingContractSigning = "PendingContractSigning"
	LifecyclePendingVerification    = "PendingVerification"
	LifecycleActive                 = "Active"
	LifecycleClosed                 = "Closed"
)

// store is the in-memory database.
type store struct {
	AgreementVersion int                     `json:"agreementVersion"`
	Seq              int64                   `json:"seq"`
	NextUserID       int32                   `json:"nextUserId"`
	NextCaseNumber   int64                   `json:"nextCaseNumber"`
	TokenSecret      []byte                  `json:"tokenSecret"`
	Partners         map[string]*partnerRec  `json:"partners"`
	Creditors        map[string]*creditorRec `json:"creditors"`
	Links            map[string]*linkRec     `json:"links"`
	LinkRequests     map[string]*linkReqRec  `json:"linkRequests"` // by token
	Cases            map[string]*caseRec     `json:"cases"`
	Idempotency      map[string]*idemRec     `json:"idempotency"`
	Webhooks         map[string]*webhookRec  `json:"webhooks"` // subscriptions by id (webhooks.go)

	partnerByKey map[string]*partnerRec
	emailIndex   map[string][]*creditorRec // lower-cased e-mail -> matchable creditors
	linkReqByID  map[string]*linkReqRec
	idemOrder    map[string][]*idemRec // partner id -> its idempotency records, oldest first
}

func newStore(secret []byte) *store {
	s := &store{
		AgreementVersion: 1,
		NextUserID:       1000,
		NextCaseNumber:   100000,
		TokenSecret:      secret,
		Partners:         map[string]*partnerRec{},
		Creditors:        map[string]*creditorRec{},
		Links:            map[string]*linkRec{},
		LinkRequests:     map[string]*linkReqRec{},
		Cases:            map[string]*caseRec{},
		Idempotency:      map[string]*idemRec{},
		Webhooks:         map[string]*webhookRec{},
	}
	s.reindex()
	return s
}

// reindex rebuilds every unexported index from the exported records (after Restore).
func (s *store) reindex() {
	s.partnerByKey = map[string]*partnerRec{}
	s.emailIndex = map[string][]*creditorRec{}
	s.linkReqByID = map[string]*linkReqRec{}
	for _, p := range s.Partners {
		p.active = map[string]*linkRec{}
		p.pending = map[string]*linkReqRec{}
		p.byDate, p.byName = nil, nil
		s.partnerByKey[p.APIKey] = p
	}
	creds := make([]*creditorRec, 0, len(s.Creditors))
	for _, c := range s.Creditors {
		creds = append(creds, c)
	}
	sort.Slice(creds, func(i, j int) bool { return creds[i].Seq < creds[j].Seq })
	for _, c := range creds {
		c.search = searchKey(c)
		s.indexEmails(c)
	}
	links := make([]*linkRec, 0, len(s.Links))
	for _, l := range s.Links {
		l.cred = s.Creditors[l.CreditorID]
		if !l.Archived && l.cred != nil {
			links = append(links, l)
		}
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Seq < links[j].Seq })
	for _, l := range links {
		if p := s.Partners[l.PartnerID]; p != nil {
			p.active[l.ExternalTenantID] = l
			p.byDate = append(p.byDate, l)
		}
	}
	for _, p := range s.Partners {
		p.dateDirty = true
	}
	s.reindexIdempotency()
	reqs := make([]*linkReqRec, 0, len(s.LinkRequests))
	for _, r := range s.LinkRequests {
		reqs = append(reqs, r)
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].Seq < reqs[j].Seq })
	for _, r := range reqs {
		s.linkReqByID[r.ID] = r
		if p := s.Partners[r.PartnerID]; p != nil {
			p.pending[r.ExternalTenantID] = r
		}
	}
}

func (s *store) nextSeq() int64 {
	s.Seq++
	return s.Seq
}

// nextUserID draws the id of a new creditor user.
func (s *store) nextUserID() int32 {
	s.NextUserID++
	return s.NextUserID
}

// addPartner stores p and indexes it by its API key.
func (s *store) addPartner(p *partnerRec) {
	p.active, p.pending = map[string]*linkRec{}, map[string]*linkReqRec{}
	s.Partners[p.ID] = p
	s.partnerByKey[p.APIKey] = p
}

// removePartner deletes p and its API-key index entry (a partner without links: reset's
// replacement of the default partner).
func (s *store) removePartner(p *partnerRec) {
	delete(s.Partners, p.ID)
	delete(s.partnerByKey, p.APIKey)
}

// addCreditor stores c and makes it searchable and matchable by its e-mails.
func (s *store) addCreditor(c *creditorRec) {
	c.search = searchKey(c)
	s.Creditors[c.ID] = c
	s.indexEmails(c)
}

// editCreditor applies edit to c's fields and brings the e-mail index, the Query haystack and
// the name order of the partner's active links back in step with them.
func (s *store) editCreditor(c *creditorRec, edit func()) {
	s.unindexEmails(c)
	name := c.nameKey
	edit()
	c.search = searchKey(c)
	s.indexEmails(c)
	if c.nameKey == name {
		return
	}
	if l := s.Links[c.LinkID]; l != nil {
		if p := s.Partners[l.PartnerID]; p != nil {
			p.byName = nil
		}
	}
}

// withdrawCreditor takes c out of e-mail matching for good, so that a re-POST creates a new
// creditor record.
func (s *store) withdrawCreditor(c *creditorRec) {
	s.unindexEmails(c)
	c.Withdrawn = true
}

// removeCreditor deletes c with its cases; its e-mails leave matching.
func (s *store) removeCreditor(c *creditorRec) {
	for _, id := range c.CaseIDs {
		delete(s.Cases, id)
	}
	s.unindexEmails(c)
	delete(s.Creditors, c.ID)
}

// addCase numbers cs and stores it as creditor c's newest case.
func (s *store) addCase(c *creditorRec, cs *caseRec) {
	s.NextCaseNumber++
	cs.Number = s.NextCaseNumber
	s.Cases[cs.ID] = cs
	c.CaseIDs = append(c.CaseIDs, cs.ID)
}

// addLinkRequest stores lr as partner p's latest link request for its externalTenantId.
func (s *store) addLinkRequest(p *partnerRec, lr *linkReqRec) {
	s.LinkRequests[lr.Token] = lr
	s.linkReqByID[lr.ID] = lr
	p.pending[lr.ExternalTenantID] = lr
}

// addWebhook stores the subscription h.
func (s *store) addWebhook(h *webhookRec) { s.Webhooks[h.ID] = h }

// removeWebhook deletes the subscription h.
func (s *store) removeWebhook(h *webhookRec) { delete(s.Webhooks, h.ID) }

// searchKey computes the Query haystack (and refreshes the name sort key).
func searchKey(c *creditorRec) string {
	c.nameKey = strings.ToLower(c.CompanyName)
	return strings.ToLower(c.CompanyName + "\x00" + c.SupportEmail + "\x00" + c.RegistrationNumber)
}

// creditorEmails lists every e-mail a creditor is matched on: its users' and its support e-mail.
func creditorEmails(c *creditorRec) []string {
	out := make([]string, 0, len(c.Users)+1)
	for _, u := range c.Users {
		out = append(out, strings.ToLower(strings.TrimSpace(u.Email)))
	}
	return append(out, strings.ToLower(strings.TrimSpace(c.SupportEmail)))
}

func (s *store) indexEmails(c *creditorRec) {
	if c.Withdrawn {
		return
	}
	for _, e := range creditorEmails(c) {
		if e == "" || containsCred(s.emailIndex[e], c) {
			continue
		}
		s.emailIndex[e] = append(s.emailIndex[e], c)
	}
}

func (s *store) unindexEmails(c *creditorRec) {
	for _, e := range creditorEmails(c) {
		list := s.emailIndex[e]
		for i, x := range list {
			if x == c {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.emailIndex, e)
		} else {
			s.emailIndex[e] = list
		}
	}
}

func containsCred(list []*creditorRec, c *creditorRec) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// matchCreditor finds the existing creditor for a set of e-mails (exact, case-insensitive), in
// the order given; the first e-mail that matches wins.
func (s *store) matchCreditor(emails []string) *creditorRec {
	for _, e := range emails {
		if list := s.emailIndex[strings.ToLower(strings.TrimSpace(e))]; len(list) > 0 {
			return list[0]
		}
	}
	return nil
}

// addActiveLink registers l as the partner's active link for its externalTenantId.
func (s *store) addActiveLink(p *partnerRec, l *linkRec) {
	s.Links[l.ID] = l
	p.active[l.ExternalTenantID] = l
	if n := len(p.byDate); n > 0 && linkLess(l, p.byDate[n-1]) {
		p.dateDirty = true
	}
	p.byDate = append(p.byDate, l)
	if p.byName != nil {
		i, _ := slices.BinarySearchFunc(p.byName, l, nameCmp)
		p.byName = slices.Insert(p.byName, i, l)
	}
	l.cred.LinkID = l.ID
}

// archiveLink takes l out of partner p's active indexes and archives it for reason
// ("withdrawn", "reset").
func (s *store) archiveLink(p *partnerRec, l *linkRec, now time.Time, reason string) {
	s.removeActiveLink(p, l)
	l.Archived, l.ArchivedAt, l.ArchiveReason = true, &now, reason
}

// removeActiveLink takes l out of the partner's active indexes.
func (s *store) removeActiveLink(p *partnerRec, l *linkRec) {
	delete(p.active, l.ExternalTenantID)
	for i, x := range p.byDate {
		if x == l {
			p.byDate = append(p.byDate[:i], p.byDate[i+1:]...)
			break
		}
	}
	if p.byName != nil {
		if i, ok := slices.BinarySearchFunc(p.byName, l, nameCmp); ok && p.byName[i] == l {
			p.byName = slices.Delete(p.byName, i, i+1)
		} else {
			p.byName = nil
		}
	}
	if l.cred != nil && l.cred.LinkID == l.ID {
		l.cred.LinkID = ""
	}
}

func linkLess(a, b *linkRec) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.Seq < b.Seq
}

// sortedByDate returns the partner's active links in ascending (dateLinked, seq) order.
func (p *partnerRec) sortedByDate() []*linkRec {
	if p.dateDirty {
		sort.SliceStable(p.byDate, func(i, j int) bool { return linkLess(p.byDate[i], p.byDate[j]) })
		p.dateDirty = false
	}
	return p.byDate
}

// sortedByName returns the partner's active links in ascending (company name, seq) order; the
// slice is cached until the set of active links or a company name changes.
func (p *partnerRec) sortedByName() []*linkRec {
	if p.byName == nil {
		p.byName = slices.Clone(p.byDate)
		slices.SortFunc(p.byName, nameCmp)
	}
	return p.byName
}

func nameCmp(a, b *linkRec) int {
	if c := strings.Compare(a.cred.nameKey, b.cred.nameKey); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// onboardingDone reports whether the creditor has signed the current agreement version.
func (s *store) onboardingDone(c *creditorRec) bool {
	return c.SignedAgreementVersion > 0 && c.SignedAgreementVersion >= s.AgreementVersion
}

func (s *store) casesOf(c *creditorRec) []*caseRec {
	out := make([]*caseRec, 0, len(c.CaseIDs))
	for _, id := range c.CaseIDs {
		if cs := s.Cases[id]; cs != nil {
			out = append(out, cs)
		}
	}
	return out
}

func (s *store) caseCounts(c *creditorRec) (total, closed int32) {
	for _, id := range c.CaseIDs {
		if cs := s.Cases[id]; cs != nil {
			total++
			if cs.Lifecycle == LifecycleClosed {
				closed++
			}
		}
	}
	return total, closed
}

// putIdempotency stores rec (replacing an expired record of the same scope) and then drops the
// partner's records that expired or exceed limit, oldest first.
func (s *store) putIdempotency(rec *idemRec, now time.Time, limit int) {
	q := s.idemOrder[rec.PartnerID]
	if old := s.Idempotency[rec.Scope]; old != nil {
		// Only an expired record is replaced; take it out of the order (rare, so a scan).
		for i, x := range q {
			if x == old {
				q = append(q[:i], q[i+1:]...)
				break
			}
		}
	}
	s.Idempotency[rec.Scope] = rec
	q = append(q, rec)
	drop := 0
	for drop < len(q) && (len(q)-drop > max(limit, 1) || q[drop].expired(now)) {
		if s.Idempotency[q[drop].Scope] == q[drop] {
			delete(s.Idempotency, q[drop].Scope)
		}
		q[drop] = nil // let the record go before append moves the slice
		drop++
	}
	s.idemOrder[rec.PartnerID] = q[drop:]
}

// reindexIdempotency rebuilds the per-partner order of the idempotency records (after Restore).
// Records of files written before the mock kept PartnerID and Created get the partner from their
// scope and a zero Created, so they count as expired.
func (s *store) reindexIdempotency() {
	s.idemOrder = map[string][]*idemRec{}
	recs := make([]*idemRec, 0, len(s.Idempotency))
	for scope, r := range s.Idempotency {
		if r == nil {
			delete(s.Idempotency, scope)
			continue
		}
		r.Scope = scope
		if r.PartnerID == "" {
			r.PartnerID, _, _ = strings.Cut(scope, "|")
		}
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool {
		if !recs[i].Created.Equal(recs[j].Created) {
			return recs[i].Created.Before(recs[j].Created)
		}
		return recs[i].Scope < recs[j].Scope
	})
	for _, r := range recs {
		s.idemOrder[r.PartnerID] = append(s.idemOrder[r.PartnerID], r)
	}
}
