package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// checkOptions are the flags and the argument of "preflight check".
type checkOptions struct {
	platform, app, gateway string
	report, private, dkim  bool
	dns                    dnsFlags
	sender                 string // the DOMAIN or ADDRESS argument
}

// checkCommand is "preflight check DOMAIN|ADDRESS": the audit of one
// customer, with the decision's full report and, when the customer must
// change something, its notice. It exits 0 when the customer is ready.
func checkCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, ok := parseCheckFlags(args, stderr)
	if !ok {
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "preflight check: %v\n", err)
		return exitUsage
	}
	a, cfg, err := newAudit(o.platform, o.dns, nil)
	if err != nil {
		return fail(err)
	}
	var r *mailauth.AuditResult
	if _, err := a.Run(ctx, []mailauth.AuditCustomer{o.customer(cfg.Policy.Applications)}, func(x *mailauth.AuditResult) { r = x }); err != nil {
		return fail(err)
	}
	printCheck(stdout, o.sender, a, r)
	if !r.Status.Ready() {
		return exitNotReady
	}
	return exitReady
}

// parseCheckFlags parses the flags and the argument of "preflight check";
// it returns false, having said why on stderr, when they are not usable.
func parseCheckFlags(args []string, stderr io.Writer) (checkOptions, bool) {
	var o checkOptions
	fs := flag.NewFlagSet("preflight check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.platform, "platform", "", "the platform file, YAML or JSON (required)")
	fs.StringVar(&o.app, "app", "", "the application the sender is for; default: the platform file's first")
	fs.BoolVar(&o.report, "report", false, "check the address as the sender of scheduled reports")
	fs.BoolVar(&o.private, "private", false, "the customer runs a private cloud")
	fs.StringVar(&o.gateway, "gateway", "", "the private cloud's own SMTP gateway")
	fs.BoolVar(&o.dkim, "dkim", false, "the platform signs with the customer's domain")
	pos, ok := parseFlags(fs, &o.dns, args, "preflight check: want -platform FILE and one DOMAIN or ADDRESS", func(pos []string) bool {
		return o.platform != "" && len(pos) == 1
	})
	if ok {
		o.sender = pos[0]
	}
	return o, ok
}

// customer returns the customer the options describe, its application by
// default the first of apps.
func (o *checkOptions) customer(apps []mailauth.Application) mailauth.AuditCustomer {
	addr := o.sender
	if !strings.Contains(addr, "@") {
		addr = "postmaster@" + addr
	}
	c := mailauth.AuditCustomer{Tenant: o.sender, App: mailauth.App(o.app), Customer: mailauth.Customer{Gateway: o.gateway, DKIM: o.dkim}}
	if o.private {
		c.Cloud = mailauth.PrivateCloud
	}
	if o.report {
		c.ReportSender = addr
	} else {
		c.From = addr
	}
	if c.App == "" {
		if len(apps) > 0 {
			c.App = apps[0].ID
		} else {
			c.App = mailauth.ScanNotifications
		}
	}
	return c
}

// printCheck prints the result of checking sender: its status, the
// decisions' reports and the notice, if any.
func printCheck(w io.Writer, sender string, a *mailauth.Audit, r *mailauth.AuditResult) {
	fmt.Fprintf(w, "%s: %s\n%s\n", sender, r.Status, r.Reason)
	for _, d := range []*mailauth.Decision{r.Decision, r.Report} {
		if d != nil {
			fmt.Fprintf(w, "\n%s", d)
		}
	}
	if n := a.Notice(r); n != "" {
		fmt.Fprintf(w, "\nThe notice for %s:\n\n%s", sender, n)
	}
}

// spfCommand is "preflight spf DOMAIN IP": the SPF verdict of DOMAIN's
// record for mail from IP, with the tree of records it evaluated and the
// lookups each cost. It exits 0 on pass.
func spfCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("preflight spf", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sender := fs.String("sender", "", "the envelope sender; default: postmaster@DOMAIN")
	helo := fs.String("helo", "", "the EHLO name of the sending host; default: DOMAIN")
	var dns dnsFlags
	pos, ok := parseFlags(fs, &dns, args, "preflight spf: want DOMAIN and IP", func(pos []string) bool { return len(pos) == 2 })
	if !ok {
		return exitUsage
	}
	domain := pos[0]
	ip, err := netip.ParseAddr(pos[1])
	if err != nil {
		fmt.Fprintf(stderr, "preflight spf: IP %q: %v\n", pos[1], err)
		return exitUsage
	}
	if *sender == "" {
		*sender = "postmaster@" + domain
	}
	if *helo == "" {
		*helo = domain
	}
	res, err := dns.resolver()
	if err != nil {
		fmt.Fprintf(stderr, "preflight spf: %v\n", err)
		return exitUsage
	}
	c, err := spf.New(spf.Config{Resolver: res})
	if err != nil {
		fmt.Fprintf(stderr, "preflight spf: %v\n", err)
		return exitUsage
	}
	result, x := c.CheckHost(ctx, ip, domain, *sender, *helo)
	fmt.Fprint(stdout, x)
	if result != spf.Pass {
		return exitNotReady
	}
	return exitReady
}
