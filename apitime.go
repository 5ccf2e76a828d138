package debitura

import (
	"encoding/json"
	"fmt"
	"time"
)

// apiTime decodes the API's date-times: RFC 3339, or ISO 8601 without a zone (read as UTC), as
// .NET writes a DateTime of unspecified kind (ASP.NET services commonly do, whatever their
// OpenAPI document says); null and "" are the zero time.
type apiTime time.Time

func (t *apiTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = apiTime{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("debitura: date-time: %w", err)
	}
	v, err := parseAPITime(s)
	if err != nil {
		return err
	}
	*t = apiTime(v)
	return nil
}

func parseAPITime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if v, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return v, nil
	}
	if v, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC); err == nil {
		return v, nil
	}
	return time.Time{}, fmt.Errorf("debitura: date-time %q is not ISO 8601", s)
}

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
