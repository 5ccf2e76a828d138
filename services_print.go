package debitura

import (
	"fmt"
	"log/slog"

	"github.com/debitura-go/debitura/internal/redaction"
)

// The services (ClientsService, TokensService, PartnerService, WebhooksService) embed service,
// so they print as their name and the Client's redacted description, never the API key, with
// these methods. The key is a Secret, so even fmt's field-by-field printing of a service (where
// it calls no method) shows no key; these methods make the usual printing readable.

// String describes the service without the API key.
func (s service) String() string {
	if s.client == nil {
		return "debitura." + s.name + "{}"
	}
	return "debitura." + s.name + "{client: " + s.client.String() + "}"
}

// GoString is String.
func (s service) GoString() string { return s.String() }

// Format prints String for every verb.
func (s service) Format(f fmt.State, verb rune) { redaction.Format(f, verb, s.String()) }

// LogValue keeps the API key out of slog output.
func (s service) LogValue() slog.Value { return slog.StringValue(s.String()) }
