package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/debitura-go/debitura/internal/mockcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := mockcmd.Run(ctx, "debitura-mock", os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, mockcmd.ErrUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "debitura-mock:", err)
		os.Exit(1)
	}
}
