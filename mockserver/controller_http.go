package mockserver

import (
	"net/http"
)

// The /__mock/ routes the Controller needs beyond admin_http.go's, and the dashboard's actions.

// adminPartner is the partner a per-partner control route acts for: the partnerId query
// parameter, else the XApiKey header, else the default partner.
func (b *Backend) adminPartner(r *http.Request) string {
	if id := r.URL.Query().Get("partnerId"); id != "" {
		return id
	}
	return b.adminKey(r)
}

func (b *Backend) controllerRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /__mock/clients/{externalTenantId}/link-request", func(w http.ResponseWriter, r *http.Request) {
		info, err := b.PendingLinkRequest(b.adminPartner(r), r.PathValue("externalTenantId"))
		if adminErr(w, err) {
			return
		}
		writeJSON(w, http.StatusOK, info)
	})
	m.HandleFunc("POST /__mock/clients/{externalTenantId}/link-request/approve", func(w http.ResponseWriter, r *http.Request) {
		if adminErr(w, b.ApprovePendingLink(b.adminPartner(r), r.PathValue("externalTenantId"))) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("POST /__mock/clients/{externalTenantId}/link-request/decline", func(w http.ResponseWriter, r *http.Request) {
		if adminErr(w, b.DeclinePendingLink(b.adminPartner(r), r.PathValue("externalTenantId"))) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("POST /__mock/clients/{externalTenantId}/link-request/expire", func(w http.ResponseWriter, r *http.Request) {
		if adminErr(w, b.ExpirePendingLink(b.adminPartner(r), r.PathValue("externalTenantId"))) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("POST /__mock/webhooks/redeliver", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			EventID        string `json:"eventId"`
			SubscriptionID string `json:"subscriptionId"`
		}
		if !adminDecode(w, r, &in) {
			return
		}
		if adminErr(w, b.RedeliverWebhook(in.EventID, in.SubscriptionID)) {
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"eventId": in.EventID, "subscriptionId": in.SubscriptionID})
	})
}
