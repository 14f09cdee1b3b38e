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

// checkCommand is "preflight check DOMAIN|ADDRESS": the audit of one
// customer, with the decision's full report and, when the customer must
// change something, its notice. It exits 0 when the customer is ready.
func checkCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("preflight check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	platform := fs.String("platform", "", "the platform file, YAML or JSON (required)")
	app := fs.String("app", "", "the application the sender is for; default: the platform file's first")
	report := fs.Bool("report", false, "check the address as the sender of scheduled reports")
	private := fs.Bool("private", false, "the customer runs a private cloud")
	gateway := fs.String("gateway", "", "the private cloud's own SMTP gateway")
	dkim := fs.Bool("dkim", false, "the platform signs with the customer's domain")
	var dns dnsFlags
	dns.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if *platform == "" || len(pos) != 1 {
		fmt.Fprintln(stderr, "preflight check: want -platform FILE and one DOMAIN or ADDRESS")
		fs.Usage()
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "preflight check: %v\n", err)
		return exitUsage
	}
	a, cfg, err := newAudit(*platform, dns, nil)
	if err != nil {
		return fail(err)
	}
	addr := pos[0]
	if !strings.Contains(addr, "@") {
		addr = "postmaster@" + addr
	}
	c := mailauth.AuditCustomer{Tenant: pos[0], App: mailauth.App(*app), Customer: mailauth.Customer{Gateway: *gateway, DKIM: *dkim}}
	if *private {
		c.Cloud = mailauth.PrivateCloud
	}
	if *report {
		c.ReportSender = addr
	} else {
		c.From = addr
	}
	if c.App == "" {
		if len(cfg.Policy.Applications) > 0 {
			c.App = cfg.Policy.Applications[0].ID
		} else {
			c.App = mailauth.ScanNotifications
		}
	}
	var r *mailauth.AuditResult
	if _, err := a.Run(ctx, []mailauth.AuditCustomer{c}, func(x *mailauth.AuditResult) { r = x }); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "%s: %s\n%s\n", pos[0], r.Status, r.Reason)
	for _, d := range []*mailauth.Decision{r.Decision, r.Report} {
		if d != nil {
			fmt.Fprintf(stdout, "\n%s", d)
		}
	}
	if n := a.Notice(r); n != "" {
		fmt.Fprintf(stdout, "\nThe notice for %s:\n\n%s", pos[0], n)
	}
	if !r.Status.Ready() {
		return exitNotReady
	}
	return exitReady
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
	dns.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, "preflight spf: want DOMAIN and IP")
		fs.Usage()
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
