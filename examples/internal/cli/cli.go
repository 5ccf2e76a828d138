// Package cli is the command-line frame the example programs share: a context that ends on an
// interrupt, the exit status (2 for a mistake in how the program was called, 1 for another
// error), the choice between the embedded mock and a real environment, and the SDK client the
// programs build for it (examples/quickstart writes that construction out in full).
package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// UsageError is a mistake in how the program was called; [Main] exits with status 2 for it.
type UsageError string

func (e UsageError) Error() string { return string(e) }

// Main calls run with a context that ends on an interrupt (Ctrl-C) and ends the process when
// run returns an error: it prints the error after the program's name and exits with status 2
// for a [UsageError], 1 for another error.
func Main(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx)
	stop()
	if err == nil {
		return
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	var usage UsageError
	if errors.As(err, &usage) {
		os.Exit(2)
	}
	os.Exit(1)
}

// Env is where an example program sends its calls: the embedded mock, or a real environment.
type Env struct {
	// BaseURL and APIKey are what the program gives the SDK.
	BaseURL, APIKey string
	// Mock is the embedded mock server, nil for a real environment.
	Mock *mockserver.Server
}

// Environment picks the environment. With baseURL empty it is the embedded mock that start
// returns (a plain mockserver.New() when start is nil), with the mock's URL and API key.
// Otherwise it is the environment at baseURL, with the API key from DEBITURA_API_KEY: never from
// a flag, so it stays out of shell history; without it, Environment returns a [UsageError].
// Close the Env when done.
func Environment(baseURL string, start func() (*mockserver.Server, error)) (Env, error) {
	if baseURL != "" {
		apiKey := os.Getenv("DEBITURA_API_KEY")
		if apiKey == "" {
			return Env{}, UsageError("-base-url needs the API key in the DEBITURA_API_KEY environment variable (it is never taken from a flag, so it stays out of shell history)")
		}
		return Env{BaseURL: baseURL, APIKey: apiKey}, nil
	}
	if start == nil {
		start = func() (*mockserver.Server, error) { return mockserver.New(), nil }
	}
	mock, err := start()
	if err != nil {
		return Env{}, err
	}
	return Env{BaseURL: mock.URL, APIKey: mockserver.DefaultAPIKey, Mock: mock}, nil
}

// Client returns the SDK client of the environment: its base URL and API key, app (the
// program's name) in the User-Agent, and a 30 s limit on each HTTP exchange, then opts.
func (e Env) Client(app string, opts ...debitura.Option) (*debitura.Client, error) {
	return debitura.New(e.APIKey, append([]debitura.Option{
		debitura.WithBaseURL(e.BaseURL),
		debitura.WithAppInfo(app, debitura.Version),
		debitura.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
	}, opts...)...)
}

// Close stops the embedded mock, if there is one.
func (e Env) Close() {
	if e.Mock != nil {
		e.Mock.Close()
	}
}

// String names the environment for the program's first line of output.
func (e Env) String() string {
	if e.Mock != nil {
		return "an embedded mock server at " + e.BaseURL + " (pass -base-url and DEBITURA_API_KEY for a real environment)"
	}
	return e.BaseURL
}
