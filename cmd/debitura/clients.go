package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/spf13/cobra"
)

// listFlags are the flags of `debitura clients list`.
type listFlags struct {
	all, json                     bool
	page, pageSize                int
	query, tenant, sort, from, to string
	attributed, onboardingDone    string
}

func newClientsCmd(g *globals, e env) *cobra.Command {
	cmd := &cobra.Command{Use: "clients", Short: "List and show the clients linked to you"}
	lf := &listFlags{}
	list := &cobra.Command{
		Use:   "list",
		Short: "List linked clients (one page, or every page with --all)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runClientsList(cmd.Context(), g, lf, e)
		},
	}
	fl := list.Flags()
	fl.BoolVar(&lf.all, "all", false, "walk every page")
	fl.BoolVar(&lf.json, "json", false, "one JSON object per client and line, instead of a table")
	fl.IntVar(&lf.page, "page", 0, "page number, from 1 (without --all)")
	fl.IntVar(&lf.pageSize, "page-size", 0, "clients per page, 1-100 (default: the API's 50; 100 with --all)")
	fl.StringVar(&lf.query, "query", "", "search company name, office e-mail and registration number")
	fl.StringVar(&lf.tenant, "tenant", "", "only the client with this externalTenantId")
	fl.StringVar(&lf.attributed, "attributed", "", "true: attributed clients only; false: linked-after-approval only")
	fl.StringVar(&lf.onboardingDone, "onboarding-done", "", "true or false: only clients whose onboarding is (not) done")
	fl.StringVar(&lf.from, "from", "", "only links created at or after this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&lf.to, "to", "", "only links created at or before this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&lf.sort, "sort", "", "dateCreated|name, optionally :asc or :desc (default dateCreated:desc)")

	var getJSON bool
	get := &cobra.Command{
		Use:   "get EXTERNAL_TENANT_ID",
		Short: "Show one linked client",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lc, err := callAPI(g, e, func(c *debitura.Client) (*debitura.LinkedClient, error) {
				return c.Clients.Get(cmd.Context(), args[0])
			})
			if err != nil {
				return err
			}
			if getJSON {
				return writeJSON(e.stdout, lc)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			for _, kv := range [][2]string{
				{"externalTenantId", lc.ExternalTenantID},
				{"company", lc.Client.CompanyName},
				{"country", lc.Client.Country},
				{"officeEmail", lc.Client.OfficeEmail},
				{"onboardingDone", strconv.FormatBool(lc.OnboardingDone)},
				{"onboardingUrl", lc.OnboardingURL()},
				{"attributed", strconv.FormatBool(lc.IsAttributedClient)},
				{"dateLinked", formatTime(lc.DateLinked)},
				{"kycStatus", string(lc.KYCStatus)},
				{"creditorId", lc.Client.ID},
			} {
				fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
			}
			return tw.Flush()
		},
	}
	get.Flags().BoolVar(&getJSON, "json", false, "print the client as JSON")
	cmd.AddCommand(list, get)
	return cmd
}

// exactArgs wants n positional arguments.
func exactArgs(n int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("want %d argument(s), got %d", n, len(args))
		}
		return nil
	}
}

// options turns the flags into ClientListOptions.
func (lf *listFlags) options() (*debitura.ClientListOptions, error) {
	o := &debitura.ClientListOptions{Page: lf.page, PageSize: lf.pageSize, Query: lf.query, ExternalTenantID: lf.tenant, Sort: debitura.ClientSort(lf.sort)}
	var err error
	if o.IsAttributedClient, err = optBool("--attributed", lf.attributed); err != nil {
		return nil, err
	}
	if o.OnboardingDone, err = optBool("--onboarding-done", lf.onboardingDone); err != nil {
		return nil, err
	}
	if o.DateCreatedFrom, err = optTime("--from", lf.from); err != nil {
		return nil, err
	}
	if o.DateCreatedTo, err = optTime("--to", lf.to); err != nil {
		return nil, err
	}
	return o, nil
}

func optBool(name, v string) (*bool, error) {
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, usageErr("%s must be true or false, not %q", name, v)
	}
	return &b, nil
}

func optTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, usageErr("%s must be an RFC 3339 time or YYYY-MM-DD, not %q", name, v)
}

// runClientsList is `debitura clients list`.
func runClientsList(ctx context.Context, g *globals, lf *listFlags, e env) error {
	opts, err := lf.options()
	if err != nil {
		return err
	}
	if lf.all && lf.page != 0 {
		return usageErr("--page and --all exclude each other")
	}
	c, release, err := g.connect(e)
	if err != nil {
		return err
	}
	defer release()
	p := newClientPrinter(e.stdout, lf.json)
	if lf.all {
		for lc, err := range c.Clients.All(ctx, opts) {
			if err != nil {
				_ = p.flush()
				return apiFailure(err)
			}
			if err := p.print(lc); err != nil {
				return fail(err)
			}
		}
		return p.flush()
	}
	page, err := c.Clients.List(ctx, opts)
	if err != nil {
		return apiFailure(err)
	}
	for _, lc := range page.Clients {
		if err := p.print(lc); err != nil {
			return fail(err)
		}
	}
	if err := p.flush(); err != nil {
		return err
	}
	if !lf.json {
		fmt.Fprintf(e.stderr, "page %d of %d (%d clients in all); --all walks every page\n", page.Page.CurrentPage, page.Page.TotalPages, page.Page.TotalResults)
	}
	return nil
}

// clientPrinter prints clients as a table (flushed in blocks, so --all streams) or JSON lines.
type clientPrinter struct {
	w      io.Writer
	json   bool
	tw     *tabwriter.Writer
	header bool
	n      int
}

func newClientPrinter(w io.Writer, asJSON bool) *clientPrinter {
	return &clientPrinter{w: w, json: asJSON, tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
}

func (p *clientPrinter) print(lc *debitura.LinkedClient) error {
	if p.json {
		return writeJSON(p.w, lc)
	}
	if !p.header {
		fmt.Fprintln(p.tw, "EXTERNAL TENANT ID\tCOMPANY\tCOUNTRY\tONBOARDING DONE\tATTRIBUTED\tLINKED")
		p.header = true
	}
	fmt.Fprintf(p.tw, "%s\t%s\t%s\t%t\t%t\t%s\n", lc.ExternalTenantID, lc.Client.CompanyName, lc.Client.Country, lc.OnboardingDone, lc.IsAttributedClient, formatTime(lc.DateLinked))
	if p.n++; p.n%100 == 0 {
		return p.tw.Flush() // columns are aligned per block of 100 rows
	}
	return nil
}

func (p *clientPrinter) flush() error {
	if p.json {
		return nil
	}
	return p.tw.Flush()
}

// writeJSON writes v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fail(err)
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
