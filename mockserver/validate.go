package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

const maxBody = 4 << 20

// readRequest reads a JSON request body into v as readJSON does, and answers the request itself
// when the handler cannot go on: ASP.NET's problem body for malformed JSON, type mismatches and
// unknown members, and a 400 "Request cannot be null" for an empty body. It returns the raw
// body, and false when it has answered.
func (b *Backend) readRequest(w http.ResponseWriter, r *http.Request, v any, typeName string) ([]byte, bool) {
	raw, empty, problem := readJSON(r, v, typeName)
	if problem != nil {
		writeProblem(w, b.traceID(), problem)
		return nil, false
	}
	if empty {
		writeValidation(w, []string{"Request cannot be null"})
		return nil, false
	}
	return raw, true
}

// readJSON decodes the request body into v the way ASP.NET's Newtonsoft binder does for this API:
// member names match case-insensitively (so PascalCase input works) and unknown members are
// rejected. It returns the raw body, whether the body was empty or the JSON literal null, and a
// ValidationProblemDetails error map when the body is malformed.
func readJSON(r *http.Request, v any, typeName string) (raw []byte, empty bool, problem map[string][]string) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, false, map[string][]string{"$": {"The request body could not be read."}}
	}
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return raw, true, nil
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return raw, false, jsonProblem(err, typeName)
	}
	if dec.More() {
		return raw, false, map[string][]string{"$": {"Additional text encountered after finished reading JSON content."}}
	}
	return raw, false, nil
}

func jsonProblem(err error, typeName string) map[string][]string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return map[string][]string{"$": {fmt.Sprintf("Invalid JSON at position %d: %s", se.Offset, se.Error())}}
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "$"
		} else {
			field = "$." + field
		}
		return map[string][]string{field: {fmt.Sprintf("The JSON value could not be converted to %s.", te.Type)}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return map[string][]string{"$." + name: {fmt.Sprintf("Could not find member '%s' on object of type '%s'.", name, typeName)}}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return map[string][]string{"$": {"Unexpected end when reading JSON."}}
	default:
		return map[string][]string{"$": {err.Error()}}
	}
}

// validEmail is the mock's e-mail check: one @, a non-empty local part, a dotted domain, no
// spaces. It is a little stricter than .NET's [EmailAddress] attribute on purpose.
func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	dom := s[at+1:]
	return strings.Contains(dom, ".") && !strings.HasPrefix(dom, ".") && !strings.HasSuffix(dom, ".")
}

func required(field string) string { return fmt.Sprintf("The %s field is required.", field) }
func invalidEmail(field string) string {
	return fmt.Sprintf("The %s field is not a valid e-mail address.", field)
}
func tooLong(field string, n int) string {
	return fmt.Sprintf("The field %s must be a string or array type with a maximum length of '%d'.", field, n)
}

func blank(p *string) bool { return p == nil || strings.TrimSpace(*p) == "" }

func over(p *string, n int) bool { return p != nil && len([]rune(*p)) > n }

// validateCreate checks a POST /clients body. It returns the field-level messages (model
// validation, all at once) or, when those pass, the first business-rule message; and the
// resolved country of the client.
func validateCreate(req *reqCreateClient) (msgs []string, code, name string) {
	if blank(req.ExternalTenantID) {
		msgs = append(msgs, required("ExternalTenantId"))
	}
	if req.Client == nil {
		msgs = append(msgs, required("Client"))
	} else {
		c := req.Client
		if blank(c.Name) {
			msgs = append(msgs, required("Client.Name"))
		}
		if blank(c.Country) {
			msgs = append(msgs, required("Client.Country"))
		}
		if blank(c.SupportEmail) {
			msgs = append(msgs, required("Client.SupportEmail"))
		} else if !validEmail(strings.TrimSpace(*c.SupportEmail)) {
			msgs = append(msgs, invalidEmail("Client.SupportEmail"))
		}
		for _, f := range []struct {
			name string
			v    *string
			n    int
		}{{"Client.Address", c.Address, 500}, {"Client.ZipCode", c.ZipCode, 20}, {"Client.City", c.City, 100}, {"Client.State", c.State, 100}} {
			if over(f.v, f.n) {
				msgs = append(msgs, tooLong(f.name, f.n))
			}
		}
	}
	if len(req.Users) == 0 {
		msgs = append(msgs, "At least one user is required")
	}
	for i, u := range req.Users {
		if blank(u.Name) {
			msgs = append(msgs, required(fmt.Sprintf("Users[%d].Name", i)))
		}
		if blank(u.Email) {
			msgs = append(msgs, required(fmt.Sprintf("Users[%d].Email", i)))
		} else if !validEmail(strings.TrimSpace(*u.Email)) {
			msgs = append(msgs, invalidEmail(fmt.Sprintf("Users[%d].Email", i)))
		}
	}
	if len(msgs) > 0 {
		return msgs, "", ""
	}
	if len(req.Users) > 1 {
		n := 0
		for _, u := range req.Users {
			if u.IsOnboardingUser {
				n++
			}
		}
		if n == 0 {
			return []string{"When multiple users provided, exactly one must have IsOnboardingUser=true"}, "", ""
		}
		if n > 1 {
			return []string{"Only one user can be marked as IsOnboardingUser"}, "", ""
		}
	}
	code, name, ok := resolveCountry(*req.Client.Country)
	if !ok {
		return []string{"Unknown country: " + strings.TrimSpace(*req.Client.Country)}, "", ""
	}
	return nil, code, name
}

var (
	currencyRe = regexp.MustCompile(`^[A-Za-z]{3}$`)
	uuidRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.9999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// validateCases checks every case of a POST /clients body (before anything is created) and
// returns the errors keyed "Cases[n].Field", including duplicate creditorReference values.
func validateCases(cases []reqCase) map[string][]string {
	errs := map[string][]string{}
	add := func(i int, field, msg string) {
		k := fmt.Sprintf("Cases[%d].%s", i, field)
		errs[k] = append(errs[k], msg)
	}
	seen := map[string]int{}
	for i := range cases {
		cs := &cases[i]
		if blank(cs.CurrencyCode) {
			add(i, "CurrencyCode", required("CurrencyCode"))
		} else if !currencyRe.MatchString(strings.TrimSpace(*cs.CurrencyCode)) {
			add(i, "CurrencyCode", "CurrencyCode must be a 3-letter ISO 4217 currency code.")
		}
		if cs.Debtor == nil {
			add(i, "Debtor", required("Debtor"))
		} else {
			d := cs.Debtor
			if blank(d.Name) {
				add(i, "Debtor.Name", required("Name"))
			}
			if blank(d.Type) {
				add(i, "Debtor.Type", required("Type"))
			} else if t := strings.TrimSpace(*d.Type); !strings.EqualFold(t, "Company") && !strings.EqualFold(t, "Person") && !strings.EqualFold(t, "Private") {
				add(i, "Debtor.Type", "Debtor type must be 'Company' or 'Person'.")
			}
			if !blank(d.CountryAlpha2) {
				if _, _, ok := resolveCountry(*d.CountryAlpha2); !ok || len(strings.TrimSpace(*d.CountryAlpha2)) != 2 {
					add(i, "Debtor.CountryAlpha2", "Unknown country: "+strings.TrimSpace(*d.CountryAlpha2))
				}
			} else if !blank(d.Country) {
				if _, _, ok := resolveCountry(*d.Country); !ok {
					add(i, "Debtor.Country", "Unknown country: "+strings.TrimSpace(*d.Country))
				}
			}
			if d.Email != nil && *d.Email != "" && !validEmail(*d.Email) {
				add(i, "Debtor.Email", invalidEmail("Email"))
			}
		}
		if cs.AmountToRecover == nil || *cs.AmountToRecover <= 0 {
			add(i, "AmountToRecover", "AmountToRecover must be greater than 0.")
		}
		for _, f := range []struct {
			name string
			v    *string
			n    int
		}{{"Comments", cs.Comments, 4000}, {"ClaimDescription", cs.ClaimDescription, 4000}, {"CreditorReference", cs.CreditorReference, 50}, {"Tag", cs.Tag, 100}, {"AssignedUserEmail", cs.AssignedUserEmail, 320}, {"ReturnUrl", cs.ReturnURL, 2048}} {
			if over(f.v, f.n) {
				add(i, f.name, tooLong(f.name, f.n))
			}
		}
		if !blank(cs.AssignedUserEmail) && !validEmail(*cs.AssignedUserEmail) {
			add(i, "AssignedUserEmail", invalidEmail("AssignedUserEmail"))
		}
		for _, f := range []struct {
			name string
			v    *string
		}{{"Date", cs.Date}, {"DueDate", cs.DueDate}} {
			if !blank(f.v) {
				if _, ok := parseTime(*f.v); !ok {
					add(i, f.name, fmt.Sprintf("The value '%s' is not valid for %s.", *f.v, f.name))
				}
			}
		}
		for _, f := range []struct {
			name string
			v    *string
		}{{"CreditorDivisionId", cs.CreditorDivisionID}, {"CollectionPartnerId", cs.CollectionPartnerID}} {
			if !blank(f.v) && !uuidRe.MatchString(*f.v) {
				add(i, f.name, fmt.Sprintf("The value '%s' is not valid for %s.", *f.v, f.name))
			}
		}
		o6, o12, o24 := cs.AmountToRecoverOver6Months, cs.AmountToRecoverOver12Months, cs.AmountToRecoverOver24Months
		if (o12 == nil) != (o24 == nil) {
			add(i, "AmountToRecoverOver12Months", "AmountToRecoverOver12Months and AmountToRecoverOver24Months must be provided together.")
		}
		if cs.AmountToRecover != nil {
			amt := *cs.AmountToRecover
			for _, f := range []struct {
				name string
				v    *float64
			}{{"AmountToRecoverOver6Months", o6}, {"AmountToRecoverOver12Months", o12}, {"AmountToRecoverOver24Months", o24}} {
				if f.v != nil && (*f.v > amt || *f.v < 0) {
					add(i, f.name, fmt.Sprintf("%s must be between 0 and AmountToRecover.", f.name))
				}
			}
		}
		if o6 != nil && o12 != nil && *o6 < *o12 {
			add(i, "AmountToRecoverOver6Months", "AmountToRecoverOver6Months must be greater than or equal to AmountToRecoverOver12Months.")
		}
		if o12 != nil && o24 != nil && *o12 < *o24 {
			add(i, "AmountToRecoverOver12Months", "AmountToRecoverOver12Months must be greater than or equal to AmountToRecoverOver24Months.")
		}
		if !blank(cs.CreditorReference) {
			ref := strings.TrimSpace(*cs.CreditorReference)
			if j, dup := seen[ref]; dup {
				add(i, "CreditorReference", fmt.Sprintf("Duplicate CreditorReference '%s' (also used by Cases[%d]).", ref, j))
			} else {
				seen[ref] = i
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// splitName splits a user's full name at its last space: "Anna Maria Jensen" is first name
// "Anna Maria", last name "Jensen"; a single word is a first name with an empty last name.
func splitName(full string) (first, last string) {
	full = strings.Join(strings.Fields(full), " ")
	i := strings.LastIndexByte(full, ' ')
	if i < 0 {
		return full, ""
	}
	return full[:i], full[i+1:]
}

// canonicalJSON re-encodes a JSON body with sorted object keys and no insignificant space, so
// that two bodies that differ only in formatting or member order compare equal.
func canonicalJSON(raw []byte) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return ""
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "raw:" + string(t)
	}
	out, _ := json.Marshal(v) // maps marshal with sorted keys
	return string(out)
}

func readAll(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, maxBody))
}
