package mockserver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPatchAndProfile(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	mustCreate(t, s, key, "g", "g@x.example")
	r := do(t, s, "GET", "/clients/g/profile", key, nil)
	var p wireProfile
	r.decode(t, &p)
	if r.status != 200 || p.Status != "pending_onboarding" || len(p.Metadata) != 0 || !strings.Contains(string(r.body), `"metadata":{}`) {
		t.Fatalf("profile = %d %s", r.status, r.body)
	}
	r = do(t, s, "PATCH", "/clients/g", key, `{"supportPhone":"+45 1234","metadata":{"plan":"pro","seats":5,"vip":true}}`)
	if r.status != 200 {
		t.Fatalf("PATCH = %d %s", r.status, r.body)
	}
	r = do(t, s, "PATCH", "/clients/g", key, `{"SupportEmail":"new@x.example","metadata":{"vip":null,"region":"eu"}}`)
	r.decode(t, &p)
	want := map[string]any{"plan": "pro", "seats": float64(5), "region": "eu"}
	if diff := cmp.Diff(want, p.Metadata); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	if deref(p.SupportEmail) != "new@x.example" || deref(p.SupportPhone) != "+45 1234" {
		t.Errorf("contact = %v / %v", deref(p.SupportEmail), deref(p.SupportPhone))
	}
	tooMany := map[string]any{}
	for i := range 48 {
		tooMany[fmt.Sprintf("k%d", i)] = i
	}
	bad := []any{
		map[string]any{"metadata": tooMany},
		map[string]any{"metadata": map[string]any{strings.Repeat("k", 41): "v"}},
		map[string]any{"metadata": map[string]any{"": "v"}},
		map[string]any{"metadata": map[string]any{"obj": map[string]any{}}},
		map[string]any{"metadata": map[string]any{"big": strings.Repeat("x", 16*1024)}},
		map[string]any{"supportEmail": "nope"},
		map[string]any{"status": "x"},
	}
	for _, b := range bad {
		if r := do(t, s, "PATCH", "/clients/g", key, b); r.status != 400 {
			t.Errorf("PATCH %v = %d, want 400", b, r.status)
		}
	}
	r = do(t, s, "GET", "/clients/g/profile", key, nil)
	var after wireProfile
	r.decode(t, &after)
	if diff := cmp.Diff(p, after); diff != "" {
		t.Errorf("a 400 changed the profile (-want +got):\n%s", diff)
	}
	if r := do(t, s, "PATCH", "/clients/none", key, `{}`); r.status != 404 {
		t.Errorf("PATCH unknown = %d, want 404", r.status)
	}
	info, _ := s.LinkedClient(key, "g")
	if len(info.Metadata) != 3 {
		t.Errorf("LinkedClient metadata = %v", info.Metadata)
	}
}
