package redistest

import (
	"context"
	"fmt"
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

// TestStartCluster: keys of different slots are stored on different nodes, each node holding
// only its own, and the cleanup stops every node.
func TestStartCluster(t *testing.T) {
	var addrs []string
	t.Run("cluster", func(t *testing.T) {
		cl := StartCluster(t, 3)
		addrs = cl.Addrs
		if len(cl.Nodes) != 3 || len(addrs) != 3 {
			t.Fatalf("%d nodes, addresses %q; want 3", len(cl.Nodes), addrs)
		}
		c := cl.Client(t)
		ctx := context.Background()
		// Write keys until every node holds one; each is on the node its slot maps to.
		holders := map[string]string{} // node address → a key it holds
		for i := 0; len(holders) < 3 && i < 100; i++ {
			key := fmt.Sprintf("key-%d", i)
			if err := c.Set(ctx, key, i, 0).Err(); err != nil {
				t.Fatal(err)
			}
			slot, err := c.ClusterKeySlot(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			node := cl.Nodes[slot*3/16384] // the slots are split evenly, in node order
			if n, err := node.Client(t).Exists(ctx, key).Result(); err != nil || n != 1 {
				t.Fatalf("%s (slot %d) is not on %s: EXISTS = %d, %v", key, slot, node.Addr, n, err)
			}
			holders[node.Addr] = key
		}
		if len(holders) != 3 {
			t.Fatalf("100 keys landed on %d nodes (%v), want 3", len(holders), holders)
		}
		// A node refuses the keys of the others' slots.
		for _, s := range cl.Nodes {
			for addr, key := range holders {
				err := s.Client(t).Get(ctx, key).Err()
				if moved := err != nil && strings.HasPrefix(err.Error(), "MOVED"); moved != (addr != s.Addr) {
					t.Errorf("GET %s on %s: %v (the key is on %s)", key, s.Addr, err, addr)
				}
			}
		}
	})
	for _, a := range addrs {
		if ping(a) {
			t.Errorf("node %s still answers after the test's cleanup", a)
		}
	}
}
