package debitura

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/debitura-go/debitura/webhook"
)

// validationError returns err as a *ValidationError, and ends the test unless it is one that
// also matches ErrValidation.
func validationError(t *testing.T, err error) *ValidationError {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrValidation) {
		t.Fatalf("got %T %v, want a *ValidationError matching ErrValidation", err, err)
	}
	return ve
}

// refused calls call with a Client whose server fails the test on any request, and returns the
// *ValidationError the call must end with.
func refused(t *testing.T, call func(c *Client) error) *ValidationError {
	t.Helper()
	c, h := setup(t)
	h.refuseAll()
	return validationError(t, call(c))
}

// validCreate is a request that passes validation; the cases below break it in places.
func validCreate() *ClientCreateRequest {
	return &ClientCreateRequest{
		ExternalTenantID: "tenant-1",
		Client:           ClientDetails{Name: "Acme", Country: "DK", SupportEmail: "billing@acme.example"},
		Users:            []ClientUser{{Name: "Sam", Email: "sam@acme.example", IsOnboardingUser: true}},
		Cases: []CaseRequest{
			{CurrencyCode: "EUR", CreditorReference: "INV-1"},
			{CurrencyCode: "EUR", CreditorReference: "INV-2"},
		},
	}
}

func createWith(f func(r *ClientCreateRequest)) *ClientCreateRequest {
	r := validCreate()
	f(r)
	return r
}

// A request with several problems reports every one of them, each naming its field, and the
// error still matches ErrValidation, is a *ValidationError, and reads the first problem in full.
func TestValidationReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.refuseAll() // a request refused by validation is never sent
	ctx := t.Context()
	for _, tc := range []struct {
		name     string
		call     func() error
		op       string
		want     []FieldProblem
		wantText string // "" skips the check of Error()
	}{
		{
			name: "create, one problem",
			call: func() error {
				_, err := c.Clients.Create(ctx, createWith(func(r *ClientCreateRequest) { r.Users[0].Email = "" }))
				return err
			},
			op:       "Clients.Create",
			want:     []FieldProblem{{"users[0].email", "is required"}},
			wantText: "debitura: Clients.Create: invalid request: users[0].email: is required",
		},
		{
			name: "create, two problems",
			call: func() error {
				_, err := c.Clients.Create(ctx, createWith(func(r *ClientCreateRequest) {
					r.Client.Name = " "
					r.Users[0].Email = "sam"
				}))
				return err
			},
			op: "Clients.Create",
			want: []FieldProblem{
				{"client.name", "is required"},
				{"users[0].email", `"sam" is not an e-mail address`},
			},
			wantText: "debitura: Clients.Create: invalid request: client.name: is required (and 1 more problem: users[0].email)",
		},
		{
			name: "create, four problems from the top level to a case",
			call: func() error {
				_, err := c.Clients.Create(ctx, createWith(func(r *ClientCreateRequest) {
					r.ExternalTenantID = ""
					r.Client.Country = ""
					r.Users = append(r.Users, ClientUser{Name: "Kim", Email: "kim@acme.example", IsOnboardingUser: true})
					r.Cases[1].CreditorReference = "INV-1"
				}))
				return err
			},
			op: "Clients.Create",
			want: []FieldProblem{
				{"externalTenantId", "is required"},
				{"client.country", "is required"},
				{"users", "with 2 users exactly one must have isOnboardingUser=true, got 2"},
				{"cases[1].creditorReference", `"INV-1" repeats cases[0]`},
			},
			wantText: "debitura: Clients.Create: invalid request: externalTenantId: is required " +
				"(and 3 more problems: client.country, users, cases[1].creditorReference)",
		},
		{
			name: "create, more problems than Error names",
			call: func() error {
				_, err := c.Clients.Create(ctx, createWith(func(r *ClientCreateRequest) {
					r.Client.ZipCode = strings.Repeat("9", 21)
					r.Client.City = strings.Repeat("c", 101)
					r.Users[0].Name = ""
					r.Cases[0].CurrencyCode = ""
					r.Cases[0].Tag = strings.Repeat("t", 101)
					r.Cases[0].AssignedUserEmail = "nobody"
					r.Cases[1].Debtor = &Debtor{Name: "Pacific Trading"}
					r.Cases[1].AmountToRecoverOver12Months = Ptr(1.0)
				}))
				return err
			},
			op: "Clients.Create",
			want: []FieldProblem{
				{"client.zipCode", "must be at most 20 characters, got 21"},
				{"client.city", "must be at most 100 characters, got 101"},
				{"users[0].name", "is required"},
				{"cases[0].currencyCode", "is required"},
				{"cases[0].tag", "must be at most 100 characters, got 101"},
				{"cases[0].assignedUserEmail", `"nobody" is not an e-mail address`},
				{"cases[1].debtor.type", "is required"},
				{"cases[1].amountToRecoverOver12Months", "must be given together with amountToRecoverOver24Months"},
			},
			wantText: "debitura: Clients.Create: invalid request: client.zipCode: must be at most 20 characters, got 21 " +
				"(and 7 more problems: client.city, users[0].name, cases[0].currencyCode, cases[0].tag, cases[0].assignedUserEmail, …)",
		},
		{
			name: "ensure-linked checks as create does",
			call: func() error {
				_, err := c.Clients.EnsureLinked(ctx, createWith(func(r *ClientCreateRequest) {
					r.Client.SupportEmail = ""
					r.Users = nil
				}))
				return err
			},
			op: "Clients.EnsureLinked",
			want: []FieldProblem{
				{"client.supportEmail", "is required"},
				{"users", "at least one user is required"},
			},
		},
		{
			name: "update, e-mail and two metadata keys",
			call: func() error {
				_, err := c.Clients.Update(ctx, "tenant-1", &ClientUpdateRequest{
					SupportEmail: Ptr("nope"),
					Metadata:     map[string]any{"tags": []string{"a"}, "": 1, "plan": "pro"},
				})
				return err
			},
			op: "Clients.Update",
			want: []FieldProblem{
				{"supportEmail", `"nope" is not an e-mail address`},
				{`metadata[""]`, "keys must not be empty"},
				{`metadata["tags"]`, "value of type []string is not a string, number, bool or nil"},
			},
		},
		{
			name: "list, three bad options",
			call: func() error {
				_, err := c.Clients.List(ctx, &ClientListOptions{Page: -1, PageSize: 101, Sort: "email:asc"})
				return err
			},
			op: "Clients.List",
			want: []FieldProblem{
				{"Page", "must be at least 1, got -1"},
				{"PageSize", "must be between 1 and 100, got 101"},
				{"Sort", `"email:asc" is not field[:asc|desc] with field dateCreated or name`},
			},
		},
		{
			name: "kyc, three problems",
			call: func() error {
				return (&KYCRequest{
					DirectorHomeAddress: strings.Repeat("a", 1001),
					DirectorDateOfBirth: Date{1980, 2, 30},
				}).validate("Clients.SubmitKYC")
			},
			op: "Clients.SubmitKYC",
			want: []FieldProblem{
				{"directorFullName", "is required"},
				{"directorHomeAddress", "must be at most 1000 characters, got 1001"},
				{"directorDateOfBirth", "1980-02-30 is not a date"},
			},
		},
		{
			name: "webhook create, URL and two event names",
			call: func() error {
				_, err := c.Webhooks.Create(ctx, &WebhookCreateRequest{
					URL:    "ftp://hooks.example/in",
					Events: []webhook.EventType{"", " client.linked"},
				})
				return err
			},
			op: "Webhooks.Create",
			want: []FieldProblem{
				{"url", `must use https, not "ftp"`},
				{"events[0]", "is empty"},
				{"events[1]", `" client.linked" has leading or trailing spaces`},
			},
		},
		{
			name: "webhook test, three fields",
			call: func() error {
				_, err := c.Webhooks.Test(ctx, &WebhookTestRequest{CaseID: "case-1", ExternalTenantID: "a\nb"})
				return err
			},
			op: "Webhooks.Test",
			want: []FieldProblem{
				{"eventType", "is required"},
				{"caseId", `"case-1" is not a UUID`},
				{"externalTenantId", "must not contain control characters"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			ve := validationError(t, err)
			if ve.Op != tc.op {
				t.Errorf("ValidationError.Op = %q, want %q", ve.Op, tc.op)
			}
			if diff := cmp.Diff(tc.want, ve.Problems); diff != "" {
				t.Errorf("ValidationError.Problems mismatch (-want +got):\n%s", diff)
			}
			if got, want := (FieldProblem{ve.Field, ve.Message}), tc.want[0]; got != want {
				t.Errorf("ValidationError{Field, Message} = %+v, want the first problem %+v", got, want)
			}
			if diff := cmp.Diff(tc.want, ValidationProblems(fmt.Errorf("row 3: %w", err))); diff != "" {
				t.Errorf("ValidationProblems(wrapped) mismatch (-want +got):\n%s", diff)
			}
			if tc.wantText != "" && err.Error() != tc.wantText {
				t.Errorf("Error() = %q\nwant      %q", err.Error(), tc.wantText)
			}
		})
	}
}

// LinkMany reports each input's problems on its own result and sends nothing for them.
func TestLinkManyValidationPerInput(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.refuseAll() // a request refused by validation is never sent
	reqs := []*ClientCreateRequest{
		createWith(func(r *ClientCreateRequest) { r.Client.Name, r.Client.Country = "", "" }),
		nil,
		createWith(func(r *ClientCreateRequest) {
			r.ExternalTenantID = "tenant-3"
			r.Users[0].Name, r.Users[0].Email = "", ""
			r.Cases[0].CurrencyCode = ""
		}),
	}
	results, err := c.Clients.LinkMany(t.Context(), reqs, nil)
	if err != nil {
		t.Fatalf("LinkMany = %v, want per-input errors only", err)
	}
	want := [][]FieldProblem{
		{{"client.name", "is required"}, {"client.country", "is required"}},
		{{"requests[1]", "is nil"}},
		{{"users[0].name", "is required"}, {"users[0].email", "is required"}, {"cases[0].currencyCode", "is required"}},
	}
	if len(results) != len(want) {
		t.Fatalf("LinkMany returned %d results, want %d", len(results), len(want))
	}
	for i, r := range results {
		var ve *ValidationError
		if !errors.As(r.Err, &ve) || !errors.Is(r.Err, ErrValidation) || ve.Op != "Clients.LinkMany" {
			t.Errorf("results[%d].Err = %v, want a *ValidationError of Clients.LinkMany", i, r.Err)
			continue
		}
		if diff := cmp.Diff(want[i], ve.Problems); diff != "" {
			t.Errorf("results[%d] problems mismatch (-want +got):\n%s", i, diff)
		}
	}
}

// The field errors of an API answer (ValidationProblemDetails, a bare field map) come out of
// ValidationProblems in the shape of the SDK's own, with the field in its JSON spelling.
func TestValidationProblemsOfAPIError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want []FieldProblem
	}{
		{"nil", nil, nil},
		{"not a validation error", &APIError{StatusCode: 404, Message: "Not Found"}, nil},
		{"400 without field errors", &APIError{StatusCode: 400, Message: "Request cannot be null"}, nil},
		{
			name: "field map in .NET spelling, sorted by field, messages in order",
			err: fmt.Errorf("wrapped: %w", &APIError{StatusCode: 400, FieldErrors: map[string][]string{
				"Users":                {"At least one user is required"},
				"Client.SupportEmail":  {"The SupportEmail field is required.", "Not an e-mail address."},
				"$.cases[0].amount":    {"The JSON value could not be converted."},
				"Cases[1].Debtor.Name": {"Required"},
				"IBAN":                 {"Invalid"},
			}}),
			want: []FieldProblem{
				{"cases[0].amount", "The JSON value could not be converted."},
				{"cases[1].debtor.name", "Required"},
				{"client.supportEmail", "The SupportEmail field is required."},
				{"client.supportEmail", "Not an e-mail address."},
				{"iban", "Invalid"},
				{"users", "At least one user is required"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ValidationProblems(tc.err)); diff != "" {
				t.Errorf("ValidationProblems(%v) mismatch (-want +got):\n%s", tc.err, diff)
			}
		})
	}
}

// A ValidationProblemDetails 400 from the server reads, through ValidationProblems, like the
// SDK's own refusal, while the error stays an *APIError.
func TestValidationProblemsFromServer(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.mux.HandleFunc("POST /clients", func(w http.ResponseWriter, r *http.Request) {
		// ASP.NET's problem+json, which the API documents do not list.
		w.Header().Set(lenient[0], lenient[1])
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1",`+
			`"title":"One or more validation errors occurred.","status":400,`+
			`"errors":{"Client.Country":["Unknown country: XX"],"Users[0].Email":["The Email field is not a valid e-mail address."]},`+
			`"traceId":"00-abc-def-01"}`)
	})
	_, err := c.Clients.Create(t.Context(), validCreate())
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("Clients.Create = %v, want an error matching ErrValidation", err)
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		t.Errorf("Clients.Create = %v, a *ValidationError; want an *APIError (the server refused it)", err)
	}
	want := []FieldProblem{
		{"client.country", "Unknown country: XX"},
		{"users[0].email", "The Email field is not a valid e-mail address."},
	}
	if diff := cmp.Diff(want, ValidationProblems(err)); diff != "" {
		t.Errorf("ValidationProblems mismatch (-want +got):\n%s", diff)
	}
}

func TestJSONFieldPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                     "",
		"users":                "users",
		"Users":                "users",
		"ExternalTenantId":     "externalTenantId",
		"Cases[0].Debtor.Name": "cases[0].debtor.name",
		"$.users[1].email":     "users[1].email",
		"$":                    "",
		"IBAN":                 "iban",
		"ID":                   "id",
		"URLValue":             "urlValue",
		"A":                    "a",
		"metadata[\"Plan\"]":   "metadata[\"Plan\"]",
		"Metadata[a.B].Value":  "metadata[a.B].value",
	} {
		if got := jsonFieldPath(in); got != want {
			t.Errorf("jsonFieldPath(%q) = %q, want %q", in, got, want)
		}
	}
}
