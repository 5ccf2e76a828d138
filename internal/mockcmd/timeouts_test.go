package mockcmd

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/debitura-go/debitura/mockserver"
)

// Short timeouts for the connection tests; the tests run run itself, so they cover the server
// the binary builds.
var shortTimeouts = []string{"-read-timeout", "300ms", "-idle-timeout", "300ms", "-write-timeout", "300ms"}

// dialMock opens a raw connection to the mock at base.
func dialMock(t *testing.T, base string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// waitClosed reads from conn until the server closes it and fails the test when that takes
// longer than limit.
func waitClosed(t *testing.T, conn net.Conn, limit time.Duration) {
	t.Helper()
	start := time.Now()
	if err := conn.SetReadDeadline(start.Add(limit)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, conn) // returns nil at EOF
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection is still open after %v", limit)
	}
	t.Logf("closed after %v (%v)", time.Since(start).Round(time.Millisecond), err)
}

func TestRunClosesTricklingBody(t *testing.T) {
	base, _, _ := startRun(t, shortTimeouts...)
	conn := dialMock(t, base)
	// Headers promise 1000 bytes; the body then trickles at one byte per 50ms (50s in all).
	_, err := io.WriteString(conn, "POST /clients HTTP/1.1\r\nHost: mock\r\nXApiKey: "+mockserver.DefaultAPIKey+
		"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < 1000; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	waitClosed(t, conn, 2*time.Second)
}

func TestRunClosesIdleConnection(t *testing.T) {
	base, _, _ := startRun(t, shortTimeouts...)
	conn := dialMock(t, base)
	if _, err := io.WriteString(conn, "GET /me HTTP/1.1\r\nHost: mock\r\nXApiKey: "+mockserver.DefaultAPIKey+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("GET /me: %d, close=%v; want 200 on a keep-alive connection", res.StatusCode, res.Close)
	}
	// The connection is now idle: the server must close it after -idle-timeout.
	waitClosed(t, conn, 2*time.Second)
}

// A latency fault longer than -write-timeout still gets its answer: the fault moves the write
// deadline of its own response.
func TestRunWriteTimeoutSparesLatencyFaults(t *testing.T) {
	base, _, _ := startRun(t, shortTimeouts...)
	mustCall(t, 201, "POST", base+"/__mock/faults", "", map[string]any{"operation": mockserver.OpMe, "latency": "600ms"})
	if st, body := call(t, "GET", base+"/me", mockserver.DefaultAPIKey, nil); st != http.StatusOK {
		t.Fatalf("GET /me behind a 600ms latency fault with -write-timeout 300ms: %d %s", st, body)
	}
}

func TestParseFlagsTimeouts(t *testing.T) {
	c, err := parseFlags("debitura-mock", []string{"-read-timeout", "1s", "-write-timeout", "2s", "-idle-timeout", "3s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(c, http.NotFoundHandler())
	if srv.ReadTimeout != time.Second || srv.WriteTimeout != 2*time.Second || srv.IdleTimeout != 3*time.Second || srv.ReadHeaderTimeout != time.Second {
		t.Errorf("server timeouts read=%v write=%v idle=%v header=%v; want 1s 2s 3s 1s", srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.ReadHeaderTimeout)
	}
	for _, flag := range []string{"-read-timeout", "-write-timeout", "-idle-timeout"} {
		if _, err := parseFlags("debitura-mock", []string{flag, "-1s"}, io.Discard); !errors.Is(err, ErrUsage) {
			t.Errorf("%s -1s: err = %v, want a usage error", flag, err)
		}
	}
}
