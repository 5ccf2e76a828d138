package debitura

import (
	"encoding/json"

	"github.com/debitura-go/debitura/internal/apitime"
)

// apiTime decodes the API's date-times (with or without a zone); see [apitime.Time], which the
// webhook package shares.
type apiTime = apitime.Time

// The answers' structs with date-times decode them through apitime.Into fields that shadow the
// time.Time fields, so a value without a zone does not make the whole answer fail. A member
// absent from the JSON leaves the field as it was, as encoding/json does.

// UnmarshalJSON decodes a ClientCreatedResponse; see apiTime for the date-times it accepts.
func (lc *LinkedClient) UnmarshalJSON(b []byte) error {
	type plain LinkedClient
	return json.Unmarshal(b, &struct {
		*plain
		DateLinked apitime.Into `json:"dateLinked"`
	}{(*plain)(lc), apitime.To(&lc.DateLinked)})
}

// UnmarshalJSON decodes a KycVerificationDto; see apiTime for the date-times it accepts.
func (k *KYCVerification) UnmarshalJSON(b []byte) error {
	type plain KYCVerification
	return json.Unmarshal(b, &struct {
		*plain
		DateCreated                 apitime.Into `json:"dateCreated"`
		VerificationStatusUpdatedAt apitime.Into `json:"verificationStatusUpdatedAt"`
	}{(*plain)(k), apitime.To(&k.DateCreated), apitime.To(&k.VerificationStatusUpdatedAt)})
}

// UnmarshalJSON decodes an InvoiceDto; see apiTime for the date-times it accepts.
func (inv *Invoice) UnmarshalJSON(b []byte) error {
	type plain Invoice
	return json.Unmarshal(b, &struct {
		*plain
		DateCreated            apitime.Into `json:"dateCreated"`
		DateUpdated            apitime.Into `json:"dateUpdated"`
		DueDate                apitime.Into `json:"dueDate"`
		Date                   apitime.Into `json:"date"`
		DateFinished           apitime.Into `json:"dateFinished"`
		DateCollectionStarted  apitime.Into `json:"dateCollectionStarted"`
		ExclusivePeriodEndDate apitime.Into `json:"exclusivePeriodEndDate"`
	}{
		(*plain)(inv),
		apitime.To(&inv.DateCreated),
		apitime.To(&inv.DateUpdated),
		apitime.To(&inv.DueDate),
		apitime.To(&inv.Date),
		apitime.To(&inv.DateFinished),
		apitime.To(&inv.DateCollectionStarted),
		apitime.To(&inv.ExclusivePeriodEndDate),
	})
}

// UnmarshalJSON decodes a WebhookDto (camelCase or PascalCase, null for absent values); see
// apiTime for the date-times it accepts. Unlike the others it starts from a zero Webhook, so a
// Webhook is never a mix of two answers.
func (w *Webhook) UnmarshalJSON(b []byte) error {
	type plain Webhook
	*w = Webhook{}
	return json.Unmarshal(b, &struct {
		*plain
		CreatedUTC apitime.Into `json:"createdUtc"`
		UpdatedUTC apitime.Into `json:"updatedUtc"`
	}{(*plain)(w), apitime.To(&w.CreatedUTC), apitime.To(&w.UpdatedUTC)})
}

// UnmarshalJSON decodes a ClientProfile; see apiTime for the date-times it accepts.
func (p *ClientProfile) UnmarshalJSON(b []byte) error {
	type plain ClientProfile
	return json.Unmarshal(b, &struct {
		*plain
		UpdatedAt   apitime.Into `json:"updatedAt"`
		SuspendedAt apitime.Into `json:"suspendedAt"`
	}{(*plain)(p), apitime.To(&p.UpdatedAt), apitime.To(&p.SuspendedAt)})
}
