package mockserver

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	t.Run("status shapes, Times and marker header", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		s.InjectFault(Fault{Operation: OpMe, Status: 503, Times: 2})
		for i := range 2 {
			r := do(t, s, "GET", "/me", key, nil)
			var e wireAPIError
			r.decode(t, &e)
			if r.status != 503 || r.header.Get(FaultHeader) != "status" || e.Message == nil {
				t.Errorf("faulted call %d = %d %s %v", i, r.status, r.body, r.header)
			}
		}
		if r := do(t, s, "GET", "/me", key, nil); r.status != 200 || r.header.Get(FaultHeader) != "" {
			t.Errorf("third call = %d, want 200 unmarked", r.status)
		}
		cases := []struct {
			f     Fault
			want  int
			ctype string
			check func(string) bool
		}{
			{Fault{Shape: ShapeHTML}, 502, "text/html", func(b string) bool { return strings.Contains(b, "<html>") }},
			{Fault{Shape: ShapeProblemDetails, Status: 500}, 500, "application/problem+json", func(b string) bool { return strings.Contains(b, `"status":500`) }},
			{Fault{Shape: ShapeRateLimit, RetryAfter: 2.5}, 429, "application/json", func(b string) bool { return strings.Contains(b, `"retryAfter":2.5`) }},
			{Fault{Shape: ShapeRateLimitLegacy, RetryAfter: 60}, 429, "application/json", func(b string) bool { return strings.Contains(b, `"retry_after":60`) }},
			{Fault{Shape: ShapeRateLimitHeaderOnly, RetryAfter: 7}, 429, "", func(b string) bool { return b == "" }},
			{Fault{Status: 500, Body: `{"weird":true}`}, 500, "application/json", func(b string) bool { return b == `{"weird":true}` }},
			{Fault{Shape: ShapeConflict}, 409, "application/json", func(b string) bool {
				return strings.Contains(b, `"type":"ClientExistsNeedsLinking"`) && strings.Contains(b, `"onboardingLinks":{"url":"https://`)
			}},
			{Fault{Shape: ShapeBusinessError}, 422, "application/json", func(b string) bool {
				return strings.Contains(b, `"type":"NoPartnerAvailable"`) && strings.Contains(b, `"combinedSigningUrl":"https://`)
			}},
			{Fault{Shape: ShapeValidationProblem}, 400, "application/problem+json", func(b string) bool { return strings.Contains(b, `"errors":{"$.users"`) }},
			{Fault{Shape: ShapeFieldMap}, 400, "application/json", func(b string) bool { return b == `{"Users":["At least one user is required"]}` }},
		}
		for _, c := range cases {
			c.f.Operation, c.f.Times = OpGetClients, 1
			s.InjectFault(c.f)
			r := do(t, s, "GET", "/clients", key, nil)
			if r.status != c.want || !strings.HasPrefix(r.header.Get("Content-Type"), c.ctype) || !c.check(string(r.body)) {
				t.Errorf("fault %+v = %d %q %s", c.f, r.status, r.header.Get("Content-Type"), r.body)
			}
			if c.f.Shape == ShapeRateLimitHeaderOnly && r.header.Get("Retry-After") != "7" {
				t.Errorf("header-only Retry-After = %q", r.header.Get("Retry-After"))
			}
		}
	})
	t.Run("reset and truncate", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		s.InjectFault(Fault{Operation: OpMe, Reset: true, Times: 1})
		req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL+"/me", nil)
		req.Header.Set("XApiKey", key)
		if res, err := s.Client().Do(req); err == nil {
			res.Body.Close()
			t.Errorf("reset fault answered %d, want a transport error", res.StatusCode)
		}
		s.InjectFault(Fault{Operation: OpMe, Truncate: true, Status: 200, Body: `{"id":"0123456789abcdef"}`, Times: 1})
		res, err := s.Client().Do(req.Clone(t.Context()))
		if err != nil {
			t.Fatalf("truncate: %v", err)
		}
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil || res.Header.Get(FaultHeader) != "truncate" {
			t.Errorf("truncated body read err = %v, header %q; want unexpected EOF", err, res.Header.Get(FaultHeader))
		}
		if r := do(t, s, "GET", "/me", key, nil); r.status != 200 {
			t.Errorf("after faults = %d", r.status)
		}
	})
	t.Run("After: side effect happens, response lost", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		s.InjectFault(Fault{Operation: OpPostClients, After: true, Reset: true, Times: 1})
		req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/clients", strings.NewReader(`{"externalTenantId":"a","client":{"name":"A","country":"DK","supportEmail":"a@a.example"},"users":[{"name":"A","email":"a@a.example"}]}`))
		req.Header.Set("XApiKey", key)
		req.Header.Set("Content-Type", "application/json")
		if res, err := s.Client().Do(req); err == nil {
			res.Body.Close()
			t.Fatalf("After+Reset answered %d", res.StatusCode)
		}
		if r := do(t, s, "GET", "/clients/a", key, nil); r.status != 200 {
			t.Errorf("client after an outcome-unknown create = %d, want 200", r.status)
		}
		s.InjectFault(Fault{Operation: OpPostClients, After: true, Status: 502, Shape: ShapeHTML, Times: 1})
		if r := do(t, s, "POST", "/clients", key, newClient("b", "b@b.example")); r.status != 502 {
			t.Errorf("After+502 = %d", r.status)
		}
		if n := s.EffectCount(EffectClientCreated); n != 2 {
			t.Errorf("client.created = %d, want 2", n)
		}
	})
	t.Run("journaled before the connection drops", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		for i := range 30 {
			s.InjectFault(Fault{Operation: OpMe, Reset: i%2 == 0, Truncate: i%2 == 1, Status: 200, Times: 1})
			req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL+"/me", nil)
			req.Header.Set("XApiKey", key)
			if res, err := s.Client().Do(req); err == nil {
				_, err = io.ReadAll(res.Body)
				res.Body.Close()
				if err == nil {
					t.Fatalf("attempt %d: the faulted GET /me read a whole answer", i)
				}
			}
			if n := len(s.Requests(OpMe)); n != i+1 {
				t.Fatalf("attempt %d: %d GET /me in the journal right after the drop, want %d", i, n, i+1)
			}
		}
	})
	t.Run("latency and seeded probability", func(t *testing.T) {
		t.Parallel()
		run := func() []int {
			s := newTestServer(t, WithSeed(42))
			s.InjectFault(Fault{Operation: OpMe, Status: 500, Probability: 0.5})
			var got []int
			for range 20 {
				got = append(got, do(t, s, "GET", "/me", key, nil).status)
			}
			return got
		}
		a, b := run(), run()
		n500 := 0
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("seeded runs differ: %v vs %v", a, b)
			}
			if a[i] == 500 {
				n500++
			}
		}
		if n500 == 0 || n500 == 20 {
			t.Errorf("probability 0.5 gave %d/20 faults", n500)
		}
		s := newTestServer(t)
		s.InjectFault(Fault{Operation: OpMe, Latency: 80 * time.Millisecond, Times: 1})
		start := time.Now()
		r := do(t, s, "GET", "/me", key, nil)
		if d := time.Since(start); d < 80*time.Millisecond || r.status != 200 || r.header.Get(FaultHeader) != "" {
			t.Errorf("latency fault took %v, status %d, %s %q; want >= 80ms, 200, unmarked (the real response)", d, r.status, FaultHeader, r.header.Get(FaultHeader))
		}
		s.InjectFault(Fault{Status: 500})
		s.ClearFaults()
		if r := do(t, s, "GET", "/me", key, nil); r.status != 200 {
			t.Errorf("after ClearFaults = %d", r.status)
		}
	})
}
