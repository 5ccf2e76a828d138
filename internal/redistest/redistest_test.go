package redistest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestStartStopRestartPause(t *testing.T) {
	s := Start(t)
	c := s.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if ping(s.Addr) {
		t.Fatal("the server answers after Stop")
	}
	s.Stop() // a second Stop does nothing
	addr := s.Addr
	s.Restart()
	if s.Addr != addr || !ping(s.Addr) {
		t.Fatalf("restarted on %s (was %s), answering %v", s.Addr, addr, ping(s.Addr))
	}
	// Nothing is persisted across a restart.
	if n, err := s.Client(t).Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Fatalf("after restart: EXISTS k = %d, %v; want 0", n, err)
	}
	s.Pause()
	start := time.Now()
	if ping(s.Addr) {
		t.Fatal("a paused server answered")
	}
	if time.Since(start) > time.Second {
		t.Fatal("ping of a paused server did not time out")
	}
	s.Resume()
	if !ping(s.Addr) {
		t.Fatal("the server does not answer after Resume")
	}
}

// TestStartWithoutBinary: without redis-server a test skips, saying how to install it.
func TestStartWithoutBinary(t *testing.T) {
	if os.Getenv("REDISTEST_HELPER") == "1" {
		Start(t) // run by the subprocess below, with CI set: must fail
		return
	}
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	t.Setenv("CI", "")
	var skipped bool
	t.Run("local", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Start(t)
	})
	if !skipped {
		t.Fatal("Start without redis-server did not skip")
	}

	// With CI set, the same test fails; run it in a subprocess so this test can look at it.
	cmd := exec.Command(os.Args[0], "-test.run=^TestStartWithoutBinary$", "-test.v")
	cmd.Env = append(os.Environ(), "REDISTEST_HELPER=1", "CI=true", "PATH="+empty)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--- FAIL") || !strings.Contains(string(out), "apt-get install redis-server") {
		t.Fatalf("with CI set: err %v, output:\n%s\nwant a failure that says how to install redis-server", err, out)
	}
}
