package webhook

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/debitura-go/debitura/internal/apitime"
)

// Event is a webhook delivery: the envelope Debitura sends, plus what the delivery's headers
// say. Data is kept as raw JSON; [Event.ClientData] and [Event.ReplayFailedData] decode it.
type Event struct {
	// ID is the event's UUID. Debitura may deliver an event more than once; de-duplicate on
	// it (Handler does).
	ID string `json:"id"`
	// SpecVersion is "1.0".
	SpecVersion string `json:"specVersion"`
	// Event is the event name, e.g. ClientLinked.
	Event EventType `json:"event"`
	// Timestamp is when the event happened.
	Timestamp time.Time `json:"timestamp"`
	// Data is the event's data object as received.
	Data json.RawMessage `json:"data,omitempty"`
	// Links holds API URLs of the resources the event is about.
	Links EventLinks `json:"links"`

	// Test is true when the delivery carries "X-Debitura-Test: true" (an event triggered with
	// the SDK's WebhooksService.Test). The header is not covered by the signature.
	Test bool `json:"-"`
	// SignatureTime is the time t of the delivery's signature.
	SignatureTime time.Time `json:"-"`
}

// EventLinks are the links of an event envelope.
type EventLinks struct {
	// Client is the API URL of the client the event is about, when it is about one.
	Client string `json:"client,omitempty"`
}

// UnmarshalJSON decodes an envelope in camelCase or PascalCase; the timestamp may come with or
// without a time zone (none is read as UTC).
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event // without this method
	var ev Event
	shadow := struct {
		*plain
		Timestamp apitime.Into `json:"timestamp"`
	}{(*plain)(&ev), apitime.To(&ev.Timestamp)}
	if err := json.Unmarshal(b, &shadow); err != nil {
		return err
	}
	if bytes.Equal(ev.Data, []byte("null")) {
		ev.Data = nil
	}
	*e = ev
	return nil
}

// decodeData decodes e.Data into v; no data leaves v as it is.
func (e *Event) decodeData(v any) error {
	if len(e.Data) == 0 {
		return nil
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return errorf(ErrMalformed, "%s data: %v", e.Event, err)
	}
	return nil
}

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
