package mockserver

import "net/http"

// The caller's partner is resolved twice: wrap looks it up for the rate limiter, the fault rules
// and the journal, and every handler looks it up again with lockCaller, in the critical section
// that has the effect. A Reset or Restore between the two replaces the store; a partner record
// found before it belongs to the discarded store, and a write through it would be lost (or, worse,
// half of it would land in the new store: a link in Links that its partner does not list).

// lockCaller takes b.mu and resolves the caller's partner (ce.partner) from ce.key in the
// current store. When the key no longer names a partner (a Reset or Restore removed it after wrap
// authenticated the request), it releases b.mu, answers 401 as wrap would and returns false.
// On true, the caller holds b.mu and must release it.
func (b *Backend) lockCaller(w http.ResponseWriter, ce *call) bool {
	b.mu.Lock()
	ce.partner = b.st.partnerByKey[ce.key]
	if ce.partner == nil {
		b.mu.unlockUnchanged()
		writeUnauthorized(w, ce.route)
		return false
	}
	return true
}

// writeUnauthorized answers a request whose XApiKey names no partner. The /v1/Webhooks routes
// answer without a body (the spec declares none there).
func writeUnauthorized(w http.ResponseWriter, route string) {
	if isWebhookRoute(route) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	writeAPIError(w, http.StatusUnauthorized, "Unauthorized", "API key is missing or invalid. Send your key in the XApiKey header.")
}

// lockActiveLink is the prologue of the handlers of one client (/clients/{externalTenantId}/...):
// it takes b.mu with lockCaller and finds the caller's active link for the path's
// externalTenantId. When there is none it answers 404 with msg, releases b.mu and returns nil
// (lockCaller's 401 releases it too). On a link, the caller holds b.mu and must release it.
func (b *Backend) lockActiveLink(w http.ResponseWriter, r *http.Request, ce *call, msg string) *linkRec {
	if !b.lockCaller(w, ce) {
		return nil
	}
	l := b.activeLinkLocked(w, ce.partner, r.PathValue("externalTenantId"), msg)
	if l == nil {
		b.mu.unlockUnchanged()
	}
	return l
}

// activeLinkLocked returns partner p's active link for ext; when there is none it answers 404
// with msg and returns nil.
func (b *Backend) activeLinkLocked(w http.ResponseWriter, p *partnerRec, ext, msg string) *linkRec {
	l := p.active[ext]
	if l == nil {
		writeNotFound(w, msg)
	}
	return l
}
