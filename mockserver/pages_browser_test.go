package mockserver_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/google/go-cmp/cmp"
)

// browserStepTimeout bounds each browser scenario (browsertest.New bounds the whole test too).
const browserStepTimeout = 45 * time.Second

// TestPagesBrowser drives the hosted pages in headless Chromium the way a customer would: it
// fills the forms, ticks the boxes and clicks the buttons, and checks the outcome through the
// Referral Partner API. The scenarios share one browser (one tab each, in turn).
func TestPagesBrowser(t *testing.T) {
	start := time.Now()
	browser := newBrowser(t)
	t.Logf("browser started in %v", time.Since(start).Round(time.Millisecond))

	const brandedKey = "mock_browser_branded_partner"
	srv := mockserver.NewTest(t, mockserver.WithPartner(mockserver.PartnerSpec{
		APIKey: brandedKey, CompanyName: "Fjord Books", BackgroundColorCode: "#0B3D91", FontColor: "#FAFAFA",
	}))

	scenario := func(name string, f func(t *testing.T, ctx context.Context)) {
		t.Run(name, func(t *testing.T) {
			begin := time.Now()
			ctx, cancel := context.WithTimeout(browser, browserStepTimeout)
			defer cancel()
			f(t, ctx)
			t.Logf("%s took %v", name, time.Since(begin).Round(time.Millisecond))
		})
	}
	text := func(t *testing.T, ctx context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	location := func(t *testing.T, ctx context.Context) string {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}

	scenario("onboarding", func(t *testing.T, ctx context.Context) {
		u := pageOnboardingURL(t, srv, "browser-1", "ada@fjord.example")
		id := pageLinkID(t, u)
		browserDo(t, ctx, "open the onboarding link", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("#submit-details")))
		if got, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#company-name"))); err != nil || got != "Acme browser-1" {
			t.Errorf("#company-name prefilled %q (%v), want %q", got, err, "Acme browser-1")
		}
		browserDo(t, ctx, "fill in the details",
			chromedp.Clear(chromedp.CSS("#company-name")),
			chromedp.SendKeys(chromedp.CSS("#company-name"), "Fjord Customer AB"),
			chromedp.SetValue(chromedp.CSS("#country"), "SE"),
			chromedp.Clear(chromedp.CSS("#city")),
			chromedp.SendKeys(chromedp.CSS("#city"), "Malmö"),
			chromedp.Click(chromedp.CSS("#submit-details")),
			chromedp.WaitVisible(chromedp.CSS(`body[data-page="sign_agreement"] #sign-agreement`)),
		)
		if got := location(t, ctx); got != srv.URL+"/onboarding/Agreement/Sign/"+id {
			t.Errorf("after the details POST the browser is at %q (want the step-2 GET)", got)
		}
		browserDo(t, ctx, "sign without ticking the box",
			chromedp.Click(chromedp.CSS("#sign-agreement")),
			chromedp.WaitVisible(chromedp.CSS("#error")),
		)
		if st, _ := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody("browser-1", "ada@fjord.example")); st != http.StatusAccepted {
			t.Fatalf("POST /clients before signing: %d, want 202", st)
		}
		browserDo(t, ctx, "tick and sign",
			chromedp.Click(chromedp.CSS("#accept-terms")),
			chromedp.Click(chromedp.CSS("#sign-agreement")),
			chromedp.WaitVisible(chromedp.CSS(`body[data-page="done"] #status`)),
		)
		if got := text(t, ctx, "#status"); got != "Onboarding is complete." {
			t.Errorf("#status %q", got)
		}
		st, body := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody("browser-1", "ada@fjord.example"))
		if st != http.StatusCreated || jstr(body, "client", "companyName") != "Fjord Customer AB" || jstr(body, "client", "city") != "Malmö" {
			t.Fatalf("POST /clients after onboarding: %d %v; want 201 with the entered details", st, body)
		}
		st, body = pageAPI(t, srv, http.MethodPost, "/oauth/token", map[string]any{"externalTenantId": "browser-1"})
		if st != http.StatusOK || jstr(body, "accessToken") == "" {
			t.Fatalf("POST /oauth/token: %d %v", st, body)
		}
		if ts := srv.CheckToken(jstr(body, "accessToken")); !ts.Valid || ts.ExternalTenantID != "browser-1" {
			t.Errorf("minted token: %+v", ts)
		}
	})

	scenario("branding", func(t *testing.T, ctx context.Context) {
		if st, body := pageAPIAs(t, srv, brandedKey, http.MethodPost, "/clients", pageCreateBody("browser-brand", "b@fjord.example")); st != http.StatusAccepted {
			t.Fatalf("POST /clients: %d %v", st, body)
		}
		c, err := srv.LinkedClient(brandedKey, "browser-brand")
		if err != nil {
			t.Fatal(err)
		}
		browserDo(t, ctx, "open the page", chromedp.Navigate(srv.URL+"/onboarding/companydetails/"+c.LinkID), chromedp.WaitVisible(chromedp.CSS("#partner-name")))
		style, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]`))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"rgb(11, 61, 145)", "rgb(250, 250, 250)"}, style); diff != "" {
			t.Errorf("body colours (-want +got):\n%s", diff)
		}
		if got := text(t, ctx, "#partner-name"); got != "Fjord Books" {
			t.Errorf("#partner-name %q", got)
		}
	})

	scenario("contract upgrade", func(t *testing.T, ctx context.Context) {
		pageOnboardingURL(t, srv, "browser-up", "up@fjord.example")
		if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, "browser-up"); err != nil {
			t.Fatal(err)
		}
		srv.ReleaseAgreement()
		st, body := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody("browser-up", "up@fjord.example"))
		u := jstr(body, "onboardingLinks", "url")
		if st != http.StatusAccepted || !strings.Contains(u, "/onboarding/ContractUpgrade/Sign/") {
			t.Fatalf("POST /clients after ReleaseAgreement: %d %q", st, u)
		}
		browserDo(t, ctx, "open the upgrade link", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS(`body[data-page="contract_upgrade"] #sign-agreement`)))
		want := srv.AgreementVersion()
		if got := text(t, ctx, "#agreement-version"); got != strconv.Itoa(want) {
			t.Errorf("#agreement-version %q, want %d", got, want)
		}
		browserDo(t, ctx, "tick and sign",
			chromedp.Click(chromedp.CSS("#accept-terms")),
			chromedp.Click(chromedp.CSS("#sign-agreement")),
			chromedp.WaitVisible(chromedp.CSS(`body[data-page="done"] #status`)),
		)
		if st, _ := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody("browser-up", "up@fjord.example")); st != http.StatusCreated {
			t.Errorf("POST /clients after the upgrade: %d, want 201", st)
		}
	})

	for _, tc := range []struct {
		decision, button, want string
		wantGet                int
	}{
		{"approve", "#approve", "approved", http.StatusOK},
		{"decline", "#decline", "declined", http.StatusNotFound},
	} {
		scenario("link "+tc.decision, func(t *testing.T, ctx context.Context) {
			ext := "browser-link-" + tc.decision
			u := pageApprovalURL(t, srv, ext, tc.decision+"@existing.example", "Existing "+tc.decision+" ApS")
			browserDo(t, ctx, "open the approval link", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS(tc.button)))
			got := []string{text(t, ctx, "#requesting-partner"), text(t, ctx, "#company-name")}
			if diff := cmp.Diff([]string{"Mock Referral Partner ApS", "Existing " + tc.decision + " ApS"}, got); diff != "" {
				t.Errorf("approval page (-want +got):\n%s", diff)
			}
			browserDo(t, ctx, "click "+tc.button,
				chromedp.Click(chromedp.CSS(tc.button)),
				chromedp.WaitVisible(chromedp.CSS(`body[data-page="approve_result"] #status`)),
			)
			if got, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#status"), "data-status")); err != nil || got.Value != tc.want {
				t.Errorf("#status data-status %+v (%v), want %q", got, err, tc.want)
			}
			st, body := pageAPI(t, srv, http.MethodGet, "/clients/"+ext, nil)
			if st != tc.wantGet {
				t.Fatalf("GET /clients/%s: %d, want %d", ext, st, tc.wantGet)
			}
			if st == http.StatusOK && body["isAttributedClient"] != false {
				t.Errorf("isAttributedClient = %v, want false", body["isAttributedClient"])
			}
			// Reloading the result page does not decide again; the approval link is used up.
			browserDo(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`body[data-page="approve_result"]`)))
			browserDo(t, ctx, "reopen the approval link", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS(`body[data-page="error"] #status`)))
			if got := text(t, ctx, "#status"); got != "This link request was already "+tc.want+"." {
				t.Errorf("reopened approval link: %q", got)
			}
		})
	}
}
