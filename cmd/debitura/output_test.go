package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOpenOutResume(t *testing.T) {
	const (
		l2 = `{"line":2,"externalTenantId":"t1","state":"ready"}` + "\n"
		l3 = `{"line":3,"externalTenantId":"t2","state":"failed","error":{"type":"AlreadyLinkedToAnotherPartner","status":409,"message":"m"}}` + "\n"
	)
	tests := []struct {
		name, content string
		wantSettled   []int
		wantRepaired  int64
		wantKept      string // the file after opening
		wantErr       string
	}{
		{"new file", "", nil, 0, "", ""},
		{"complete lines", l2 + l3, []int{2, 3}, 0, l2 + l3, ""},
		{"torn last line without newline", l2 + l3 + `{"line":4,"externalTen`, []int{2, 3}, 22, l2 + l3, ""},
		{"torn last line that ends in a newline", l2 + `{"line":4,"exter` + "\n", []int{2}, 17, l2, ""},
		{"valid JSON but no newline is torn too", l2 + strings.TrimSuffix(l3, "\n"), []int{2}, int64(len(l3) - 1), l2, ""},
		{"garbage in the middle", l2 + "hello\n" + l3, nil, 0, l2 + "hello\n" + l3, "line 2 is not a result"},
		{"two tenants for one line", l2 + `{"line":2,"externalTenantId":"other","state":"ready"}` + "\n", nil, 0, "", "settles input line 2 twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.jsonl")
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			o, settled, err := openOut(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("openOut = %v, want an error containing %q", err, tt.wantErr)
				}
				if b, _ := os.ReadFile(path); string(b) != tt.content {
					t.Errorf("openOut changed a file it refused:\n%s", b)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			for l := range settled {
				lines = append(lines, l)
			}
			if diff := cmp.Diff(tt.wantSettled, sorted(lines)); diff != "" {
				t.Errorf("settled lines (-want +got):\n%s", diff)
			}
			if settled[2] != 0 && settled[2] != tenantHash("t1") {
				t.Errorf("line 2 settled under another tenant's hash")
			}
			if o.Repaired != tt.wantRepaired {
				t.Errorf("Repaired = %d, want %d", o.Repaired, tt.wantRepaired)
			}
			// The next result goes right after the last good line.
			if err := o.write(resultLine{Line: 9, ExternalTenantID: "t9", State: stateOnboardingRequired, URL: "https://x.example/o"}); err != nil {
				t.Fatal(err)
			}
			if err := o.close(); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(path)
			want := tt.wantKept + `{"line":9,"externalTenantId":"t9","state":"onboarding_required","url":"https://x.example/o"}` + "\n"
			if diff := cmp.Diff(want, string(b)); diff != "" {
				t.Errorf("file after a write (-want +got):\n%s", diff)
			}
		})
	}
}

func sorted(s []int) []int {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return s
}
