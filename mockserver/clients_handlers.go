package mockserver

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Creditor kinds: a Debitura account that can be linked, and one that cannot (the e-mail match
// hit a collection partner or another non-creditor account: 409 InvalidClientType).
const (
	KindCreditor          = "creditor"
	KindCollectionPartner = "collection_partner"
)

// Conflict types of POST /clients (ConflictResponse.type).
const (
	ConflictNeedsLinking           = "ClientExistsNeedsLinking"
	ConflictLinkedToAnotherPartner = "ClientAlreadyLinkedToAnotherPartner"
	ConflictDifferentTenant        = "AlreadyLinkedDifferentTenant"
	ConflictInvalidClientType      = "InvalidClientType"
)

const closeCodeWithdrawn = "CaseNeverStartedInternal"

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func tsp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

func (b *Backend) onboardingURLLocked(base string, l *linkRec) *string {
	if b.st.onboardingDone(l.cred) {
		return nil
	}
	if l.cred.SignedAgreementVersion > 0 {
		return strp(base + "/onboarding/ContractUpgrade/Sign/" + l.ID)
	}
	return strp(base + "/onboarding/companydetails/" + l.ID)
}

func approvalURL(base, token string) string {
	return base + "/ReferralPartner/Approve?token=" + url.QueryEscape(token)
}

func kycStatus(c *creditorRec) string {
	switch {
	case c.KYC == nil:
		return "not_required"
	case c.KYC.VerificationStatus == "Completed":
		return "verified"
	default:
		return "pending"
	}
}

func kycWire(k *kycRec) *wireKYC {
	if k == nil {
		return nil
	}
	w := &wireKYC{
		DirectorFullName:            strp(k.DirectorFullName),
		DirectorHomeAddress:         strp(k.DirectorHomeAddress),
		DirectorDateOfBirth:         k.DirectorDateOfBirth,
		DateCreated:                 ts(k.DateCreated),
		VerificationStatusUpdatedAt: tsp(k.StatusUpdatedAt),
	}
	if k.VerificationStatus != "" {
		w.VerificationStatus = strp(k.VerificationStatus)
	}
	return w
}

// clientWireLocked renders a link as ClientCreatedResponse (without caseResults).
func (b *Backend) clientWireLocked(l *linkRec, base string) wireClient {
	c := l.cred
	total, closed := b.st.caseCounts(c)
	users := make([]wireUser, 0, len(c.Users))
	for _, u := range c.Users {
		users = append(users, wireUser{ID: u.ID, Email: strp(u.Email), FirstName: strp(u.FirstName), LastName: strp(u.LastName)})
	}
	return wireClient{
		ExternalTenantID: strp(l.ExternalTenantID),
		OnboardingDone:   b.st.onboardingDone(c),
		OnboardingLinks:  wireOnboardingLinks{URL: b.onboardingURLLocked(base, l)},
		Client: wireCreditor{
			ID: c.ID, CompanyName: strp(c.CompanyName), OfficeEmail: nz(c.SupportEmail),
			Country: nz(countryByCode[c.CountryCode]), Address: nz(c.Address), City: nz(c.City),
			ZipCode: nz(c.ZipCode), CompanyRegistrationNumber: nz(c.RegistrationNumber),
		},
		Users:              users,
		IsAttributedClient: l.Attributed,
		DateLinked:         ts(l.Created),
		CaseStats:          wireCaseStats{CasesTotal: total, CasesClosed: closed},
		KycStatus:          kycStatus(c),
		KycVerification:    kycWire(c.KYC),
	}
}

func (b *Backend) invoiceWireLocked(cs *caseRec, c *creditorRec, base string) wireInvoice {
	rq := cs.Request
	d := rq.Debtor
	if d == nil {
		d = &reqDebtor{}
	}
	amt := 0.0
	if rq.AmountToRecover != nil {
		amt = *rq.AmountToRecover
	}
	date := cs.Created
	if !blank(rq.Date) {
		date, _ = parseTime(*rq.Date)
	}
	due := date
	if !blank(rq.DueDate) {
		due, _ = parseTime(*rq.DueDate)
	}
	inv := wireInvoice{
		ID: cs.ID, DateCreated: ts(cs.Created), DateUpdated: tsp(cs.Updated),
		Reference: strp(fmt.Sprintf("DEB-%d", cs.Number)), CreditorReference: rq.CreditorReference,
		CreditorComments: rq.Comments, ClaimDescription: rq.ClaimDescription,
		GrossAmount: amt, Remainder: amt, Currency: strp(strings.ToUpper(strings.TrimSpace(deref(rq.CurrencyCode)))),
		IsTestCase: rq.IsTest, Lifecycle: strp(cs.Lifecycle), DueDate: ts(due), Date: ts(date),
		DateFinished: tsp(cs.Finished), CloseCode: nz(cs.CloseCode), CreditorDivisionID: rq.CreditorDivisionID,
		Debtor: wireDebtor{
			Type: deref(d.Type), Name: deref(d.Name), ContactPerson: d.ContactPerson,
			CompanyRegistrationNumber: d.CompanyRegistrationNumber, Address: d.Address, ZipCode: d.ZipCode,
			City: d.City, State: d.State, StateAlpha2: d.StateAlpha2, CountryAlpha2: d.CountryAlpha2,
			Country: d.Country, Email: d.Email, Phone: d.Phone,
		},
		Creditor: wireCaseCreditor{
			ID: c.ID, CompanyName: strp(c.CompanyName), CompanyRegistrationNumber: nz(c.RegistrationNumber),
			OfficeEmail: nz(c.SupportEmail), OfficePhone: nz(c.SupportPhone), Address: nz(c.Address),
			City: nz(c.City), ZipCode: nz(c.ZipCode), State: nz(c.State), Country: nz(countryByCode[c.CountryCode]),
		},
	}
	if cs.CollectionPartner != "" {
		inv.CollectionPartner = &wireCollectionPartner{
			Name:        strp(cs.CollectionPartner),
			OfficeEmail: strp("cases-" + strings.ToLower(cs.Jurisdiction) + "@collection-partner.example"),
		}
	}
	if l := b.st.Links[cs.LinkID]; l != nil && l.cred != nil {
		if u := b.onboardingURLLocked(base, l); u != nil && cs.Lifecycle == LifecyclePendingContractSigning {
			inv.SolutionURL = u
			inv.SigningHandoff = &wireSigningHandoff{CombinedSigningURL: u}
		}
	}
	return inv
}

// createCasesLocked creates the cases of a request for creditor c under link l (all already
// validated) and reports the outcome per case.
func (b *Backend) createCasesLocked(cases []reqCase, c *creditorRec, l *linkRec, now time.Time, base string, ce *call) *wireCaseResults {
	res := &wireCaseResults{SuccessfulCases: []wireInvoice{}, FailedCases: []wireCaseFailure{}}
	for i, rq := range cases {
		jur := c.CountryCode
		if d := rq.Debtor; d != nil {
			if !blank(d.CountryAlpha2) {
				jur, _, _ = resolveCountry(*d.CountryAlpha2)
			} else if !blank(d.Country) {
				jur, _, _ = resolveCountry(*d.Country)
			}
		}
		if !b.coverage[jur] {
			res.FailedCases = append(res.FailedCases, wireCaseFailure{
				CaseIndex: int32(i), CreditorReference: rq.CreditorReference, ErrorType: strp("NoPartnerAvailable"),
				ErrorMessage: strp(fmt.Sprintf("No collection partner is available for the debtor's jurisdiction (%s).", jur)),
			})
			ce.effect(EffectCaseFailed)
			continue
		}
		cs := &caseRec{
			ID: b.ids.uuid(), Seq: b.st.nextSeq(), CreditorID: c.ID, LinkID: l.ID,
			Lifecycle: LifecyclePendingContractSigning, Created: now, Jurisdiction: jur,
			CollectionPartner: "Mock Collection Partner " + jur, Request: rq,
		}
		b.st.addCase(c, cs)
		res.SuccessfulCases = append(res.SuccessfulCases, b.invoiceWireLocked(cs, c, base))
		ce.effect(EffectCaseCreated)
	}
	return res
}

func idempotencyViolations(cases []reqCase) *wireCaseResults {
	res := &wireCaseResults{SuccessfulCases: []wireInvoice{}, FailedCases: []wireCaseFailure{}}
	for i, rq := range cases {
		res.FailedCases = append(res.FailedCases, wireCaseFailure{
			CaseIndex: int32(i), CreditorReference: rq.CreditorReference, ErrorType: strp("IdempotencyViolation"),
			ErrorMessage: strp("The client already exists from an earlier call; cases are only created on the first successful call."),
		})
	}
	return res
}

func clampTTL(days int) int {
	if days == 0 {
		days = 7
	}
	return min(max(days, 1), 30)
}

// livePendingLocked returns the partner's pending, unexpired link request for ext, marking an
// expired one as expired on the way.
func (b *Backend) livePendingLocked(p *partnerRec, ext string, now time.Time, ce *call) *linkReqRec {
	lr := p.pending[ext]
	if lr == nil {
		return nil
	}
	b.expireIfDueLocked(lr, now, ce)
	if lr.Status == "pending" {
		return lr
	}
	return nil
}

func (b *Backend) expireIfDueLocked(lr *linkReqRec, now time.Time, ce *call) {
	if lr.Status == "pending" && !now.Before(lr.ExpiresAt) {
		lr.Status = "expired"
		t := lr.ExpiresAt
		lr.DecidedAt = &t
		if ce != nil {
			ce.effect(EffectLinkExpired)
		}
		b.onLinkExpiredLocked(lr) // client.link_expired, once: the status changes only here
	}
}

func (b *Backend) writeNeedsLinking(w http.ResponseWriter, lr *linkReqRec, base string) {
	writeJSON(w, http.StatusConflict, wireConflict{
		Type:    ConflictNeedsLinking,
		Message: "Client already exists in Debitura. Approval required to link to referral partner.",
		Data: wireNeedsLinkingData{
			ExternalTenantID: lr.ExternalTenantID,
			OnboardingLinks:  wireOnboardingLinks{URL: strp(approvalURL(base, lr.Token))},
		},
	})
}

func (b *Backend) postClients(w http.ResponseWriter, r *http.Request, ce *call) {
	var req reqCreateClient
	if _, ok := b.readRequest(w, r, &req, "CreateClientRequest"); !ok {
		return
	}
	msgs, ccode, _ := validateCreate(&req)
	if len(msgs) > 0 {
		writeValidation(w, msgs)
		return
	}
	if errs := validateCases(req.Cases); errs != nil {
		body := apiErrorBody("ValidationError", "Case validation failed")
		body.ValidationErrors = errs
		writeJSON(w, http.StatusBadRequest, body)
		return
	}
	base := b.baseURL(r)
	ext := *req.ExternalTenantID // case-sensitive and exact, as sent

	if !b.lockCaller(w, ce) {
		return
	}
	defer b.mu.Unlock()
	now := b.now()
	p := ce.partner

	if l := p.active[ext]; l != nil {
		resp := b.clientWireLocked(l, base)
		if len(req.Cases) > 0 {
			resp.CaseResults = idempotencyViolations(req.Cases)
		}
		writeJSON(w, b.createdStatusLocked(l), resp)
		return
	}
	if lr := b.livePendingLocked(p, ext, now, ce); lr != nil {
		b.writeNeedsLinking(w, lr, base)
		return
	}
	emails := make([]string, 0, len(req.Users)+1)
	for _, u := range req.Users {
		emails = append(emails, *u.Email)
	}
	emails = append(emails, *req.Client.SupportEmail)
	if cred := b.st.matchCreditor(emails); cred != nil {
		switch {
		case cred.Kind != KindCreditor:
			writeJSON(w, http.StatusConflict, wireConflict{
				Type:    ConflictInvalidClientType,
				Message: "The e-mail address belongs to a Debitura account that is not a creditor and cannot be linked as a client.",
			})
			return
		case cred.LinkID != "":
			if l := b.st.Links[cred.LinkID]; l != nil && l.PartnerID == p.ID {
				writeJSON(w, http.StatusConflict, wireConflict{
					Type:    ConflictDifferentTenant,
					Message: "Client is already linked to your account with a different externalTenantId. Use the existing externalTenantId.",
					Data:    wireDifferentTenantData{ExternalTenantID: ext, ExistingExternalTenantID: l.ExternalTenantID},
				})
				return
			}
			writeJSON(w, http.StatusConflict, wireConflict{
				Type:    ConflictLinkedToAnotherPartner,
				Message: "Client is already linked to another referral partner. Contact Debitura support.",
				Data:    wireAlreadyLinkedData{ExternalTenantID: ext},
			})
			return
		}
		lr := &linkReqRec{
			Token: b.ids.token(24), ID: b.ids.uuid(), Seq: b.st.nextSeq(), PartnerID: p.ID,
			ExternalTenantID: ext, CreditorID: cred.ID, Created: now,
			ExpiresAt: now.Add(time.Duration(clampTTL(p.ApprovalTTLDays)) * 24 * time.Hour),
			Status:    "pending", Cases: req.Cases,
		}
		b.st.addLinkRequest(p, lr)
		ce.effect(EffectLinkRequested)
		b.onLinkRequestedLocked(lr, now)
		b.writeNeedsLinking(w, lr, base)
		return
	}

	c := &creditorRec{
		ID: b.ids.uuid(), Seq: b.st.nextSeq(), Kind: KindCreditor,
		CompanyName: strings.TrimSpace(*req.Client.Name), RegistrationNumber: deref(req.Client.RegistrationNumber),
		Address: deref(req.Client.Address), ZipCode: deref(req.Client.ZipCode), City: deref(req.Client.City),
		State: deref(req.Client.State), CountryCode: ccode, SupportEmail: strings.TrimSpace(*req.Client.SupportEmail),
		SupportPhone: deref(req.Client.SupportPhone), Created: now,
	}
	onboarding := 0
	for i, u := range req.Users {
		if u.IsOnboardingUser {
			onboarding = i
		}
	}
	for i, u := range req.Users {
		first, last := splitName(*u.Name)
		role := "CreditorUser"
		if i == onboarding {
			role = "CreditorAdmin"
		}
		c.Users = append(c.Users, userRec{ID: b.st.nextUserID(), Email: strings.TrimSpace(*u.Email), FirstName: first, LastName: last, Role: role})
	}
	b.st.addCreditor(c)
	l := &linkRec{
		ID: b.ids.uuid(), Seq: b.st.nextSeq(), PartnerID: p.ID, ExternalTenantID: ext, CreditorID: c.ID,
		Attributed: true, Created: now, ReferralFeePercentage: p.ReferralFeePercentage, UpdatedAt: now, cred: c,
	}
	b.st.addActiveLink(p, l)
	ce.effect(EffectClientCreated)
	resp := b.clientWireLocked(l, base)
	if len(req.Cases) > 0 {
		resp.CaseResults = b.createCasesLocked(req.Cases, c, l, now, base, ce)
		resp.CaseStats.CasesTotal = int32(len(c.CaseIDs))
	}
	writeJSON(w, b.createdStatusLocked(l), resp)
}

func (b *Backend) createdStatusLocked(l *linkRec) int {
	if b.st.onboardingDone(l.cred) {
		return http.StatusCreated
	}
	return http.StatusAccepted
}

func (b *Backend) traceID() string {
	return "00-" + b.ids.token(16) + "-" + b.ids.token(8) + "-00"
}

func (b *Backend) getClient(w http.ResponseWriter, r *http.Request, ce *call) {
	l := b.lockActiveLink(w, r, ce, "Client not found or link is archived")
	if l == nil {
		return
	}
	defer b.mu.unlockUnchanged()
	writeJSON(w, http.StatusOK, b.clientWireLocked(l, b.baseURL(r)))
}

type listQuery struct {
	page, size          int
	query               string
	ext                 *string
	attributed, onboard *bool
	from, to            *time.Time
	byName, desc        bool
}

func parseListQuery(q url.Values) (listQuery, string) {
	lq := listQuery{page: 1, size: 50, desc: true}
	get := func(name string) (string, bool) {
		for k, v := range q {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0], true
			}
		}
		return "", false
	}
	intParam := func(name string, dst *int, lo, hi int) string {
		s, ok := get(name)
		if !ok || s == "" {
			return ""
		}
		n, err := strconv.Atoi(s)
		if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
			return fmt.Sprintf("The value '%s' is not valid for %s.", s, name)
		}
		if n < lo || n > hi {
			return fmt.Sprintf("%s must be between %d and %d.", name, lo, hi)
		}
		*dst = n
		return ""
	}
	boolParam := func(name string) (*bool, string) {
		s, ok := get(name)
		if !ok || s == "" {
			return nil, ""
		}
		v, err := strconv.ParseBool(strings.ToLower(s))
		if err != nil || (s != "true" && s != "false" && !strings.EqualFold(s, "true") && !strings.EqualFold(s, "false")) {
			return nil, fmt.Sprintf("The value '%s' is not valid for %s.", s, name)
		}
		return &v, ""
	}
	timeParam := func(name string) (*time.Time, string) {
		s, ok := get(name)
		if !ok || s == "" {
			return nil, ""
		}
		t, ok := parseTime(s)
		if !ok {
			return nil, fmt.Sprintf("The value '%s' is not valid for %s.", s, name)
		}
		return &t, ""
	}
	if m := intParam("Page", &lq.page, 1, math.MaxInt32); m != "" {
		return lq, m
	}
	if m := intParam("PageSize", &lq.size, 1, 100); m != "" {
		return lq, m
	}
	lq.query, _ = get("Query")
	if s, ok := get("ExternalTenantId"); ok && s != "" {
		lq.ext = &s
	}
	var m string
	if lq.attributed, m = boolParam("IsAttributedClient"); m != "" {
		return lq, m
	}
	if lq.onboard, m = boolParam("OnboardingDone"); m != "" {
		return lq, m
	}
	if lq.from, m = timeParam("DateCreatedFrom"); m != "" {
		return lq, m
	}
	if lq.to, m = timeParam("DateCreatedTo"); m != "" {
		return lq, m
	}
	if s, ok := get("Sort"); ok && s != "" {
		field, dir, hasDir := strings.Cut(s, ":")
		var ok bool
		if lq.byName, ok = sortChoice(field, "datecreated", "name"); !ok {
			return lq, fmt.Sprintf("Invalid sort field '%s'. Allowed fields: dateCreated, name.", field)
		}
		lq.desc = false
		if hasDir {
			if lq.desc, ok = sortChoice(dir, "asc", "desc"); !ok {
				return lq, fmt.Sprintf("Invalid sort direction '%s'. Use asc or desc.", dir)
			}
		}
	}
	return lq, ""
}

// sortChoice reads s (trimmed, in any case) as one of the two lower-case names of a Sort part:
// false for first, true for second; ok is false for anything else.
func sortChoice(s, first, second string) (isSecond, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case first:
		return false, true
	case second:
		return true, true
	}
	return false, false
}

func (b *Backend) getClients(w http.ResponseWriter, r *http.Request, ce *call) {
	lq, msg := parseListQuery(r.URL.Query())
	if msg != "" {
		writeValidation(w, []string{msg})
		return
	}
	base := b.baseURL(r)
	needle := strings.ToLower(strings.TrimSpace(lq.query))
	if !b.lockCaller(w, ce) {
		return
	}
	defer b.mu.unlockUnchanged()
	p := ce.partner
	var links []*linkRec
	if lq.byName {
		links = p.sortedByName()
	} else {
		links = p.sortedByDate()
	}
	var sum wireSummary
	skip := (lq.page - 1) * lq.size
	matched := 0
	out := make([]wireClient, 0, min(lq.size, len(links)))
	n := len(links)
	for i := 0; i < n; i++ {
		l := links[i]
		if lq.desc {
			l = links[n-1-i]
		}
		done := b.st.onboardingDone(l.cred)
		sum.TotalClients++
		if l.Attributed {
			sum.AttributedClients++
		}
		if done {
			sum.OnboardingComplete++
		} else {
			sum.OnboardingPending++
		}
		sum.TotalCases += int32(len(l.cred.CaseIDs))
		switch {
		case lq.ext != nil && l.ExternalTenantID != *lq.ext,
			lq.attributed != nil && l.Attributed != *lq.attributed,
			lq.onboard != nil && done != *lq.onboard,
			lq.from != nil && l.Created.Before(*lq.from),
			lq.to != nil && l.Created.After(*lq.to),
			needle != "" && !strings.Contains(l.cred.search, needle):
			continue
		}
		if matched >= skip && len(out) < lq.size {
			out = append(out, b.clientWireLocked(l, base))
		}
		matched++
	}
	pages := 0
	if matched > 0 {
		pages = (matched + lq.size - 1) / lq.size
	}
	writeJSON(w, http.StatusOK, wireClientList{
		Page: wirePageData{
			TotalResults: int32(matched), PageSize: int32(lq.size), CurrentPage: int32(skip/lq.size + 1),
			ResponseCount: int32(len(out)), TotalPages: int32(pages),
		},
		Summary: sum,
		Clients: out,
	})
}

// lockTestOnlyLink is lockActiveLink for the routes that exist only in the test environment: in
// Production it answers 403 and returns nil without taking the lock.
func (b *Backend) lockTestOnlyLink(w http.ResponseWriter, r *http.Request, ce *call) *linkRec {
	if b.env == Production {
		writeAPIError(w, http.StatusForbidden, "Forbidden", "This endpoint is only available in the test environment.")
		return nil
	}
	return b.lockActiveLink(w, r, ce, msgNoActiveLink)
}

func (b *Backend) deleteClient(w http.ResponseWriter, r *http.Request, ce *call) {
	l := b.lockTestOnlyLink(w, r, ce)
	if l == nil {
		return
	}
	defer b.mu.Unlock()
	b.resetLinkLocked(ce.partner, l, b.now())
	ce.effect(EffectClientReset)
	w.WriteHeader(http.StatusNoContent)
}

// resetLinkLocked is the test-environment reset: cases, creditor and users are deleted (the
// creditor's e-mails leave matching) and the link is archived.
func (b *Backend) resetLinkLocked(p *partnerRec, l *linkRec, now time.Time) {
	c := l.cred
	b.st.archiveLink(p, l, now, "reset")
	b.st.removeCreditor(c)
	// Pending link requests that point at the deleted creditor can no longer be approved.
	for _, lr := range b.st.LinkRequests {
		if lr.CreditorID == c.ID && lr.Status == "pending" {
			lr.Status, lr.DecidedAt = "expired", &now
		}
	}
}

func (b *Backend) isDeletable(w http.ResponseWriter, r *http.Request, ce *call) {
	l := b.lockTestOnlyLink(w, r, ce)
	if l == nil {
		return
	}
	defer b.mu.unlockUnchanged()
	active := 0
	for _, cs := range b.st.casesOf(l.cred) {
		if cs.Lifecycle != LifecyclePendingContractSigning && cs.Lifecycle != LifecycleClosed {
			active++
		}
	}
	resp := wireDeletable{IsDeletable: active == 0, Blockers: []string{}}
	if active > 0 {
		resp.Blockers = append(resp.Blockers, fmt.Sprintf("Client has %d active collection case(s).", active))
	}
	writeJSON(w, http.StatusOK, resp)
}

func (b *Backend) withdraw(w http.ResponseWriter, r *http.Request, ce *call) {
	l := b.lockActiveLink(w, r, ce, msgNoActiveLink)
	if l == nil {
		return
	}
	defer b.mu.Unlock()
	if !l.Attributed {
		writeAPIError(w, http.StatusConflict, "ClientNotAttributed", "Cannot withdraw: the client is not attributed to your account (it was linked after a 409).")
		return
	}
	if b.st.onboardingDone(l.cred) {
		writeAPIError(w, http.StatusConflict, "OnboardingCompleted", "Cannot withdraw: the client has completed onboarding.")
		return
	}
	cases := b.st.casesOf(l.cred)
	for _, cs := range cases {
		if cs.Lifecycle != LifecyclePendingContractSigning && !(cs.Lifecycle == LifecycleClosed && cs.CloseCode == closeCodeWithdrawn) {
			writeAPIError(w, http.StatusConflict, "CasesProgressed", "Cannot withdraw: one or more cases have progressed beyond PendingContractSigning.")
			return
		}
	}
	now := b.now()
	for _, cs := range cases {
		if cs.Lifecycle == LifecyclePendingContractSigning {
			cs.Lifecycle, cs.CloseCode, cs.Finished, cs.Updated = LifecycleClosed, closeCodeWithdrawn, &now, &now
			ce.effect(EffectCaseClosed)
		}
	}
	b.st.archiveLink(ce.partner, l, now, "withdrawn")
	b.st.withdrawCreditor(l.cred)
	ce.effect(EffectClientWithdrawn)
	w.WriteHeader(http.StatusNoContent)
}

func (b *Backend) getMe(w http.ResponseWriter, r *http.Request, ce *call) {
	if !b.lockCaller(w, ce) {
		return
	}
	p := *ce.partner
	b.mu.unlockUnchanged()
	writeJSON(w, http.StatusOK, wirePartner{
		ID: p.ID, CompanyName: nz(p.CompanyName), ShortName: nz(p.ShortName), ContactEmail: nz(p.ContactEmail),
		ExternalSystemID: nz(p.ExternalSystemID), ReferralFeePercentage: p.ReferralFeePercentage,
		IsActive: !p.Inactive, IsPublicDemo: p.IsPublicDemo, LogoURL: nz(p.LogoURL),
		BackgroundColorCode: nz(p.BackgroundColorCode), FontColor: nz(p.FontColor), FontFamily: nz(p.FontFamily),
		InvoicingTriggerMode: p.InvoicingTriggerMode,
	})
}
