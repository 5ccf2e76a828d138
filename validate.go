package debitura

import (
	"errors"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldProblem is one thing wrong with one field of a request.
type FieldProblem struct {
	// Field is the field's path in the API's JSON spelling, e.g. "client.name",
	// "users[0].email", "cases[1].creditorReference", "metadata[\"plan\"]", or an SDK option name
	// such as "PageSize"; "request" when the problem is with the request as a whole.
	Field string
	// Message says what is wrong with it, e.g. "is required".
	Message string
}

// ValidationError reports a request that the SDK refused to send because it breaks rules of the
// API's schema (a missing required field, a string that is too long, a page size out of range,
// metadata over its limits). Problems lists every problem found in the request, each naming its
// field in the API's JSON spelling; Field and Message repeat the first one. No request was sent
// when a method returns a *ValidationError.
//
// The arguments of a call are checked in order (path parameters, then the request, then
// options), and the first argument with problems is the one reported: an empty id is reported
// alone, even when the request has problems too.
type ValidationError struct {
	// Op is the SDK method that refused the request, e.g. "Clients.Create".
	Op string
	// Field is the first problem's field: Problems[0].Field.
	Field string
	// Message is the first problem's message: Problems[0].Message.
	Message string
	// Problems are all the problems found, in the order of the request's fields; never empty
	// in an error the SDK returns.
	Problems []FieldProblem
}

// Is makes errors.Is(err, ErrValidation) true for a request refused before sending, as for one
// the API refused with 400 or 422.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// maxNamedProblems is how many further fields Error names before it only counts them.
const maxNamedProblems = 5

// Error returns one line naming the method and the first problem in full, then the fields of the
// others: "debitura: Clients.Create: invalid request: client.name: is required (and 2 more
// problems: client.country, users[0].email)".
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "debitura: %s: invalid request: %s: %s", e.Op, e.Field, e.Message)
	if len(e.Problems) < 2 {
		return b.String()
	}
	rest := e.Problems[1:]
	if len(rest) == 1 {
		b.WriteString(" (and 1 more problem: ")
	} else {
		fmt.Fprintf(&b, " (and %d more problems: ", len(rest))
	}
	for i, p := range rest {
		if i == maxNamedProblems {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Field)
	}
	b.WriteString(")")
	return b.String()
}

// ValidationProblems returns the field problems behind err, whichever side found them: the
// Problems of a *[ValidationError] (refused by the SDK), or the FieldErrors of an *[APIError]
// (refused by the API with a field map, ValidationProblemDetails or validationErrors), one
// FieldProblem per message, sorted by field. The API's field names are put in its JSON
// spelling, as the SDK names them ("Users[0].Email" and "$.users[0].email" both become
// "users[0].email"); APIError.FieldErrors keeps them as sent. It returns nil when err carries
// no field problems.
func ValidationProblems(err error) []FieldProblem {
	var ve *ValidationError
	if errors.As(err, &ve) {
		if len(ve.Problems) == 0 && (ve.Field != "" || ve.Message != "") {
			return []FieldProblem{{Field: ve.Field, Message: ve.Message}}
		}
		return ve.Problems
	}
	var ae *APIError
	if !errors.As(err, &ae) || len(ae.FieldErrors) == 0 {
		return nil
	}
	var out []FieldProblem
	for field, msgs := range ae.FieldErrors {
		for _, m := range msgs {
			out = append(out, FieldProblem{Field: jsonFieldPath(field), Message: m})
		}
	}
	// Map order is random; fields sort, and a field's messages keep the API's order.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// jsonFieldPath puts a field key of an ASP.NET validation answer ("Client.SupportEmail",
// "Cases[0].Amount", "$.users[0].email") in the API's JSON spelling ("client.supportEmail"):
// the "$." of a JSON path goes, and each member name is camel-cased the way the API's JSON
// serializer does it (a leading run of capitals is lowered, so "IBAN" is "iban").
func jsonFieldPath(key string) string {
	key = strings.TrimPrefix(strings.TrimPrefix(key, "$"), ".")
	var b strings.Builder
	depth, start := 0, 0
	for i := 0; i <= len(key); i++ {
		switch {
		case i < len(key) && key[i] == '[':
			depth++
		case i < len(key) && key[i] == ']' && depth > 0:
			depth--
		case i == len(key) || key[i] == '.' && depth == 0: // a dot inside [...] is part of a key
			b.WriteString(camelCase(key[start:i]))
			if i < len(key) {
				b.WriteByte('.')
			}
			start = i + 1
		}
	}
	return b.String()
}

// camelCase is .NET's JsonNamingPolicy.CamelCase on one member name: it lowers the leading run
// of capitals except a last one that starts the next word ("URLValue" is "urlValue", "IBAN" is
// "iban"). An index after the name ("[0]") is left alone.
func camelCase(seg string) string {
	name, index := seg, ""
	if i := strings.IndexByte(seg, '['); i >= 0 {
		name, index = seg[:i], seg[i:]
	}
	r := []rune(name)
	for i := range r {
		if i == 1 && !unicode.IsUpper(r[i]) {
			break
		}
		if i > 0 && i+1 < len(r) && !unicode.IsUpper(r[i+1]) {
			break
		}
		r[i] = unicode.ToLower(r[i])
	}
	return string(r) + index
}

// problems collects the problems of one request. The check methods each add at most one problem
// for their field, so a field is reported once, by its first broken rule.
type problems struct {
	op   string
	list []FieldProblem
}

// add records a problem with field.
func (p *problems) add(field, format string, args ...any) {
	p.list = append(p.list, FieldProblem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns the *ValidationError of the problems found, or nil (an untyped nil, so that
// err != nil holds only when there are problems).
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Op: p.op, Field: p.list[0].Field, Message: p.list[0].Message, Problems: p.list}
}

// invalid returns a *ValidationError with one problem.
func invalid(op, field, format string, args ...any) *ValidationError {
	p := &problems{op: op}
	p.add(field, format, args...)
	return p.err().(*ValidationError)
}

// length checks that s has between lo and hi characters (hi < 0: no upper bound). Lengths are
// counted in Unicode code points, as JSON Schema counts them. It reports whether s passed.
func (p *problems) length(field, s string, lo, hi int) bool {
	n := utf8.RuneCountInString(s)
	switch {
	case lo > 0 && n < lo && n == 0:
		p.add(field, "is required")
	case n < lo:
		p.add(field, "must be at least %d characters, got %d", lo, n)
	case hi >= 0 && n > hi:
		p.add(field, "must be at most %d characters, got %d", hi, n)
	default:
		return true
	}
	return false
}

// email checks that s is a plain e-mail address (no display name, no angle brackets).
func (p *problems) email(field, s string) {
	if s == "" {
		p.add(field, "is required")
		return
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || strings.ContainsAny(s, " <>") {
		p.add(field, "%q is not an e-mail address", s)
	}
}

// externalTenantID checks a path or body externalTenantId: at least one character, at most max
// (max < 0: no limit), no control characters.
func (p *problems) externalTenantID(field, id string, max int) {
	if !p.length(field, id, 1, max) {
		return
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			p.add(field, "must not contain control characters")
			return
		}
	}
	if id == "." || id == ".." {
		// As a path segment, servers and proxies resolve them to another resource.
		p.add(field, "must not be %q", id)
	}
}

// maxTokenTenantIDLen is the longest externalTenantId POST /oauth/token accepts
// (CreateAccessTokenRequest); the other operations state no maximum.
const maxTokenTenantIDLen = 255

// checkOne runs the checks of rule on their own and returns the *ValidationError of what they
// found, or nil: the form of the problems methods for a lone field (a path parameter).
func checkOne(op string, rule func(p *problems)) error {
	p := &problems{op: op}
	rule(p)
	return p.err()
}

// checkExternalTenantID is [problems.externalTenantID] for a single field.
func checkExternalTenantID(op, field, id string, max int) error {
	return checkOne(op, func(p *problems) { p.externalTenantID(field, id, max) })
}

// idempotencyKeyMax is the longest Idempotency-Key the API accepts.
const idempotencyKeyMax = 255

// checkIdempotencyKey checks a caller-supplied Idempotency-Key: at most 255 characters of
// printable ASCII (it travels in an HTTP header). Empty means "let the SDK generate one".
func checkIdempotencyKey(op, key string) error {
	if len(key) > idempotencyKeyMax {
		return invalid(op, "Idempotency-Key", "must be at most %d characters, got %d", idempotencyKeyMax, len(key))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return invalid(op, "Idempotency-Key", "must be printable ASCII without spaces")
		}
	}
	return nil
}
