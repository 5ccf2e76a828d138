package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/google/go-cmp/cmp"
)

func TestParseLimits(t *testing.T) {
	t.Parallel()
	scaled := debitura.DefaultLimits()
	scaled.PerMinute, scaled.Minute, scaled.Segment = 100, 6*time.Second, time.Second
	scaled.PerHour, scaled.Hour = 300, time.Minute
	raised := debitura.DefaultLimits()
	raised.PerMinute, raised.PerHour, raised.PerDay = 4000, 40000, 200000
	tests := []struct {
		in      string
		want    debitura.Limits
		wantErr string
	}{
		{in: "2000,20000,100000", want: debitura.DefaultLimits()},
		{in: "4000, 40000, 200000", want: raised},
		{in: "100/6s,300/1m,100000", want: scaled},
		{in: "100/6s,300/1m,100000/24h", want: scaled},
		{in: "2000,20000", wantErr: "want three windows"},
		{in: "2000,0,100000", wantErr: "hour window"},
		{in: "x,20000,100000", wantErr: "minute window"},
		{in: "2000,20000/soon,100000", wantErr: "positive duration"},
		{in: "2000/7ns,20000,100000", wantErr: "6 equal segments"},
		{in: "2000/6ns,20000,100000", wantErr: "at least 1ms"},
	}
	for _, tt := range tests {
		got, err := parseLimits(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseLimits(%q) = %v; want an error containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseLimits(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseLimits(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	var f limitsFlag
	if diff := cmp.Diff(debitura.DefaultLimits(), f.limits()); diff != "" {
		t.Errorf("without --limits (-want +got):\n%s", diff)
	}
	if code, _, stderr := runIn(t.Context(), []string{"link", "--in", "x.csv", "--out", "o", "--limits", "1,2"}, nil); code != exitUsage || !strings.Contains(stderr, "--limits") {
		t.Errorf("a bad --limits = exit %d, stderr %q; want a usage error naming --limits", code, stderr)
	}
}

// TestLinkPacesToLimitsInTheBulkLane: --limits reaches the Client's budget (WithLimits) and the
// rows go through its bulk lane, which uses 80% of each window: 8 of a window of 10 per 600ms,
// so 20 rows need three windows (over 1s); the interactive lane would need two (about 0.6s),
// and the documented limits none.
func TestLinkPacesToLimitsInTheBulkLane(t *testing.T) {
	t.Parallel()
	srv := mockserver.NewTest(t)
	if err := srv.SetRateLimit(mockserver.RateLimitConfig{Disabled: true}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(csvHeader)
	for i := range 20 {
		fmt.Fprintf(&b, "t%d,C%d,DK,s@c%d.example,U,u@c%d.example\n", i, i, i, i)
	}
	in := writeFile(t, "in.csv", b.String())
	start := time.Now()
	code, _, stderr := runIn(t.Context(), []string{"--base-url", srv.URL, "link", "--in", in, "--out", filepath.Join(t.TempDir(), "o.jsonl"),
		"--limits", "10/600ms,1000000,1000000"}, map[string]string{keyEnv: mockserver.DefaultAPIKey})
	took := time.Since(start)
	if code != exitOK {
		t.Fatalf("link = exit %d\n%s", code, stderr)
	}
	if took < time.Second {
		t.Errorf("20 rows took %v under --limits 10/600ms: not paced to 8 per window (the bulk lane's share)", took)
	}
}

// TestDryRunIsNotPaced: checking more rows than a minute's limit must not wait for the
// validator's request budget (nothing is sent), nor report rows as bad for it.
func TestDryRunIsNotPaced(t *testing.T) {
	t.Parallel()
	const rows = debitura.DefaultPerMinute + 100
	var b strings.Builder
	b.WriteString(csvHeader)
	for i := range rows {
		fmt.Fprintf(&b, "t%d,C%d,DK,s@c%d.example,U,u@c%d.example\n", i, i, i, i)
	}
	in := writeFile(t, "in.csv", b.String())
	code, stdout, stderr := runIn(t.Context(), []string{"link", "--dry-run", "--in", in}, nil)
	if want := fmt.Sprintf("%d rows, 0 bad", rows); code != exitOK || !strings.Contains(stderr, want) {
		t.Errorf("dry run of %d rows = exit %d, stderr %q, stdout:\n%.500s\nwant exit 0 and %q", rows, code, stderr, stdout, want)
	}
}
