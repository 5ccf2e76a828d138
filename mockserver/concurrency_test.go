package mockserver

import (
	"fmt"
	"sync"
	"testing"
)

func TestConcurrentMixedOperations(t *testing.T) {
	t.Parallel()
	const other = "mock_test_concurrent_b"
	s := newTestServer(t, WithPartner(PartnerSpec{APIKey: other}), WithRateLimit(RateLimitConfig{Disabled: true}))
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			k := key
			if g%4 == 3 {
				k = other
			}
			for i := range 12 {
				ext := fmt.Sprintf("t%d", (g*7+i)%24) // goroutines collide on the same tenants
				email := fmt.Sprintf("%s-%s@x.example", ext, k[len(k)-4:])
				switch i % 6 {
				case 0, 1:
					do(t, s, "POST", "/clients", k, newClient(ext, email))
				case 2:
					do(t, s, "GET", "/clients?PageSize=5&Sort=name", k, nil)
				case 3:
					_ = s.CompleteOnboarding(k, ext)
					do(t, s, "POST", "/oauth/token", k, map[string]any{"externalTenantId": ext})
				case 4:
					do(t, s, "POST", "/clients/"+ext+"/withdraw", k, nil)
				case 5:
					do(t, s, "PATCH", "/clients/"+ext, k, map[string]any{"metadata": map[string]any{"g": g}})
					do(t, s, "DELETE", "/clients/"+ext, k, nil)
				}
			}
		})
	}
	wg.Wait()
	for _, k := range []string{key, other} {
		var l wireClientList
		do(t, s, "GET", "/clients?PageSize=100", k, nil).decode(t, &l)
		seen := map[string]bool{}
		var attributed, done int32
		for _, c := range l.Clients {
			id := deref(c.ExternalTenantID)
			if seen[id] {
				t.Errorf("%s: two clients for %s", k, id)
			}
			seen[id] = true
			if c.IsAttributedClient {
				attributed++
			}
			if c.OnboardingDone {
				done++
			}
		}
		sum := l.Summary
		if sum.TotalClients != l.Page.TotalResults || sum.TotalClients != int32(len(l.Clients)) ||
			sum.AttributedClients != attributed || sum.OnboardingComplete != done || sum.OnboardingPending != sum.TotalClients-done {
			t.Errorf("%s: summary %+v inconsistent with %d listed (%d attributed, %d done)", k, sum, len(l.Clients), attributed, done)
		}
	}
}
