package debitura

import (
	"encoding/json"
	"time"

	"github.com/debitura-go/debitura/internal/apitime"
)

// apiTime decodes the API's date-times (with or without a zone); see [apitime.Time], which the
// webhook package shares.
type apiTime = apitime.Time

// The answers' structs with date-times decode them through apiTime, so a value without a zone
// does not make the whole answer fail. Each copies the current value first, so a member absent
// from the JSON leaves the field as it was, as encoding/json does.

// UnmarshalJSON decodes a ClientCreatedResponse; see apiTime for the date-times it accepts.
func (lc *LinkedClient) UnmarshalJSON(b []byte) error {
	type plain LinkedClient
	aux := struct {
		*plain
		DateLinked apiTime `json:"dateLinked"`
	}{plain: (*plain)(lc), DateLinked: apiTime(lc.DateLinked)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	lc.DateLinked = time.Time(aux.DateLinked)
	return nil
}

// UnmarshalJSON decodes a KycVerificationDto; see apiTime for the date-times it accepts.
func (k *KYCVerification) UnmarshalJSON(b []byte) error {
	type plain KYCVerification
	aux := struct {
		*plain
		DateCreated                 apiTime `json:"dateCreated"`
		VerificationStatusUpdatedAt apiTime `json:"verificationStatusUpdatedAt"`
	}{plain: (*plain)(k), DateCreated: apiTime(k.DateCreated), VerificationStatusUpdatedAt: apiTime(k.VerificationStatusUpdatedAt)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	k.DateCreated = time.Time(aux.DateCreated)
	k.VerificationStatusUpdatedAt = time.Time(aux.VerificationStatusUpdatedAt)
	return nil
}

// UnmarshalJSON decodes an InvoiceDto; see apiTime for the date-times it accepts.
func (inv *Invoice) UnmarshalJSON(b []byte) error {
	type plain Invoice
	aux := struct {
		*plain
		DateCreated            apiTime `json:"dateCreated"`
		DateUpdated            apiTime `json:"dateUpdated"`
		DueDate                apiTime `json:"dueDate"`
		Date                   apiTime `json:"date"`
		DateFinished           apiTime `json:"dateFinished"`
		DateCollectionStarted  apiTime `json:"dateCollectionStarted"`
		ExclusivePeriodEndDate apiTime `json:"exclusivePeriodEndDate"`
	}{
		plain:                  (*plain)(inv),
		DateCreated:            apiTime(inv.DateCreated),
		DateUpdated:            apiTime(inv.DateUpdated),
		DueDate:                apiTime(inv.DueDate),
		Date:                   apiTime(inv.Date),
		DateFinished:           apiTime(inv.DateFinished),
		DateCollectionStarted:  apiTime(inv.DateCollectionStarted),
		ExclusivePeriodEndDate: apiTime(inv.ExclusivePeriodEndDate),
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	inv.DateCreated = time.Time(aux.DateCreated)
	inv.DateUpdated = time.Time(aux.DateUpdated)
	inv.DueDate = time.Time(aux.DueDate)
	inv.Date = time.Time(aux.Date)
	inv.DateFinished = time.Time(aux.DateFinished)
	inv.DateCollectionStarted = time.Time(aux.DateCollectionStarted)
	inv.ExclusivePeriodEndDate = time.Time(aux.ExclusivePeriodEndDate)
	return nil
}

// UnmarshalJSON decodes a WebhookDto (camelCase or PascalCase, null for absent values); see
// apiTime for the date-times it accepts. Unlike the others it starts from a zero Webhook, so a
// Webhook is never a mix of two answers.
func (w *Webhook) UnmarshalJSON(b []byte) error {
	type plain Webhook
	*w = Webhook{}
	aux := struct {
		*plain
		CreatedUTC apiTime `json:"createdUtc"`
		UpdatedUTC apiTime `json:"updatedUtc"`
	}{plain: (*plain)(w)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	w.CreatedUTC, w.UpdatedUTC = time.Time(aux.CreatedUTC), time.Time(aux.UpdatedUTC)
	return nil
}

// UnmarshalJSON decodes a ClientProfile; see apiTime for the date-times it accepts.
func (p *ClientProfile) UnmarshalJSON(b []byte) error {
	type plain ClientProfile
	aux := struct {
		*plain
		UpdatedAt   apiTime `json:"updatedAt"`
		SuspendedAt apiTime `json:"suspendedAt"`
	}{plain: (*plain)(p), UpdatedAt: apiTime(p.UpdatedAt), SuspendedAt: apiTime(p.SuspendedAt)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	p.UpdatedAt = time.Time(aux.UpdatedAt)
	p.SuspendedAt = time.Time(aux.SuspendedAt)
	return nil
}
