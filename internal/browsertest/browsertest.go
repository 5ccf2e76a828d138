// Package browsertest starts a headless Chromium for a test, driven with
// chromedp, for end-to-end tests of the mock's web pages (hosted onboarding
// and approval pages).
//
//	func TestApprovalPage(t *testing.T) {
//		ctx := browsertest.New(t)
//		srv := httptest.NewServer(handler)
//		t.Cleanup(srv.Close)
//		err := chromedp.Do(ctx,
//			chromedp.Navigate(srv.URL+"/approve/abc"),
//			chromedp.Click(chromedp.CSS("button#approve")),
//		)
//		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
//	}
//
// The browser is looked up at /usr/bin/chromium, then as chromium,
// chromium-browser and google-chrome on PATH. Without one, the test is
// skipped with install instructions, except when the environment variable CI
// is set: a missing browser in CI is a failure, never a silent skip.
//
// Chromium runs with --headless --disable-gpu --disable-quic --no-first-run
// --disable-background-networking --disable-component-update --disable-sync,
// a fresh --user-data-dir, and --no-sandbox when running as root. The
// background-networking flags matter on machines without network access:
// without them Chromium keeps trying to reach Google's hosts.
package browsertest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/debitura-go/debitura/internal/syncbuf"
)

// StartTimeout bounds how long New waits for the browser to start.
const StartTimeout = 60 * time.Second

// TestTimeout bounds the context New returns: every action run on it fails
// after this long (or earlier, at the test's own deadline).
const TestTimeout = 2 * time.Minute

// closeTimeout bounds the graceful shutdown of the browser in cleanup.
const closeTimeout = 10 * time.Second

// InstallHint says how to get a browser on a Debian machine.
const InstallHint = "install Chromium with: apt-get update && apt-get install -y chromium"

// ErrNoBrowser is returned by FindBrowser when no browser is installed.
var ErrNoBrowser = errors.New("browsertest: no Chromium or Chrome found (looked for /usr/bin/chromium, chromium, chromium-browser, google-chrome)")

// findBrowser is FindBrowser, replaceable in tests.
var findBrowser = FindBrowser

// FindBrowser returns the path of the browser New would start, or
// ErrNoBrowser.
func FindBrowser() (string, error) {
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && !fi.IsDir() {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Flags returns the command-line flags New passes to the browser, apart from
// --user-data-dir and the ones chromedp adds itself (--remote-debugging-pipe
// and the first page, about:blank). root selects --no-sandbox.
func Flags(root bool) []string {
	flags := []string{
		"--headless",
		"--disable-gpu",
		"--disable-quic",
		"--no-first-run",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
	}
	if root {
		flags = append(flags, "--no-sandbox")
	}
	return flags
}

// New starts a headless browser for t and returns a chromedp context for a
// tab in it, bounded by TestTimeout and by t's deadline. Use it with
// chromedp.Run and chromedp.Do. The browser is closed and its profile
// directory removed by t.Cleanup.
//
// If no browser is installed, New calls t.Fatal when the environment variable
// CI is set and t.Skip otherwise. If the browser does not start within
// StartTimeout, New calls t.Fatal.
func New(t testing.TB) context.Context {
	t.Helper()
	execPath, err := findBrowser()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; CI must provide a browser (%s)", err, InstallHint)
		}
		t.Skipf("%v; skipping browser test (%s)", err, InstallHint)
	}

	dataDir, err := os.MkdirTemp("", "browsertest-profile-")
	if err != nil {
		t.Fatalf("browsertest: profile directory: %v", err)
	}
	t.Cleanup(func() { removeDir(t, dataDir) })

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(dataDir),
	}
	root := os.Geteuid() == 0
	for _, f := range Flags(root) {
		opts = append(opts, chromedp.Flag(f[len("--"):], true))
	}
	if !root {
		// chromedp would add --no-sandbox on its own only as root; say so.
		opts = append(opts, chromedp.Flag("no-sandbox", false))
	}
	output := &syncbuf.Buffer{Limit: 1 << 20} // collects the browser's output for error messages
	opts = append(opts, chromedp.CombinedOutput(output))

	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	// chromedp may report errors from its own goroutines; stop forwarding
	// them to t once cleanup has begun (t.Logf panics after the test ends).
	var logMu sync.Mutex
	logging := true
	browserCtx, browserCancel := chromedp.NewContext(allocCtx,
		chromedp.WithErrorf(func(format string, args ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			if logging {
				t.Logf("chromedp: "+format, args...)
			}
		}))
	t.Cleanup(func() {
		defer func() {
			logMu.Lock()
			logging = false
			logMu.Unlock()
		}()
		cctx, cancel := context.WithTimeout(browserCtx, closeTimeout)
		defer cancel()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("browsertest: closing the browser: %v", err)
		}
		browserCancel()
		allocCancel()
	})

	// The first Run starts the browser and binds its life to browserCtx, so
	// it must not carry a timeout; bound the wait from outside instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browserCtx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("browsertest: start %s: %v\nbrowser output:\n%s", execPath, err, tail(output, 4096))
		}
	case <-time.After(StartTimeout):
		browserCancel()
		t.Fatalf("browsertest: %s did not start within %v\nbrowser output:\n%s", execPath, StartTimeout, tail(output, 4096))
	}

	deadline := time.Now().Add(TestTimeout)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if td, ok := d.Deadline(); ok && td.Before(deadline) {
			deadline = td.Add(-5 * time.Second) // leave time for cleanup
		}
	}
	ctx, cancel := context.WithDeadline(browserCtx, deadline)
	t.Cleanup(cancel)
	return ctx
}

// removeDir removes the profile directory, retrying while Chromium's last
// writes settle.
func removeDir(t testing.TB, dir string) {
	var err error
	for range 10 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("browsertest: could not remove profile directory %s: %v", dir, err)
}

// tail is the end of the browser's output (at most n bytes), for error messages.
func tail(out *syncbuf.Buffer, n int) string {
	s := out.String()
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	if s == "" {
		return "(none)"
	}
	return s
}
