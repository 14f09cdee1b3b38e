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

// auditCommand is "preflight audit": it reads the customers, audits them,
// prints the summary, writes the results and the notices, and exits 0 only
// when every customer is ready.
func auditCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("preflight audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	platform := fs.String("platform", "", "the platform file, YAML or JSON (required)")
	customersPath := fs.String("customers", "", `the customer file, CSV or JSON by its extension or -format; "-" for stdin (required)`)
	format := fs.String("format", "", "the customer file's format, csv or json; default: its extension")
	csvOut := fs.String("csv", "", `write the results as CSV to this file ("-" for stdout)`)
	jsonOut := fs.String("json", "", `write the results as JSON to this file ("-" for stdout)`)
	notices := fs.String("notices", "", "write a notice for each customer who must change something into this directory")
	workers := fs.Int("workers", mailauth.DefaultAuditWorkers, "customers checked at once")
	rate := fs.Float64("rate", 0, "most DNS queries per second; 0: no limit")
	customerTimeout := fs.Duration("customer-timeout", mailauth.DefaultCustomerTimeout, "time allowed for one customer's checks")
	noCache := fs.Bool("no-cache", false, "ask the DNS server every time instead of once per name")
	var dns dnsFlags
	dns.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if *platform == "" || *customersPath == "" || len(pos) > 0 {
		fmt.Fprintln(stderr, "preflight audit: -platform and -customers are required, and nothing else")
		fs.Usage()
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "preflight audit: %v\n", err)
		return exitUsage
	}

	a, cfg, err := newAudit(*platform, dns, func(cfg *mailauth.AuditConfig) {
		cfg.Workers, cfg.QueryRate, cfg.CustomerTimeout, cfg.NoCache = *workers, *rate, *customerTimeout, *noCache
	})
	if err != nil {
		return fail(err)
	}

	customers, bad, err := readCustomers(*customersPath, *format)
	for _, e := range bad {
		fmt.Fprintf(stderr, "preflight audit: %s: %s\n", *customersPath, strings.TrimPrefix(e.Error(), "mailauth: customers "))
	}
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *customersPath, err))
	}

	bar := progressBar(stderr, len(customers))
	var results []*mailauth.AuditResult
	start := time.Now()
	sum, runErr := a.Run(ctx, customers, func(r *mailauth.AuditResult) {
		results = append(results, r)
		if bar != nil {
			bar.Add(1)
		}
	})
	elapsed := time.Since(start)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(stderr)
	}
	if sum == nil {
		return fail(runErr)
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "preflight audit: stopped after %d of %d customers: %v\n", len(results), len(customers), runErr)
	}
	slices.SortStableFunc(results, func(x, y *mailauth.AuditResult) int { return x.Customer.Line - y.Customer.Line })

	summaryTo := stdout
	if *csvOut == "-" || *jsonOut == "-" {
		summaryTo = stderr
	}
	printSummary(summaryTo, sum, len(bad), elapsed, cfg.Policy.PlatformDomain)
	for _, out := range []struct {
		path   string
		format mailauth.AuditFormat
	}{{*csvOut, mailauth.AuditCSV}, {*jsonOut, mailauth.AuditJSON}} {
		if out.path != "" {
			if err := writeResults(out.path, out.format, results, stdout); err != nil {
				return fail(err)
			}
		}
	}
	if *notices != "" {
		n, err := writeNotices(*notices, a, results)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(summaryTo, "%d notices written to %s\n", n, *notices)
	}
	if runErr != nil || len(bad) > 0 || !sum.Ready() {
		return exitNotReady
	}
	return exitReady
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
