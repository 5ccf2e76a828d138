package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/spf13/cobra"
)

// linkFlags are the flags of `debitura link`.
type linkFlags struct {
	in, out, format  string
	dryRun           bool
	concurrency      int
	maxWait          time.Duration
	callMaxWait      time.Duration
	limits           limitsFlag
	progressInterval time.Duration
}

// Defaults of `debitura link`.
const (
	defaultConcurrency = debitura.DefaultLinkConcurrency
	// defaultMaxWait sits through Debitura's hourly window (fixed, reset at the top of the hour)
	// but not its daily one: a run that meets the daily window stops and says when to run again.
	defaultMaxWait = 65 * time.Minute
)

func newLinkCmd(g *globals, e env) *cobra.Command {
	f := &linkFlags{}
	cmd := &cobra.Command{
		Use:   "link --in FILE --out FILE",
		Short: "Link many customers (a back-fill) from a CSV or JSONL file; re-run to resume",
		Long: `link sends one POST /clients per input row and writes one JSON line per row to --out:
{"line":N,"externalTenantId":"...","state":"ready|onboarding_required|approval_required|failed","url":"...","error":{"type":"...","status":409,"message":"..."}}
url is the onboarding or approval page; error is set for failed rows (a definitive answer of
the API, such as a conflict).

Input: CSV with a header row, or JSONL with one POST /clients body per line, chosen by the
extension (.csv, .jsonl/.ndjson/.json) or --format; --in - reads stdin. CSV columns (header
names, any order): ` + strings.Join(requiredColumns(), ", ") + ` (required), and
registration_number, address, zip_code, city, state, support_phone (optional). For several users
or cases per client, use JSONL.

Resume: running the same command again with the same --out skips every row already settled in
it (matched by line number and externalTenantId), cuts off a torn last line, and never sends a
settled row again. A row that was in flight when the run died is sent again: POST /clients is
idempotent per externalTenantId, so that is harmless.

Rate limits: rows go through the SDK's streaming bulk form (Clients.LinkStream) in the bulk
lane of the request budget, which paces to the API key's windows (--limits; default Debitura's
documented 2,000/min, 20,000/h, 100,000/day) and uses at most 80% of each, leaving the rest to
your service's interactive calls. A wait of at most --call-max-wait happens inside a request; a
longer one (an hourly window) pauses every request until the window reopens, up to --max-wait per
wait, and is shown in the progress; a longer wait still stops the run (rows left unsettled; run
again later).

Progress goes to stderr: a live bar on a terminal, a plain line every --progress-interval
otherwise. The ETA is rows left ÷ this run's rate so far (window waits included), plus what is
left of the current window wait.

SIGINT/SIGTERM: no new rows start, rows in flight finish and are written, exit 130 (a second
signal exits at once). Rows held back by a window wait are not in flight: they are left
unsettled at once. Exit 0 when every row is settled (failed rows included), 1 on bad input
or when rows remain unsettled, 2 on usage errors. --dry-run checks every row, lists every bad one
with its line and field, sends nothing and exits 1 if any row is bad.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLink(cmd.Context(), g, f, e) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.in, "in", "", "input file, CSV or JSONL (- for stdin)")
	fl.StringVar(&f.out, "out", "", "results file (JSONL); the same file resumes a run")
	fl.StringVar(&f.format, "format", "", "input format: csv or jsonl (default: from the extension)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "check every row and list the bad ones; send nothing")
	fl.IntVar(&f.concurrency, "concurrency", defaultConcurrency, fmt.Sprintf("requests in flight at once (1-%d)", debitura.MaxLinkConcurrency))
	fl.DurationVar(&f.maxWait, "max-wait", defaultMaxWait, fmt.Sprintf("longest single rate-limit window wait to sit through (at most %s); a longer one stops the run", debitura.MaxLinkWait))
	fl.DurationVar(&f.callMaxWait, "call-max-wait", 30*time.Second, "longest wait the SDK sleeps inside one call before a retry (WithMaxRetryWait); longer waits are window waits")
	fl.Var(&f.limits, "limits", limitsUsage)
	fl.DurationVar(&f.progressInterval, "progress-interval", 10*time.Second, "how often a plain progress line is written when stderr is not a terminal (0: none)")
	return cmd
}

// noArgs refuses positional arguments with a usage error.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(args, " "))
	}
	return nil
}

// runLink is `debitura link`.
func runLink(ctx context.Context, g *globals, f *linkFlags, e env) error {
	switch {
	case f.in == "":
		return usageErr("--in is required")
	case f.out == "" && !f.dryRun:
		return usageErr("--out is required (it is also what a re-run resumes from)")
	case f.concurrency < 1 || f.concurrency > debitura.MaxLinkConcurrency:
		return usageErr("--concurrency must be between 1 and %d", debitura.MaxLinkConcurrency)
	case f.maxWait < 0 || f.maxWait > debitura.MaxLinkWait:
		return usageErr("--max-wait must be between 0 and %s", debitura.MaxLinkWait)
	case f.callMaxWait <= 0 || f.progressInterval < 0:
		return usageErr("--progress-interval must not be negative, --call-max-wait must be positive")
	}
	format, err := formatOf(f.format, f.in)
	if err != nil {
		return usageErr("%v", err)
	}
	v, err := newValidator(format)
	if err != nil {
		return fail(err)
	}
	if f.dryRun {
		return dryRun(ctx, f, format, v, e)
	}

	// Count the rows first when the input is a file, for done/total and the ETA (and so that a
	// bad header is reported before anything is sent). stdin is read once: no total.
	total := -1
	if f.in != "-" {
		if total, err = countRows(f.in, format); err != nil {
			return fail(err)
		}
	}
	in, closeIn, err := openInput(f.in, e)
	if err != nil {
		return fail(err)
	}
	defer closeIn()

	out, settled, err := openOut(f.out)
	if err != nil {
		return fail(err)
	}
	if out.Repaired > 0 {
		fmt.Fprintf(e.stderr, "repaired %s: cut a torn last line of %d bytes (its row runs again)\n", f.out, out.Repaired)
	}
	if len(settled) > 0 {
		fmt.Fprintf(e.stderr, "resuming: %s already settles %d rows; they are skipped\n", f.out, len(settled))
	}

	client, release, err := g.connect(e, debitura.WithMaxRetryWait(f.callMaxWait), debitura.WithLimits(f.limits.limits()))
	if err != nil {
		_ = out.close()
		return err
	}
	defer release()

	p := newProgress(e.stderr, e.stderrTerminal, f.progressInterval, total, time.Now)
	var l linker = &streamLinker{c: client, concurrency: f.concurrency, maxWait: f.maxWait, waits: p, now: time.Now}

	// runCtx stops the run early: ctx (a signal) or a fatal condition found on the way.
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	rows, readErr := readRows(in, format)
	var writeErr error
	emit := func(res linkResult) {
		line, ok, fatal := classify(res)
		if fatal != nil {
			stopRun(fatal)
		}
		if !ok {
			p.unsettled()
			fmt.Fprintf(e.stderr, "line %d (%s): not settled, runs again next time: %v\n", res.Row.Line, res.Row.tenant(), res.Err)
			return
		}
		if err := out.write(line); err != nil && writeErr == nil {
			writeErr = err
			stopRun(fmt.Errorf("write %s: %w", f.out, err))
		}
		p.settled(line.State)
	}
	linkErr := l.Link(runCtx, toSend(runCtx, stopRun, rows, settled, v, p, e), emit)
	c := p.finish()
	closeErr := out.close()

	printSummary(e.stderr, c, p.elapsed())
	interrupted := ctx.Err() != nil
	var problems []error
	if err := readErr(); err != nil {
		problems = append(problems, fmt.Errorf("read %s: %w", f.in, err))
	}
	if cause := context.Cause(runCtx); cause != nil && !interrupted {
		problems = append(problems, cause)
	}
	if linkErr != nil && !errors.Is(linkErr, context.Cause(runCtx)) {
		problems = append(problems, linkErr)
	}
	if closeErr != nil {
		problems = append(problems, closeErr)
	}
	switch {
	case interrupted:
		fmt.Fprintln(e.stderr, "interrupted: rows in flight were finished and written; run the same command again to resume")
		return &exitError{code: exitInterrupted}
	case len(problems) > 0:
		return fail(errors.Join(problems...))
	case c.Bad > 0:
		return fail(fmt.Errorf("%d bad rows were not sent (see above, or run with --dry-run); fix them and run again", c.Bad))
	case c.Unsettled > 0:
		return fail(fmt.Errorf("%d rows are not settled; run the same command again to retry them", c.Unsettled))
	case total >= 0 && c.done() < total:
		return fail(fmt.Errorf("only %d of %d rows were handled; run the same command again", c.done(), total))
	}
	return nil
}

// toSend filters the input rows: rows settled in --out are skipped (a row whose line is settled
// under another tenant stops the run: the input changed), bad rows are reported and counted.
func toSend(ctx context.Context, stopRun context.CancelCauseFunc, rows iter.Seq[row], settled settledSet, v *validator, p *progress, e env) iter.Seq[row] {
	return func(yield func(row) bool) {
		for r := range rows {
			if ctx.Err() != nil {
				return
			}
			if h, ok := settled[r.Line]; ok {
				if r.Req == nil || h != tenantHash(r.Req.ExternalTenantID) {
					stopRun(fmt.Errorf("line %d of the input is not the row --out settled for that line: the input changed since --out was written (use a new --out)", r.Line))
					return
				}
				p.skipped()
				continue
			}
			if bad := v.check(ctx, r); bad != nil {
				fmt.Fprintf(e.stderr, "bad row, not sent: %v\n", bad)
				p.bad()
				continue
			}
			if !yield(r) {
				return
			}
		}
	}
}

// classify turns an engine result into an output line (ok) or leaves the row unsettled (a
// transient failure: 5xx, network, a rate limit not sat through, an interrupted wait). fatal is
// set for an answer that will be the same for every row (401, 403): the run stops.
func classify(res linkResult) (line resultLine, ok bool, fatal error) {
	line = resultLine{Line: res.Row.Line, ExternalTenantID: res.Row.tenant()}
	if res.Err == nil && res.Outcome != nil {
		line.State = res.Outcome.State.String()
		line.URL = res.Outcome.OnboardingURL + res.Outcome.ApprovalURL
		return line, true, nil
	}
	err := res.Err
	if err == nil {
		err = errors.New("no outcome")
	}
	if errors.Is(err, debitura.ErrUnauthorized) || errors.Is(err, debitura.ErrForbidden) {
		return line, false, fmt.Errorf("the API refused the key (%w); stopping", err)
	}
	var ae *debitura.APIError
	if errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 &&
		ae.StatusCode != http.StatusTooManyRequests && ae.StatusCode != http.StatusRequestTimeout {
		line.State = stateFailed
		line.Error = &resultError{Type: errorType(ae), Status: ae.StatusCode, Message: ae.Message}
		return line, true, nil
	}
	var ve *debitura.ValidationError
	if errors.As(err, &ve) {
		line.State = stateFailed
		line.Error = &resultError{Type: "validation", Message: ve.Field + ": " + ve.Message}
		return line, true, nil
	}
	return line, false, nil
}

// errorType is the API's error type, or a name for the status class when the body had none.
func errorType(ae *debitura.APIError) string {
	if ae.Type != "" {
		return ae.Type
	}
	switch {
	case errors.Is(ae, debitura.ErrConflict):
		return "conflict"
	case errors.Is(ae, debitura.ErrValidation):
		return "validation"
	case errors.Is(ae, debitura.ErrNotFound):
		return "not_found"
	}
	return strings.ToLower(strings.ReplaceAll(http.StatusText(ae.StatusCode), " ", "_"))
}

// printSummary writes the final counts.
func printSummary(w io.Writer, c counts, elapsed time.Duration) {
	total := fmt.Sprint(c.Total)
	if c.Total < 0 {
		total = fmt.Sprint(c.done())
	}
	fmt.Fprintf(w, "summary: %d/%s rows in %s: ready %d, onboarding_required %d, approval_required %d, failed %d; skipped %d (settled earlier), bad %d (not sent), unsettled %d\n",
		c.done(), total, elapsed.Round(time.Second/10), c.Ready, c.OnboardingRequired, c.ApprovalRequired, c.Failed, c.Skipped, c.Bad, c.Unsettled)
}

// openInput opens --in ("-" is stdin).
func openInput(path string, e env) (io.Reader, func(), error) {
	if path == "-" {
		return e.stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// countRows reads the file once and counts its rows (bad ones included).
func countRows(path string, format inputFormat) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, readErr := readRows(f, format)
	n := 0
	for range rows {
		n++
	}
	if err := readErr(); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return n, nil
}

// dryRun checks every row and lists the bad ones on stdout; nothing is sent.
func dryRun(ctx context.Context, f *linkFlags, format inputFormat, v *validator, e env) error {
	in, closeIn, err := openInput(f.in, e)
	if err != nil {
		return fail(err)
	}
	defer closeIn()
	rows, readErr := readRows(in, format)
	n, bad := 0, 0
	// firstLine finds repeated externalTenantIds (8 bytes of hash and a line per row).
	firstLine := map[uint64]int{}
	for r := range rows {
		n++
		if be := v.check(ctx, r); be != nil {
			bad++
			fmt.Fprintln(e.stdout, be.Error())
			continue
		}
		h := tenantHash(r.Req.ExternalTenantID)
		if j, dup := firstLine[h]; dup {
			bad++
			field := "externalTenantId"
			if v.csv {
				field = csvField(field)
			}
			fmt.Fprintln(e.stdout, (&rowError{Line: r.Line, Field: field, Message: fmt.Sprintf("%q repeats line %d", r.Req.ExternalTenantID, j)}).Error())
			continue
		}
		firstLine[h] = r.Line
	}
	if err := readErr(); err != nil {
		return fail(fmt.Errorf("read %s: %w", f.in, err))
	}
	fmt.Fprintf(e.stderr, "dry run: %d rows, %d bad; nothing was sent\n", n, bad)
	if bad > 0 {
		return &exitError{code: exitFailure}
	}
	return nil
}
