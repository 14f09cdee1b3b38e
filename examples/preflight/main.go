package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/dnsclient"
)

// signings collects repeated -dkim domain[:selector] flags.
type signings []mailauth.Signing

func (s *signings) String() string {
	parts := make([]string, len(*s))
	for i, x := range *s {
		parts[i] = x.Domain + ":" + x.Selector
	}
	return strings.Join(parts, ",")
}

func (s *signings) Set(v string) error {
	d, sel, _ := strings.Cut(v, ":")
	if d == "" {
		return errors.New("want domain or domain:selector")
	}
	*s = append(*s, mailauth.Signing{Domain: d, Selector: sel})
	return nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: it writes the report to stdout, errors to stderr,
// and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return subcommand(args, stdout, stderr)
	}
	opts, ok := parseArgs(args, stderr)
	if !ok {
		return 2
	}
	report, err := preflight(opts)
	if err != nil {
		fmt.Fprintf(stderr, "preflight: %v\n", err)
		return 2
	}
	fmt.Fprint(stdout, report)
	if !report.Pass() {
		return 1
	}
	return 0
}

// options are the command's checked flags.
type options struct {
	input   mailauth.PreflightInput
	server  string // DNS server host:port; empty for resolv.conf's
	timeout time.Duration
}

// parseArgs reads the flags; when they are wrong it says why on stderr and
// reports false.
func parseArgs(args []string, stderr io.Writer) (options, bool) {
	fs := flag.NewFlagSet("preflight", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "From header value or author domain (required unless -message is given)")
	message := fs.String("message", "", "file holding the message (header and body); its From and DKIM signatures are used")
	ip := fs.String("ip", "", "IP address the message leaves from (required)")
	mailFrom := fs.String("mailfrom", "", "envelope sender (MAIL FROM); default: postmaster@ the From domain; \"<>\" for the null sender")
	helo := fs.String("helo", "", "EHLO name of the sending host")
	server := fs.String("server", "", "DNS server host:port; default: those of /etc/resolv.conf")
	timeout := fs.Duration("timeout", 10*time.Second, "time allowed for the whole check")
	var dkim signings
	fs.Var(&dkim, "dkim", "planned DKIM signature as domain[:selector]; repeatable; with a selector the key is looked up")
	if err := fs.Parse(args); err != nil {
		return options{}, false
	}
	var msg []byte
	if *message != "" {
		b, err := os.ReadFile(*message)
		if err != nil {
			fmt.Fprintf(stderr, "preflight: -message: %v\n", err)
			return options{}, false
		}
		msg = b
	}
	if *from == "" && msg == nil || *ip == "" {
		fmt.Fprintln(stderr, "preflight: -ip and -from (or -message) are required")
		fs.Usage()
		return options{}, false
	}
	addr, err := netip.ParseAddr(*ip)
	if err != nil {
		fmt.Fprintf(stderr, "preflight: -ip: %v\n", err)
		return options{}, false
	}
	in := mailauth.PreflightInput{From: *from, Message: msg, IP: addr, MailFrom: envelope(*mailFrom, *from, msg), HELO: *helo, DKIM: dkim}
	return options{input: in, server: *server, timeout: *timeout}, true
}

// envelope returns the envelope sender for the -mailfrom flag: by default
// postmaster@ the From domain (of -from, or of the message), "" for "<>".
func envelope(mailFrom, from string, msg []byte) string {
	switch mailFrom {
	case "":
		if from == "" {
			from = headerFrom(msg)
		}
		return "postmaster@" + authorDomain(from)
	case "<>":
		return ""
	}
	return mailFrom
}

// preflight runs the check of opts against DNS.
func preflight(opts options) (*mailauth.PreflightReport, error) {
	cfg := dnsclient.Config{CacheEntries: 256}
	if opts.server != "" {
		cfg.Servers = []string{opts.server}
	}
	res, err := dnsclient.New(cfg)
	if err != nil {
		return nil, err
	}
	p, err := mailauth.NewPreflight(mailauth.PreflightConfig{Resolver: res})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()
	return p.Check(ctx, opts.input)
}

// authorDomain takes the domain out of a From value for the default
// envelope sender; the preflight itself parses From properly.
func authorDomain(from string) string {
	from = strings.TrimSpace(from)
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		from = from[i+1:]
	}
	return strings.TrimRight(from, "> ")
}

// headerFrom returns the first From header field value of msg, unfolded
// enough for authorDomain.
func headerFrom(msg []byte) string {
	for line := range strings.SplitSeq(string(msg), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "From") {
			return v
		}
	}
	return ""
}
