package webhook

import (
	"testing"
	"time"
)

func TestMemoryDeduper(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := whNow
	d := NewMemoryDeduper(3, time.Hour)
	d.now = func() time.Time { return now }
	claim := func(id string) Claim {
		t.Helper()
		c, err := d.Claim(ctx, id)
		if err != nil {
			t.Fatalf("Claim(%q) = %v", id, err)
		}
		return c
	}
	if c := claim("a"); c != Claimed {
		t.Fatalf("Claim(a) = %v, want Claimed", c)
	}
	if c := claim("a"); c != InFlight {
		t.Errorf("Claim(a) in flight = %v, want InFlight", c)
	}
	_ = d.Release(ctx, "a")
	if c := claim("a"); c != Claimed {
		t.Errorf("Claim(a) after Release = %v, want Claimed", c)
	}
	_ = d.Complete(ctx, "a")
	if c := claim("a"); c != Done {
		t.Errorf("Claim(a) after Complete = %v, want Done", c)
	}
	// Size bound: the oldest processed id is forgotten first.
	for _, id := range []string{"b", "c", "d"} {
		now = now.Add(time.Minute)
		claim(id)
		_ = d.Complete(ctx, id)
	}
	if d.Len() != 3 {
		t.Errorf("Len() = %d, want 3", d.Len())
	}
	if c := claim("a"); c != Claimed {
		t.Errorf("Claim(a) after eviction = %v, want Claimed", c)
	}
	_ = d.Release(ctx, "a")
	if c := claim("b"); c != Done {
		t.Errorf("Claim(b) = %v, want Done", c)
	}
	// TTL: after an hour an id is new again.
	now = now.Add(time.Hour - 2*time.Minute)
	if c := claim("b"); c != Claimed {
		t.Errorf("Claim(b) after its TTL = %v, want Claimed", c)
	}
	if c := claim("d"); c != Done {
		t.Errorf("Claim(d) within its TTL = %v, want Done", c)
	}
	if d.Len() != 2 {
		t.Errorf("Len() = %d, want 2 (c and d)", d.Len())
	}
}
