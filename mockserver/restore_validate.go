package mockserver

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/debitura-go/debitura/internal/apikey"
)

// validate checks a store read by Restore before anything uses it: no null records, every map
// key equal to its record's id, partner keys valid and unique, and every reference the handlers
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
	for _, id := range sortedKeys(s.Partners) {
		p := s.Partners[id]
		switch {
		case p == nil:
			bad("partners[%q] is null", id)
		case p.ID != id:
			bad("partners[%q] has id %q", id, p.ID)
		case !apikey.Valid(p.APIKey):
			bad("partners[%q].apiKey is not 1-256 printable ASCII characters without spaces", id)
		case keys[p.APIKey] != "":
			bad("partners[%q].apiKey is also the key of partner %q", id, keys[p.APIKey])
		default:
			keys[p.APIKey] = id
		}
	}
	partner := func(id string) bool { return s.Partners[id] != nil }
	for _, id := range sortedKeys(s.Creditors) {
		c := s.Creditors[id]
		if c == nil {
			bad("creditors[%q] is null", id)
			continue
		}
		if c.ID != id {
			bad("creditors[%q] has id %q", id, c.ID)
		}
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
	}
	active := map[[2]string]string{} // partner id, externalTenantId -> link id
	for _, id := range sortedKeys(s.Links) {
		l := s.Links[id]
		switch {
		case l == nil:
			bad("links[%q] is null", id)
			continue
		case l.ID != id:
			bad("links[%q] has id %q", id, l.ID)
		case !partner(l.PartnerID):
			bad("links[%q].partnerId %q names no partner", id, l.PartnerID)
		}
		if l.Archived {
			continue
		}
		if s.Creditors[l.CreditorID] == nil {
			bad("links[%q].creditorId %q names no creditor", id, l.CreditorID)
		}
		k := [2]string{l.PartnerID, l.ExternalTenantID}
		if other := active[k]; other != "" {
			bad("links[%q] and links[%q] are both the active link of externalTenantId %q", other, id, l.ExternalTenantID)
		}
		active[k] = id
	}
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
	for _, id := range sortedKeys(s.Cases) {
		c := s.Cases[id]
		switch {
		case c == nil:
			bad("cases[%q] is null", id)
		case c.ID != id:
			bad("cases[%q] has id %q", id, c.ID)
		case s.Creditors[c.CreditorID] == nil:
			bad("cases[%q].creditorId %q names no creditor", id, c.CreditorID)
		case s.Links[c.LinkID] == nil:
			bad("cases[%q].linkId %q names no link", id, c.LinkID)
		}
	}
	for _, id := range sortedKeys(s.Webhooks) {
		h := s.Webhooks[id]
		switch {
		case h == nil:
			bad("webhooks[%q] is null", id)
		case h.ID != id:
			bad("webhooks[%q] has id %q", id, h.ID)
		case !partner(h.PartnerID):
			bad("webhooks[%q].partnerId %q names no partner", id, h.PartnerID)
		}
	}
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

// sortedKeys returns m's keys in order, so that validate reports problems deterministically.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
