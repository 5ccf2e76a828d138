package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/debitura-go/debitura/internal/syncbuf"
	"github.com/debitura-go/debitura/internal/testenv"
	"github.com/debitura-go/debitura/mockserver"
)

// The end-to-end tests run the debitura binary against the debitura-mock binary, both built by
// TestMain.
var cliBin, mockBin string

func TestMain(m *testing.M) {
	os.Exit(testenv.BuildAndRun(m, map[*string]string{
		&cliBin:  "github.com/debitura-go/debitura/cmd/debitura",
		&mockBin: "github.com/debitura-go/debitura/cmd/debitura-mock",
	}))
}

// startMockBin starts the mock binary on a free loopback port and returns its URL.
func startMockBin(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(mockBin, append([]string{"-addr", "127.0.0.1:0", "-seed", "7"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("mock's first line %q (%v)", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return url
}

// admin calls a /__mock/ route; body nil sends none. It fails the test unless the status is 2xx.
func admin(t *testing.T, method, url string, body any, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json") // required on the state-changing routes
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
}

// postClients returns the journal's POST /clients entries that were answered (not 429), and how
// many created a client.
func postClients(t *testing.T, base string) (answered, created int) {
	t.Helper()
	var j []mockserver.JournalEntry
	admin(t, "GET", base+"/__mock/journal?operation="+mockserver.OpPostClients, nil, &j)
	for _, e := range j {
		if e.Status == http.StatusTooManyRequests {
			continue
		}
		answered++
		for _, eff := range e.Effects {
			if eff == mockserver.EffectClientCreated {
				created++
			}
		}
	}
	return answered, created
}

// writeCSV writes n valid rows with tenants tenant-1..tenant-n (row i on line i+1).
func writeCSV(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(csvHeader)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "tenant-%d,Company %d ApS,DK,support@c%d.example,User %d,user@c%d.example\n", i, i, i, i, i)
	}
	return writeFile(t, "customers.csv", b.String())
}

// cli prepares the debitura binary against base.
func cli(base string, args ...string) *exec.Cmd {
	cmd := exec.Command(cliBin, append([]string{"--base-url", base}, args...)...)
	cmd.Env = append(os.Environ(), keyEnv+"="+mockserver.DefaultAPIKey)
	return cmd
}

// readResults parses the output file: every line must be a complete result.
func readResults(t *testing.T, path string) []resultLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []resultLine
	for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if l == "" {
			continue
		}
		var r resultLine
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%s line %d %q: %v", path, i+1, l, err)
		}
		out = append(out, r)
	}
	return out
}

// completeLines counts the lines of path that end in "\n".
func completeLines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestE2EKillAndResume links 300 rows, kills the CLI with SIGKILL at a random point, runs it
// again to completion and checks that the output settles every row exactly once and that the mock
// saw at most one POST /clients per tenant, plus those in flight at the kill.
func TestE2EKillAndResume(t *testing.T) {
	t.Parallel()
	const rows, conc = 300, 4
	base := startMockBin(t, "-rate-limit-off")
	// A little latency per request, so that the kill lands in the middle of the run.
	admin(t, "POST", base+"/__mock/faults", map[string]any{"operation": mockserver.OpPostClients, "latency": "4ms", "probability": 1}, nil)
	in := writeCSV(t, rows)
	out := filepath.Join(t.TempDir(), "results.jsonl")
	args := []string{"link", "--in", in, "--out", out, "--concurrency", fmt.Sprint(conc), "--progress-interval", "100ms"}

	killAt := 20 + rand.IntN(rows-60)
	first := cli(base, args...)
	var stderr1 syncbuf.Buffer
	first.Stderr = &stderr1
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for completeLines(out) < killAt {
		if time.Now().After(deadline) {
			t.Fatalf("only %d results after 15s\nstderr:\n%s", completeLines(out), stderr1.String())
		}
		time.Sleep(time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(first.Wait()); code != -1 {
		t.Fatalf("the first run ended by itself (exit %d) before the kill at %d rows; it was too fast", code, killAt)
	}
	settledAtKill := completeLines(out)
	// Requests the dead process left in flight are journaled when the mock finishes them: wait
	// until the journal stops growing.
	sentAtKill, _ := postClients(t, base)
	for stable := 0; stable < 5; time.Sleep(20 * time.Millisecond) {
		n, _ := postClients(t, base)
		if n == sentAtKill {
			stable++
		} else {
			sentAtKill, stable = n, 0
		}
	}
	t.Logf("killed at %d settled rows (target %d); %d POST /clients answered by then", settledAtKill, killAt, sentAtKill)
	if inFlight := sentAtKill - settledAtKill; inFlight < 0 || inFlight > conc {
		t.Errorf("%d POST /clients answered for %d settled rows: more than --concurrency %d in flight", sentAtKill, settledAtKill, conc)
	}

	second := cli(base, args...)
	var stderr2 syncbuf.Buffer
	second.Stderr = &stderr2
	if code := exitCode(second.Run()); code != exitOK {
		t.Fatalf("the re-run = exit %d\nstderr:\n%s", code, stderr2.String())
	}
	if !strings.Contains(stderr2.String(), fmt.Sprintf("already settles %d rows", settledAtKill)) {
		t.Errorf("the re-run does not report resuming from %d rows:\n%s", settledAtKill, stderr2.String())
	}

	// Exactly one settled line per input, for the right tenant.
	results := readResults(t, out)
	seen := map[int]bool{}
	for _, r := range results {
		if seen[r.Line] {
			t.Errorf("line %d settled twice", r.Line)
		}
		seen[r.Line] = true
		if want := fmt.Sprintf("tenant-%d", r.Line-1); r.ExternalTenantID != want || r.State != stateOnboardingRequired || r.URL == "" {
			t.Errorf("result %+v; want %s onboarding_required with a URL", r, want)
		}
	}
	if len(results) != rows || len(seen) != rows {
		t.Errorf("%d results for %d distinct lines; want %d", len(results), len(seen), rows)
	}

	// The journal: the re-run sent exactly the rows that were not settled, once each; so every
	// tenant got one POST /clients, plus at most one more for those in flight at the kill.
	sent, created := postClients(t, base)
	if again := sent - sentAtKill; again != rows-settledAtKill {
		t.Errorf("the re-run sent %d POST /clients for %d unsettled rows: it re-sent settled rows or skipped some", again, rows-settledAtKill)
	}
	if sent > rows+conc || created != rows {
		t.Errorf("%d POST /clients in all (%d created a client) for %d tenants; want at most %d, and %d created", sent, created, rows, rows+conc, rows)
	}
}

// TestE2EWindowWaitIsSatThrough: a rate-limit window that asks for longer than the SDK's retry
// wait (--call-max-wait, WithMaxRetryWait) pauses the run, which then finishes; a wait longer
// than --max-wait stops the run with rows unsettled (exit 1) instead of failing them. The window
// is met two ways: from the mock's 429s (the CLI paces to the documented limits, so it does not
// know the mock's scaled window), and from the Client's budget, told the window with --limits
// (then no request is refused: the budget holds the rows back itself).
func TestE2EWindowWaitIsSatThrough(t *testing.T) {
	t.Parallel()
	const rows = 30
	tests := []struct {
		name    string
		window  map[string]any
		args    []string
		want429 bool
	}{
		// A fixed 2 s window from the first request: the 21st request waits for well over
		// --call-max-wait (200ms), so the SDK hands the wait back.
		{name: "from 429s", window: map[string]any{"limit": 20, "period": "2s", "anchorFirstRequest": true}, want429: true},
		// An hour-like fixed 2 s window (aligned to the epoch, as the SDK's hour): 25 per window
		// is 20 for the bulk lane (80%), so no request is refused.
		{name: "from --limits", window: map[string]any{"limit": 20, "period": "2s"}, args: []string{"--limits", "2000,25/2s,100000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := startMockBin(t)
			admin(t, "PUT", base+"/__mock/rate-limit", map[string]any{"windows": []map[string]any{tt.window}}, nil)
			in := writeCSV(t, rows)
			out := filepath.Join(t.TempDir(), "results.jsonl")
			if tt.args != nil {
				// Start just after a window boundary, so the first window's rest is a wait
				// well over --call-max-wait.
				time.Sleep(time.Until(time.Now().Truncate(2 * time.Second).Add(2*time.Second + 20*time.Millisecond)))
			}

			start := time.Now()
			cmd := cli(base, append([]string{"link", "--in", in, "--out", out, "--concurrency", "4", "--call-max-wait", "200ms", "--max-wait", "5s", "--progress-interval", "500ms"}, tt.args...)...)
			var stderr syncbuf.Buffer
			cmd.Stderr = &stderr
			code := exitCode(cmd.Run())
			t.Logf("took %v; progress:\n%s", time.Since(start).Round(time.Millisecond), stderr.String())
			if code != exitOK {
				t.Fatalf("link = exit %d; want 0", code)
			}
			if s := stderr.String(); !strings.Contains(s, "window wait: ") || !strings.Contains(s, "window wait over") {
				t.Errorf("progress does not report the window wait and its end")
			}
			if took := time.Since(start); took < time.Second {
				t.Errorf("the run took %v: it cannot have sat through the window", took)
			}
			if got := readResults(t, out); len(got) != rows {
				t.Errorf("%d results, want %d", len(got), rows)
			}
			var j []mockserver.JournalEntry
			admin(t, "GET", base+"/__mock/journal?operation="+mockserver.OpPostClients, nil, &j)
			limited := 0
			for _, e := range j {
				if e.Status == http.StatusTooManyRequests {
					limited++
				}
			}
			switch {
			case tt.want429 && limited == 0:
				t.Errorf("no 429 in the journal: the window never bound, so the test proves nothing")
			case !tt.want429 && limited > 0:
				t.Errorf("%d requests refused with 429: the budget did not pace to --limits", limited)
			}
		})
	}

	base := startMockBin(t)
	in := writeCSV(t, rows)
	// The same window with --max-wait below its wait: the run stops, nothing is marked failed.
	admin(t, "PUT", base+"/__mock/rate-limit", map[string]any{"windows": []map[string]any{{"limit": 20, "period": "1m"}}}, nil)
	out2 := filepath.Join(t.TempDir(), "results.jsonl")
	cmd := cli(base, "link", "--in", in, "--out", out2, "--concurrency", "4", "--call-max-wait", "200ms", "--max-wait", "1s")
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if code := exitCode(cmd.Run()); code != exitFailure || !strings.Contains(stderr.String(), "--max-wait") {
		t.Errorf("link with a window over --max-wait = exit %d; want 1 naming --max-wait\nstderr:\n%s", code, stderr.String())
	}
	for _, r := range readResults(t, out2) {
		if r.State == stateFailed {
			t.Errorf("row %d marked failed by a window wait: %+v", r.Line, r)
		}
	}
}

// TestE2EDryRunListsEveryBadRowAndSendsNothing.
func TestE2EDryRunListsEveryBadRowAndSendsNothing(t *testing.T) {
	t.Parallel()
	base := startMockBin(t)
	in := writeFile(t, "in.csv", csvHeader+
		"t1,A,DK,s@a.example,Ann,ann@a.example\n"+
		"t2,,DK,s@b.example,Bo,bo@b.example\n"+
		"t3,C,DK,s@c.example,Cy,not-an-address\n"+
		"t4,D,DK\n"+
		"t5,E,DK,s@e.example,Eve,eve@e.example\n"+
		"t1,A,DK,s@a.example,Ann,ann@a.example\n")
	cmd := cli(base, "link", "--dry-run", "--in", in)
	var stdout, stderr syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if code := exitCode(cmd.Run()); code != exitFailure {
		t.Fatalf("dry run = exit %d, want 1\nstderr:\n%s", code, stderr.String())
	}
	want := "line 3: company_name (client.name): is required\n" +
		"line 4: user_email (users[0].email): \"not-an-address\" is not an e-mail address\n" +
		"line 5: has 3 fields, the header has 6\n" +
		"line 7: external_tenant_id (externalTenantId): \"t1\" repeats line 2\n"
	if got := stdout.String(); got != want {
		t.Errorf("dry run listed:\n%s\nwant:\n%s", got, want)
	}
	var j []mockserver.JournalEntry
	admin(t, "GET", base+"/__mock/journal", nil, &j)
	for _, e := range j {
		if !strings.HasPrefix(e.Path, "/__mock/") {
			t.Errorf("the dry run sent %s %s", e.Method, e.Path)
		}
	}
}
