package mockserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/debitura-go/debitura/internal/browsertest"
	"github.com/debitura-go/debitura/internal/testenv"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/google/go-cmp/cmp"
)

// The tests that drive the mock's pages (the hosted onboarding pages and the dashboard) in
// headless Chromium, and their harness. They run only when long tests run.

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
		if st != http.StatusCreated || mockserver.JSONStr(body, "client", "companyName") != "Fjord Customer AB" || mockserver.JSONStr(body, "client", "city") != "Malmö" {
			t.Fatalf("POST /clients after onboarding: %d %v; want 201 with the entered details", st, body)
		}
		st, body = pageAPI(t, srv, http.MethodPost, "/oauth/token", map[string]any{"externalTenantId": "browser-1"})
		if st != http.StatusOK || mockserver.JSONStr(body, "accessToken") == "" {
			t.Fatalf("POST /oauth/token: %d %v", st, body)
		}
		if ts := srv.CheckToken(mockserver.JSONStr(body, "accessToken")); !ts.Valid || ts.ExternalTenantID != "browser-1" {
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
		u := mockserver.JSONStr(body, "onboardingLinks", "url")
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

// TestDashboardBrowser drives the dashboard at /__mock/ in headless Chromium: every button and
// form changes the state it claims (checked through the Go API), under the admin guard (fetch
// with JSON from the mock's own origin), and markup in names renders as text.
func TestDashboardBrowser(t *testing.T) {
	browser := newBrowser(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	srv := mockserver.NewTest(t, mockserver.WithClock(mockserver.NewFakeClock(t0)))

	const evilName = `<img src=x onerror="window.__xss=1">Evil & Co`
	const evilKey = "mock_dashboard_evil"
	evil, err := srv.AddPartner(mockserver.PartnerSpec{APIKey: evilKey, CompanyName: evilName})
	if err != nil {
		t.Fatal(err)
	}
	recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(recv.Close)
	if st, body := pageAPI(t, srv, http.MethodPost, "/v1/Webhooks", map[string]any{"url": recv.URL + "/hook", "events": []string{mockserver.EventClientLinked}}); st != 200 {
		t.Fatalf("POST /v1/Webhooks: %d %v", st, body)
	}
	for _, d := range []string{"approve", "decline", "expire"} {
		pageApprovalURL(t, srv, "dash-"+d, d+"@existing.example", "<b>"+d+"</b> ApS")
	}
	if st, _ := pageAPI(t, srv, http.MethodPost, "/clients", pageCreateBody("dash-new", "new@dash.example")); st != 202 {
		t.Fatalf("POST /clients: %d", st)
	}

	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()
	eval := func(t *testing.T, js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return s
	}
	dash := srv.URL + "/__mock/"
	browserDo(t, ctx, "open the dashboard", chromedp.Navigate(dash), chromedp.WaitVisible(chromedp.CSS("#partners")))

	t.Run("markup renders as text", func(t *testing.T) {
		if n := eval(t, `String(document.querySelectorAll("img, b.injected").length)`); n != "0" {
			t.Errorf("%s <img> elements on the page, want 0", n)
		}
		if got := eval(t, `String(window.__xss)`); got != "undefined" {
			t.Errorf("window.__xss = %s: the injected handler ran", got)
		}
		got := eval(t, `document.querySelector('tr.partner[data-partner-id="`+evil.ID+`"] .partner-name').textContent`)
		if got != evilName {
			t.Errorf("partner name renders as %q, want the literal %q", got, evilName)
		}
		if got := eval(t, `document.querySelector('tr.link-request[data-external-tenant-id="dash-approve"] .company').textContent`); got != "<b>approve</b> ApS" {
			t.Errorf("company name renders as %q", got)
		}
	})

	t.Run("approve", func(t *testing.T) {
		browserDo(t, ctx, "click Approve",
			chromedp.Click(chromedp.CSS(`tr.link-request[data-external-tenant-id="dash-approve"] button.approve`)),
			chromedp.WaitVisible(chromedp.CSS(`tr.link-request[data-external-tenant-id="dash-approve"][data-status="approved"]`)),
			chromedp.WaitVisible(chromedp.CSS(`tr.client[data-external-tenant-id="dash-approve"]`)),
		)
		if c, err := srv.LinkedClient(mockserver.DefaultAPIKey, "dash-approve"); err != nil || c.Attributed {
			t.Errorf("after Approve: LinkedClient = %+v, %v; want an unattributed active link", c, err)
		}
	})
	for _, tt := range []struct{ button, status string }{{"decline", "declined"}, {"expire", "expired"}} {
		t.Run(tt.button, func(t *testing.T) {
			row := `tr.link-request[data-external-tenant-id="dash-` + tt.button + `"]`
			browserDo(t, ctx, "click "+tt.button,
				chromedp.Click(chromedp.CSS(row+` button.`+tt.button)),
				chromedp.WaitVisible(chromedp.CSS(row+`[data-status="`+tt.status+`"]`)),
			)
			if lr, err := srv.PendingLinkRequest(mockserver.DefaultAPIKey, "dash-"+tt.button); err != nil || lr.Status != tt.status {
				t.Errorf("after %s: %+v, %v; want status %s", tt.button, lr, err, tt.status)
			}
		})
	}

	t.Run("webhook delivery and redeliver", func(t *testing.T) {
		if err := srv.FlushWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		browserDo(t, ctx, "reload", chromedp.Navigate(dash), chromedp.WaitVisible(chromedp.CSS(`details.delivery[data-state="delivered"]`)))
		browserDo(t, ctx, "open the delivery", chromedp.Click(chromedp.CSS(`details.delivery summary`)), chromedp.WaitVisible(chromedp.CSS(`details.delivery .signature`)))
		if sig := eval(t, `document.querySelector("details.delivery .signature").textContent`); !strings.HasPrefix(sig, "X-Debitura-Signature: t=") || !strings.Contains(sig, ",v1=") {
			t.Errorf("signature header shown as %q", sig)
		}
		if st := eval(t, `document.querySelector("details.delivery .attempt-status").textContent`); st != "200" {
			t.Errorf("attempt status %q, want 200", st)
		}
		if p := eval(t, `document.querySelector("details.delivery .payload").textContent`); !strings.Contains(p, `"event": "client.linked"`) {
			t.Errorf("payload %q", p)
		}
		browserDo(t, ctx, "click Redeliver",
			chromedp.Click(chromedp.CSS(`details.delivery button.redeliver`)),
			chromedp.WaitVisible(chromedp.CSS(`details.delivery ~ details.delivery`)),
		)
		if err := srv.FlushWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		ds := srv.Deliveries()
		if len(ds) != 2 || ds[1].EventID != ds[0].EventID || ds[1].State != mockserver.DeliveryDelivered {
			t.Errorf("after Redeliver: %+v", ds)
		}
	})

	t.Run("faults", func(t *testing.T) {
		browserDo(t, ctx, "add a fault",
			chromedp.SetValue(chromedp.CSS("#fault-operation"), mockserver.OpMe),
			chromedp.SendKeys(chromedp.CSS("#fault-status"), "503"),
			chromedp.SetValue(chromedp.CSS("#fault-shape"), string(mockserver.ShapeProblemDetails)),
			chromedp.SendKeys(chromedp.CSS("#fault-times"), "2"),
			chromedp.Click(chromedp.CSS("#fault-add")),
			chromedp.WaitVisible(chromedp.CSS("tr.fault")),
		)
		rules, _ := srv.ListFaults()
		if len(rules) != 1 || rules[0].Operation != mockserver.OpMe || rules[0].Status != 503 || rules[0].Shape != mockserver.ShapeProblemDetails || rules[0].Times != 2 {
			t.Fatalf("after Add fault: %+v", rules)
		}
		browserDo(t, ctx, "add an invalid fault", chromedp.SendKeys(chromedp.CSS("#fault-latency"), "soon"), chromedp.Click(chromedp.CSS("#fault-add")), chromedp.WaitVisible(chromedp.CSS("#dashboard-error")))
		if msg := eval(t, `document.querySelector("#dashboard-error").textContent`); !strings.Contains(msg, "400") || !strings.Contains(msg, "latency") {
			t.Errorf("error shown: %q", msg)
		}
		browserDo(t, ctx, "remove it", chromedp.Click(chromedp.CSS("tr.fault button.remove-fault")), chromedp.WaitNotPresent(chromedp.CSS("tr.fault")))
		if rules, _ := srv.ListFaults(); len(rules) != 0 {
			t.Errorf("after Remove: %+v", rules)
		}
	})

	t.Run("clock", func(t *testing.T) {
		before := srv.Clock().Now()
		want := before.Add(24 * time.Hour)
		browserDo(t, ctx, "+1 day",
			chromedp.Click(chromedp.CSS(`button.clock-quick[data-body='{"duration":"24h"}']`)),
			chromedp.WaitVisible(chromedp.CSS(`#clock-now[data-unix="`+strconv.FormatInt(want.Unix(), 10)+`"]`)),
		)
		want = want.Add(90 * time.Second)
		browserDo(t, ctx, "advance 90s",
			chromedp.SendKeys(chromedp.CSS("#clock-duration"), "90s"),
			chromedp.Click(chromedp.CSS("#clock-advance")),
			chromedp.WaitVisible(chromedp.CSS(`#clock-now[data-unix="`+strconv.FormatInt(want.Unix(), 10)+`"]`)),
		)
		if got := srv.Clock().Now().Sub(before); got != 24*time.Hour+90*time.Second {
			t.Errorf("clock moved %v, want 24h1m30s", got)
		}
	})

	t.Run("journal filter and rate limits", func(t *testing.T) {
		browserDo(t, ctx, "filter postClients 409",
			chromedp.Navigate(dash),
			chromedp.WaitVisible(chromedp.CSS("#journal-filter")),
			chromedp.SetValue(chromedp.CSS("#filter-operation"), mockserver.OpPostClients),
			chromedp.SendKeys(chromedp.CSS("#filter-status"), "409"),
			chromedp.Click(chromedp.CSS("#filter-apply")),
			chromedp.WaitVisible(chromedp.CSS(`section#journal[data-operation="postClients"]`)),
		)
		rows := eval(t, `JSON.stringify([...document.querySelectorAll("tr.journal-entry")].map(r => r.dataset.operation + " " + r.dataset.status))`)
		if rows != `["postClients 409","postClients 409","postClients 409"]` {
			t.Errorf("filtered journal rows %s, want the three 409s of postClients", rows)
		}
		if used := eval(t, `[...document.querySelectorAll("tr.rate-usage .used")].map(e => e.textContent).join("|")`); !strings.Contains(used, "/ 2000") {
			t.Errorf("rate-limit use %q, want the per-minute window's count", used)
		}
	})
}
