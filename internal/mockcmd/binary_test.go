package mockcmd

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/debitura-go/debitura/internal/controltest"
	"github.com/debitura-go/debitura/internal/syncbuf"
	"github.com/debitura-go/debitura/internal/testenv"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/google/go-cmp/cmp"
)

// binPath is the cmd/debitura-mock binary (a thin main over this package) that TestMain builds once
// for the process tests.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(testenv.BuildAndRun(m, map[*string]string{&binPath: "github.com/debitura-go/debitura/cmd/debitura-mock"}))
}

// proc is a running debitura-mock process.
type proc struct {
	cmd    *exec.Cmd
	url    string
	stdout *firstLine
	stderr *syncbuf.Buffer
	exited chan error
}

// startMock starts the binary with -addr 127.0.0.1:0 and args, waits for its URL, and kills it
// (if still running) when the test ends.
func startMock(t *testing.T, args ...string) *proc {
	t.Helper()
	p := launch(t, args...)
	p.url = p.stdout.waitURL(t, p.exited, p.stderr)
	return p
}

func launch(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{stdout: newFirstLine(), stderr: &syncbuf.Buffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(binPath, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("process %d did not exit after SIGKILL", p.cmd.Process.Pid)
		}
	})
	return p
}

// wait waits (bounded) for the process to exit and returns its exit error.
func (p *proc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.exited:
		p.exited <- err // for Cleanup
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("the mock did not exit within 20s\nstderr:\n%s", p.stderr.String())
		return nil
	}
}

// stop sends sig and waits for the exit.
func (p *proc) stop(t *testing.T, sig os.Signal) error {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return p.wait(t)
}

func TestBinaryStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"-state", state, "-seed", "42", "-save-interval", "1h", "-public-url", "http://mock.test"}
	key := mockserver.DefaultAPIKey

	start := time.Now()
	p := startMock(t, args...)
	approval := populate(t, p.url, key)
	mustCall(t, 200, "POST", p.url+"/__mock/clock/advance", "", map[string]any{"duration": "1h"})
	_, before := call(t, "GET", p.url+"/clients?PageSize=100", key, nil)
	_, kycBefore := call(t, "GET", p.url+"/clients/t-kyc", key, nil)
	if st, _ := call(t, "GET", rebase(t, approval, p.url), "", nil); st != 200 {
		t.Fatalf("approval page before the restart: %d", st)
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v\nstderr:\n%s", err, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "saved state to "+state) {
		t.Errorf("stderr does not report the save:\n%s", p.stderr.String())
	}
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v; want mode 0600", fi, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(state), ".state.json.tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	q := startMock(t, args...)
	_, after := call(t, "GET", q.url+"/clients?PageSize=100", key, nil)
	if diff := cmp.Diff(string(before), string(after)); diff != "" {
		t.Errorf("GET /clients after the restart (-before +after):\n%s", diff)
	}
	var list struct {
		Data []struct {
			ExternalTenantID string `json:"externalTenantId"`
		} `json:"clients"`
	}
	if err := jsonUnmarshal(after, &list); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list.Data {
		ids = append(ids, c.ExternalTenantID)
	}
	if diff := cmp.Diff([]string{"t-done", "t-kyc", "t-new", "t-page"}, sorted(ids)); diff != "" {
		t.Errorf("clients after the restart (-want +got):\n%s", diff)
	}
	if _, kycAfter := call(t, "GET", q.url+"/clients/t-kyc", key, nil); !bytes.Equal(kycBefore, kycAfter) {
		t.Errorf("GET /clients/t-kyc changed:\n%s\n%s", kycBefore, kycAfter)
	}
	info := mustCall(t, 200, "GET", q.url+"/__mock/clients/t-page", key, nil)
	if info["onboardingDone"] != true || info["companyName"] != "Paged ApS" {
		t.Errorf("client onboarded through the pages: %v", info)
	}
	// The pending link request and its token survived: the page shows it and approving works.
	if st, _ := call(t, "GET", rebase(t, approval, q.url), "", nil); st != 200 {
		t.Fatalf("approval page after the restart: %d", st)
	}
	token := approval[strings.Index(approval, "token=")+len("token="):]
	mustCall(t, 204, "POST", q.url+"/__mock/links/"+token+"/approve", "", nil)
	if m := mustCall(t, 200, "GET", q.url+"/clients/t-link", key, nil); m["isAttributedClient"] != false {
		t.Errorf("approved after restart: %v", m)
	}
	// Tokens minted after the restart verify (the signing secret was saved), and the clock
	// offset survived.
	tok := mustCall(t, 200, "POST", q.url+"/oauth/token", key, map[string]any{"externalTenantId": "t-done"})
	if v := mustCall(t, 200, "POST", q.url+"/__mock/token/check", "", map[string]any{"token": jstr(tok, "accessToken")}); v["valid"] != true {
		t.Errorf("token check after restart: %v", v)
	}
	now := mustCall(t, 200, "POST", q.url+"/__mock/clock/advance", "", map[string]any{"seconds": 0})
	if ts, err := time.Parse(time.RFC3339Nano, jstr(now, "now")); err != nil || ts.Before(time.Now().Add(59*time.Minute)) {
		t.Errorf("clock after restart %q (%v): the 1h offset was lost", jstr(now, "now"), err)
	}
	if err := q.stop(t, syscall.SIGINT); err != nil {
		t.Errorf("exit after SIGINT: %v", err)
	}
	t.Logf("two starts, population, restart and checks took %v", time.Since(start).Round(time.Millisecond))
}

func TestBinaryPeriodicSave(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.json")
	p := startMock(t, "-state", state, "-save-interval", "200ms", "-public-url", "http://mock.test")
	mustCall(t, 202, "POST", p.url+"/clients", mockserver.DefaultAPIKey, clientBody("t-periodic", "p@acme.example"))
	deadline := time.Now().Add(15 * time.Second)
	for {
		if b, err := os.ReadFile(state); err == nil && bytes.Contains(b, []byte("t-periodic")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the state file did not get the client within 15s\nstderr:\n%s", p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// SIGKILL: no shutdown save; the periodic one must be enough.
	if err := p.stop(t, syscall.SIGKILL); err == nil {
		t.Fatal("exit status 0 after SIGKILL?")
	}
	q := startMock(t, "-state", state, "-public-url", "http://mock.test")
	mustCall(t, 200, "GET", q.url+"/clients/t-periodic", mockserver.DefaultAPIKey, nil)
}

func TestBinaryProduction(t *testing.T) {
	t.Parallel()
	p := startMock(t, "-env", "production")
	key := mockserver.DefaultAPIKey
	mustCall(t, 202, "POST", p.url+"/clients", key, clientBody("t-prod", "prod@acme.example"))
	tests := []struct {
		method, path string
		want         int
	}{
		{"DELETE", "/clients/t-prod", 403},
		{"GET", "/clients/t-prod/is-deletable", 403},
		{"POST", "/__mock/reset", 403},
		{"POST", "/__mock/clock/advance", 403},
		{"GET", "/clients/t-prod", 200},
		{"GET", "/me", 200},
	}
	for _, tt := range tests {
		if st, body := call(t, tt.method, p.url+tt.path, key, nil); st != tt.want {
			t.Errorf("%s %s: %d %s; want %d", tt.method, tt.path, st, body, tt.want)
		}
	}
}

func TestBinaryBadStateFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content, wantErr string
	}{
		{"not JSON", "{not json", "is not usable"},
		{"truncated", `{"format":"debitura-mock-state/1","snapshot":{"format":1,"store":{"partn`, "is not usable"},
		{"empty", "", "it is empty"},
		{"unknown format", `{"format":"debitura-mock-state/99","snapshot":{}}`, "unknown format"},
		{"no token secret", `{"format":"debitura-mock-state/1","snapshot":{"format":1,"store":{}}}`, "is not usable"},
		// Null records and dangling references used to crash the binary with a SIGSEGV trace.
		{"null partner", `{"format":"debitura-mock-state/1","snapshot":{"format":1,"store":{"tokenSecret":"c2VjcmV0","partners":{"x":null}}}}`, `is not usable (mockserver: invalid argument: snapshot: partners["x"] is null)`},
		{"null creditor", nullState(`"creditors":{"x":null}`), `creditors["x"] is null`},
		{"null link", nullState(`"links":{"x":null}`), `links["x"] is null`},
		{"null link request", nullState(`"linkRequests":{"x":null}`), `linkRequests has a null record`},
		{"link to a missing partner", nullState(`"creditors":{"c":{"id":"c"}},"links":{"l":{"id":"l","partnerId":"ghost","creditorId":"c"}}`), `links["l"].partnerId "ghost" names no partner`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(state, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			p := launch(t, "-state", state)
			err := p.wait(t)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit %v, want status 1\nstderr:\n%s", err, p.stderr.String())
			}
			if s := p.stderr.String(); !strings.Contains(s, state) || !strings.Contains(s, tt.wantErr) {
				t.Errorf("stderr %q does not name the file and %q", s, tt.wantErr)
			}
			if s := p.stdout.String(); s != "" {
				t.Errorf("stdout %q: the mock started listening with a bad state file", s)
			}
			if b, _ := os.ReadFile(state); string(b) != tt.content {
				t.Errorf("the bad state file was overwritten")
			}
		})
	}
}

func TestBinaryUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-env", "staging"}, {"-api-key", "has space"}, {"-no-such-flag"}} {
		p := launch(t, args...)
		err := p.wait(t)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("%v: exit %v, want status 2\nstderr:\n%s", args, err, p.stderr.String())
		}
	}
}

// nullState is a state file with one partner and the given store members.
func nullState(members string) string {
	return `{"format":"debitura-mock-state/1","snapshot":{"format":1,"store":{"tokenSecret":"c2VjcmV0","partners":{"p":{"id":"p","apiKey":"mock_p"}},` + members + `}}}`
}

// TestBinaryController runs the shared control suite (internal/controltest, also run against the
// in-memory Backend) against the real binary through mockserver.Dial, over /__mock/.
func TestBinaryController(t *testing.T) {
	p := startMock(t, "-seed", "7")
	ctl, err := mockserver.Dial(t.Context(), p.url)
	if err != nil {
		t.Fatal(err)
	}
	controltest.Run(t, controltest.Target{Ctl: ctl, BaseURL: p.url, Key: mockserver.DefaultAPIKey})
}
