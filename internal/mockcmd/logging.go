package mockcmd

import (
	"io"
	"log/slog"
	"net/http"
	"time"
)

// routeTemplates are the path templates the request log names; a request that matches none is
// logged as "unmatched". Query strings and path values never reach the log.
var routeTemplates = []string{
	"/clients",
	"/clients/{externalTenantId}",
	"/clients/{externalTenantId}/is-deletable",
	"/clients/{externalTenantId}/withdraw",
	"/clients/{externalTenantId}/kyc-verification",
	"/clients/{externalTenantId}/profile",
	"/clients/{externalTenantId}/suspend",
	"/clients/{externalTenantId}/reactivate",
	"/clients/{externalTenantId}/rotate-token",
	"/oauth/token",
	"/me",
	"/customer-api/whoami",
	"/__mock/reset",
	"/__mock/partners",
	"/__mock/creditors",
	"/__mock/clients/{externalTenantId}",
	"/__mock/clients/{externalTenantId}/complete-onboarding",
	"/__mock/agreement/release",
	"/__mock/links/expire",
	"/__mock/links/{token}/approve",
	"/__mock/links/{token}/decline",
	"/__mock/clock/advance",
	"/__mock/rate-limit",
	"/__mock/faults",
	"/__mock/faults/{id}",
	"/__mock/journal",
	"/__mock/state",
	"/__mock/token/check",
	"/onboarding/companydetails/{linkId}",
	"/onboarding/Agreement/Sign/{linkId}",
	"/onboarding/ContractUpgrade/Sign/{linkId}",
	"/onboarding/Done/{linkId}",
	"/ReferralPartner/Approve",
	"/ReferralPartner/Approve/Result",
}

var routeMux = func() *http.ServeMux {
	m := http.NewServeMux()
	for _, p := range routeTemplates {
		m.Handle(p, http.NotFoundHandler())
	}
	return m
}()

// routeOf returns the template of the request's path, or "unmatched".
func routeOf(r *http.Request) string {
	probe := &http.Request{Method: http.MethodGet, Host: r.Host, URL: r.URL}
	if _, pattern := routeMux.Handler(probe); pattern != "" {
		return pattern
	}
	return "unmatched"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (the mock's reset fault hijacks it).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests writes one line per request to w: method, route template, status and duration.
// It never logs headers, query strings or path values, so no key, token or tenant id leaks.
func logRequests(next http.Handler, w io.Writer) http.Handler {
	log := slog.New(slog.NewTextHandler(w, nil))
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: rw}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK // nothing written (or the connection was dropped by a fault)
		}
		log.Info("request", "method", r.Method, "route", routeOf(r), "status", status, "duration", time.Since(start).Round(time.Microsecond))
	})
}
