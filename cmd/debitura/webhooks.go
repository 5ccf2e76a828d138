package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/webhook"
	"github.com/spf13/cobra"
)

func newWebhooksCmd(g *globals, e env) *cobra.Command {
	cmd := &cobra.Command{Use: "webhooks", Short: "Webhook subscriptions"}
	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List your webhook subscriptions (never their secrets)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hooks, err := callAPI(g, e, func(c *debitura.Client) ([]*debitura.Webhook, error) {
				return c.Webhooks.List(cmd.Context())
			})
			if err != nil {
				return err
			}
			if listJSON {
				for _, h := range hooks {
					if err := writeJSON(e.stdout, h); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tURL\tEVENTS\tACTIVE\tTEST MODE")
			for _, h := range hooks {
				ev := make([]string, len(h.Events))
				for i, x := range h.Events {
					ev[i] = string(x)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%t\n", h.ID, h.URL, strings.Join(ev, ","), h.IsActive, h.IsTestMode)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "one JSON object per subscription and line")

	var req debitura.WebhookTestRequest
	var event string
	known := make([]string, 0, 10)
	for _, t := range append(webhook.ClientEvents(), webhook.CaseCreated, webhook.CaseUpdated, webhook.CaseClosed) {
		known = append(known, string(t))
	}
	test := &cobra.Command{
		Use:   "test --event NAME",
		Short: "Ask Debitura to send a test event to your subscriptions (test environment only)",
		Long: "test queues a test delivery of --event to every subscription that receives it.\n" +
			"Events: " + strings.Join(known, ", ") + ".\n" +
			"client.* events need --tenant (an active link); case.* events need --case (a case UUID).",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if event == "" {
				return usageErr("--event is required (one of %s)", strings.Join(known, ", "))
			}
			req.EventType = webhook.EventType(event)
			res, err := callAPI(g, e, func(c *debitura.Client) (*debitura.WebhookTestResult, error) {
				return c.Webhooks.Test(cmd.Context(), &req)
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "queued %d deliveries of %s: %s\n", res.EnqueuedCount, res.EventType, res.Message)
			return err
		},
	}
	tf := test.Flags()
	tf.StringVar(&event, "event", "", "event name, e.g. client.linked")
	tf.StringVar(&req.ExternalTenantID, "tenant", "", "externalTenantId of an active link (client.* events)")
	tf.StringVar(&req.CaseID, "case", "", "case UUID (case.* events)")
	cmd.AddCommand(list, test)
	return cmd
}
