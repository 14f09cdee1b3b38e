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
		return 2
	}
	var msg []byte
	if *message != "" {
		b, err := os.ReadFile(*message)
		if err != nil {
			fmt.Fprintf(stderr, "preflight: -message: %v\n", err)
			return 2
		}
		msg = b
	}
	if *from == "" && msg == nil || *ip == "" {
		fmt.Fprintln(stderr, "preflight: -ip and -from (or -message) are required")
		fs.Usage()
		return 2
	}
	addr, err := netip.ParseAddr(*ip)
	if err != nil {
		fmt.Fprintf(stderr, "preflight: -ip: %v\n", err)
		return 2
	}
	envelope := *mailFrom
	switch envelope {
	case "":
		f := *from
		if f == "" {
			f = headerFrom(msg)
		}
		envelope = "postmaster@" + authorDomain(f)
	case "<>":
		envelope = ""
	}

	cfg := dnsclient.Config{CacheEntries: 256}
	if *server != "" {
		cfg.Servers = []string{*server}
	}
	res, err := dnsclient.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "preflight: %v\n", err)
		return 2
	}
	p, err := mailauth.NewPreflight(mailauth.PreflightConfig{Resolver: res})
	if err != nil {
		fmt.Fprintf(stderr, "preflight: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	report, err := p.Check(ctx, mailauth.PreflightInput{From: *from, Message: msg, IP: addr, MailFrom: envelope, HELO: *helo, DKIM: dkim})
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
