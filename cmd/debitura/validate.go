package main

import (
	"context"
	"errors"
	"math"
	"net/http"

	"github.com/debitura-go/debitura"
)

// errNotSent is what the validator's transport answers: a request that reached it passed every
// check the SDK makes before sending.
var errNotSent = errors.New("dry run: not sent")

// refuseTransport is an http.RoundTripper that sends nothing.
type refuseTransport struct{}

func (refuseTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, errNotSent }

// validator checks rows with the SDK's own pre-send checks, so --dry-run and the link run refuse
// exactly what Clients.Create would refuse: it calls Create on a Client whose transport sends
// nothing and that never retries. Nothing reaches the network, so its request budget has no
// real windows to model: it gets windows it never fills (noLimits), or checking more rows than a
// minute's limit would wait for slots and then report rows as bad.
type validator struct {
	c *debitura.Client
	// csv names fields by their CSV column.
	csv bool
}

func newValidator(format inputFormat) (*validator, error) {
	c, err := debitura.New("dry-run-no-key",
		debitura.WithBaseURL("http://127.0.0.1"),
		debitura.WithHTTPClient(&http.Client{Transport: refuseTransport{}}),
		debitura.WithMaxRetries(0),
		debitura.WithLimits(noLimits()))
	if err != nil {
		return nil, err
	}
	return &validator{c: c, csv: format == formatCSV}, nil
}

// check returns nil for a row Create would send, or the field and message of the first rule it
// breaks.
func (v *validator) check(ctx context.Context, r row) *rowError {
	if r.Bad != nil {
		return r.Bad
	}
	_, err := v.c.Clients.Create(ctx, r.Req)
	var ve *debitura.ValidationError
	switch {
	case errors.Is(err, errNotSent):
		return nil
	case errors.As(err, &ve):
		field := ve.Field
		if v.csv {
			field = csvField(field)
		}
		return &rowError{Line: r.Line, Field: field, Message: ve.Message}
	case err == nil:
		return nil // cannot happen: the transport answers nothing
	default:
		return &rowError{Line: r.Line, Message: err.Error()}
	}
}

// noLimits are windows the validator never fills: math.MaxInt32 requests per minute, hour and day.
func noLimits() debitura.Limits {
	l := debitura.DefaultLimits()
	l.PerMinute, l.PerHour, l.PerDay = math.MaxInt32, math.MaxInt32, math.MaxInt32
	return l
}
