package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailure     = 1 // bad input, unsettled rows, an API or network error
	exitUsage       = 2 // a command-line error
	exitInterrupted = 130
)

// exitError carries the exit status of a failed command. Errors a command returns without one are
// command-line errors (cobra's flag and argument checks): exit status 2.
type exitError struct {
	code int
	err  error // nil: nothing more to print
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// fail wraps a runtime error: exit status 1.
func fail(err error) error { return &exitError{code: exitFailure, err: err} }

// usageErr is a command-line error found after cobra parsed the flags: exit status 2.
func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// env is what a run of the tool sees of its process, so that tests run it in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// stderrTerminal says whether stderr is a terminal (a live bar instead of plain lines).
	stderrTerminal bool
}

func main() {
	// The first SIGINT or SIGTERM stops starting new work (a link run lets its in-flight rows
	// finish and exits 130); a second one exits at once. Results are written a line at a time,
	// so nothing settled is lost either way.
	ctx, stop := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		stop()
		<-sigs
		os.Exit(exitInterrupted)
	}()
	e := env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		stderrTerminal: term.IsTerminal(int(os.Stderr.Fd()))}
	os.Exit(run(ctx, os.Args[1:], e))
}

// run runs the tool with args and returns its exit status. ctx ending is an interrupt.
func run(ctx context.Context, args []string, e env) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintln(e.stderr, "debitura:", ee.err)
		}
		return ee.code
	default:
		fmt.Fprintln(e.stderr, "debitura:", err)
		fmt.Fprintln(e.stderr, "Run 'debitura --help' for usage.")
		return exitUsage
	}
}
