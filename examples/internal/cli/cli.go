// Package cli is the command-line frame the example programs share: a context that ends on an
// interrupt, and the exit status (2 for a mistake in how the program was called, 1 for another
// error). It knows nothing of the SDK: each program's run function shows its use in full.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
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
