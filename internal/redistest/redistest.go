// Package redistest runs a real redis-server for tests: on a free loopback port, with a
// temporary directory and no persistence, stopped when the test ends. It can stop, restart (on
// the same port) and pause the server mid-test, to test what happens when Redis goes away.
// StartCluster runs several of them as one Redis Cluster.
//
// Without the redis-server binary the test is skipped with a message saying how to install it,
// unless the CI variable is set (internal/testenv.InCI), where it fails: CI installs it.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/debitura-go/debitura/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// Server is one redis-server process owned by a test.
type Server struct {
	// Addr is the server's "127.0.0.1:port".
	Addr string

	tb   testing.TB
	bin  string
	dir  string
	port int
	// busPort is the cluster bus port of a cluster node (StartCluster), 0 for a plain server.
	busPort int

	mu  sync.Mutex
	cmd *exec.Cmd
}

// startTimeout bounds how long a fresh redis-server may take to answer PING.
const startTimeout = 5 * time.Second

// Start starts a redis-server for tb and stops it at tb's cleanup. It skips tb (fails it in
// CI) when redis-server is not installed.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, lookBinary(tb), false)
}

// lookBinary returns the path of redis-server, or skips tb (fails it in CI) saying how to install
// it.
func lookBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redis-server is not installed: install it to run these tests (Debian/Ubuntu: apt-get install redis-server)"
		if testenv.InCI() {
			tb.Fatal(msg + "; CI must have it (.ci/run installs it)")
		}
		tb.Skip(msg)
	}
	return bin
}

// start starts bin on free ports, as a cluster node when clusterNode is set, and stops it at
// tb's cleanup.
func start(tb testing.TB, bin string, clusterNode bool) *Server {
	tb.Helper()
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir()}
	// A free port can be taken by someone else between our probe and the server's bind: retry.
	for attempt := 0; ; attempt++ {
		s.port = freePort(tb)
		if clusterNode {
			s.busPort = freePort(tb)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		err := s.launch()
		if err == nil {
			break
		}
		if attempt == 2 {
			tb.Fatalf("redistest: %v", err)
		}
	}
	tb.Cleanup(s.Stop)
	return s
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("redistest: finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// launch runs the server process and waits until it answers PING.
func (s *Server) launch() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("redis-server already running on %s", s.Addr)
	}
	cmd := exec.Command(s.bin,
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning")
	if s.busPort != 0 {
		// The cluster bus gets a port of its own: the default, port+10000, may not be free or
		// may not even exist. The node's config file lives in its own directory.
		cmd.Args = append(cmd.Args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(s.busPort))
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(startTimeout)
	for {
		if ping(s.Addr) {
			s.cmd = cmd
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server on port %d exited at start (port taken?)", s.port)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on %s did not answer PING within %v", s.Addr, startTimeout)
		}
	}
}

// ping reports whether a Redis server answers PING at addr.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// Stop kills the server (as a crash would: no shutdown handshake) and waits until it is gone.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // in case it was paused
	_ = s.cmd.Process.Kill()
	// launch's goroutine reaps the process; wait until the port stops answering.
	for i := 0; i < 200 && ping(s.Addr); i++ {
		time.Sleep(5 * time.Millisecond)
	}
	s.cmd = nil
}

// Restart starts the server again on the same port (empty: nothing was persisted; a cluster
// node keeps its cluster config file, so it rejoins with its slots).
func (s *Server) Restart() {
	s.tb.Helper()
	if err := s.launch(); err != nil {
		s.tb.Fatalf("redistest: restart: %v", err)
	}
}

// Pause stops the server process (SIGSTOP): connections stay open but nothing answers, as with
// a Redis that hangs. Resume continues it.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// clientOptions are the options of the clients of Client and Cluster.Client: short dial, read
// and write timeouts, so that tests of an unreachable server stay fast.
func clientOptions(addrs ...string) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:        addrs,
		DialTimeout:  time.Second,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
		// go-redis's default 10 s TCP keep-alive and RESP3 HELLO are fine as they are.
	}
}

// Client returns a new go-redis client of its own (its own connections) to the server, closed at
// tb's cleanup. Its timeouts are short, so that tests of an unreachable server stay fast.
func (s *Server) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	o := clientOptions(s.Addr).Simple()
	o.MaxRetries = -1 // tests see each failure as it happens
	c := redis.NewClient(o)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
