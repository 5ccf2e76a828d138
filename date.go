package debitura

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Date is a calendar date without a time of day or a time zone, as the API's "format: date"
// fields carry it (for example a director's date of birth). It marshals to JSON as "YYYY-MM-DD";
// the zero Date marshals as null. Decoding accepts "YYYY-MM-DD", a date-time whose date part is
// used ("1980-05-17T00:00:00"), and null (the zero Date).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses a "YYYY-MM-DD" string. It returns an error for any other form or for a date
// that does not exist (2023-02-30).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("debitura: parse date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// IsZero reports whether d is the zero Date (no date).
func (d Date) IsZero() bool {
	return d == Date{}
}

// IsValid reports whether d is a date that exists in the proleptic Gregorian calendar.
func (d Date) IsValid() bool {
	return d.Year >= 1 && d.Year <= 9999 && DateOf(d.In(time.UTC)) == d
}

// In returns the time at midnight of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// String returns d as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalJSON encodes d as "YYYY-MM-DD", or null for the zero Date. It returns an error for a
// date that does not exist.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	if !d.IsValid() {
		return nil, fmt.Errorf("debitura: date %s does not exist", d)
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON decodes "YYYY-MM-DD", a date-time (its date part) or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("debitura: date: %w", err)
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	if len(s) > len(time.DateOnly) && (s[len(time.DateOnly)] == 'T' || s[len(time.DateOnly)] == ' ') {
		s = s[:len(time.DateOnly)]
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
