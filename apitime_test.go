package debitura

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAPITimeDecoding(t *testing.T) {
	t.Parallel()
	noon := time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Time
	}{
		{"RFC 3339 UTC", `"2025-01-15T12:00:00Z"`, noon},
		{"RFC 3339 offset", `"2025-01-15T14:00:00+02:00"`, noon},
		{"no zone is UTC (.NET unspecified kind)", `"2025-01-15T12:00:00"`, noon},
		{"no zone, fraction", `"2025-01-15T12:00:00.5"`, noon.Add(500 * time.Millisecond)},
		{"null", `null`, time.Time{}},
		{"empty", `""`, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got apiTime
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.in, err)
			}
			if !time.Time(got).Equal(tt.want) {
				t.Errorf("Unmarshal(%s) = %v, want %v", tt.in, time.Time(got), tt.want)
			}
		})
	}
	for _, bad := range []string{`"15/01/2025"`, `12`, `"2025-13-01T00:00:00"`} {
		var got apiTime
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", bad, time.Time(got))
		}
	}
}

// TestAnswersWithZonelessTimes decodes answers whose date-times carry no zone, as an ASP.NET
// service writes DateTime values of unspecified kind: the whole answer must decode, not fail.
func TestAnswersWithZonelessTimes(t *testing.T) {
	t.Parallel()
	noon := time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	body := `{"externalTenantId":"t-1","onboardingDone":true,"dateLinked":"2025-01-15T12:00:00",
		"kycVerification":{"directorFullName":"Ada","dateCreated":"2025-01-15T12:00:00","verificationStatusUpdatedAt":null},
		"caseResults":{"successfulCases":[{"id":"c-1","dateCreated":"2025-01-15T12:00:00","dateUpdated":null,
			"dueDate":"2025-02-15T00:00:00","date":"2025-01-15T12:00:00Z","dateFinished":null}]}}`
	var lc LinkedClient
	if err := json.Unmarshal([]byte(body), &lc); err != nil {
		t.Fatalf("Unmarshal(LinkedClient): %v", err)
	}
	got := []time.Time{lc.DateLinked, lc.KYCVerification.DateCreated, lc.KYCVerification.VerificationStatusUpdatedAt,
		lc.CaseResults.SuccessfulCases[0].DateCreated, lc.CaseResults.SuccessfulCases[0].DateUpdated,
		lc.CaseResults.SuccessfulCases[0].DueDate, lc.CaseResults.SuccessfulCases[0].Date}
	want := []time.Time{noon, noon, {}, noon, {}, time.Date(2025, 2, 15, 0, 0, 0, 0, time.UTC), noon}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("date-times (-want +got):\n%s", diff)
	}
	if lc.ExternalTenantID != "t-1" || !lc.OnboardingDone || lc.KYCVerification.DirectorFullName != "Ada" {
		t.Errorf("other members lost: %+v", lc)
	}

	// PascalCase member names still decode (the service's binder is case-insensitive).
	var pc LinkedClient
	if err := json.Unmarshal([]byte(`{"ExternalTenantId":"t-2","DateLinked":"2025-01-15T12:00:00"}`), &pc); err != nil || !pc.DateLinked.Equal(noon) || pc.ExternalTenantID != "t-2" {
		t.Errorf("PascalCase: %+v, %v", pc, err)
	}

	// A member absent from the JSON leaves the field as it was, as encoding/json does.
	prev := ClientProfile{ExternalTenantID: "t-3", UpdatedAt: noon, SuspendedAt: noon}
	if err := json.Unmarshal([]byte(`{"status":"active","suspendedAt":null}`), &prev); err != nil {
		t.Fatalf("Unmarshal(ClientProfile): %v", err)
	}
	if !prev.UpdatedAt.Equal(noon) || !prev.SuspendedAt.IsZero() || prev.ExternalTenantID != "t-3" || prev.Status != "active" {
		t.Errorf("ClientProfile after a partial answer = %+v", prev)
	}
}
