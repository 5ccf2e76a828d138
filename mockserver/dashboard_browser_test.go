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
	"github.com/debitura-go/debitura/mockserver"
)

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
