package mockserver

import (
	"net/http"

	"github.com/debitura-go/debitura/internal/statuswriter"
)

// call is the per-request context the middleware hands to a handler.
type call struct {
	op    string
	route string
	key   string // the XApiKey sent
	// partner is the caller's partner. wrap sets it for rate limiting, faults and the journal;
	// a handler must resolve it again with lockCaller before it reads or changes state.
	partner *partnerRec
	effects []string
}

func (c *call) effect(e ...string) { c.effects = append(c.effects, e...) }

type apiHandler func(w http.ResponseWriter, r *http.Request, c *call)

type route struct {
	method, path, op string
	auth             bool // XApiKey required, rate-limited
	h                func(b *Backend) apiHandler
}

// Operation ids of the two API documents, plus the mock's Customer API check.
const (
	OpPostClients         = "postClients"
	OpGetClients          = "getClients"
	OpGetClient           = "getClientsByExternalTenantId"
	OpDeleteClient        = "deleteClientsByExternalTenantId"
	OpIsDeletable         = "getClientsByExternalTenantIdIsDeletable"
	OpWithdraw            = "postClientsByExternalTenantIdWithdraw"
	OpKYC                 = "postClientsByExternalTenantIdKycVerification"
	OpToken               = "postOauthToken"
	OpMe                  = "getMe"
	OpPatchClient         = "patchClient"
	OpProfile             = "getClientProfile"
	OpSuspend             = "suspendClient"
	OpReactivate          = "reactivateClient"
	OpRotateToken         = "rotateClientToken"
	OpCustomerAPIWhoami   = "customerApiWhoami"
	opUnknownRoute        = "unknownRoute"
	CustomerAPIWhoamiPath = "/customer-api/whoami"
)

var apiRoutes = []route{
	{"POST", "/clients", OpPostClients, true, func(b *Backend) apiHandler { return b.postClients }},
	{"GET", "/clients", OpGetClients, true, func(b *Backend) apiHandler { return b.getClients }},
	{"GET", "/clients/{externalTenantId}", OpGetClient, true, func(b *Backend) apiHandler { return b.getClient }},
	{"DELETE", "/clients/{externalTenantId}", OpDeleteClient, true, func(b *Backend) apiHandler { return b.deleteClient }},
	{"GET", "/clients/{externalTenantId}/is-deletable", OpIsDeletable, true, func(b *Backend) apiHandler { return b.isDeletable }},
	{"POST", "/clients/{externalTenantId}/withdraw", OpWithdraw, true, func(b *Backend) apiHandler { return b.withdraw }},
	{"POST", "/clients/{externalTenantId}/kyc-verification", OpKYC, true, func(b *Backend) apiHandler { return b.submitKYC }},
	{"POST", "/oauth/token", OpToken, true, func(b *Backend) apiHandler { return b.mintToken }},
	{"GET", "/me", OpMe, true, func(b *Backend) apiHandler { return b.getMe }},
	{"PATCH", "/clients/{externalTenantId}", OpPatchClient, true, func(b *Backend) apiHandler { return b.patchClient }},
	{"GET", "/clients/{externalTenantId}/profile", OpProfile, true, func(b *Backend) apiHandler { return b.getProfile }},
	{"POST", "/clients/{externalTenantId}/suspend", OpSuspend, true, func(b *Backend) apiHandler { return b.suspend }},
	{"POST", "/clients/{externalTenantId}/reactivate", OpReactivate, true, func(b *Backend) apiHandler { return b.reactivate }},
	{"POST", "/clients/{externalTenantId}/rotate-token", OpRotateToken, true, func(b *Backend) apiHandler { return b.rotateToken }},
	{"GET", CustomerAPIWhoamiPath, OpCustomerAPIWhoami, false, func(b *Backend) apiHandler { return b.whoami }},
}

func (b *Backend) routes() {
	b.api = http.NewServeMux()
	for _, rt := range append(apiRoutes, webhookRoutes...) {
		b.api.Handle(rt.method+" "+rt.path, b.wrap(rt))
	}
	b.api.Handle("/", b.wrap(route{path: "", op: opUnknownRoute, auth: true, h: func(b *Backend) apiHandler {
		return func(w http.ResponseWriter, r *http.Request, c *call) {
			if writeMethodNotAllowed(w, b.api, r) {
				return
			}
			writeNotFound(w, "No route matches "+r.Method+" "+r.URL.Path)
		}
	}}))
	b.adminRoutes()
}

// wrap is the middleware every API request goes through: rate limit (per key, before the key is
// checked), fault injection, authentication, the handler, and the journal.
func (b *Backend) wrap(rt route) http.Handler {
	h := rt.h(b)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := b.now()
		c := &call{op: rt.op, route: rt.path}
		entry := JournalEntry{Time: start, Method: r.Method, Path: r.URL.Path, Route: rt.path, Operation: rt.op}
		if rt.path != "" {
			entry.Route = rt.method + " " + rt.path
		}
		var partnerID string
		if rt.auth {
			if c.key = r.Header.Get("XApiKey"); c.key != "" {
				b.mu.Lock()
				c.partner = b.st.partnerByKey[c.key]
				b.mu.unlockUnchanged()
			}
			if c.partner != nil {
				partnerID = c.partner.ID
			}
			entry.PartnerID = partnerID
			if ok, wait := b.limiter.allow(partnerID, start); !ok {
				b.writeRateLimited(w, wait)
				entry.Status = http.StatusTooManyRequests
				entry.Fault = "rate_limited"
				b.finish(entry, c)
				return
			}
		}
		real := func(w http.ResponseWriter) {
			if rt.auth && c.partner == nil {
				writeUnauthorized(w, rt.path)
				return
			}
			h(w, r, c)
		}
		if f := b.matchFault(rt.op, partnerID); f != nil {
			entry.Fault = f.kind()
			b.serveFault(w, r, f, real, func(status int) {
				entry.Status = status
				b.finish(entry, c)
			})
			return
		}
		sw := statuswriter.New(w)
		real(sw)
		entry.Status = sw.Code()
		b.finish(entry, c)
	})
}

func (b *Backend) finish(e JournalEntry, c *call) {
	e.Effects = c.effects
	e.Duration = b.now().Sub(e.Time)
	b.journal.add(e)
}
