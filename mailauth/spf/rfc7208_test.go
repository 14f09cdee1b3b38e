package spf_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
	"github.com/alertmail/alertmail/mailauth/spf"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// rfcZones holds the records of TestCheckHostRFC7208: cases the RFC 7208
// suite does not cover, each named after the section it checks.
func rfcZones() mailauthtest.Zones {
	txt, a, aaaa := mailauthtest.TXT, mailauthtest.A, mailauthtest.AAAA
	x63 := strings.Repeat("x", 63)
	z := mailauthtest.Zones{
		// 4.6.4: void lookups are counted per term.
		"v6mx.example":               {txt("v=spf1 mx -all"), mailauthtest.MX(1, "m1.v6mx.example"), mailauthtest.MX(2, "m2.v6mx.example"), mailauthtest.MX(3, "m3.v6mx.example")},
		"m1.v6mx.example":            {aaaa("2001:db8::1")},
		"m2.v6mx.example":            {aaaa("2001:db8::2")},
		"m3.v6mx.example":            {aaaa("2001:db8::3")},
		"ptrvoid.example":            {txt("v=spf1 ptr -all")},
		"7.2.0.192.in-addr.arpa":     {mailauthtest.PTR("gone1.example"), mailauthtest.PTR("gone2.example"), mailauthtest.PTR("gone3.example")},
		"voids.example":              {txt("v=spf1 a:n1.example mx -all")},
		"ten.example":                {txt("v=spf1 " + strings.Repeat("include:fail.example ", 9) + "a -all"), a("192.0.2.10")},
		"fail.example":               {txt("v=spf1 -all")},
		"pass.example":               {txt("v=spf1 +all")},
		"mx10.example":               {txt("v=spf1 mx -all")},
		"ptr11.example":              {txt("v=spf1 ptr -all")},
		"11.2.0.192.in-addr.arpa":    nil, // filled below
		"nothing-here.example":       {a("192.0.2.1")},
		"expcount.example":           {txt("v=spf1 -all exp=gone.example")},
		"inctemp.example":            {txt("v=spf1 include:slow.example -all")},
		"slow.example":               {mailauthtest.Timeout()},
		"incsingle.example":          {txt("v=spf1 include:%{l} -all")},
		"onelabel":                   {txt("v=spf1 +all")},
		"redall.example":             {txt("v=spf1 ?all redirect=pass.example")},
		"rednone.example":            {txt("v=spf1 redirect=nothing-here.example")},
		"softexp.example":            {txt("v=spf1 ~all exp=why.example")},
		"failexp.example":            {txt("v=spf1 -all exp=why.example")},
		"why.example":                {txt("%{c} to %{r} at %{t} for %{d}")},
		"twoexp.example":             {txt("v=spf1 -all exp=two.example")},
		"two.example":                {txt("one"), txt("two")},
		"badexp.example":             {txt("v=spf1 -all exp=bad.example")},
		"bad.example":                {txt("broken %{x} macro")},
		"pa.example":                 {txt("v=spf1 exists:%{p}.pm.example include:pb.example -all")},
		"pb.example":                 {txt("v=spf1 exists:%{p}.pm.example -all")},
		"12.2.0.192.in-addr.arpa":    {mailauthtest.PTR("host.pb.example"), mailauthtest.PTR("host.pa.example")},
		"host.pa.example":            {a("192.0.2.12")},
		"host.pb.example":            {a("192.0.2.12")},
		"host.pb.example.pm.example": {a("127.0.0.2")},
		"trunc.example":              {txt("v=spf1 a:%{l}.%{l}.%{l}.%{l}.%{d} -all")},
		x63 + "." + x63 + "." + x63 + ".trunc.example": {a("192.0.2.13")},
		"esc.example":              {txt("v=spf1 exists:%{L}.in.esc.example -all")},
		"a%2Bb%2Fc.in.esc.example": {a("127.0.0.2")},
		"mapped6.example":          {txt("v=spf1 ip6:::ffff:192.0.2.0/120 -all")},
		"zero.example":             {txt("v=spf1 ip4:1.2.3.4/0 -all")},
		"dual.example":             {txt("v=spf1 a:host.dual.example/24//64 -all")},
		"host.dual.example":        {a("198.51.100.1"), aaaa("2001:db8:1:1::1"), aaaa("::ffff:203.0.113.1")},
		"ip6a.example":             {txt("v=spf1 a:host.dual.example -all")},
	}
	for i := range 10 {
		z["mx10.example"] = append(z["mx10.example"], mailauthtest.MX(uint16(i), fmt.Sprintf("h%d.mx10.example", i)))
		z[fmt.Sprintf("h%d.mx10.example", i)] = []mailauthtest.Record{a(fmt.Sprintf("198.51.100.%d", i+1))}
	}
	for i := range 11 {
		h := fmt.Sprintf("p%d.ptr11.example", i)
		z["11.2.0.192.in-addr.arpa"] = append(z["11.2.0.192.in-addr.arpa"], mailauthtest.PTR(h))
		addr := "198.51.100.1"
		if i == 10 {
			addr = "192.0.2.11" // only the 11th name validates
		}
		z[h] = []mailauthtest.Record{a(addr)}
	}
	return z
}

// TestCheckHostRFC7208 checks what RFC 7208 says and its suite does not
// test; each case is named after its section.
func TestCheckHostRFC7208(t *testing.T) {
	t.Parallel()
	checker, err := spf.New(spf.Config{
		Resolver: mailauthtest.NewResolver(rfcZones()),
		Receiver: "mx.receiver.example",
		Clock:    fixedClock(time.Unix(1_700_000_000, 0)),
	})
	if err != nil {
		t.Fatal(err)
	}
	x63 := strings.Repeat("x", 63)
	tests := []struct {
		name, ip, domain, local string
		want                    spf.Result
		errIs                   error  // cause of permerror/temperror
		exp                     string // explanation of a fail; "default" for the default one
		lookups, void           int    // checked when lookups >= 0
	}{
		{name: "4.6.4/void-lookups-counted-per-term-mx", ip: "192.0.2.1", domain: "v6mx.example", want: spf.Fail, exp: "default", lookups: 1, void: 1},
		{name: "4.6.4/void-lookups-counted-per-term-ptr", ip: "192.0.2.7", domain: "ptrvoid.example", want: spf.Fail, exp: "default", lookups: 1, void: 1},
		{name: "4.6.4/void-lookups-two-terms-at-limit", ip: "192.0.2.1", domain: "voids.example", want: spf.Fail, exp: "default", lookups: 2, void: 2},
		{name: "4.6.4/own-record-lookup-is-no-term", ip: "192.0.2.1", domain: "nothing-here.example", want: spf.None, lookups: 0, void: 0},
		{name: "4.6.4/ten-lookups-allowed", ip: "192.0.2.10", domain: "ten.example", want: spf.Pass, lookups: 10},
		{name: "4.6.4/ten-mx-allowed", ip: "198.51.100.10", domain: "mx10.example", want: spf.Pass, lookups: 1},
		{name: "4.6.4/ptr-names-past-ten-ignored", ip: "192.0.2.11", domain: "ptr11.example", want: spf.Fail, exp: "default", lookups: 1},
		{name: "4.6.4/exp-not-counted", ip: "192.0.2.1", domain: "expcount.example", want: spf.Fail, exp: "default", lookups: 0, void: 0},
		{name: "5.2/include-temperror-is-temperror", ip: "192.0.2.1", domain: "inctemp.example", want: spf.TempError, errIs: spf.ErrDNS, lookups: 1},
		{name: "4.3/include-of-single-label-is-none-so-permerror", ip: "192.0.2.1", domain: "incsingle.example", local: "onelabel", want: spf.PermError, errIs: spf.ErrNoRecord, lookups: 1},
		{name: "6.1/redirect-ignored-when-all-present", ip: "192.0.2.1", domain: "redall.example", want: spf.Neutral, lookups: 0},
		{name: "6.1/redirect-to-none-is-permerror", ip: "192.0.2.1", domain: "rednone.example", want: spf.PermError, errIs: spf.ErrNoRecord, lookups: 1, void: 1},
		{name: "6.2/exp-only-on-fail", ip: "192.0.2.1", domain: "softexp.example", want: spf.SoftFail, lookups: 0},
		{name: "6.2/exp-macros-c-r-t", ip: "2001:db8::1", domain: "failexp.example", want: spf.Fail, exp: "2001:db8::1 to mx.receiver.example at 1700000000 for failexp.example", lookups: 0},
		{name: "6.2/exp-two-records-ignored", ip: "192.0.2.1", domain: "twoexp.example", want: spf.Fail, exp: "default", lookups: 0},
		{name: "6.2/exp-syntax-error-ignored", ip: "192.0.2.1", domain: "badexp.example", want: spf.Fail, exp: "default", lookups: 0},
		{name: "7.3/p-macro-prefers-each-records-domain", ip: "192.0.2.12", domain: "pa.example", want: spf.Pass, lookups: 3, void: 1},
		{name: "7.3/expanded-name-over-253-octets-loses-left-labels", ip: "192.0.2.13", domain: "trunc.example", local: x63, want: spf.Pass, lookups: 1},
		{name: "7.3/upper-case-macro-is-url-escaped", ip: "192.0.2.1", domain: "esc.example", local: "a+b/c", want: spf.Pass, lookups: 1},
		{name: "5/mapped-ip6-network-does-not-match-ipv4-client", ip: "192.0.2.5", domain: "mapped6.example", want: spf.Fail, exp: "default", lookups: 0},
		{name: "5/mapped-client-is-ipv4", ip: "::ffff:192.0.2.5", domain: "mapped6.example", want: spf.Fail, exp: "default", lookups: 0},
		{name: "5.6/ip4-cidr-0-matches-every-ipv4", ip: "203.0.113.77", domain: "zero.example", want: spf.Pass, lookups: 0},
		{name: "5.6/ip4-cidr-0-does-not-match-ipv6", ip: "2001:db8::77", domain: "zero.example", want: spf.Fail, exp: "default", lookups: 0},
		{name: "5.3/dual-cidr-ip4", ip: "198.51.100.200", domain: "dual.example", want: spf.Pass, lookups: 1},
		{name: "5.3/dual-cidr-ip6", ip: "2001:db8:1:1::ffff", domain: "dual.example", want: spf.Pass, lookups: 1},
		{name: "5.3/dual-cidr-ip6-outside", ip: "2001:db8:1:2::1", domain: "dual.example", want: spf.Fail, exp: "default", lookups: 1},
		{name: "5/mapped-aaaa-does-not-match-ipv4-client", ip: "203.0.113.1", domain: "ip6a.example", want: spf.Fail, exp: "default", lookups: 1},
		{name: "4.3/empty-label-is-none", ip: "192.0.2.1", domain: "a..example", want: spf.None},
		{name: "4.3/address-literal-is-none", ip: "192.0.2.1", domain: "[192.0.2.1]", want: spf.None},
		{name: "4.3/numeric-top-label-is-none", ip: "192.0.2.1", domain: "192.0.2.1", want: spf.None},
		{name: "4.3/name-over-253-octets-is-none", ip: "192.0.2.1", domain: strings.Repeat("abcdefghi.", 25) + "example", want: spf.None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.ip)
			local := tt.local
			if local == "" {
				local = "user"
			}
			got, x := checker.CheckHost(context.Background(), ip, tt.domain, local+"@"+tt.domain, "helo.example")
			if got != tt.want {
				t.Fatalf("CheckHost(%s, %q) = %s; want %s\n%s", ip, tt.domain, got, tt.want, x)
			}
			if tt.errIs != nil && (x.Err == nil || !errors.Is(x.Err, tt.errIs)) {
				t.Errorf("CheckHost(%s, %q) Err = %v; want %v\n%s", ip, tt.domain, x.Err, tt.errIs, x)
			}
			wantExp := tt.exp
			if wantExp == "default" {
				wantExp = x.IP.String() + " is not one of " + tt.domain + "'s designated mail servers."
			}
			if x.Exp != wantExp {
				t.Errorf("CheckHost(%s, %q) Exp = %q; want %q", ip, tt.domain, x.Exp, wantExp)
			}
			if x.Lookups != tt.lookups || x.VoidLookups != tt.void {
				t.Errorf("CheckHost(%s, %q) lookups, void = %d, %d; want %d, %d\n%s", ip, tt.domain, x.Lookups, x.VoidLookups, tt.lookups, tt.void, x)
			}
		})
	}
}
