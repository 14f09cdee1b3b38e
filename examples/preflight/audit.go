package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/dnsclient"
)

// Exit codes of the subcommands.
const (
	exitReady    = 0 // everything checked is ready
	exitNotReady = 1 // some customer must change something, or could not be checked
	exitUsage    = 2 // bad usage or input
)

// subcommand runs the subcommand args[0] ("audit", "check", "spf") and
// returns the exit code.
func subcommand(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch args[0] {
	case "audit":
		return auditCommand(ctx, args[1:], stdout, stderr)
	case "check":
		return checkCommand(ctx, args[1:], stdout, stderr)
	case "spf":
		return spfCommand(ctx, args[1:], stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return exitReady
	}
	fmt.Fprintf(stderr, "preflight: unknown subcommand %q\n%s", args[0], usage)
	return exitUsage
}

const usage = `usage:
  preflight -from FROM -ip IP [flags]         the DMARC preflight of one message
  preflight audit -platform FILE -customers FILE [flags]
                                              audit every customer before a migration
  preflight check -platform FILE [flags] DOMAIN|ADDRESS
                                              audit one customer's sender
  preflight spf [flags] DOMAIN IP             the SPF verdict for IP, with its tree
Run a subcommand with -h for its flags.
`

// dnsFlags are the DNS settings every subcommand takes.
type dnsFlags struct {
	server  string
	timeout time.Duration
}

func (d *dnsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.server, "server", "", "DNS server host:port; default: those of /etc/resolv.conf")
	fs.DurationVar(&d.timeout, "dns-timeout", dnsclient.DefaultTimeout, "time allowed for one DNS query")
}

func (d *dnsFlags) resolver() (*dnsclient.Resolver, error) {
	cfg := dnsclient.Config{Timeout: d.timeout}
	if d.server != "" {
		cfg.Servers = []string{d.server}
	}
	return dnsclient.New(cfg)
}

// parseInterspersed parses fs from args, flags before or after the
// positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseFlags registers the DNS flags on fs and parses args, flags before or
// after the positional arguments, which it returns. When the flags do not
// parse, it returns false; when valid refuses the flags' values or the
// positional arguments, it also prints complaint and the usage on fs's
// output.
func parseFlags(fs *flag.FlagSet, dns *dnsFlags, args []string, complaint string, valid func(pos []string) bool) ([]string, bool) {
	dns.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, false
	}
	if !valid(pos) {
		fmt.Fprintln(fs.Output(), complaint)
		fs.Usage()
		return nil, false
	}
	return pos, true
}

// newAudit reads the platform file at path into an audit configuration
// that asks dns, lets edit change it, and returns the audit made of it.
func newAudit(path string, dns dnsFlags, edit func(*mailauth.AuditConfig)) (*mailauth.Audit, mailauth.AuditConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, mailauth.AuditConfig{}, err
	}
	defer f.Close()
	pc, contact, err := readPlatform(f)
	if err != nil {
		return nil, mailauth.AuditConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	cfg := mailauth.AuditConfig{Policy: pc, Contact: contact}
	if cfg.Policy.Resolver, err = dns.resolver(); err != nil {
		return nil, cfg, err
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := mailauth.NewAudit(cfg)
	if err != nil {
		return nil, cfg, fmt.Errorf("%s: %w", path, err)
	}
	return a, cfg, nil
}

// auditOptions are the flags of "preflight audit".
type auditOptions struct {
	platform, customers, format string
	csvOut, jsonOut, notices    string
	workers                     int
	rate                        float64
	customerTimeout             time.Duration
	noCache                     bool
	dns                         dnsFlags
}

// auditCommand is "preflight audit": it reads the customers, audits them,
// prints the summary, writes the results and the notices, and exits 0 only
// when every customer is ready.
func auditCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, ok := parseAuditFlags(args, stderr)
	if !ok {
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "preflight audit: %v\n", err)
		return exitUsage
	}
	a, cfg, err := newAudit(o.platform, o.dns, o.configure)
	if err != nil {
		return fail(err)
	}
	customers, bad, err := readCustomers(o.customers, o.format)
	for _, e := range bad {
		fmt.Fprintf(stderr, "preflight audit: %s: %s\n", o.customers, strings.TrimPrefix(e.Error(), "mailauth: customers "))
	}
	if err != nil {
		return fail(fmt.Errorf("%s: %w", o.customers, err))
	}
	run := runAudit(ctx, a, customers, stderr)
	if run.sum == nil {
		return fail(run.err)
	}
	summaryTo := o.summaryWriter(stdout, stderr)
	printSummary(summaryTo, run.sum, len(bad), run.elapsed, cfg.Policy.PlatformDomain)
	if err := o.writeOutputs(a, run.results, stdout, summaryTo); err != nil {
		return fail(err)
	}
	if run.err != nil || len(bad) > 0 || !run.sum.Ready() {
		return exitNotReady
	}
	return exitReady
}

// parseAuditFlags parses the flags of "preflight audit"; it returns false,
// having said why on stderr, when they are not usable.
func parseAuditFlags(args []string, stderr io.Writer) (auditOptions, bool) {
	var o auditOptions
	fs := flag.NewFlagSet("preflight audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.platform, "platform", "", "the platform file, YAML or JSON (required)")
	fs.StringVar(&o.customers, "customers", "", `the customer file, CSV or JSON by its extension or -format; "-" for stdin (required)`)
	fs.StringVar(&o.format, "format", "", "the customer file's format, csv or json; default: its extension")
	fs.StringVar(&o.csvOut, "csv", "", `write the results as CSV to this file ("-" for stdout)`)
	fs.StringVar(&o.jsonOut, "json", "", `write the results as JSON to this file ("-" for stdout)`)
	fs.StringVar(&o.notices, "notices", "", "write a notice for each customer who must change something into this directory")
	fs.IntVar(&o.workers, "workers", mailauth.DefaultAuditWorkers, "customers checked at once")
	fs.Float64Var(&o.rate, "rate", 0, "most DNS queries per second; 0: no limit")
	fs.DurationVar(&o.customerTimeout, "customer-timeout", mailauth.DefaultCustomerTimeout, "time allowed for one customer's checks")
	fs.BoolVar(&o.noCache, "no-cache", false, "ask the DNS server every time instead of once per name")
	_, ok := parseFlags(fs, &o.dns, args, "preflight audit: -platform and -customers are required, and nothing else", func(pos []string) bool {
		return o.platform != "" && o.customers != "" && len(pos) == 0
	})
	return o, ok
}

// configure puts the options' audit settings into cfg.
func (o *auditOptions) configure(cfg *mailauth.AuditConfig) {
	cfg.Workers, cfg.QueryRate, cfg.CustomerTimeout, cfg.NoCache = o.workers, o.rate, o.customerTimeout, o.noCache
}

// summaryWriter returns where the summary goes: stderr when the results
// are written to stdout, so that they can be piped.
func (o *auditOptions) summaryWriter(stdout, stderr io.Writer) io.Writer {
	if o.csvOut == "-" || o.jsonOut == "-" {
		return stderr
	}
	return stdout
}

// writeOutputs writes the results as CSV and JSON and the notices, those
// the options ask for, and says on summaryTo how many notices it wrote.
func (o *auditOptions) writeOutputs(a *mailauth.Audit, results []*mailauth.AuditResult, stdout, summaryTo io.Writer) error {
	for _, out := range []struct {
		path   string
		format mailauth.AuditFormat
	}{{o.csvOut, mailauth.AuditCSV}, {o.jsonOut, mailauth.AuditJSON}} {
		if out.path != "" {
			if err := writeResults(out.path, out.format, results, stdout); err != nil {
				return err
			}
		}
	}
	if o.notices == "" {
		return nil
	}
	n, err := writeNotices(o.notices, a, results)
	if err != nil {
		return err
	}
	fmt.Fprintf(summaryTo, "%d notices written to %s\n", n, o.notices)
	return nil
}

// auditRun is what an audit's run gave.
type auditRun struct {
	results []*mailauth.AuditResult // in the customer file's order
	sum     *mailauth.AuditSummary  // nil when the audit could not start
	err     error                   // why it stopped early, or could not start
	elapsed time.Duration
}

// runAudit audits the customers with a progress bar on stderr, saying there
// when the run stopped early.
func runAudit(ctx context.Context, a *mailauth.Audit, customers []mailauth.AuditCustomer, stderr io.Writer) auditRun {
	var run auditRun
	bar := progressBar(stderr, len(customers))
	start := time.Now()
	run.sum, run.err = a.Run(ctx, customers, func(r *mailauth.AuditResult) {
		run.results = append(run.results, r)
		if bar != nil {
			bar.Add(1)
		}
	})
	run.elapsed = time.Since(start)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(stderr)
	}
	if run.sum == nil {
		return run
	}
	if run.err != nil {
		fmt.Fprintf(stderr, "preflight audit: stopped after %d of %d customers: %v\n", len(run.results), len(customers), run.err)
	}
	slices.SortStableFunc(run.results, func(x, y *mailauth.AuditResult) int { return x.Customer.Line - y.Customer.Line })
	return run
}

// readCustomers reads the customer file at path ("-" for stdin), in format
// or, by default, the format its extension names.
func readCustomers(path, format string) ([]mailauth.AuditCustomer, []*mailauth.AuditInputError, error) {
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	}
	f := mailauth.AuditFormat(format)
	if f != mailauth.AuditCSV && f != mailauth.AuditJSON {
		return nil, nil, fmt.Errorf("cannot tell the format (%q): name the file .csv or .json, or give -format", format)
	}
	var r io.Reader = os.Stdin
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		defer file.Close()
		r = file
	}
	return mailauth.ReadAuditCustomers(r, f)
}

// progressBar returns a bar on w for n customers when w is a terminal, and
// nil otherwise: a bar redrawn with carriage returns garbles a log file.
func progressBar(w io.Writer, n int) *progressbar.ProgressBar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || n == 0 {
		return nil
	}
	return progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("auditing"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("customers"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
	)
}

// printSummary prints the table of statuses: how many customers have each,
// and what they must do.
func printSummary(w io.Writer, sum *mailauth.AuditSummary, badRows int, elapsed time.Duration, platform string) {
	todo := map[mailauth.AuditStatus]string{
		mailauth.AuditReady:           "nothing",
		mailauth.AuditPrivateCloud:    "nothing: their own gateway sends",
		mailauth.AuditNeedsAllowList:  "allow-list *@" + platform + " under strict DMARC",
		mailauth.AuditNeedsSPF:        "publish the merged SPF record",
		mailauth.AuditOverLookupLimit: "flatten SPF includes, then add the platform",
		mailauth.AuditReportTrap:      "send scheduled reports from the platform",
		mailauth.AuditDNSError:        "nothing yet: audit again",
		mailauth.AuditInvalid:         "correct the customer's configuration",
	}
	const row = "%-22s %9v  %s\n"
	fmt.Fprintf(w, row, "status", "customers", "to do")
	for _, st := range mailauth.AuditStatuses() {
		fmt.Fprintf(w, row, st, sum.Counts[st], todo[st])
	}
	if badRows > 0 {
		fmt.Fprintf(w, row, "unreadable rows", badRows, "correct the customer file")
	}
	fmt.Fprintf(w, "%-22s %9v\n", "total", sum.Customers+badRows)
	perCustomer := 0.0
	if sum.Customers > 0 {
		perCustomer = float64(sum.Queries) / float64(sum.Customers)
	}
	fmt.Fprintf(w, "%d customers audited in %v, %d DNS queries (%.1f per customer)\n",
		sum.Customers, elapsed.Round(time.Millisecond), sum.Queries, perCustomer)
}

// writeResults writes the results to path ("-": stdout).
func writeResults(path string, format mailauth.AuditFormat, results []*mailauth.AuditResult, stdout io.Writer) error {
	if path == "-" {
		return mailauth.WriteAuditResults(stdout, format, results)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := mailauth.WriteAuditResults(f, format, results); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeNotices writes the notice of each customer who must change
// something into dir, as <tenant>.txt, and returns how many. Tenants are
// made into safe file names, and the files cannot land outside dir.
func writeNotices(dir string, a *mailauth.Audit, results []*mailauth.AuditResult) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	used := make(map[string]bool)
	n := 0
	for _, r := range results {
		text := a.Notice(r)
		if text == "" {
			continue
		}
		name := noticeName(r.Customer.Tenant)
		if used[strings.ToLower(name)] {
			name = fmt.Sprintf("%s-line%d", name, r.Customer.Line)
		}
		used[strings.ToLower(name)] = true
		if err := root.WriteFile(name+".txt", []byte(text), 0o644); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// noticeName makes a tenant into a file name: letters, digits, '-', '_'
// and '.', not starting with a dot.
func noticeName(tenant string) string {
	b := []byte(tenant)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	name := string(b)
	if name == "" || name[0] == '.' {
		name = "_" + name
	}
	return name[:min(len(name), 200)]
}
