// Package apitime decodes the date-times of Debitura's API and of its webhook deliveries, which
// may come with or without a time zone.
package apitime

import (
	"encoding/json"
	"fmt"
	"time"
)

// Time decodes the API's date-times: RFC 3339, or ISO 8601 without a zone (read as UTC), as
// .NET writes a DateTime of unspecified kind (ASP.NET services commonly do, whatever their
// OpenAPI document says); null and "" are the zero time.
type Time time.Time

// Into decodes a date-time as [Time] does, straight into the time.Time it was made for (see
// [To]). A struct that shadows its time.Time fields with Into fields in an UnmarshalJSON method
// gets them decoded through Time, and those absent from the JSON keep their value.
type Into struct{ p *time.Time }

// To returns an Into that decodes into *p.
func To(p *time.Time) Into { return Into{p} }

// UnmarshalJSON decodes a JSON string or null into the time.Time of t; see [Time].
func (t Into) UnmarshalJSON(b []byte) error { return (*Time)(t.p).UnmarshalJSON(b) }

// UnmarshalJSON decodes a JSON string or null; see [Time].
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("debitura: date-time: %w", err)
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*t = Time(v)
	return nil
}

// Parse parses one date-time; see [Time]. The empty string is the zero time.
func Parse(s string) (time.Time, error) {
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
