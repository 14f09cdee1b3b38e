package mailauth_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// preflightZones is the DNS of the preflight tests: a customer domain with
// p=reject, an ESP, a public suffix operator, a strict domain and a slow
// one.
var preflightZones = mailauthtest.Zones{
	"example.com":                {mailauthtest.TXT("v=spf1 ip4:192.0.2.0/24 -all")},
	"_dmarc.example.com":         {mailauthtest.TXT("v=DMARC1; p=reject; rua=mailto:dmarc@example.com")},
	"bounce.example.com":         {mailauthtest.TXT("v=spf1 ip4:192.0.2.0/24 -all")},
	"s1._domainkey.example.com":  {mailauthtest.TXT("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")},
	"old._domainkey.example.com": {mailauthtest.TXT("v=DKIM1; k=rsa; p=")},
	"esp.example":                {mailauthtest.TXT("v=spf1 ip4:198.51.100.0/24 -all")},

	"_dmarc.bank.example":       {mailauthtest.TXT("v=DMARC1; p=reject; psd=y")},
	"_dmarc.giant.bank.example": {mailauthtest.TXT("v=DMARC1; p=quarantine")},
	"mail.mega.bank.example":    {mailauthtest.TXT("v=spf1 ip4:198.51.100.0/24 -all")},

	"_dmarc.strict.example": {mailauthtest.TXT("v=DMARC1; p=reject; aspf=s; adkim=s")},
	"bounce.strict.example": {mailauthtest.TXT("v=spf1 ip4:192.0.2.0/24 -all")},

	"_dmarc.slow.example": {mailauthtest.Timeout()},
	"slow.example":        {mailauthtest.TXT("v=spf1 ip4:192.0.2.0/24 -all")},
}

var (
	platformIP = netip.MustParseAddr("192.0.2.25")
	espIP      = netip.MustParseAddr("198.51.100.7")
	strangerIP = netip.MustParseAddr("203.0.113.9")
)

func TestPreflight(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, preflightZones)
	p, err := mailauth.NewPreflight(mailauth.PreflightConfig{Resolver: srv.Resolver(t)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		in        mailauth.PreflightInput
		pass      bool
		delivered bool
		differ    bool
		r7489     dmarc.Result
		r9989     dmarc.Result
		fixes     []string // substrings, each must be in some fix
		report    []string // substrings of String()
	}{
		{name: "aligned spf", in: mailauth.PreflightInput{From: "Alerts <alerts@example.com>", IP: platformIP, MailFrom: "bounce@bounce.example.com", HELO: "mta.example.com"},
			pass: true, delivered: true, r7489: dmarc.Pass, r9989: dmarc.Pass,
			report: []string{"pass with both", "SPF for bounce.example.com: pass", "v=spf1 ip4:192.0.2.0/24 -all", "DKIM: no signature planned"}},
		{name: "bare domain", in: mailauth.PreflightInput{From: "example.com", IP: platformIP, MailFrom: "example.com"},
			pass: true, delivered: true, r7489: dmarc.Pass, r9989: dmarc.Pass},
		{name: "esp envelope unsigned", in: mailauth.PreflightInput{From: "alerts@example.com", IP: espIP, MailFrom: "b@esp.example"},
			r7489: dmarc.Fail, r9989: dmarc.Fail,
			fixes:  []string{"SPF passes for esp.example, which is not aligned with example.com", "sign with DKIM as d=example.com"},
			report: []string{"fail, disposition reject, with both", "To fix:"}},
		{name: "esp envelope signed by the domain", in: mailauth.PreflightInput{From: "alerts@example.com", IP: espIP, MailFrom: "b@esp.example",
			DKIM: []mailauth.Signing{{Domain: "example.com", Selector: "s1"}}},
			pass: true, delivered: true, r7489: dmarc.Pass, r9989: dmarc.Pass,
			report: []string{"d=example.com s=s1: pass (key published at s1._domainkey.example.com)"}},
		{name: "esp signing its own domain", in: mailauth.PreflightInput{From: "alerts@example.com", IP: espIP, MailFrom: "b@esp.example",
			DKIM: []mailauth.Signing{{Domain: "esp.example"}}},
			r7489: dmarc.Fail, r9989: dmarc.Fail, fixes: []string{"the DKIM signature d=esp.example is not aligned with example.com", "sign as d=example.com"}},
		{name: "key not published", in: mailauth.PreflightInput{From: "alerts@example.com", IP: espIP, MailFrom: "b@esp.example",
			DKIM: []mailauth.Signing{{Domain: "example.com", Selector: "missing"}}},
			r7489: dmarc.Fail, r9989: dmarc.Fail, fixes: []string{"publish the public key at missing._domainkey.example.com"}},
		{name: "key revoked", in: mailauth.PreflightInput{From: "alerts@example.com", IP: espIP, MailFrom: "b@esp.example",
			DKIM: []mailauth.Signing{{Domain: "example.com", Selector: "old"}}},
			r7489: dmarc.Fail, r9989: dmarc.Fail, fixes: []string{"no public key", "old._domainkey.example.com"}},
		{name: "spf fail aligned", in: mailauth.PreflightInput{From: "alerts@example.com", IP: strangerIP, MailFrom: "bounce@example.com"},
			r7489: dmarc.Fail, r9989: dmarc.Fail, fixes: []string{"SPF gives fail for example.com: add ip4:203.0.113.9 to the SPF record of example.com"}},
		{name: "generations differ", in: mailauth.PreflightInput{From: "alerts@giant.bank.example", IP: espIP, MailFrom: "b@mail.mega.bank.example"},
			differ: true, r7489: dmarc.Pass, r9989: dmarc.Fail,
			fixes:  []string{"not aligned with giant.bank.example (RFC 9989 receivers"},
			report: []string{"receivers disagree: RFC 7489 pass (disposition none), RFC 9989 fail (disposition quarantine)"}},
		{name: "strict alignment", in: mailauth.PreflightInput{From: "alerts@strict.example", IP: platformIP, MailFrom: "b@bounce.strict.example"},
			r7489: dmarc.Fail, r9989: dmarc.Fail, fixes: []string{"exactly (strict alignment)"}},
		{name: "dns timeout", in: mailauth.PreflightInput{From: "alerts@slow.example", IP: strangerIP, MailFrom: "b@slow.example"},
			delivered: true, r7489: dmarc.TempError, r9989: dmarc.TempError, fixes: []string{"DNS failure"}},
		{name: "no dmarc record", in: mailauth.PreflightInput{From: "alerts@esp.example", IP: strangerIP, MailFrom: "b@esp.example"},
			delivered: true, r7489: dmarc.None, r9989: dmarc.None, fixes: []string{"publish one at _dmarc.esp.example"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := p.Check(context.Background(), c.in)
			if err != nil {
				t.Fatalf("Check(%q) error: %v", c.in.From, err)
			}
			if r.Pass() != c.pass || r.Delivered() != c.delivered || r.Differ != c.differ ||
				r.RFC7489.Result != c.r7489 || r.RFC9989.Result != c.r9989 {
				t.Errorf("Check(%q) = pass %v, delivered %v, differ %v, %s/%s; want %v, %v, %v, %s/%s\n%v",
					c.in.From, r.Pass(), r.Delivered(), r.Differ, r.RFC7489.Result, r.RFC9989.Result,
					c.pass, c.delivered, c.differ, c.r7489, c.r9989, r)
			}
			if c.pass && len(r.Fixes) != 0 {
				t.Errorf("Check(%q).Fixes = %q; want none for a pass", c.in.From, r.Fixes)
			}
			for _, want := range c.fixes {
				found := false
				for _, f := range r.Fixes {
					found = found || strings.Contains(f, want)
				}
				if !found {
					t.Errorf("Check(%q).Fixes = %q; want one containing %q", c.in.From, r.Fixes, want)
				}
			}
			s := r.String()
			for _, want := range c.report {
				if !strings.Contains(s, want) {
					t.Errorf("Check(%q).String() lacks %q:\n%s", c.in.From, want, s)
				}
			}
		})
	}
}

func TestPreflightRejectsInput(t *testing.T) {
	t.Parallel()
	p, err := mailauth.NewPreflight(mailauth.PreflightConfig{Resolver: mailauthtest.NewResolver(preflightZones)})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []mailauth.PreflightInput{
		{From: "", IP: platformIP},
		{From: "a@example.com, b@example.net", IP: platformIP},
		{From: "alerts@example.com"},
	} {
		if _, err := p.Check(context.Background(), in); !errors.Is(err, mailauth.ErrPreflightInput) {
			t.Errorf("Check(From %q, IP %v) error = %v; want ErrPreflightInput", in.From, in.IP, err)
		}
	}
}

func netipAddr(t testing.TB, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// BenchmarkPreflight is one preflight (SPF, a key lookup, both DMARC
// generations) over an in-memory resolver.
func BenchmarkPreflight(b *testing.B) {
	p, err := mailauth.NewPreflight(mailauth.PreflightConfig{Resolver: mailauthtest.NewResolver(preflightZones)})
	if err != nil {
		b.Fatal(err)
	}
	in := mailauth.PreflightInput{From: "alerts@example.com", IP: espIP, MailFrom: "b@esp.example",
		DKIM: []mailauth.Signing{{Domain: "example.com", Selector: "s1"}}}
	b.ReportAllocs()
	for b.Loop() {
		r, err := p.Check(context.Background(), in)
		if err != nil || !r.Pass() {
			b.Fatalf("Check = %v, %v; want pass", r, err)
		}
	}
}

func TestPreflightMessage(t *testing.T) {
	t.Parallel()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	zones, signer := signedZones(t, key)
	srv := mailauthtest.NewServer(t, zones)
	p, err := mailauth.NewPreflight(mailauth.PreflightConfig{Resolver: srv.Resolver(t)})
	if err != nil {
		t.Fatal(err)
	}
	signed := signMessage(t, signer, received)
	cases := []struct {
		name string
		msg  []byte
		pass bool
		fix  string
	}{
		{"signed", signed, true, ""},
		{"changed after signing", bytes.Replace(signed, []byte("Three new"), []byte("Thirty new"), 1), false,
			"the message's DKIM signature d=example.com s=k1 does not verify (signature in the message: signature d=example.com s=k1: body hash did not verify"},
		{"unsigned", []byte(received), false, "sign with DKIM as d=example.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := p.Check(context.Background(), mailauth.PreflightInput{Message: c.msg, IP: espIP, MailFrom: "b@esp.example"})
			if err != nil {
				t.Fatalf("Check(%s) error: %v", c.name, err)
			}
			if r.AuthorDomain != "example.com" || r.Pass() != c.pass {
				t.Errorf("Check(%s) = %s pass %v; want example.com pass %v\n%v", c.name, r.AuthorDomain, r.Pass(), c.pass, r)
			}
			if c.fix != "" && !strings.Contains(strings.Join(r.Fixes, "\n"), c.fix) {
				t.Errorf("Check(%s).Fixes = %q; want one containing %q", c.name, r.Fixes, c.fix)
			}
		})
	}
}

// TestPreflightInternationalized gives every domain as U-labels: they are
// checked as the A-labels DNS holds.
func TestPreflightInternationalized(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, mailauthtest.Zones{
		"xn--bcher-kva.example":               {mailauthtest.TXT("v=spf1 ip4:192.0.2.0/24 -all")},
		"_dmarc.xn--bcher-kva.example":        {mailauthtest.TXT("v=DMARC1; p=reject; aspf=s; adkim=s")},
		"s1._domainkey.xn--bcher-kva.example": {mailauthtest.TXT("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")},
	})
	p, err := mailauth.NewPreflight(mailauth.PreflightConfig{Resolver: srv.Resolver(t)})
	if err != nil {
		t.Fatal(err)
	}
	signing := []mailauth.Signing{{Domain: "Bücher.example", Selector: "s1"}}
	r, err := p.Check(context.Background(), mailauth.PreflightInput{
		From: "Alerts <alerts@Bücher.example>", IP: platformIP,
		MailFrom: "<bounce@bücher.example>", HELO: "bücher.example", DKIM: signing,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Pass() || r.AuthorDomain != "xn--bcher-kva.example" || r.SPFDomain != "xn--bcher-kva.example" ||
		len(r.DKIM) != 1 || r.DKIM[0].Domain != "xn--bcher-kva.example" || r.DKIM[0].Result != "pass" {
		t.Errorf("Check(U-labels) = %v; want a pass for xn--bcher-kva.example by SPF and DKIM", r)
	}
	if signing[0].Domain != "Bücher.example" {
		t.Errorf("Check modified the caller's Signing: %q", signing[0].Domain)
	}
	for _, in := range []mailauth.PreflightInput{
		{From: "bücher.example", IP: platformIP, MailFrom: "a@xn--zz.example"},
		{From: "bücher.example", IP: platformIP, HELO: "bü cher.example"},
		{From: "bücher.example", IP: platformIP, DKIM: []mailauth.Signing{{Domain: "-bücher.example"}}},
		{From: "bücher.example", IP: platformIP, DKIM: []mailauth.Signing{{Selector: "s1"}}},
	} {
		if _, err := p.Check(context.Background(), in); !errors.Is(err, mailauth.ErrPreflightInput) {
			t.Errorf("Check(%+v) error = %v; want ErrPreflightInput", in, err)
		}
	}
}
