// Command debitura-mock serves the mock Debitura Referral Partner API of package
// github.com/debitura-go/debitura/mockserver as a standalone HTTP server, for tests and tools
// not written in Go: the Referral Partner API (header XApiKey), the /__mock/ control routes
// (seed, inspect, approve, advance the clock, inject faults; see the mockserver package doc) and
// the hosted onboarding, contract-upgrade and link-approval pages.
//
// Usage:
//
//	go run ./cmd/debitura-mock -addr 127.0.0.1:8080 -api-key mock_my_key
//	debitura-mock -addr 127.0.0.1:0 -state /tmp/mock-state.json -log
//
// The first line on stdout is always
//
//	listening on http://HOST:PORT
//
// naming the real port when -addr asks for port 0 (an unspecified host is shown as localhost).
// Everything else (state messages, the request log, errors) goes to stderr.
//
// Flags:
//
//	-addr HOST:PORT        listen address (default 127.0.0.1:8080; port 0 picks a free port)
//	-api-key KEY           XApiKey of the default partner (default mockserver.DefaultAPIKey,
//	                       "mock_test_default_partner_key_0001"); any key of printable ASCII
//	                       without spaces (prefer a "mock_" prefix, never a real key). With
//	                       another key, the built-in default key gets 401, and /__mock/ routes
//	                       without XApiKey act for this partner.
//	-env test|production   environment to imitate (default test). production: DELETE
//	                       /clients/{id}, GET /clients/{id}/is-deletable, POST /v1/Webhooks/test
//	                       and every /__mock/ route answer 403; the hosted pages keep working.
//	-seed N                deterministic ids, tokens and fault draws (default: random)
//	-public-url URL        base of the hosted-page URLs the API hands out (default: the
//	                       listening URL). Use it behind a proxy or in a container.
//	-state FILE            load the state from FILE at start when it exists (a corrupt or
//	                       empty file, or one with null records or references to records that
//	                       do not exist, is an error: exit status 1 with "state file FILE is not
//	                       usable (what is wrong)", never a silent empty state);
//	                       save it on SIGINT/SIGTERM and every -save-interval when it changed.
//	                       Saving is atomic (temporary file in the same directory, fsync,
//	                       rename, fsync of the directory); the file is created 0600 because it
//	                       holds API keys and the token-signing secret. It also accepts a bare
//	                       Backend.Snapshot as written by Go code. At start, temporary files
//	                       an interrupted save left behind (named .FILE.tmp-NUMBER, in the same
//	                       directory) are removed; no other file is touched.
//	-save-interval D       periodic save interval (default 5s; 0 saves only at shutdown). A
//	                       tick with no change since the last save (reads do not count) costs
//	                       nothing; otherwise the state is copied under the mock's lock and
//	                       encoded outside it.
//	-retry-after-header    send Retry-After with 429 answers (default off, as Debitura)
//	-rate-per-minute N     replace the documented limits (2,000/min, 20,000/h, 100,000/day per
//	                       key) with one sliding window of N requests per minute per key
//	-rate-limit-off        no rate limiting
//	-log                   one line per request on stderr (slog text): method, route template
//	                       (e.g. /clients/{externalTenantId}), status, duration. Never headers,
//	                       query strings or path values, so no key, token or tenant id.
//	-shutdown-timeout D    how long SIGINT/SIGTERM waits for requests in flight (default 10s)
//	-read-timeout D        longest time to read one request, headers and body (default 30s;
//	                       the headers alone within 10s). A client that sends more slowly has
//	                       its connection closed. 0: no limit.
//	-write-timeout D       longest time from the end of a request to the end of its answer
//	                       (default 60s; 0: no limit). No route streams or long-polls; a
//	                       latency fault moves its own deadline to its latency plus a minute.
//	-idle-timeout D        how long an idle keep-alive connection stays open (default 60s;
//	                       0: -read-timeout applies)
//	-admin-hosts a,b       extra Host names the /__mock/ routes accept, e.g. a container name
//
// The /__mock/ routes accept only a Host that is a loopback name (localhost, 127.0.0.0/8, ::1),
// the -addr host (for an unspecified one such as ":8080", the machine's interface addresses), the
// -public-url host or an -admin-hosts name (403 otherwise, against DNS rebinding); they refuse a
// browser's Origin header that names another site (403); and their POST, PUT, PATCH and DELETE
// calls need Content-Type: application/json, with or without a body (415 otherwise).
//
// The clock is real time plus an offset that POST /__mock/clock/advance moves forward; the
// offset is saved in the state file. On SIGINT or SIGTERM the server stops accepting
// connections, waits for requests in flight (http.Server.Shutdown, bounded by
// -shutdown-timeout), saves the state and exits 0. Exit status 1 means a runtime error (for
// example an unusable state file or a busy port), 2 a command-line error.
//
// The state file is a JSON document {"format":"debitura-mock-state/1","savedAt":...,
// "clockOffsetNs":...,"snapshot":<Backend.Snapshot>}. Journal, fault rules and rate-limit
// counters are not saved.
//
// The program lives in internal/mockcmd, which the debitura command-line tool's "mock"
// subcommand runs too; this package is its main. The process tests are in internal/mockcmd.
package main
