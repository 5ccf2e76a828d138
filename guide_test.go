package debitura

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const profileBody = `{"externalTenantId":"t/1","status":"%s","supportEmail":"help@acme.io","supportPhone":null,
  "metadata":{"plan":"pro","seats":12,"beta":true},"updatedAt":"2025-03-01T12:00:00Z","suspendedAt":%s}`

func profileAnswer(status, suspendedAt string) string {
	return strings.Replace(strings.Replace(profileBody, "%s", status, 1), "%s", suspendedAt, 1)
}

func TestClientsGuideOperations(t *testing.T) {
	t.Parallel()
	wantProfile := func(s ClientStatus, suspended time.Time) *ClientProfile {
		return &ClientProfile{ExternalTenantID: "t/1", Status: s, SupportEmail: "help@acme.io",
			Metadata:  map[string]any{"plan": "pro", "seats": 12.0, "beta": true},
			UpdatedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), SuspendedAt: suspended}
	}
	susp := time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		pattern string
		answer  string
		call    func(c *Client) (*ClientProfile, error)
		want    wantRequest
		profile *ClientProfile
	}{
		{"Update", "PATCH /clients/{id}", profileAnswer("active", "null"),
			func(c *Client) (*ClientProfile, error) {
				return c.Clients.Update(t.Context(), "t/1", &ClientUpdateRequest{
					SupportEmail: Ptr("help@acme.io"),
					Metadata:     map[string]any{"plan": "pro", "seats": 12, "beta": true, "legacy": nil, "ratio": json.Number("0.5")},
				})
			},
			wantRequest{Method: "PATCH", Path: "/clients/t%2F1",
				Body: `{"supportEmail":"help@acme.io","metadata":{"plan":"pro","seats":12,"beta":true,"legacy":null,"ratio":0.5}}`},
			wantProfile(ClientActive, time.Time{})},
		{"Profile", "GET /clients/{id}/profile", profileAnswer("pending_onboarding", "null"),
			func(c *Client) (*ClientProfile, error) { return c.Clients.Profile(t.Context(), "t/1") },
			wantRequest{Method: "GET", Path: "/clients/t%2F1/profile"}, wantProfile(ClientPendingOnboarding, time.Time{})},
		{"Suspend", "POST /clients/{id}/suspend", profileAnswer("suspended", `"2025-03-01T11:00:00Z"`),
			func(c *Client) (*ClientProfile, error) { return c.Clients.Suspend(t.Context(), "t/1") },
			wantRequest{Method: "POST", Path: "/clients/t%2F1/suspend"}, wantProfile(ClientSuspended, susp)},
		{"Reactivate", "POST /clients/{id}/reactivate", profileAnswer("active", "null"),
			func(c *Client) (*ClientProfile, error) { return c.Clients.Reactivate(t.Context(), "t/1") },
			wantRequest{Method: "POST", Path: "/clients/t%2F1/reactivate"}, wantProfile(ClientActive, time.Time{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t)
			h.answer(tc.pattern, http.StatusOK, tc.answer)
			got, err := tc.call(c)
			if err != nil {
				t.Fatalf("Clients.%s: %v", tc.name, err)
			}
			checkRequest(t, h.only(), tc.want)
			if diff := cmp.Diff(tc.profile, got); diff != "" {
				t.Errorf("Clients.%s mismatch (-want +got):\n%s", tc.name, diff)
			}
		})
	}
}

func TestValidateMetadata(t *testing.T) {
	t.Parallel()
	type myString string
	big := map[string]any{}
	for i := range 20 {
		big[strings.Repeat("k", 30)+string(rune('a'+i))] = strings.Repeat("v", 900)
	}
	many := map[string]any{}
	for i := range 51 {
		many[strings.Repeat("k", i+1)[:min(i+1, 40)]+string(rune('A'+i%26))+string(rune('a'+i/26))] = 1
	}
	for _, tc := range []struct {
		name  string
		md    map[string]any
		field string // "" = valid
	}{
		{"nil", nil, ""},
		{"every allowed kind", map[string]any{
			"s": "x", "b": false, "n": nil, "i": 1, "i8": int8(1), "i16": int16(1), "i32": int32(1), "i64": int64(1),
			"u": uint(1), "u8": uint8(1), "u16": uint16(1), "u32": uint32(1), "u64": uint64(1), "f32": float32(1.5),
			"f64": 2.5, "num": json.Number("12.5"), "named": myString("x"), "dur": time.Second,
		}, ""},
		{"40-character key", map[string]any{strings.Repeat("k", 40): "x"}, ""},
		{"41-character key", map[string]any{strings.Repeat("k", 41): "x"}, `metadata["` + strings.Repeat("k", 41) + `"]`},
		{"empty key", map[string]any{"": "x"}, `metadata[""]`},
		{"slice value", map[string]any{"tags": []string{"a"}}, `metadata["tags"]`},
		{"map value", map[string]any{"obj": map[string]any{"a": 1}}, `metadata["obj"]`},
		{"struct value", map[string]any{"when": time.Now()}, `metadata["when"]`},
		{"NaN", map[string]any{"nan": math.NaN()}, `metadata["nan"]`},
		{"infinity", map[string]any{"inf": math.Inf(1)}, `metadata["inf"]`},
		{"bad json.Number", map[string]any{"num": json.Number("twelve")}, `metadata["num"]`},
		{"pointer", map[string]any{"p": Ptr("x")}, `metadata["p"]`},
		{"51 keys", many, "metadata"},
		{"over 16 KB", big, "metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validateMetadata("Clients.Update", tc.md)
			if tc.field == "" {
				if err != nil {
					t.Errorf("validateMetadata = %v, want nil", err)
				}
				return
			}
			ve, ok := err.(*ValidationError)
			if !ok || ve.Field != tc.field {
				t.Errorf("validateMetadata = %v, want a *ValidationError for %s", err, tc.field)
			}
		})
	}
}
