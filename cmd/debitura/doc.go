// Command debitura is the command-line tool for Debitura's Referral Partner API: it back-fills
// (links) many customers from a CSV or JSONL file with resume, lists and shows linked clients,
// mints Customer API tokens, lists and tests webhook subscriptions, and runs the mock.
//
// Install:
//
//	go install github.com/debitura-go/debitura/cmd/debitura@latest
//
// Usage:
//
//	export DEBITURA_API_KEY=...                       # never a flag; never printed
//	debitura link --in customers.csv --out results.jsonl
//	debitura link --in customers.csv --dry-run
//	debitura clients list --all --onboarding-done=false
//	debitura clients get tenant-42 --json
//	debitura tokens mint tenant-42 [--reveal]
//	debitura webhooks list
//	debitura webhooks test --event client.linked --tenant tenant-42
//	debitura mock -addr 127.0.0.1:8080                # the flags of cmd/debitura-mock
//	debitura --mock clients list                      # any command, against an embedded mock
//
// --base-url picks the API (default production, as the SDK). --mock runs the command against an
// embedded mock seeded with two clients and an existing Debitura account (see debitura --help).
//
// # Back-filling
//
// link reads the input one row at a time and writes one JSON line per settled row to --out as soon
// as it settles, so memory does not grow with the number of rows (a re-run keeps a line number and an 8-byte
// hash per already-settled row to skip it, never the rows). Running the same command again resumes: rows settled in --out
// are skipped, a torn last line is cut off, and no settled row is sent again. A row that was in
// flight when the process died is sent again; POST /clients is idempotent per externalTenantId,
// so that answers the client's current state instead of creating a second one.
//
// Rows are linked through the SDK's streaming bulk form, Clients.LinkStream (--concurrency in
// flight), in the bulk lane of the Client's request budget, which paces them to the API key's
// windows (--limits, WithLimits; default Debitura's documented ones, debitura.DefaultLimits) and
// leaves a fifth of each window to the partner's interactive calls. A rate-limit window that asks
// for a wait longer than the SDK sleeps inside a request (--call-max-wait, WithMaxRetryWait)
// holds every request until the window reopens, up to --max-wait (LinkStreamOptions.MaxWait),
// and the progress shows it; a longer wait stops the run and leaves the remaining rows unsettled
// for the next run.
//
// Exit status: 0 success (for link: every row settled, failed ones included); 1 bad input,
// unsettled rows, or an API or network error; 2 a command-line error; 130 interrupted by
// SIGINT or SIGTERM (link lets the rows in flight finish and writes them first).
package main
