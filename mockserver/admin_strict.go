package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The control API is as strict as the API it imitates: a typo must be a 400 that says what would
// have been valid, never a 200 that silently does nothing (a fault for "postClient" that can never
// fire, a clock advance by {"minutes":5} that moves nothing). The typed Go methods return the
// same errors (wrapping ErrInvalid).

// faultShapes lists every FaultShape, in the order the dashboard offers them.
var faultShapes = []FaultShape{
	ShapeAPIError, ShapeProblemDetails, ShapeHTML, ShapeRateLimit, ShapeRateLimitLegacy, ShapeRateLimitHeaderOnly,
	ShapeEmpty, ShapeConflict, ShapeBusinessError, ShapeValidationProblem, ShapeFieldMap,
}

// FaultOperations lists the operation ids a [Fault] can name (every route of the API documents
// and the Customer API check), in the order of the routes.
func FaultOperations() []string {
	var out []string
	for _, rt := range append(slices.Clone(apiRoutes), webhookRoutes...) {
		if !slices.Contains(out, rt.op) {
			out = append(out, rt.op)
		}
	}
	return out
}

// FaultShapes lists every [FaultShape].
func FaultShapes() []FaultShape { return slices.Clone(faultShapes) }

// controlOperations are the journal operations of control actions (recordControl).
var controlOperations = []string{"approveLink", "declineLink", "expireLink", "releaseAgreement", "signAgreement", "submitCompanyDetails"}

// JournalOperations lists every operation a [JournalEntry] can name: the API's operation ids,
// the outgoing webhook deliveries, requests that matched no route, and control actions.
func JournalOperations() []string {
	return append(append(FaultOperations(), OpWebhookAttempt, opUnknownRoute), controlOperations...)
}

// invalidf is an ErrInvalid with a message.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// quoteList renders valid values for an error message: "a", "b", "c".
func quoteList[S ~string](vs []S) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(string(v))
	}
	return strings.Join(q, ", ")
}

// validateFault checks a fault rule: the checks of the HTTP route (checkFault), a known
// operation id, a known partner, and a rule that does something.
func (b *Backend) validateFault(f Fault) error {
	if err := checkFault(f); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if f.Operation != "" && !slices.Contains(FaultOperations(), f.Operation) {
		return invalidf("operation: unknown operation id %q; valid: \"\" (every operation), %s", f.Operation, quoteList(FaultOperations()))
	}
	if f.PartnerID != "" {
		b.mu.Lock()
		p := b.st.Partners[f.PartnerID]
		b.mu.unlockUnchanged()
		if p == nil {
			return invalidf("partnerId: no partner has the id %q (GET /me shows a partner's id)", f.PartnerID)
		}
	}
	if !f.Reset && !f.Truncate && f.Status == 0 && f.Body == "" && f.Shape == "" && f.Latency == 0 {
		return invalidf("a fault needs at least one of status, shape, body, latency, reset or truncate")
	}
	return nil
}

// AddFault checks a fault rule and adds it, returning its id (for RemoveFault). An invalid rule
// (an unknown operation id or shape, a status outside 200-599, a probability outside 0-1,
// negative times or latency, an unknown partner id, a rule that changes nothing) returns an
// error wrapping [ErrInvalid] whose message lists the valid values, and adds nothing.
func (b *Backend) AddFault(f Fault) (string, error) {
	if err := b.validateFault(f); err != nil {
		return "", err
	}
	return b.addFaultRule(f), nil
}

// checkRateLimit checks a rate-limit configuration as PUT /__mock/rate-limit does.
func checkRateLimit(c RateLimitConfig) error {
	for i, w := range c.Windows {
		switch {
		case w.Period <= 0:
			return invalidf("windows[%d].period: needs a positive duration such as \"1m\"", i)
		case w.Limit <= 0:
			return invalidf("windows[%d].limit: must be > 0", i)
		case w.Segments < 0 || w.Segments > maxRateSegments:
			return invalidf("windows[%d].segments: must be between 0 and %d", i, maxRateSegments)
		case w.Segments > 1 && w.Period/time.Duration(w.Segments) < time.Millisecond:
			return invalidf("windows[%d].segments: each segment of the period must be at least 1ms", i)
		}
	}
	return nil
}

// AdvanceClock moves the mock's clock forward by d (0 to 100 years), then expires the link
// requests past their TTL (firing client.link_expired) and schedules due webhook retries, as
// POST /__mock/clock/advance does. It returns the new time. It fails with [ErrInvalid] for d out
// of range and with [ErrConflict] when the clock given to [WithClock] cannot be advanced.
func (b *Backend) AdvanceClock(d time.Duration) (time.Time, error) {
	if d < 0 || d > maxClockAdvance {
		return time.Time{}, invalidf("duration: must be between 0 and %v", maxClockAdvance)
	}
	ac, ok := b.clock.(AdvanceableClock)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: the mock's clock cannot be advanced (WithClock was given a clock without Advance)", ErrConflict)
	}
	ac.Advance(d)
	b.ExpireLinks()
	b.armWebhookTimer()
	return b.now(), nil
}

// clockAdvanceIn is the body of POST /__mock/clock/advance: exactly one of the two.
type clockAdvanceIn struct {
	Seconds  *float64 `json:"seconds"`
	Duration *string  `json:"duration"`
}

func (in clockAdvanceIn) duration() (time.Duration, error) {
	switch {
	case in.Seconds == nil && in.Duration == nil:
		return 0, errors.New(`give "seconds" (a number) or "duration" (a Go duration such as "90s", "1h30m")`)
	case in.Seconds != nil && in.Duration != nil:
		return 0, errors.New(`give "seconds" or "duration", not both`)
	case in.Duration != nil:
		if *in.Duration == "" {
			return 0, errors.New(`duration: needs a Go duration such as "90s" or "1h30m"; valid units: ns, us, ms, s, m, h`)
		}
		if _, err := time.ParseDuration(*in.Duration); err != nil {
			return 0, fmt.Errorf("duration: %v; use a Go duration such as \"90s\" or \"1h30m\" (units ns, us, ms, s, m, h)", err)
		}
		return clockAdvance(0, *in.Duration)
	default:
		return clockAdvance(*in.Seconds, "")
	}
}

// decodeStrict decodes one JSON value into v, refusing unknown members (with the list of valid
// ones) and trailing data.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("unknown member %s; valid members: %s", name, validMembers(reflect.TypeOf(v)))
		}
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid JSON: data after the value")
	}
	return nil
}

// jsonMembers lists the JSON member names of a struct type (embedded structs flattened, outer
// names first).
func jsonMembers(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	var embedded []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			embedded = append(embedded, f.Type)
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	for _, e := range embedded {
		for _, n := range jsonMembers(e) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// validMembers describes the members of t and of the objects nested in it:
// "disabled, windows; in windows[]: limit, period, segments, anchorFirstRequest".
func validMembers(t reflect.Type) string {
	parts := []string{strings.Join(jsonMembers(t), ", ")}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			ft, suffix := f.Type, ""
			if ft.Kind() == reflect.Slice {
				ft, suffix = ft.Elem(), "[]"
			}
			if f.Anonymous || !f.IsExported() || name == "-" || ft.Kind() != reflect.Struct || ft == reflect.TypeOf(time.Time{}) {
				continue
			}
			if name == "" {
				name = f.Name
			}
			parts = append(parts, "in "+name+suffix+": "+strings.Join(jsonMembers(ft), ", "))
		}
	}
	return strings.Join(parts, "; ")
}
