package mockserver

import (
	"net/http"
	"strings"
	"testing"
)

// A partner id shorter than 8 characters used to panic (p.ID[:8]) in AddPartner, over HTTP (no
// answer at all) and in Go.
func TestAddPartnerShortID(t *testing.T) {
	t.Parallel()
	b := NewBackend()
	t.Cleanup(b.Close)
	rec := fuzzAdminServe(b, "POST", "/__mock/partners", []byte(`{"apiKey":"mock_x","id":"abc"}`))
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"companyName":"Partner abc"`) {
		t.Errorf("POST /__mock/partners with id abc = %d %s, want 201 with companyName \"Partner abc\"", rec.Code, rec.Body)
	}
	got, err := b.AddPartner(PartnerSpec{APIKey: "mock_y", ID: "p"})
	if err != nil || got.CompanyName != "Partner p" {
		t.Errorf("AddPartner with id p = %+v, %v", got, err)
	}
}

// Every control route answers bad input with 400 and a message that names the field.
func TestAdminBadInputNamesField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, path, body, field string
	}{
		{"POST", "/__mock/partners", `{"apiKey":"has space"}`, "apiKey"},
		{"POST", "/__mock/partners", `{"apiKey":"mock_a","id":"with space"}`, "id"},
		{"POST", "/__mock/partners", `{"apiKey":"mock_a","referralFeePercentage":-1}`, "referralFeePercentage"},
		{"POST", "/__mock/partners", `{"apiKey":7}`, "apiKey"},
		{"POST", "/__mock/creditors", `{"companyName":" "}`, "companyName"},
		{"POST", "/__mock/creditors", `{"companyName":"C","country":"Atlantis","emails":["c@c.example"]}`, "country"},
		{"POST", "/__mock/creditors", `{"companyName":"C"}`, "supportEmail"},
		{"POST", "/__mock/clock/advance", `{"seconds":1e300}`, "seconds"},
		{"POST", "/__mock/clock/advance", `{"seconds":-1}`, "seconds"},
		{"POST", "/__mock/clock/advance", `{"duration":"-1h"}`, "duration"},
		{"POST", "/__mock/clock/advance", `{"duration":"soon"}`, "duration"},
		{"PUT", "/__mock/rate-limit", `{"windows":[{"limit":1,"period":"1ns","segments":1000}]}`, "windows[0].segments"},
		{"PUT", "/__mock/rate-limit", `{"windows":[{"limit":1,"period":"1m","segments":-1}]}`, "windows[0].segments"},
		{"PUT", "/__mock/rate-limit", `{"windows":[{"limit":1,"period":"1m"},{"limit":0,"period":"1m"}]}`, "windows[1].limit"},
		{"PUT", "/__mock/rate-limit", `{"windows":[{"limit":1,"period":"x"}]}`, "windows[0].period"},
		{"POST", "/__mock/faults", `{"operation":"getMe","status":42}`, "status"},
		{"POST", "/__mock/faults", `{"status":1000}`, "status"},
		{"POST", "/__mock/faults", `{"status":500,"probability":2}`, "probability"},
		{"POST", "/__mock/faults", `{"status":500,"times":-1}`, "times"},
		{"POST", "/__mock/faults", `{"latency":"-1s"}`, "latency"},
		{"POST", "/__mock/faults", `{"shape":"teapot"}`, "shape"},
		{"POST", "/__mock/faults", `{"status":500,"header":{"Bad Name":["x"]}}`, "header"},
		{"POST", "/__mock/faults", `{"status":500,"header":{"X-A":["a\nb"]}}`, "header"},
	}
	for _, tt := range tests {
		b := NewBackend()
		rec := fuzzAdminServe(b, tt.method, tt.path, []byte(tt.body))
		b.Close()
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tt.field) {
			t.Errorf("%s %s %s = %d %s, want 400 naming %s", tt.method, tt.path, tt.body, rec.Code, rec.Body, tt.field)
		}
	}
}
