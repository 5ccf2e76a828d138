package mockserver

import (
	"maps"
	"slices"
	"time"
)

// Snapshot encodes a copy of the store made under b.mu, outside the lock: a copy costs a
// fraction of the JSON encoding, so requests wait for the copy only. The copy is deep wherever
// a handler changes a record in place (the KYC record, slices that grow, metadata, time
// pointers); values that are never changed after they are stored (request cases, idempotent
// answer bodies, strings) are shared. Unexported indexes are not copied: the encoder ignores
// them. TestStoreCloneSharesNothingMutable guards new fields.

// clone returns a copy of s for encoding, without the idempotency records that expired at now.
func (s *store) clone(now time.Time) *store {
	c := &store{
		AgreementVersion: s.AgreementVersion,
		Seq:              s.Seq,
		NextUserID:       s.NextUserID,
		NextCaseNumber:   s.NextCaseNumber,
		TokenSecret:      slices.Clone(s.TokenSecret),
		Partners:         make(map[string]*partnerRec, len(s.Partners)),
		Creditors:        make(map[string]*creditorRec, len(s.Creditors)),
		Links:            make(map[string]*linkRec, len(s.Links)),
		LinkRequests:     make(map[string]*linkReqRec, len(s.LinkRequests)),
		Cases:            make(map[string]*caseRec, len(s.Cases)),
		Idempotency:      make(map[string]*idemRec, len(s.Idempotency)),
		Webhooks:         make(map[string]*webhookRec, len(s.Webhooks)),
	}
	for k, p := range s.Partners {
		cp := *p
		cp.active, cp.byDate, cp.byName, cp.pending = nil, nil, nil, nil
		c.Partners[k] = &cp
	}
	for k, cr := range s.Creditors {
		cc := *cr
		cc.Users = slices.Clone(cr.Users)
		cc.SignedAt = cloneTime(cr.SignedAt)
		if cr.KYC != nil {
			kyc := *cr.KYC
			kyc.StatusUpdatedAt = cloneTime(cr.KYC.StatusUpdatedAt)
			cc.KYC = &kyc
		}
		cc.CaseIDs = slices.Clone(cr.CaseIDs)
		c.Creditors[k] = &cc
	}
	for k, l := range s.Links {
		cl := *l
		cl.cred = nil
		cl.ArchivedAt = cloneTime(l.ArchivedAt)
		cl.SuspendedAt = cloneTime(l.SuspendedAt)
		cl.Metadata = maps.Clone(l.Metadata)
		cl.LastTokenExpiry = cloneTime(l.LastTokenExpiry)
		cl.Rotations = slices.Clone(l.Rotations)
		c.Links[k] = &cl
	}
	for k, r := range s.LinkRequests {
		cr := *r
		cr.DecidedAt = cloneTime(r.DecidedAt)
		cr.Cases = slices.Clone(r.Cases)
		c.LinkRequests[k] = &cr
	}
	for k, cs := range s.Cases {
		cc := *cs
		cc.Updated = cloneTime(cs.Updated)
		cc.Finished = cloneTime(cs.Finished)
		cc.ChatMessages = slices.Clone(cs.ChatMessages)
		c.Cases[k] = &cc
	}
	for k, r := range s.Idempotency {
		if r.expired(now) {
			continue
		}
		cr := *r
		c.Idempotency[k] = &cr
	}
	for k, h := range s.Webhooks {
		ch := *h
		ch.Events = slices.Clone(h.Events)
		c.Webhooks[k] = &ch
	}
	return c
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
