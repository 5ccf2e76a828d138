package mockserver

import "net/http"

// servePages serves the hosted pages (/onboarding/..., /ReferralPartner/...). This is a stub: the
// pages are built on top of OnboardingPage, SubmitCompanyDetails, SignAgreement,
// SignContractUpgrade, LinkRequest, ApproveLink and DeclineLink, and replace this file.
func (b *Backend) servePages(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotImplemented)
	_, _ = w.Write([]byte("debitura-mock: hosted pages are not implemented yet\n"))
}
