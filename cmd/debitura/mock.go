package main

import (
	"errors"
	"flag"

	"github.com/debitura-go/debitura/internal/mockcmd"
	"github.com/spf13/cobra"
)

// newMockCmd is `debitura mock`: the program of cmd/debitura-mock, with the same flags.
func newMockCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "mock [flags]",
		Short: "Serve the mock Debitura API (the same backend and flags as debitura-mock)",
		Long: `mock serves the mock Referral Partner API, its /__mock/ control routes and the hosted
pages, exactly as cmd/debitura-mock does, with the same flags (-addr, -api-key, -env, -state,
-seed, -rate-per-minute, ...; see debitura mock -h). The first line on stdout is
"listening on URL". SIGINT/SIGTERM shut it down (and save -state).`,
		DisableFlagParsing: true, // the flags are debitura-mock's, parsed by mockcmd
		RunE: func(cmd *cobra.Command, args []string) error {
			err := mockcmd.Run(cmd.Context(), "debitura mock", args, e.stdout, e.stderr)
			switch {
			case err == nil, errors.Is(err, flag.ErrHelp):
				return nil
			case errors.Is(err, mockcmd.ErrUsage):
				return &exitError{code: exitUsage} // mockcmd printed the details
			}
			return fail(err)
		},
	}
}
