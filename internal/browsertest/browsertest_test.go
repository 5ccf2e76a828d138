package browsertest

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
)

const formPage = `<!doctype html>
<html><head><title>Approve link</title></head>
<body>
<form method="post" action="/submit">
  <label>Name <input id="name" name="name" type="text"></label>
  <button id="go" type="submit">Approve</button>
</form>
</body></html>`

// TestHarnessClicksAFormButton proves the harness end to end: the browser
// loads a page from an httptest server, fills a form, clicks its button, the
// server receives the POST, and the browser shows the server's answer.
func TestHarnessClicksAFormButton(t *testing.T) {
	ctx := New(t)

	var mu sync.Mutex
	var posted []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /approve", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, formPage)
	})
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {
		name := r.PostFormValue("name")
		mu.Lock()
		posted = append(posted, name)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><body><p id="result">Approved by %s</p></body></html>`, html.EscapeString(name))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatalf("title of the blank page: %v", err)
	}
	t.Logf("started; blank page title %q", title)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/approve"),
		chromedp.WaitVisible(chromedp.CSS("#go")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Ada <Lovelace>"),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS("#result")),
	); err != nil {
		t.Fatalf("fill and submit the form: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
	if err != nil {
		t.Fatalf("read the result: %v", err)
	}
	if want := "Approved by Ada <Lovelace>"; got != want {
		t.Errorf("result text = %q, want %q", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"Ada <Lovelace>"}, posted); diff != "" {
		t.Errorf("server received (-want +got):\n%s", diff)
	}
}

func TestFlags(t *testing.T) {
	base := []string{"--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync"}
	if diff := cmp.Diff(base, Flags(false)); diff != "" {
		t.Errorf("Flags(false) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(append(slices.Clone(base), "--no-sandbox"), Flags(true)); diff != "" {
		t.Errorf("Flags(true) mismatch (-want +got):\n%s", diff)
	}
}

// stopTB records how New gives up without a browser. Its Skipf and Fatalf
// stop New with a panic, as the real ones stop the goroutine.
type stopTB struct {
	testing.TB
	skipped, fatal string
}

type stopped struct{}

func (s *stopTB) Helper() {}
func (s *stopTB) Skipf(format string, args ...any) {
	s.skipped = fmt.Sprintf(format, args...)
	panic(stopped{})
}
func (s *stopTB) Fatalf(format string, args ...any) {
	s.fatal = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func TestNoBrowser(t *testing.T) {
	orig := findBrowser
	findBrowser = func() (string, error) { return "", ErrNoBrowser }
	t.Cleanup(func() { findBrowser = orig })

	run := func(ci string) *stopTB {
		t.Setenv("CI", ci)
		s := &stopTB{TB: t}
		func() {
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(stopped); !ok {
						panic(r)
					}
				}
			}()
			New(s)
			t.Errorf("New returned without a browser (CI=%q)", ci)
		}()
		return s
	}
	if s := run("true"); s.fatal == "" || s.skipped != "" || !strings.Contains(s.fatal, "apt-get install -y chromium") {
		t.Errorf("with CI set: fatal %q, skipped %q; want a fatal naming the install command", s.fatal, s.skipped)
	}
	if s := run(""); s.skipped == "" || s.fatal != "" || !strings.Contains(s.skipped, "apt-get install -y chromium") {
		t.Errorf("without CI: fatal %q, skipped %q; want a skip naming the install command", s.fatal, s.skipped)
	}
}
