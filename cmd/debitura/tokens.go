package main

import (
	"fmt"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/spf13/cobra"
)

func newTokensCmd(g *globals, e env) *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Short: "Customer API tokens"}
	var reveal, asJSON bool
	mint := &cobra.Command{
		Use:   "mint EXTERNAL_TENANT_ID",
		Short: "Mint a Customer API token for a client and print its expiry (the token only with --reveal)",
		Long: `mint mints a Customer API token (POST /oauth/token) for the client linked under
EXTERNAL_TENANT_ID and prints when it expires. The token itself is printed only with --reveal:
then it is the only thing on stdout (the expiry goes to stderr), so that
TOKEN=$(debitura tokens mint ID --reveal) works. Treat it as a password.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := callAPI(g, e, func(c *debitura.Client) (*debitura.Token, error) {
				return c.Tokens.Mint(cmd.Context(), args[0])
			})
			if err != nil {
				return err
			}
			expiry := fmt.Sprintf("expires %s (in %s)", formatTime(tok.Expiry), time.Until(tok.Expiry).Round(time.Second))
			switch {
			case asJSON:
				v := map[string]any{"externalTenantId": tok.ExternalTenantID, "creditorId": tok.CreditorID, "tokenType": tok.TokenType, "expiry": tok.Expiry.UTC()}
				if reveal {
					v["accessToken"] = tok.AccessToken.Reveal()
				}
				return writeJSON(e.stdout, v)
			case reveal:
				fmt.Fprintln(e.stderr, "token for", args[0], expiry)
				_, err = fmt.Fprintln(e.stdout, tok.AccessToken.Reveal())
				return err
			default:
				_, err = fmt.Fprintln(e.stdout, "token for", args[0], expiry+"; --reveal prints it")
				return err
			}
		},
	}
	mint.Flags().BoolVar(&reveal, "reveal", false, "print the token itself")
	mint.Flags().BoolVar(&asJSON, "json", false, "print JSON (with accessToken only with --reveal)")
	cmd.AddCommand(mint)
	return cmd
}
