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
	m.HandleFunc("GET /__mock/clients/{externalTenantId}/link-request", clientInfo(b.adminPartner, b.PendingLinkRequest))
	m.HandleFunc("POST /__mock/clients/{externalTenantId}/link-request/approve", clientAction(b.adminPartner, b.ApprovePendingLink))
	m.HandleFunc("POST /__mock/clients/{externalTenantId}/link-request/decline", clientAction(b.adminPartner, b.DeclinePendingLink))
	m.HandleFunc("POST /__mock/clients/{externalTenantId}/link-request/expire", clientAction(b.adminPartner, b.ExpirePendingLink))
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
