package mockserver_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/debitura-go/debitura/internal/browsertest"
	"github.com/debitura-go/debitura/internal/testenv"
)

// The harness of the tests that drive the mock's pages in headless Chromium.

// newBrowser skips t unless long tests run (several seconds of Chromium: over the default run's
// budget) and returns the context of a headless Chromium for it (browsertest.New).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	testenv.SkipUnlessLong(t)
	return browsertest.New(t)
}

// browserDo runs steps in ctx's browser; on an error it fails t with what and the page's HTML.
func browserDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage: %s", what, err, html)
	}
}
