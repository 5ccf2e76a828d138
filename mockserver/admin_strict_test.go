package mockserver

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestControlAPIStrict: bad control input answers 400 with a message that lists what is valid,
// and changes nothing.
func TestControlAPIStrict(t *testing.T) {
	s := NewTest(t, WithClock(NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	tests := []struct {
		name, method, path string
		body               any
		want               []string // substrings of the message
	}{
		{"fault operation typo", "POST", "/__mock/faults", `{"operation":"postClient","status":503}`, []string{`unknown operation id "postClient"`, `"postClients"`, `"getMe"`}},
		{"fault shape typo", "POST", "/__mock/faults", `{"operation":"getMe","shape":"ratelimit"}`, []string{`unknown shape "ratelimit"`, `"rate_limit"`, `"ProblemDetails"`}},
		{"fault unknown member", "POST", "/__mock/faults", `{"operation":"getMe","stauts":503}`, []string{`unknown member "stauts"`, "status", "latency", "probability"}},
		{"fault that does nothing", "POST", "/__mock/faults", `{"operation":"getMe","times":2}`, []string{"at least one of status, shape, body, latency, reset or truncate"}},
		{"fault unknown partner", "POST", "/__mock/faults", `{"operation":"getMe","status":500,"partnerId":"nope"}`, []string{`partnerId: no partner has the id "nope"`}},
		{"fault bad latency", "POST", "/__mock/faults", `{"operation":"getMe","latency":"5 minutes"}`, []string{"latency:"}},
		{"fault probability", "POST", "/__mock/faults", `{"operation":"getMe","status":500,"probability":2}`, []string{"probability: must be between 0 and 1"}},
		{"clock unknown member", "POST", "/__mock/clock/advance", `{"minutes":5}`, []string{`unknown member "minutes"`, "seconds, duration"}},
		{"clock empty", "POST", "/__mock/clock/advance", `{}`, []string{`give "seconds"`, `"duration"`}},
		{"clock both", "POST", "/__mock/clock/advance", `{"seconds":1,"duration":"1s"}`, []string{"not both"}},
		{"clock bad duration", "POST", "/__mock/clock/advance", `{"duration":"5 minutes"}`, []string{"duration:", `"1h30m"`, "ns, us, ms, s, m, h"}},
		{"clock negative", "POST", "/__mock/clock/advance", `{"seconds":-5}`, []string{"seconds: must be between 0 and"}},
		{"rate limit unknown member", "PUT", "/__mock/rate-limit", `{"windows":[{"limit":1,"period":"1s","segmnts":2}]}`, []string{`unknown member "segmnts"`, "limit, period, segments, anchorFirstRequest"}},
		{"rate limit without windows", "PUT", "/__mock/rate-limit", `{"disabled":false}`, []string{"windows: required"}},
		{"rate limit zero limit", "PUT", "/__mock/rate-limit", `{"windows":[{"limit":0,"period":"1s"}]}`, []string{"windows[0].limit: must be > 0"}},
		{"partner unknown member", "POST", "/__mock/partners", `{"apiKey":"mock_x","companyNme":"X"}`, []string{`unknown member "companyNme"`, "companyName"}},
		{"creditor unknown member", "POST", "/__mock/creditors", `{"companyName":"X","email":"a@b.example"}`, []string{`unknown member "email"`, "emails"}},
		{"trailing data", "POST", "/__mock/creditors", `{"companyName":"X","emails":["a@b.example"]} {}`, []string{"data after the value"}},
		{"journal unknown operation", "GET", "/__mock/journal?operation=postClient", nil, []string{`unknown operation id "postClient"`, `"postClients"`, `"webhookDelivery"`}},
		{"journal unknown parameter", "GET", "/__mock/journal?op=getMe", nil, []string{`unknown query parameter "op"`, `"operation", "status", "partnerId"`}},
		{"journal bad status", "GET", "/__mock/journal?status=2XY", nil, []string{`status: "2XY" is not a status`, "4xx"}},
	}
	before := s.Clock().Now()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, tt.method, tt.path, "", tt.body)
			msg := str(r.json(t), "message")
			if r.status != http.StatusBadRequest {
				t.Fatalf("%s %s %v = %d %s, want 400", tt.method, tt.path, tt.body, r.status, r.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
		})
	}
	if n := len(s.Faults()); n != 0 {
		t.Errorf("%d faults armed by invalid requests", n)
	}
	if !s.Clock().Now().Equal(before) {
		t.Errorf("the clock moved: %v -> %v", before, s.Clock().Now())
	}
	if got := s.RateLimit(); len(got.Windows) != len(DefaultRateLimits().Windows) || got.Disabled {
		t.Errorf("rate limit changed: %+v", got)
	}
	// The valid forms still work.
	for _, ok := range []struct{ method, path, body string }{
		{"POST", "/__mock/clock/advance", `{"seconds":90}`},
		{"POST", "/__mock/clock/advance", `{"duration":"1h"}`},
		{"POST", "/__mock/faults", `{"operation":"getMe","status":429,"times":1}`},
		{"PUT", "/__mock/rate-limit", `{"disabled":true}`},
		{"GET", "/__mock/journal?operation=getMe&status=4xx&partnerId=" + DefaultPartnerID, ""},
	} {
		var body any
		if ok.body != "" {
			body = ok.body
		}
		if r := do(t, s, ok.method, ok.path, "", body); r.status >= 300 {
			t.Errorf("%s %s %s = %d %s", ok.method, ok.path, ok.body, r.status, r.body)
		}
	}
	if got := s.Clock().Now().Sub(before); got != time.Hour+90*time.Second {
		t.Errorf("clock moved %v, want 1h1m30s", got)
	}
}

// TestControlGoMethodsStrict: the typed methods return the errors of the HTTP routes.
func TestControlGoMethodsStrict(t *testing.T) {
	b := NewBackend()
	t.Cleanup(b.Close)
	if _, err := b.AddFault(Fault{Operation: "postClient", Status: 503}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"postClients"`) {
		t.Errorf("AddFault(postClient) = %v, want ErrInvalid listing postClients", err)
	}
	if _, err := b.AddFault(Fault{Operation: OpMe, Shape: "nope"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"rate_limit"`) {
		t.Errorf("AddFault(shape nope) = %v", err)
	}
	if id, err := b.AddFault(Fault{Operation: OpMe, Status: 503}); err != nil || id == "" {
		t.Errorf("AddFault(valid) = %q, %v", id, err)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "postClient") {
				t.Errorf("InjectFault(postClient) recovered %v, want a panic naming the operation", r)
			}
		}()
		b.InjectFault(Fault{Operation: "postClient", Status: 503})
	}()
	if err := b.SetRateLimit(RateLimitConfig{Windows: []RateWindow{{Limit: 0, Period: time.Second}}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetRateLimit(limit 0) = %v, want ErrInvalid", err)
	}
	if _, err := b.AdvanceClock(-time.Second); !errors.Is(err, ErrInvalid) {
		t.Errorf("AdvanceClock(-1s) = %v, want ErrInvalid", err)
	}
	fixed := NewBackend(WithClock(fixedClock{}))
	t.Cleanup(fixed.Close)
	if _, err := fixed.AdvanceClock(time.Second); !errors.Is(err, ErrConflict) {
		t.Errorf("AdvanceClock on a fixed clock = %v, want ErrConflict", err)
	}
}

type fixedClock struct{}

func (fixedClock) Now() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
