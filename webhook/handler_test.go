package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/debitura-go/debitura/internal/syncbuf"
)

// whReceiver is a Handler behind a real HTTP server.
type whReceiver struct {
	srv   *httptest.Server
	calls atomic.Int32
	mu    sync.Mutex
	got   []*Event
}

func newWhReceiver(t *testing.T, fn func(ctx context.Context, ev *Event) error, opts ...Option) *whReceiver {
	t.Helper()
	r := &whReceiver{}
	all := append([]Option{WithClock(func() time.Time { return whNow })}, opts...)
	h := Handler(whSecret, func(ctx context.Context, ev *Event) error {
		r.calls.Add(1)
		r.mu.Lock()
		r.got = append(r.got, ev)
		r.mu.Unlock()
		if fn == nil {
			return nil
		}
		return fn(ctx, ev)
	}, all...)
	r.srv = httptest.NewUnstartedServer(h)
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the panic test would print a stack
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

// deliver posts body with the header h and returns the status.
func (r *whReceiver) deliver(t *testing.T, method string, h http.Header, body []byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, r.srv.URL+"/hooks/debitura", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		return 0 // the handler panicked and net/http dropped the connection
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func whBody(id string) []byte {
	return []byte(`{"id":"` + id + `","specVersion":"1.0","event":"client.linked","timestamp":"2025-03-01T12:00:00Z","data":{"externalTenantId":"t-1"}}`)
}

func TestHandlerStatuses(t *testing.T) {
	t.Parallel()
	body := whBody("e-1")
	good := signedHeader(t, whSecret, whNow, body)
	bad := signedHeader(t, whOldSecret, whNow, body)
	stale := signedHeader(t, whSecret, whNow.Add(-10*time.Minute), body)
	future := signedHeader(t, whSecret, whNow.Add(10*time.Minute), body)
	malformed := http.Header{SignatureHeader: {"t=abc,v1=00"}}
	noID := []byte(`{"event":"client.linked"}`)
	big := append(bytes.Clone(body[:len(body)-1]), []byte(`,"pad":"`+strings.Repeat("x", 2000)+`"}`)...)
	tests := []struct {
		name      string
		method    string
		header    http.Header
		body      []byte
		opts      []Option
		want      int
		wantCalls int32
	}{
		{"valid", http.MethodPost, good, body, nil, 200, 1},
		{"wrong secret", http.MethodPost, bad, body, nil, 401, 0},
		{"altered body", http.MethodPost, good, whBody("e-2"), nil, 401, 0},
		{"missing signature", http.MethodPost, http.Header{}, body, nil, 401, 0},
		{"stale", http.MethodPost, stale, body, nil, 401, 0},
		{"future", http.MethodPost, future, body, nil, 401, 0},
		{"malformed header", http.MethodPost, malformed, body, nil, 400, 0},
		{"signed body without id", http.MethodPost, signedHeader(t, whSecret, whNow, noID), noID, nil, 400, 0},
		{"GET", http.MethodGet, good, nil, nil, 405, 0},
		{"body over the cap", http.MethodPost, signedHeader(t, whSecret, whNow, big), big, []Option{WithMaxBody(1024)}, 413, 0},
		{"body at the cap", http.MethodPost, good, body, []Option{WithMaxBody(int64(len(body)))}, 200, 1},
		{"old secret during rotation", http.MethodPost, bad, body, []Option{WithSecrets(whOldSecret)}, 200, 1},
		{"wider tolerance", http.MethodPost, stale, body, []Option{WithTolerance(time.Hour)}, 200, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newWhReceiver(t, nil, tt.opts...)
			if got := r.deliver(t, tt.method, tt.header, tt.body); got != tt.want {
				t.Errorf("delivery status = %d, want %d", got, tt.want)
			}
			if n := r.calls.Load(); n != tt.wantCalls {
				t.Errorf("fn called %d times, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestHandlerMisconfiguredSecret(t *testing.T) {
	t.Parallel()
	body := whBody("e-1")
	called := false
	srv := httptest.NewServer(Handler("not base64!", func(context.Context, *Event) error { called = true; return nil }))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header = signedHeader(t, whSecret, time.Now(), body)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || called {
		t.Errorf("status %d, fn called %t; want 500, false", resp.StatusCode, called)
	}
}

func TestHandlerDeduplicates(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	fail.Store(true)
	r := newWhReceiver(t, func(ctx context.Context, ev *Event) error {
		if fail.Load() {
			return errors.New("database down")
		}
		return nil
	})
	body := whBody("e-1")
	h := signedHeader(t, whSecret, whNow, body)
	steps := []struct {
		name      string
		fail      bool
		want      int
		wantCalls int32
	}{
		{"first delivery fails in fn", true, 500, 1},
		{"redelivery is processed again and fails", true, 500, 2},
		{"redelivery succeeds", false, 200, 3},
		{"duplicate is acknowledged without a call", false, 200, 3},
		{"duplicate even if fn would fail now", true, 200, 3},
	}
	for _, s := range steps {
		fail.Store(s.fail)
		if got := r.deliver(t, http.MethodPost, h, body); got != s.want {
			t.Errorf("%s: status %d, want %d", s.name, got, s.want)
		}
		if n := r.calls.Load(); n != s.wantCalls {
			t.Errorf("%s: fn called %d times in all, want %d", s.name, n, s.wantCalls)
		}
	}
	// Another event id is a new event; a redelivery signed later (new t) is still a duplicate.
	fail.Store(false)
	b2 := whBody("e-2")
	if got := r.deliver(t, http.MethodPost, signedHeader(t, whSecret, whNow, b2), b2); got != 200 || r.calls.Load() != 4 {
		t.Errorf("new id: status %d, calls %d; want 200, 4", got, r.calls.Load())
	}
	if got := r.deliver(t, http.MethodPost, signedHeader(t, whSecret, whNow.Add(time.Minute), body), body); got != 200 || r.calls.Load() != 4 {
		t.Errorf("re-signed duplicate: status %d, calls %d; want 200, 4", got, r.calls.Load())
	}
}

func TestHandlerConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	const n = 20
	entered := make(chan struct{})
	release := make(chan struct{})
	r := newWhReceiver(t, func(ctx context.Context, ev *Event) error {
		close(entered) // a second call would panic: fn must run once
		<-release
		return nil
	})
	body := whBody("e-concurrent")
	h := signedHeader(t, whSecret, whNow, body)
	statuses := make(chan int, n)
	for range n {
		go func() { statuses <- r.deliver(t, http.MethodPost, h, body) }()
	}
	<-entered
	var got []int
	for range n - 1 { // the other deliveries answer while the first is still in fn
		got = append(got, <-statuses)
	}
	close(release)
	got = append(got, <-statuses)
	slices.Sort(got)
	want := append([]int{200}, slices.Repeat([]int{409}, n-1)...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if c := r.calls.Load(); c != 1 {
		t.Errorf("fn called %d times, want 1", c)
	}
	// Once processed, the next delivery is a plain duplicate.
	if s := r.deliver(t, http.MethodPost, h, body); s != 200 || r.calls.Load() != 1 {
		t.Errorf("after processing: status %d, calls %d; want 200, 1", s, r.calls.Load())
	}
}

func TestHandlerConcurrentDistinctIDs(t *testing.T) {
	t.Parallel()
	r := newWhReceiver(t, nil)
	const n = 20
	var wg sync.WaitGroup
	for i := range n * 2 { // every id delivered twice, all at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := whBody(fmt.Sprintf("e-%d", i%n))
			if s := r.deliver(t, http.MethodPost, signedHeader(t, whSecret, whNow, body), body); s != 200 && s != 409 {
				t.Errorf("status %d, want 200 or 409", s)
			}
		}()
	}
	wg.Wait()
	r.mu.Lock()
	ids := map[string]int{}
	for _, ev := range r.got {
		ids[ev.ID]++
	}
	r.mu.Unlock()
	for id, c := range ids {
		if c != 1 {
			t.Errorf("fn called %d times for %s, want 1", c, id)
		}
	}
	// Some deliveries may have got 409 (in flight); a redelivery of each id finishes the set.
	for i := range n {
		body := whBody(fmt.Sprintf("e-%d", i))
		if s := r.deliver(t, http.MethodPost, signedHeader(t, whSecret, whNow, body), body); s != 200 {
			t.Errorf("redelivery of e-%d: status %d, want 200", i, s)
		}
	}
	if c := r.calls.Load(); c != n {
		t.Errorf("fn called %d times, want %d", c, n)
	}
}

// TestHandlerPanicAnswers500 checks that a panicking fn is answered 500 (not a dropped
// connection), releases the event id so that the redelivery is processed, and is logged.
func TestHandlerPanicAnswers500(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	var panicNext atomic.Bool
	panicNext.Store(true)
	r := newWhReceiver(t, func(context.Context, *Event) error {
		if panicNext.Swap(false) {
			panic("handler bug")
		}
		return nil
	}, WithLogger(logger))
	body := whBody("e-panic")
	h := signedHeader(t, whSecret, whNow, body)
	if s := r.deliver(t, http.MethodPost, h, body); s != http.StatusInternalServerError {
		t.Errorf("delivery whose fn panicked: status %d, want 500", s)
	}
	if s := r.deliver(t, http.MethodPost, h, body); s != 200 || r.calls.Load() != 2 {
		t.Errorf("redelivery after a panic: status %d, calls %d; want 200, 2", s, r.calls.Load())
	}
	if out := logs.String(); !strings.Contains(out, `"panic":"handler bug"`) || !strings.Contains(out, `"event_id":"e-panic"`) {
		t.Errorf("logs lack the panic of e-panic:\n%s", out)
	}
}

// TestHandlerAbortPanic: http.ErrAbortHandler still aborts the response, as net/http intends,
// and releases the id.
func TestHandlerAbortPanic(t *testing.T) {
	t.Parallel()
	var abortNext atomic.Bool
	abortNext.Store(true)
	r := newWhReceiver(t, func(context.Context, *Event) error {
		if abortNext.Swap(false) {
			panic(http.ErrAbortHandler)
		}
		return nil
	})
	body := whBody("e-abort")
	h := signedHeader(t, whSecret, whNow, body)
	if s := r.deliver(t, http.MethodPost, h, body); s != 0 {
		t.Errorf("delivery whose fn aborted: status %d, want no answer", s)
	}
	if s := r.deliver(t, http.MethodPost, h, body); s != 200 || r.calls.Load() != 2 {
		t.Errorf("redelivery after an abort: status %d, calls %d; want 200, 2", s, r.calls.Load())
	}
}

// failingDeduper fails every call, as a deduper over an unreachable store would.
type failingDeduper struct{}

func (failingDeduper) Claim(context.Context, string) (Claim, error) {
	return 0, errors.New("redis: connection refused")
}

func (failingDeduper) Complete(context.Context, string) error {
	return errors.New("redis: connection refused")
}

func (failingDeduper) Release(context.Context, string) error {
	return errors.New("redis: connection refused")
}

func TestHandlerDeduperOptions(t *testing.T) {
	t.Parallel()
	body := whBody("e-1")
	h := signedHeader(t, whSecret, whNow, body)

	off := newWhReceiver(t, nil, WithDeduper(nil))
	for range 2 {
		if s := off.deliver(t, http.MethodPost, h, body); s != 200 {
			t.Errorf("no dedupe: status %d, want 200", s)
		}
	}
	if c := off.calls.Load(); c != 2 {
		t.Errorf("no dedupe: fn called %d times, want 2", c)
	}

	broken := newWhReceiver(t, nil, WithDeduper(failingDeduper{}))
	if s := broken.deliver(t, http.MethodPost, h, body); s != 500 || broken.calls.Load() != 0 {
		t.Errorf("failing deduper: status %d, calls %d; want 500, 0", s, broken.calls.Load())
	}

	// A shared deduper makes two handlers (two replicas) process an event once.
	shared := NewMemoryDeduper(0, 0)
	a := newWhReceiver(t, nil, WithDeduper(shared))
	b := newWhReceiver(t, nil, WithDeduper(shared))
	a.deliver(t, http.MethodPost, h, body)
	b.deliver(t, http.MethodPost, h, body)
	if c := a.calls.Load() + b.calls.Load(); c != 1 {
		t.Errorf("shared deduper: fn called %d times, want 1", c)
	}
}

func TestHandlerLogsWithoutSecrets(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := newWhReceiver(t, func(context.Context, *Event) error { return errors.New("db down") }, WithLogger(logger))
	body := whBody("e-log")
	r.deliver(t, http.MethodPost, signedHeader(t, whSecret, whNow, body), body)
	r.deliver(t, http.MethodPost, signedHeader(t, whOldSecret, whNow, body), body)
	out := logs.String()
	assertNoSecret(t, out)
	if strings.Contains(out, "externalTenantId") {
		t.Errorf("logs carry the body: %s", out)
	}
	for _, want := range []string{`"event_id":"e-log"`, `"error":"db down"`, `"status":401`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
}
