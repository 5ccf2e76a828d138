package main

import (
	"strings"
	"testing"

	"github.com/debitura-go/debitura"
	"github.com/google/go-cmp/cmp"
)

// summary is a row reduced to what the parsing tests compare.
type summary struct {
	Line   int
	Tenant string
	Name   string
	Email  string
	City   string
	Bad    string
}

func summarize(r row) summary {
	s := summary{Line: r.Line}
	if r.Bad != nil {
		s.Bad = r.Bad.Error()
		return s
	}
	s.Tenant, s.Name, s.City = r.Req.ExternalTenantID, r.Req.Client.Name, r.Req.Client.City
	if len(r.Req.Users) > 0 {
		s.Email = r.Req.Users[0].Email
	}
	return s
}

func collect(t *testing.T, input string, format inputFormat) ([]summary, error) {
	t.Helper()
	rows, readErr := readRows(strings.NewReader(input), format)
	var got []summary
	for r := range rows {
		got = append(got, summarize(r))
	}
	return got, readErr()
}

func TestReadCSV(t *testing.T) {
	const header = "external_tenant_id,company_name,country,support_email,user_name,user_email"
	tests := []struct {
		name, input string
		want        []summary
		wantErr     string // part of the fatal error; "" for none
	}{
		{"rows and line numbers", header + ",city\nt1,A ApS,DK,s@a.example,Ann,ann@a.example,Aarhus\n\nt2, B ApS ,DK,s@b.example,Bo,bo@b.example,\n",
			[]summary{{Line: 2, Tenant: "t1", Name: "A ApS", Email: "ann@a.example", City: "Aarhus"}, {Line: 4, Tenant: "t2", Name: "B ApS", Email: "bo@b.example"}}, ""},
		{"quoted newline keeps the record's first line", header + "\nt1,\"Multi\nLine ApS\",DK,s@a.example,Ann,ann@a.example\nt2,B,DK,s@b.example,Bo,bo@b.example",
			[]summary{{Line: 2, Tenant: "t1", Name: "Multi\nLine ApS", Email: "ann@a.example"}, {Line: 4, Tenant: "t2", Name: "B", Email: "bo@b.example"}}, ""},
		{"BOM, case and spaces in the header", "\ufeffExternal_Tenant_ID, Company_Name ,country,support_email,user_name,user_email\r\nt1,A,DK,s@a.example,Ann,ann@a.example\r\n",
			[]summary{{Line: 2, Tenant: "t1", Name: "A", Email: "ann@a.example"}}, ""},
		{"short row and stray quote are bad rows", header + "\nt1,A,DK\nt2,\"B\"x,DK,s@b.example,Bo,bo@b.example\nt3,C,DK,s@c.example,Cy,cy@c.example\n",
			[]summary{{Line: 2, Bad: "line 2: has 3 fields, the header has 6"},
				{Line: 3, Bad: `line 3: malformed CSV: extraneous or missing " in quoted-field`},
				{Line: 4, Tenant: "t3", Name: "C", Email: "cy@c.example"}}, ""},
		{"missing required column", "external_tenant_id,company_name,country,support_email,user_name\n", nil, `required column "user_email" is missing`},
		{"unknown column", header + ",plan\n", nil, `unknown column "plan"`},
		{"repeated column", header + ",city,City\n", nil, `column "city" appears twice`},
		{"empty", "", nil, "needs a header row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, tt.input, formatCSV)
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("readRows error = %v, want one containing %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadJSONL(t *testing.T) {
	const good = `{"externalTenantId":"t1","client":{"name":"A","country":"DK","supportEmail":"s@a.example","city":"Odense"},"users":[{"name":"Ann","email":"ann@a.example"}]}`
	long := `{"externalTenantId":"` + strings.Repeat("x", maxLineBytes) + `"}`
	tests := []struct {
		name, input string
		want        []summary
	}{
		{"good, blank and last line without newline", good + "\n\n  \n" + good,
			[]summary{{Line: 1, Tenant: "t1", Name: "A", Email: "ann@a.example", City: "Odense"}, {Line: 4, Tenant: "t1", Name: "A", Email: "ann@a.example", City: "Odense"}}},
		{"CRLF", good + "\r\n", []summary{{Line: 1, Tenant: "t1", Name: "A", Email: "ann@a.example", City: "Odense"}}},
		{"bad rows do not stop the file", `{"externalTenantId":"t","plan":"gold"}` + "\n" + `{"externalTenantId":7}` + "\nnot json\n{} {}\n" + long + "\n" + good + "\n",
			[]summary{
				{Line: 1, Bad: "line 1: plan: unknown member"},
				{Line: 2, Bad: "line 2: externalTenantId: must be a JSON string, got number"},
				{Line: 3, Bad: "line 3: invalid character 'o' in literal null (expecting 'u')"},
				{Line: 4, Bad: "line 4: more than one JSON value on the line"},
				{Line: 5, Bad: "line 5: longer than 1048576 bytes"},
				{Line: 6, Tenant: "t1", Name: "A", Email: "ann@a.example", City: "Odense"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, tt.input, formatJSONL)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	tests := []struct {
		flag, path string
		want       inputFormat
		wantErr    bool
	}{
		{"", "c.CSV", formatCSV, false},
		{"", "c.jsonl", formatJSONL, false},
		{"", "c.ndjson", formatJSONL, false},
		{"jsonl", "c.csv", formatJSONL, false},
		{"csv", "-", formatCSV, false},
		{"", "-", "", true},
		{"", "c.txt", "", true},
		{"xml", "c.csv", "", true},
	}
	for _, tt := range tests {
		got, err := formatOf(tt.flag, tt.path)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("formatOf(%q, %q) = %q, %v; want %q, error %t", tt.flag, tt.path, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestValidatorUsesTheSDKChecksAndSendsNothing(t *testing.T) {
	v, err := newValidator(formatCSV)
	if err != nil {
		t.Fatal(err)
	}
	ok := &debitura.ClientCreateRequest{ExternalTenantID: "t", Client: debitura.ClientDetails{Name: "A", Country: "DK", SupportEmail: "s@a.example"},
		Users: []debitura.ClientUser{{Name: "Ann", Email: "ann@a.example"}}}
	if bad := v.check(t.Context(), row{Line: 2, Req: ok}); bad != nil {
		t.Errorf("check(valid row) = %v, want nil", bad)
	}
	noUser := *ok
	noUser.Users = []debitura.ClientUser{{Name: "Ann"}}
	want := &rowError{Line: 3, Field: "user_email (users[0].email)", Message: "is required"}
	if diff := cmp.Diff(want, v.check(t.Context(), row{Line: 3, Req: &noUser})); diff != "" {
		t.Errorf("check(row without user e-mail) (-want +got):\n%s", diff)
	}
}
