package mockserver

import (
	"net/http"
	"strings"
)

// pageRoutes are the hosted pages' route templates; their fixed segments match
// case-insensitively (see servePages).
var pageRoutes = []string{
	"/onboarding/companydetails/{linkId}",
	"/onboarding/Agreement/Sign/{linkId}",
	"/onboarding/ContractUpgrade/Sign/{linkId}",
	"/onboarding/Done/{linkId}",
	"/ReferralPartner/Approve",
	"/ReferralPartner/Approve/Result",
}

// pageRouteMux matches a lower-cased path against the lower-cased page templates; the handler
// is never called, only the pattern is read.
var pageRouteMux, pageRouteName = func() (*http.ServeMux, map[string]string) {
	m, names := http.NewServeMux(), map[string]string{}
	for _, p := range pageRoutes {
		low := strings.ToLower(p)
		m.Handle(low, http.NotFoundHandler())
		names[low] = p
	}
	return m, names
}()

// Route reports the route template r's path matches, without the method and with the path
// values as placeholders ("/clients/{externalTenantId}", "/__mock/links/{token}/approve",
// "/ReferralPartner/Approve"), or "" when it matches no route of the API, the control API or the
// hosted pages. A known path under another method (a 405) still names its template. It never
// returns path values or the query, so it is safe to log (debitura-mock -log uses it).
func (b *Backend) Route(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == HealthPath:
		return HealthPath
	case strings.HasPrefix(p, "/__mock/") || p == "/__mock":
		return anyMethodPattern(b.admin, r)
	case strings.HasPrefix(p, "/onboarding/") || strings.HasPrefix(p, "/ReferralPartner/"):
		low := *r.URL
		low.Path, low.RawPath = strings.ToLower(r.URL.Path), ""
		return pageRouteName[muxPattern(pageRouteMux, &http.Request{URL: &low}, http.MethodGet)]
	default:
		return anyMethodPattern(b.api, r)
	}
}

// anyMethodPattern is mux's pattern for r's path under r's method, else under any method.
func anyMethodPattern(mux *http.ServeMux, r *http.Request) string {
	if p := muxPattern(mux, r, r.Method); p != "" {
		return p
	}
	for _, m := range probeMethods {
		if p := muxPattern(mux, r, m); p != "" {
			return p
		}
	}
	return ""
}
