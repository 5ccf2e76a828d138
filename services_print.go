package debitura

import (
	"fmt"
	"log/slog"

	"github.com/debitura-go/debitura/internal/redaction"
)

// The services print as their name and the Client's redacted description, never the API key.
// The key is a Secret, so even fmt's field-by-field printing of a service (where it calls no
// method) shows no key; these methods make the usual printing readable.

// String describes the service without the API key.
func (s ClientsService) String() string { return service(s).describe("ClientsService") }

// GoString is String.
func (s ClientsService) GoString() string { return s.String() }

// Format prints String for every verb.
func (s ClientsService) Format(f fmt.State, verb rune) { redaction.Format(f, verb, s.String()) }

// LogValue keeps the API key out of slog output.
func (s ClientsService) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String describes the service without the API key.
func (s TokensService) String() string { return service(s).describe("TokensService") }

// GoString is String.
func (s TokensService) GoString() string { return s.String() }

// Format prints String for every verb.
func (s TokensService) Format(f fmt.State, verb rune) { redaction.Format(f, verb, s.String()) }

// LogValue keeps the API key out of slog output.
func (s TokensService) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String describes the service without the API key.
func (s PartnerService) String() string { return service(s).describe("PartnerService") }

// GoString is String.
func (s PartnerService) GoString() string { return s.String() }

// Format prints String for every verb.
func (s PartnerService) Format(f fmt.State, verb rune) { redaction.Format(f, verb, s.String()) }

// LogValue keeps the API key out of slog output.
func (s PartnerService) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String describes the service without the API key.
func (s WebhooksService) String() string { return service(s).describe("WebhooksService") }

// GoString is String.
func (s WebhooksService) GoString() string { return s.String() }

// Format prints String for every verb.
func (s WebhooksService) Format(f fmt.State, verb rune) { redaction.Format(f, verb, s.String()) }

// LogValue keeps the API key out of slog output.
func (s WebhooksService) LogValue() slog.Value { return slog.StringValue(s.String()) }

func (s service) describe(name string) string {
	if s.client == nil {
		return "debitura." + name + "{}"
	}
	return "debitura." + name + "{client: " + s.client.String() + "}"
}
