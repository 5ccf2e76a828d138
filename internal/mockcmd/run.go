package mockcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/debitura-go/debitura/internal/apikey"
	"github.com/debitura-go/debitura/mockserver"
)

// ErrUsage marks a command-line error (exit status 2); the details have been printed on stderr.
var ErrUsage = errors.New("usage error")

// config is the parsed command line.
type config struct {
	addr            string
	apiKey          string
	env             mockserver.Environment
	seed            int64
	seeded          bool
	publicURL       string
	statePath       string
	saveInterval    time.Duration
	retryAfter      bool
	ratePerMinute   int
	rateLimitOff    bool
	logRequests     bool
	shutdownTimeout time.Duration
	readTimeout     time.Duration
	writeTimeout    time.Duration
	idleTimeout     time.Duration
	adminHosts      []string
}

// parseFlags parses the command line of the program called name; errors are reported on stderr
// and wrap ErrUsage (or are flag.ErrHelp for -h).
func parseFlags(name string, args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: "+name+" [flags]\n\nServes the mock Debitura Referral Partner API, its /__mock/ control routes and the hosted pages.\n\nflags:")
		fs.PrintDefaults()
	}
	env := fs.String("env", "test", "environment to imitate: test or production (production: DELETE /clients/{id}, is-deletable, /v1/Webhooks/test and /__mock/ answer 403)")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address; port 0 picks a free port (the first line on stdout names it)")
	fs.StringVar(&c.apiKey, "api-key", mockserver.DefaultAPIKey, "XApiKey of the default partner (any key without spaces; prefer a \"mock_\" prefix, never a real key)")
	fs.Int64Var(&c.seed, "seed", 0, "seed for deterministic ids, tokens and fault draws (unset: random)")
	fs.StringVar(&c.publicURL, "public-url", "", "base URL of the hosted-page URLs the API hands out (default: the listening URL)")
	fs.StringVar(&c.statePath, "state", "", "state file: loaded at start when present, saved atomically on SIGINT/SIGTERM and every -save-interval")
	fs.DurationVar(&c.saveInterval, "save-interval", 5*time.Second, "how often to save a changed state to -state (0: only at shutdown)")
	fs.BoolVar(&c.retryAfter, "retry-after-header", false, "send a Retry-After header with 429 answers (besides the body's retryAfter)")
	fs.IntVar(&c.ratePerMinute, "rate-per-minute", 0, "replace the documented rate limits with one sliding window of N requests per minute per key (0: documented limits)")
	fs.BoolVar(&c.rateLimitOff, "rate-limit-off", false, "disable rate limiting")
	fs.BoolVar(&c.logRequests, "log", false, "log one line per request to stderr: method, route template, status, duration (never keys, tokens or query strings)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long to wait for requests in flight at shutdown")
	fs.DurationVar(&c.readTimeout, "read-timeout", 30*time.Second, "longest time to read one request, headers and body (0: no limit); a slower client's connection is closed")
	fs.DurationVar(&c.writeTimeout, "write-timeout", 60*time.Second, "longest time from the end of a request to the end of its answer (0: no limit); latency faults extend it by their latency")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 60*time.Second, "how long an idle keep-alive connection stays open (0: -read-timeout applies)")
	fs.Func("admin-hosts", "comma-separated host names the /__mock/ routes accept in the Host header besides loopback names, the -addr host and the -public-url host (e.g. a container name)", func(v string) error {
		c.adminHosts = append(c.adminHosts, splitHosts(v)...)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	bad := func(format string, a ...any) (config, error) {
		fmt.Fprintf(stderr, name+": "+format+"\n", a...)
		fs.Usage()
		return c, fmt.Errorf("%w: "+format, append([]any{ErrUsage}, a...)...)
	}
	if fs.NArg() > 0 {
		return bad("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	fs.Visit(func(f *flag.Flag) { c.seeded = c.seeded || f.Name == "seed" })
	switch strings.ToLower(*env) {
	case "test":
		c.env = mockserver.Test
	case "production", "prod":
		c.env = mockserver.Production
	default:
		return bad("-env must be test or production, not %q", *env)
	}
	if !apikey.Valid(c.apiKey) {
		return bad("-api-key must be 1-256 printable ASCII characters without spaces")
	}
	if c.saveInterval < 0 || c.ratePerMinute < 0 || c.shutdownTimeout <= 0 {
		return bad("-save-interval and -rate-per-minute must not be negative, -shutdown-timeout must be positive")
	}
	if c.readTimeout < 0 || c.writeTimeout < 0 || c.idleTimeout < 0 {
		return bad("-read-timeout, -write-timeout and -idle-timeout must not be negative")
	}
	if c.publicURL != "" && !strings.HasPrefix(c.publicURL, "http://") && !strings.HasPrefix(c.publicURL, "https://") {
		return bad("-public-url must start with http:// or https://")
	}
	return c, nil
}

// options turns the configuration into Backend options.
func (c config) options(clock *mockserver.OffsetClock) []mockserver.Option {
	opts := []mockserver.Option{mockserver.WithClock(clock), mockserver.WithEnvironment(c.env), mockserver.WithRetryAfterHeader(c.retryAfter),
		mockserver.WithAdminHosts(append(listenHosts(c.addr), c.adminHosts...)...)}
	if c.seeded {
		opts = append(opts, mockserver.WithSeed(c.seed))
	}
	if c.apiKey != mockserver.DefaultAPIKey {
		opts = append(opts, mockserver.WithDefaultAPIKey(c.apiKey))
	}
	switch {
	case c.rateLimitOff:
		opts = append(opts, mockserver.WithRateLimit(mockserver.RateLimitConfig{Disabled: true}))
	case c.ratePerMinute > 0:
		opts = append(opts, mockserver.WithRateLimit(mockserver.RateLimitConfig{Windows: []mockserver.RateWindow{
			{Limit: c.ratePerMinute, Period: time.Minute, Segments: 6},
		}}))
	}
	return opts
}

// defaultPartner is the partner -api-key creates: the default partner's profile under another key.
func defaultPartner(key string) mockserver.PartnerSpec {
	return mockserver.PartnerSpec{
		APIKey: key, CompanyName: "Mock Referral Partner ApS", ShortName: "mockpartner",
		ContactEmail: "partners@mock-referral.example", ReferralFeePercentage: 20,
		BackgroundColorCode: "#FFFFFF", FontColor: "#1A1A1A",
		FontFamily: "Arial, sans-serif", InvoicingTriggerMode: "PayWhenPaid", ApprovalTTLDays: 7,
	}
}

// listenURL is the URL printed for a listener: an unspecified host (":8080", "0.0.0.0") is
// shown as localhost.
func listenURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// newHTTPServer builds the server run serves with: every phase of a connection is bounded so
// that a slow or idle client cannot hold it forever. The headers must arrive within 10s (or
// -read-timeout when shorter), the whole request within -read-timeout, the answer must be written
// within -write-timeout of the end of the request, and an idle keep-alive connection is closed
// after -idle-timeout (when 0, -read-timeout applies, as in http.Server). The mock has no long-poll or streaming route; the one answer that may
// legitimately take longer, a latency fault, moves its own write deadline (mockserver's
// serveFault). A zero -read-timeout or -write-timeout means no limit.
func newHTTPServer(cfg config, h http.Handler) *http.Server {
	header := 10 * time.Second
	if cfg.readTimeout > 0 && cfg.readTimeout < header {
		header = cfg.readTimeout
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: header,
		ReadTimeout:       cfg.readTimeout,
		WriteTimeout:      cfg.writeTimeout,
		IdleTimeout:       cfg.idleTimeout,
	}
}

// Run is the whole mock program: parse args (the flags of cmd/debitura-mock), load state, serve
// until ctx ends, shut down, save. name is the program's name in usage and messages
// ("debitura-mock", "debitura mock"). The first line on stdout is "listening on URL"; everything
// else goes to stderr. The error wraps ErrUsage for a command-line error and is flag.ErrHelp for
// -h; any other error is a runtime error (exit status 1).
func Run(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(name, args, stderr)
	if err != nil {
		return err
	}
	clock := mockserver.NewOffsetClock()
	backend := mockserver.NewBackend(cfg.options(clock)...)

	var st *stateFile
	if cfg.statePath != "" {
		st = &stateFile{path: cfg.statePath, backend: backend, clock: clock}
		removed, err := removeStaleTemps(cfg.statePath)
		for _, f := range removed {
			fmt.Fprintf(stderr, name+": removed %s, left behind by an interrupted save\n", f)
		}
		if err != nil {
			// Not fatal: the mock works, but the leftovers hold secrets; say so.
			fmt.Fprintf(stderr, name+": could not remove a stale temporary state file: %v\n", err)
		}
		loaded, err := st.load()
		if err != nil {
			return err
		}
		if loaded {
			if cfg.apiKey != mockserver.DefaultAPIKey {
				// The state brings its own partners; make sure -api-key is one of them.
				if _, err := backend.AddPartner(defaultPartner(cfg.apiKey)); err != nil && !errors.Is(err, mockserver.ErrConflict) {
					return fmt.Errorf("add the -api-key partner: %w", err)
				}
			}
			fmt.Fprintf(stderr, name+": loaded state from %s\n", cfg.statePath)
		}
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	base := listenURL(ln.Addr())
	if cfg.publicURL != "" {
		backend.SetPublicURL(cfg.publicURL)
	} else {
		backend.SetPublicURL(base)
	}

	var h http.Handler = backend
	if cfg.logRequests {
		h = logRequests(h, backend.Route, stderr)
	}
	srv := newHTTPServer(cfg, h)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	if _, err := fmt.Fprintf(stdout, "listening on %s\n", base); err != nil {
		_ = srv.Close()
		return err
	}

	var wg sync.WaitGroup
	stopSaver := make(chan struct{})
	if st != nil && cfg.saveInterval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(cfg.saveInterval)
			defer t.Stop()
			for {
				select {
				case <-stopSaver:
					return
				case <-t.C:
					if err := st.save(); err != nil {
						fmt.Fprintf(stderr, name+": periodic save: %v\n", err)
					}
				}
			}
		}()
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, name+": shutdown: %v (closing the remaining connections)\n", err)
		_ = srv.Close()
	}
	backend.Close()
	close(stopSaver)
	wg.Wait()
	if st != nil {
		if err := st.save(); err != nil {
			return errors.Join(runErr, fmt.Errorf("save state: %w", err))
		}
		fmt.Fprintf(stderr, name+": saved state to %s\n", cfg.statePath)
	}
	if errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	return runErr
}
