package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/debitura-go/debitura/internal/syncbuf"
	"github.com/debitura-go/debitura/mockserver"
)

// runIn runs the tool in-process with the environment variables vars.
func runIn(ctx context.Context, args []string, vars map[string]string) (code int, stdout, stderr string) {
	var out, errb syncbuf.Buffer
	code = run(ctx, args, testEnv(&out, &errb, vars))
	return code, out.String(), errb.String()
}

// testEnv is the tool's environment in a test: no input, output to stdout and stderr, and the
// environment variables vars.
func testEnv(stdout, stderr io.Writer, vars map[string]string) env {
	return env{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, getenv: func(k string) string { return vars[k] }}
}

// background is a run of the tool in a goroutine, as a process that a signal ends.
type background struct {
	args           []string
	stdout, stderr syncbuf.Buffer
	cancel         context.CancelFunc
	done           chan int
}

// inBackground starts the tool with args and the environment variables vars in a goroutine.
func inBackground(t *testing.T, args []string, vars map[string]string) *background {
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	b := &background{args: args, cancel: cancel, done: make(chan int, 1)}
	e := testEnv(&b.stdout, &b.stderr, vars)
	go func() { b.done <- run(ctx, args, e) }()
	return b
}

// waitFor polls cond until it holds, and fails t if it does not within 10 s.
func (b *background) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%v: no %s after 10s; stderr:\n%s", b.args, what, b.stderr.String())
		}
	}
}

// signal ends the run as SIGINT or SIGTERM would (its context is cancelled) and returns its exit
// code; it fails t if the run does not end within d.
func (b *background) signal(t *testing.T, d time.Duration) int {
	t.Helper()
	b.cancel()
	select {
	case code := <-b.done:
		return code
	case <-time.After(d):
		t.Fatalf("%v sat on for %v after the signal; stderr:\n%s", b.args, d, b.stderr.String())
		return 0
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const csvHeader = "external_tenant_id,company_name,country,support_email,user_name,user_email\n"

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	good := writeFile(t, "good.csv", csvHeader+"t1,A,DK,s@a.example,Ann,ann@a.example\nt2,B,DK,s@b.example,Bo,"+mockExistingEmail+"\n")
	oneBad := writeFile(t, "bad.csv", csvHeader+"t1,A,DK,s@a.example,Ann,ann@a.example\nt2,B,DK,nope,Bo,bo@b.example\n")
	badHeader := writeFile(t, "header.csv", "external_tenant_id,company\n")
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStderr string
	}{
		{"help", []string{"--help"}, exitOK, ""},
		{"unknown command", []string{"nope"}, exitUsage, `unknown command "nope"`},
		{"unknown flag", []string{"clients", "list", "--nope"}, exitUsage, "unknown flag"},
		{"extra argument", []string{"link", "extra"}, exitUsage, "unexpected arguments"},
		{"link without --in", []string{"link", "--out", "o.jsonl"}, exitUsage, "--in is required"},
		{"link without --out", []string{"link", "--in", good}, exitUsage, "--out is required"},
		{"bad concurrency", []string{"link", "--in", good, "--out", "o", "--concurrency", "65"}, exitUsage, "--concurrency"},
		{"format unknown", []string{"link", "--in", "x.txt", "--out", "o"}, exitUsage, "--format"},
		{"no key", []string{"clients", "list"}, exitUsage, "DEBITURA_API_KEY is not set"},
		{"bad filter", []string{"--mock", "clients", "list", "--attributed", "maybe"}, exitUsage, "--attributed must be true or false"},
		{"mock usage error", []string{"mock", "-env", "staging"}, exitUsage, "-env must be test or production"},
		{"dry run clean", []string{"link", "--dry-run", "--in", good}, exitOK, "2 rows, 0 bad"},
		{"dry run with a bad row", []string{"link", "--dry-run", "--in", oneBad}, exitFailure, "2 rows, 1 bad"},
		{"bad header", []string{"--mock", "link", "--in", badHeader, "--out", filepath.Join(t.TempDir(), "o.jsonl")}, exitFailure, `unknown column "company"`},
		{"missing input", []string{"--mock", "link", "--in", filepath.Join(t.TempDir(), "none.csv"), "--out", filepath.Join(t.TempDir(), "o.jsonl")}, exitFailure, "no such file"},
		{"every row settled", []string{"--mock", "link", "--in", good, "--out", filepath.Join(t.TempDir(), "o.jsonl")}, exitOK, "onboarding_required 1, approval_required 1"},
		{"a bad row is not sent", []string{"--mock", "link", "--in", oneBad, "--out", filepath.Join(t.TempDir(), "o.jsonl")}, exitFailure, "1 bad rows were not sent"},
		{"not found", []string{"--mock", "clients", "get", "nobody"}, exitFailure, "404"},
		{"get", []string{"--mock", "clients", "get", mockTenantReady}, exitOK, ""},
		{"list all", []string{"--mock", "clients", "list", "--all", "--json"}, exitOK, ""},
		{"webhooks list", []string{"--mock", "webhooks", "list"}, exitOK, ""},
		{"webhooks test without --event", []string{"--mock", "webhooks", "test"}, exitUsage, "--event is required"},
		{"webhooks test", []string{"--mock", "webhooks", "test", "--event", "client.linked", "--tenant", mockTenantReady}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runIn(t.Context(), tt.args, nil)
			if code != tt.want || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("debitura %s = exit %d, stderr:\n%s\nwant exit %d and stderr containing %q", strings.Join(tt.args, " "), code, stderr, tt.want, tt.wantStderr)
			}
		})
	}
}

func TestRunInterruptedLinkExits130(t *testing.T) {
	t.Parallel()
	in := writeFile(t, "in.csv", csvHeader+"t1,A,DK,s@a.example,Ann,ann@a.example\n")
	out := filepath.Join(t.TempDir(), "o.jsonl")
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // the signal arrived before the first row
	code, _, stderr := runIn(ctx, []string{"--mock", "link", "--in", in, "--out", out}, nil)
	if code != exitInterrupted || !strings.Contains(stderr, "interrupted") {
		t.Errorf("interrupted link = exit %d, stderr:\n%s\nwant 130", code, stderr)
	}
	// Nothing was settled, so a re-run sends the row.
	if code, _, stderr := runIn(t.Context(), []string{"--mock", "link", "--in", in, "--out", out}, nil); code != exitOK {
		t.Errorf("re-run = exit %d, stderr:\n%s", code, stderr)
	}
}

func TestTokensMintRevealsOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runIn(t.Context(), []string{"--mock", "tokens", "mint", mockTenantReady}, nil)
	if code != exitOK || !strings.Contains(stdout, "expires ") || strings.Contains(stdout+stderr, "eyJ") {
		t.Errorf("tokens mint = exit %d, stdout %q, stderr %q; want the expiry and no token", code, stdout, stderr)
	}
	code, stdout, stderr = runIn(t.Context(), []string{"--mock", "tokens", "mint", mockTenantReady, "--reveal"}, nil)
	if tok := strings.TrimSpace(stdout); code != exitOK || strings.Count(tok, ".") != 2 || strings.Contains(tok, " ") || !strings.Contains(stderr, "expires ") {
		t.Errorf("tokens mint --reveal = exit %d, stdout %q, stderr %q; want only the JWT on stdout", code, stdout, stderr)
	}
}

func TestAPIKeyNeverPrinted(t *testing.T) {
	t.Parallel()
	srv := mockserver.NewTest(t)
	const key = "mock_not_a_partner_key_SECRET123"
	for _, args := range [][]string{
		{"clients", "list"},
		{"tokens", "mint", "t1"},
		{"link", "--in", writeFile(t, "in.csv", csvHeader+"t1,A,DK,s@a.example,Ann,ann@a.example\n"), "--out", filepath.Join(t.TempDir(), "o.jsonl")},
	} {
		code, stdout, stderr := runIn(t.Context(), append([]string{"--base-url", srv.URL}, args...), map[string]string{keyEnv: key})
		if code != exitFailure || !strings.Contains(stderr, "401") {
			t.Errorf("%v with an unknown key = exit %d, stderr:\n%s\nwant exit 1 with the 401", args, code, stderr)
		}
		if strings.Contains(stdout+stderr, "SECRET123") {
			t.Errorf("%v printed the API key:\n%s%s", args, stdout, stderr)
		}
	}
}

func TestMockSubcommandServesTheMock(t *testing.T) {
	t.Parallel()
	mock := inBackground(t, []string{"mock", "-addr", "127.0.0.1:0", "-api-key", "mock_cli_key"}, nil)
	var base string
	mock.waitFor(t, "listening line", func() bool {
		if l, ok := strings.CutPrefix(mock.stdout.String(), "listening on "); ok && strings.HasSuffix(l, "\n") {
			base = strings.TrimSpace(l)
		}
		return base != ""
	})
	// The same backend as debitura-mock, with its -api-key: the CLI itself can talk to it.
	code, stdout, stderr := runIn(t.Context(), []string{"--base-url", base, "clients", "list"}, map[string]string{keyEnv: "mock_cli_key"})
	if code != exitOK || !strings.Contains(stderr, "0 clients in all") {
		t.Errorf("clients list against debitura mock = exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if code := mock.signal(t, 15*time.Second); code != exitOK {
		t.Errorf("debitura mock after the signal = exit %d; stderr:\n%s", code, mock.stderr.String())
	}
}

// TestSampleFileLinksEveryState links README's sample file against the embedded mock: it must
// parse and show each state once or more.
func TestSampleFileLinksEveryState(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "o.jsonl")
	code, _, stderr := runIn(t.Context(), []string{"--mock", "link", "--in", "../../examples/backfill/customers.csv", "--out", out}, nil)
	if code != exitOK {
		t.Fatalf("link of the sample = exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{stateReady, stateOnboardingRequired, stateApprovalRequired, stateFailed} {
		if !strings.Contains(string(b), `"state":"`+state+`"`) {
			t.Errorf("no %s row in the sample's results:\n%s", state, b)
		}
	}
}

func TestResumeRefusesAChangedInput(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "o.jsonl")
	first := writeFile(t, "a.csv", csvHeader+"t1,A,DK,s@a.example,Ann,ann@a.example\n")
	if code, _, stderr := runIn(t.Context(), []string{"--mock", "link", "--in", first, "--out", out}, nil); code != exitOK {
		t.Fatalf("first run = exit %d\n%s", code, stderr)
	}
	before, _ := os.ReadFile(out)
	// Line 2 now holds another tenant: skipping it would leave t9 unlinked, sending it would
	// settle line 2 twice.
	changed := writeFile(t, "b.csv", csvHeader+"t9,Z,DK,s@z.example,Zed,zed@z.example\n")
	code, _, stderr := runIn(t.Context(), []string{"--mock", "link", "--in", changed, "--out", out}, nil)
	if code != exitFailure || !strings.Contains(stderr, "the input changed since --out was written") {
		t.Errorf("resume with a changed input = exit %d\n%s\nwant exit 1 naming the change", code, stderr)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Errorf("--out changed:\n%s", after)
	}
}
