package spf_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
	"github.com/alertmail/alertmail/mailauth/spf"
)

func checkerZones() mailauthtest.Zones {
	txt := mailauthtest.TXT
	z := mailauthtest.Zones{
		"pass.example":             {txt("v=spf1 ip4:192.0.2.0/24 -all"), txt("unrelated")},
		"red.example":              {txt("v=spf1 redirect=pass.example exp=ignored.example")},
		"expd.example":             {txt("v=spf1 -all exp=why.expd.example")},
		"why.expd.example":         {txt("%{i} is not welcome at %{d} (%{l})")},
		"two.example":              {txt("v=spf1 -all"), txt("v=spf1 +all")},
		"syntax.example":           {txt("v=spf1 ip4:192.0.2.1 a:museum -all")},
		"void.example":             {txt("v=spf1 a:n1.example mx:n2.example exists:n3.example -all")},
		"timeout.example":          {txt("v=spf1 ip4:192.0.2.1 a:slow.example -all")},
		"slow.example":             {mailauthtest.Timeout()},
		"incnone.example":          {txt("v=spf1 include:nothing.example -all")},
		"mx11.example":             {txt("v=spf1 mx -all")},
		"limit.example":            {txt("v=spf1 " + strings.Repeat("include:fail.example ", 10) + "include:pass.example -all")},
		"fail.example":             {txt("v=spf1 -all")},
		"repeat.example":           {txt("v=spf1 note=a note=b ip4:192.0.2.0/24 -all")},
		"ipv6.example":             {txt("v=spf1 ip6:2001:db8::/32 a//64 -all"), mailauthtest.AAAA("2001:db8:ffff::1")},
		"mx.example":               {txt("v=spf1 mx/24 -all"), mailauthtest.MX(10, "mail.mx.example")},
		"mail.mx.example":          {mailauthtest.A("203.0.113.9")},
		"ptr.example":              {txt("v=spf1 ptr -all")},
		"9.113.0.203.in-addr.arpa": {mailauthtest.PTR("mail.mx.example"), mailauthtest.PTR("liar.example")},
		"liar.example":             {mailauthtest.A("203.0.113.9")},
	}
	for i := range 11 {
		z["mx11.example"] = append(z["mx11.example"], mailauthtest.MX(uint16(i), fmt.Sprintf("m%d.example", i)))
	}
	return z
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	checker, err := spf.New(spf.Config{Resolver: mailauthtest.NewResolver(checkerZones())})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip, domain string
		want       spf.Result
		match      string // matched term; empty: none
		errIs      error  // cause of permerror/temperror
		errTerm    string // offending term
		exp        string // explanation of a fail
		lookups    int
	}{
		{ip: "192.0.2.7", domain: "pass.example", want: spf.Pass, match: "ip4:192.0.2.0/24"},
		{ip: "::ffff:192.0.2.7", domain: "pass.example", want: spf.Pass, match: "ip4:192.0.2.0/24"},
		{ip: "198.51.100.1", domain: "pass.example", want: spf.Fail, match: "-all",
			exp: "198.51.100.1 is not one of pass.example's designated mail servers."},
		{ip: "198.51.100.1", domain: "red.example", want: spf.Fail, match: "-all", lookups: 1,
			exp: "198.51.100.1 is not one of pass.example's designated mail servers."},
		{ip: "198.51.100.1", domain: "expd.example", want: spf.Fail, match: "-all",
			exp: "198.51.100.1 is not welcome at expd.example (user)"},
		{ip: "192.0.2.7", domain: "two.example", want: spf.PermError, errIs: spf.ErrMultipleRecords},
		{ip: "192.0.2.1", domain: "syntax.example", want: spf.PermError, errIs: spf.ErrSyntax, errTerm: "a:museum"},
		{ip: "192.0.2.1", domain: "void.example", want: spf.PermError, errIs: spf.ErrVoidLimit, errTerm: "exists:n3.example", lookups: 3},
		{ip: "192.0.2.1", domain: "timeout.example", want: spf.Pass, match: "ip4:192.0.2.1"},
		{ip: "192.0.2.2", domain: "timeout.example", want: spf.TempError, errIs: spf.ErrDNS, errTerm: "a:slow.example", lookups: 1},
		{ip: "192.0.2.2", domain: "incnone.example", want: spf.PermError, errIs: spf.ErrNoRecord, errTerm: "include:nothing.example", lookups: 1},
		{ip: "192.0.2.2", domain: "mx11.example", want: spf.PermError, errIs: spf.ErrMXLimit, errTerm: "mx", lookups: 1},
		{ip: "192.0.2.2", domain: "limit.example", want: spf.PermError, errIs: spf.ErrLookupLimit, errTerm: "include:pass.example", lookups: 11},
		{ip: "2001:db8::1", domain: "ipv6.example", want: spf.Pass, match: "ip6:2001:db8::/32"},
		{ip: "2001:db9:ffff::2", domain: "ipv6.example", want: spf.Fail, match: "-all", lookups: 1,
			exp: "2001:db9:ffff::2 is not one of ipv6.example's designated mail servers."},
		{ip: "192.0.2.2", domain: "ipv6.example", want: spf.Fail, match: "-all", lookups: 1,
			exp: "192.0.2.2 is not one of ipv6.example's designated mail servers."},
		{ip: "203.0.113.200", domain: "mx.example", want: spf.Pass, match: "mx/24", lookups: 1},
		{ip: "203.0.113.9", domain: "ptr.example", want: spf.Fail, match: "-all", lookups: 1,
			exp: "203.0.113.9 is not one of ptr.example's designated mail servers."},
		// RFC 7208 section 6: unrecognized modifiers are ignored however
		// often they appear (pyspf 2.0.14 still applies RFC 4408's
		// at-most-once rule and says permerror).
		{ip: "192.0.2.1", domain: "repeat.example", want: spf.Pass, match: "ip4:192.0.2.0/24"},
		{ip: "192.0.2.1", domain: "nothing.example", want: spf.None},
		{ip: "192.0.2.1", domain: "single-label", want: spf.None},
		{ip: "192.0.2.1", domain: strings.Repeat("a", 64) + ".example", want: spf.None},
	}
	for _, tt := range tests {
		t.Run(tt.domain+"/"+tt.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.ip)
			got, x := checker.CheckHost(context.Background(), ip, tt.domain, "user@"+tt.domain, "helo.example")
			if got != tt.want || x.Result != got {
				t.Fatalf("CheckHost(%s, %q) = %s (explanation %s); want %s\n%s", ip, tt.domain, got, x.Result, tt.want, x)
			}
			gotMatch := ""
			if x.Match != nil {
				gotMatch = x.Match.Term.String()
			}
			if gotMatch != tt.match {
				t.Errorf("CheckHost(%s, %q) matched %q; want %q\n%s", ip, tt.domain, gotMatch, tt.match, x)
			}
			if tt.errIs != nil {
				if x.Err == nil || !errors.Is(x.Err, tt.errIs) || x.Err.Result != tt.want {
					t.Errorf("CheckHost(%s, %q) Err = %v; want %v\n%s", ip, tt.domain, x.Err, tt.errIs, x)
				} else if x.Err.Term != tt.errTerm {
					t.Errorf("CheckHost(%s, %q) Err.Term = %q; want %q", ip, tt.domain, x.Err.Term, tt.errTerm)
				}
			} else if x.Err != nil {
				t.Errorf("CheckHost(%s, %q) Err = %v; want nil", ip, tt.domain, x.Err)
			}
			if x.Exp != tt.exp {
				t.Errorf("CheckHost(%s, %q) Exp = %q; want %q", ip, tt.domain, x.Exp, tt.exp)
			}
			if x.Lookups != tt.lookups {
				t.Errorf("CheckHost(%s, %q) Lookups = %d; want %d\n%s", ip, tt.domain, x.Lookups, tt.lookups, x)
			}
			if x.IP != ip.Unmap() {
				t.Errorf("Explanation.IP = %s; want %s", x.IP, ip.Unmap())
			}
		})
	}
}

func TestCheckIdentities(t *testing.T) {
	t.Parallel()
	checker, err := spf.New(spf.Config{Resolver: mailauthtest.NewResolver(checkerZones())})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ip := netip.MustParseAddr("192.0.2.5")
	tests := []struct {
		name           string
		run            func() (spf.Result, *spf.Explanation)
		domain, sender string
	}{
		{"mailfrom", func() (spf.Result, *spf.Explanation) {
			return checker.CheckMailFrom(ctx, ip, "<bounce@pass.example>", "other.example")
		}, "pass.example", "bounce@pass.example"},
		{"null reverse-path", func() (spf.Result, *spf.Explanation) {
			return checker.CheckMailFrom(ctx, ip, "", "pass.example")
		}, "pass.example", "postmaster@pass.example"},
		{"no local-part", func() (spf.Result, *spf.Explanation) {
			return checker.CheckMailFrom(ctx, ip, "@pass.example", "other.example")
		}, "pass.example", "postmaster@pass.example"},
		{"helo", func() (spf.Result, *spf.Explanation) {
			return checker.CheckHELO(ctx, ip, "pass.example")
		}, "pass.example", "postmaster@pass.example"},
	}
	for _, tt := range tests {
		got, x := tt.run()
		if got != spf.Pass || x.Domain != tt.domain || x.Sender != tt.sender {
			t.Errorf("%s: result %s, domain %q, sender %q; want pass, %q, %q", tt.name, got, x.Domain, x.Sender, tt.domain, tt.sender)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	checker, err := spf.New(spf.Config{Resolver: mailauthtest.NewResolver(checkerZones())})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, x := checker.CheckHost(ctx, netip.MustParseAddr("192.0.2.1"), "pass.example", "a@pass.example", "h")
	if got != spf.TempError || !errors.Is(x.Err, context.Canceled) {
		t.Errorf("CheckHost(cancelled) = %s, %v; want temperror wrapping context.Canceled", got, x.Err)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg   spf.Config
		field string
	}{
		{spf.Config{LookupLimit: -1}, "Config.LookupLimit"},
		{spf.Config{VoidLimit: -1}, "Config.VoidLimit"},
		{spf.Config{MXLimit: -1}, "Config.MXLimit"},
		{spf.Config{PTRLimit: -1}, "Config.PTRLimit"},
		{spf.Config{DefaultExplanation: "%{x}"}, "Config.DefaultExplanation"},
		{spf.Config{ParseCache: -2}, "Config.ParseCache"},
	}
	for _, tt := range tests {
		if _, err := spf.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("New(%+v) error = %v; want one naming %s", tt.cfg, err, tt.field)
		}
	}
	if _, err := spf.New(spf.Config{}); err != nil {
		t.Errorf("New(zero Config) = %v; want a working default", err)
	}
}

// FuzzCheckHost evaluates hostile records (and senders) over a small zone:
// no panic, the limits hold, and every result comes with an explanation.
func FuzzCheckHost(f *testing.F) {
	for _, s := range []string{
		"v=spf1 include:self.example -all",
		"v=spf1 a:%{l}.%{d}.%{o} mx:%{ir}.x.example ptr exists:%{p}.x.example redirect=%{d}",
		"v=spf1 " + strings.Repeat("a:%{S}.%{L}.%{O}.%{H} ", 20),
		"v=spf1 -all exp=%{d}",
		"v=spf1 ?mx/0//0 ~a:self.example/0 ip6:::/0",
		"v=spf1" + strings.Repeat(" ip4:192.0.2.2", 4<<10) + " include:self.example",
		"v=spf1 exists:" + strings.Repeat("%{s}", 8<<10) + " -all",
	} {
		f.Add(s, "local@self.example", "192.0.2.1")
	}
	f.Fuzz(func(t *testing.T, record, sender, ip string) {
		addr, err := netip.ParseAddr(ip)
		if err != nil || len(record) > 64<<10 || len(sender) > 1<<10 {
			return
		}
		res := mailauthtest.NewResolver(mailauthtest.Zones{
			"self.example":           {mailauthtest.TXT(record), mailauthtest.MX(1, "self.example"), mailauthtest.A("192.0.2.1")},
			"1.2.0.192.in-addr.arpa": {mailauthtest.PTR("self.example")},
		})
		checker, err := spf.New(spf.Config{Resolver: res})
		if err != nil {
			t.Fatal(err)
		}
		got, x := checker.CheckHost(context.Background(), addr, "self.example", sender, "self.example")
		if x == nil || x.Result != got {
			t.Fatalf("CheckHost(%q) = %s with explanation %v", record, got, x)
		}
		if x.Lookups > spf.DefaultLookupLimit+1 || x.VoidLookups > spf.DefaultVoidLimit+1 {
			t.Fatalf("CheckHost(%q): %d lookups, %d void; limits not enforced", record, x.Lookups, x.VoidLookups)
		}
		if (got == spf.PermError || got == spf.TempError) != (x.Err != nil) {
			t.Fatalf("CheckHost(%q) = %s with Err %v", record, got, x.Err)
		}
		_ = x.String()
	})
}
