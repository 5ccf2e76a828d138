package mockserver

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/debitura-go/debitura/internal/apikey"
)

// validate checks a store read by Restore before anything uses it: no null records, every map
// key equal to its record's id (a record that breaks either is not checked further), partner keys valid and unique, and every reference the handlers
// follow pointing at a record that exists (a link's partner and, unless archived, its creditor;
// a creditor's link and cases; a case's creditor and link; a link request's partner, its creditor
// while pending, and its link; a webhook's partner). Records that a test-environment reset
// deletes (the creditor and cases of an archived link, the creditor of a decided link request)
// may be missing, as in a state the mock saved itself. Messages name records by id, never by an
// API key or an approval token.
func (s *store) validate() error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	keys := map[string]string{} // API key -> partner id
	eachRecord(s.Partners, "partners", func(p *partnerRec) string { return p.ID }, bad, func(id string, p *partnerRec) {
		switch {
		case !apikey.Valid(p.APIKey):
			bad("partners[%q].apiKey is not 1-256 printable ASCII characters without spaces", id)
		case keys[p.APIKey] != "":
			bad("partners[%q].apiKey is also the key of partner %q", id, keys[p.APIKey])
		default:
			keys[p.APIKey] = id
		}
	})
	partner := func(id string) bool { return s.Partners[id] != nil }
	eachRecord(s.Creditors, "creditors", func(c *creditorRec) string { return c.ID }, bad, func(id string, c *creditorRec) {
		if c.LinkID != "" {
			if l := s.Links[c.LinkID]; l == nil || l.CreditorID != id {
				bad("creditors[%q].linkId %q names no link of this creditor", id, c.LinkID)
			}
		}
		for _, cid := range c.CaseIDs {
			if s.Cases[cid] == nil {
				bad("creditors[%q].caseIds: case %q does not exist", id, cid)
			}
		}
	})
	active := map[[2]string]string{} // partner id, externalTenantId -> link id
	eachRecord(s.Links, "links", func(l *linkRec) string { return l.ID }, bad, func(id string, l *linkRec) {
		if !partner(l.PartnerID) {
			bad("links[%q].partnerId %q names no partner", id, l.PartnerID)
		}
		if l.Archived {
			return
		}
		if s.Creditors[l.CreditorID] == nil {
			bad("links[%q].creditorId %q names no creditor", id, l.CreditorID)
		}
		k := [2]string{l.PartnerID, l.ExternalTenantID}
		if other := active[k]; other != "" {
			bad("links[%q] and links[%q] are both the active link of externalTenantId %q", other, id, l.ExternalTenantID)
		}
		active[k] = id
	})
	for _, tok := range sortedKeys(s.LinkRequests) {
		r := s.LinkRequests[tok]
		if r == nil {
			bad("linkRequests has a null record")
			continue
		}
		name := fmt.Sprintf("linkRequests[id %q]", r.ID)
		switch {
		case r.ID == "":
			bad("linkRequests has a record without id")
		case r.Token != tok:
			bad("%s is not stored under its token", name)
		case !partner(r.PartnerID):
			bad("%s.partnerId %q names no partner", name, r.PartnerID)
		case r.Status == "pending" && s.Creditors[r.CreditorID] == nil:
			bad("%s.creditorId %q names no creditor", name, r.CreditorID)
		case r.LinkID != "" && s.Links[r.LinkID] == nil:
			bad("%s.linkId %q names no link", name, r.LinkID)
		case !slices.Contains([]string{"pending", "approved", "declined", "expired"}, r.Status):
			bad("%s.status %q is not pending, approved, declined or expired", name, r.Status)
		}
	}
	eachRecord(s.Cases, "cases", func(c *caseRec) string { return c.ID }, bad, func(id string, c *caseRec) {
		switch {
		case s.Creditors[c.CreditorID] == nil:
			bad("cases[%q].creditorId %q names no creditor", id, c.CreditorID)
		case s.Links[c.LinkID] == nil:
			bad("cases[%q].linkId %q names no link", id, c.LinkID)
		}
	})
	eachRecord(s.Webhooks, "webhooks", func(h *webhookRec) string { return h.ID }, bad, func(id string, h *webhookRec) {
		if !partner(h.PartnerID) {
			bad("webhooks[%q].partnerId %q names no partner", id, h.PartnerID)
		}
	})
	for _, k := range sortedKeys(s.Idempotency) {
		if s.Idempotency[k] == nil {
			bad("idempotency has a null record")
			break
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if len(errs) > 5 { // the first few say what is wrong; a broken file can have thousands
		errs = append(errs[:5], fmt.Sprintf("and %d more problems", len(errs)-5))
	}
	return errors.New(strings.Join(errs, "; "))
}

// eachRecord calls check, in key order, for each record of m (the store's map called name) that
// is not null and is stored under its own id (idOf); it reports the others with bad.
func eachRecord[R any](m map[string]*R, name string, idOf func(*R) string, bad func(string, ...any), check func(id string, r *R)) {
	for _, id := range sortedKeys(m) {
		r := m[id]
		switch {
		case r == nil:
			bad("%s[%q] is null", name, id)
		case idOf(r) != id:
			bad("%s[%q] has id %q", name, id, idOf(r))
		default:
			check(id, r)
		}
	}
}

// sortedKeys returns m's keys in order, so that validate reports problems deterministically.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
