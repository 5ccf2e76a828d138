// Command bulk-linking back-fills Debitura links for a platform's existing customers with
// Clients.LinkMany: it reads a CSV export, links every row (one POST /clients per customer,
// several in flight, slowed down politely by the API's rate limit), shows a progress bar and
// prints a summary.
//
// By default it links the bundled customers.csv (300 fictitious companies) against an embedded
// mock server whose rate limit is 100 requests per second, so that the run meets 429s and shows
// the SDK absorbing them. The mock is seeded so the outcomes are mixed: some customers are
// already linked and onboarded (ready), some already have a Debitura account (approval
// required), a few belong to another referral partner (failed), the rest are new (onboarding
// required); two rows of the CSV have bad e-mail data and fail validation without a request.
//
//	go run ./examples/bulk-linking
//	go run ./examples/bulk-linking -file my-customers.csv -concurrency 16
//
// To run it against a Debitura environment, give the base URL and the API key:
//
//	DEBITURA_API_KEY=... go run ./examples/bulk-linking -base-url https://testreferral-api.debitura.com -file my-customers.csv
//
// The CSV needs a header row with the columns external_id, company_name, country,
// support_email, user_name and user_email (in any order; other columns are ignored).
package main

import (
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/examples/internal/cli"
	"github.com/debitura-go/debitura/mockserver"
)

//go:embed customers.csv
var bundledCSV []byte

// otherPartnerKey is the API key of the competing partner the embedded mock knows.
const otherPartnerKey = "mock_bulk_example_other_partner"

func main() {
	file := flag.String("file", "", "CSV file of customers (default: the bundled customers.csv)")
	concurrency := flag.Int("concurrency", debitura.DefaultLinkConcurrency, fmt.Sprintf("requests in flight at once (1..%d)", debitura.MaxLinkConcurrency))
	baseURL := flag.String("base-url", "", "Referral Partner API base URL (e.g. "+debitura.TestBaseURL+"); needs DEBITURA_API_KEY. Empty: an embedded mock server")
	flag.Parse()

	cli.Main("bulk-linking", func(ctx context.Context) error { return run(ctx, *file, *concurrency, *baseURL) })
}

func run(ctx context.Context, file string, concurrency int, baseURL string) error {
	data, source := bundledCSV, "bundled customers.csv"
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		data, source = b, file
	}
	reqs, err := readCustomers(strings.NewReader(string(data)))
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}

	env, err := cli.Environment(baseURL, func() (*mockserver.Server, error) { return startMock(reqs) })
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Printf("Linking %d customers from %s against %v\n", len(reqs), source, env)
	c, err := env.Client("debitura-bulk-linking-example")
	if err != nil {
		return err
	}

	bar := newProgressBar(os.Stdout)
	start := time.Now()
	results, err := c.Clients.LinkMany(ctx, reqs, &debitura.LinkManyOptions{Concurrency: concurrency, Progress: bar.update})
	elapsed := time.Since(start)
	bar.finish()
	if results == nil && err != nil {
		return err // bad options: nothing ran
	}

	summarize(results, elapsed, concurrency)
	if mock := env.Mock; mock != nil {
		posts, limited := 0, 0
		for _, e := range mock.Journal() {
			if e.Operation == mockserver.OpPostClients {
				posts++
			}
			if e.Status == http.StatusTooManyRequests {
				limited++
			}
		}
		fmt.Printf("mock server:  %d POST /clients received, %d answered 429 (absorbed by the SDK's shared 429 gate), %d clients created\n",
			posts, limited, mock.EffectCount(mockserver.EffectClientCreated))
	}
	return err // ctx ended (Ctrl-C): the summary above shows how far it came
}

// readCustomers turns the CSV into requests, one per data row, in file order. Rows are not
// checked here: LinkMany reports an invalid row as that row's error without sending it.
func readCustomers(r io.Reader) ([]*debitura.ClientCreateRequest, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, name := range []string{"external_id", "company_name", "country", "support_email", "user_name", "user_email"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("no %q column in the header %q", name, header)
		}
	}
	var reqs []*debitura.ClientCreateRequest
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return reqs, nil
		}
		if err != nil {
			return nil, err
		}
		get := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		reqs = append(reqs, &debitura.ClientCreateRequest{
			ExternalTenantID: get("external_id"),
			Client: debitura.ClientDetails{
				Name:         get("company_name"),
				Country:      get("country"),
				SupportEmail: get("support_email"),
			},
			Users: []debitura.ClientUser{{Name: get("user_name"), Email: get("user_email")}},
		})
	}
}

// startMock starts the embedded mock, rate-limited to 100 requests per second, and seeds it
// from the customers so that the outcomes are mixed: every 10th customer (from the 3rd) is
// already linked and onboarded, every 15th (from the 5th) already has a Debitura account under
// its user's e-mail, and every 60th (from the 18th) belongs to another referral partner.
func startMock(reqs []*debitura.ClientCreateRequest) (*mockserver.Server, error) {
	mock := mockserver.New(mockserver.WithRateLimit(mockserver.RateLimitConfig{
		Windows: []mockserver.RateWindow{{Limit: 100, Period: time.Second}},
	}))
	seed := func() error {
		if _, err := mock.AddPartner(mockserver.PartnerSpec{APIKey: otherPartnerKey, CompanyName: "Competing Platform Inc."}); err != nil {
			return err
		}
		for i, r := range reqs {
			if len(r.Users) == 0 || !strings.Contains(r.Users[0].Email, "@") {
				continue
			}
			spec := mockserver.CreditorSpec{CompanyName: r.Client.Name, Country: r.Client.Country, OnboardingDone: true}
			switch {
			case i%60 == 17:
				spec.Emails, spec.LinkedToPartner = []string{r.Users[0].Email}, otherPartnerKey
			case i%15 == 4:
				spec.Emails = []string{r.Users[0].Email}
			case i%10 == 2:
				spec.Emails = []string{"linked-earlier+" + r.Users[0].Email}
				spec.LinkedToPartner, spec.LinkedAsExternalTenantID, spec.Attributed = mockserver.DefaultAPIKey, r.ExternalTenantID, true
			default:
				continue
			}
			if _, err := mock.AddCreditor(spec); err != nil {
				return fmt.Errorf("seed the mock with %s: %w", r.ExternalTenantID, err)
			}
		}
		return nil
	}
	if err := seed(); err != nil {
		mock.Close()
		return nil, err
	}
	return mock, nil
}

// summarize prints the counts per outcome and every failure.
func summarize(results []debitura.LinkResult, elapsed time.Duration, concurrency int) {
	var ready, onboarding, approval, failed, notAttempted int
	var failures []debitura.LinkResult
	for _, r := range results {
		switch {
		case errors.Is(r.Err, context.Canceled):
			notAttempted++
		case r.Err != nil:
			failed++
			failures = append(failures, r)
		case r.Outcome.State == debitura.LinkReady:
			ready++
		case r.Outcome.State == debitura.LinkOnboardingRequired:
			onboarding++
		case r.Outcome.State == debitura.LinkApprovalRequired:
			approval++
		}
	}
	fmt.Printf("\n%d customers in %s (concurrency %d, %.0f customers/s)\n", len(results), elapsed.Round(time.Millisecond), concurrency, float64(len(results))/elapsed.Seconds())
	row := func(label string, n int) { fmt.Printf("  %-48s %4d\n", label+":", n) }
	row("ready (linked and onboarded)", ready)
	row("onboarding required (send the URL)", onboarding)
	row("approval required (existing Debitura account)", approval)
	row("failed", failed)
	if notAttempted > 0 {
		row("not attempted (interrupted)", notAttempted)
	}
	for _, r := range failures {
		var elsewhere *debitura.AlreadyLinkedToAnotherPartnerError
		var invalid *debitura.ValidationError
		switch {
		case errors.As(r.Err, &elsewhere):
			fmt.Printf("    row %d %s: linked to another referral partner (contact Debitura support)\n", r.Index+2, r.ExternalTenantID)
		case errors.As(r.Err, &invalid):
			fmt.Printf("    row %d %s: bad data, not sent:\n", r.Index+2, r.ExternalTenantID)
			for _, p := range invalid.Problems {
				fmt.Printf("      %s: %s\n", p.Field, p.Message)
			}
		default:
			fmt.Printf("    row %d %s: %v\n", r.Index+2, r.ExternalTenantID, r.Err)
		}
	}
}

// progressBar draws LinkMany's progress: a line rewritten in place (\r) on a terminal, a plain
// line every 10% otherwise (a log file or a pipe).
type progressBar struct {
	w        *os.File
	tty      bool
	lastTen  int // last tenth printed in plain mode
	lastDraw time.Time
	last     debitura.LinkProgress
}

func newProgressBar(w *os.File) *progressBar {
	fi, err := w.Stat()
	return &progressBar{w: w, tty: err == nil && fi.Mode()&os.ModeCharDevice != 0}
}

// update is the LinkManyOptions.Progress callback; LinkMany never calls it concurrently.
func (b *progressBar) update(p debitura.LinkProgress) {
	b.last = p
	if b.tty {
		if p.Done == p.Total || time.Since(b.lastDraw) >= 50*time.Millisecond {
			b.lastDraw = time.Now()
			fmt.Fprintf(b.w, "\r%s", b.line(p))
		}
		return
	}
	if ten := p.Done * 10 / max(p.Total, 1); ten > b.lastTen || p.Done == p.Total {
		b.lastTen = ten
		fmt.Fprintln(b.w, b.line(p))
	}
}

func (b *progressBar) line(p debitura.LinkProgress) string {
	const width = 30
	filled := p.Done * width / max(p.Total, 1)
	return fmt.Sprintf("[%s%s] %3d/%d  ready %d  onboarding %d  approval %d  failed %d",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.Done, p.Total,
		p.Ready, p.OnboardingRequired, p.ApprovalRequired, p.Failed)
}

// finish ends the in-place line on a terminal.
func (b *progressBar) finish() {
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\n", b.line(b.last))
	}
}
