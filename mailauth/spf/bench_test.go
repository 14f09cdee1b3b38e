package spf_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
	"github.com/alertmail/alertmail/mailauth/spf"
)

func BenchmarkParse(b *testing.B) {
	const rec = "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.com/24 include:_spf.example.net exists:%{ir}.%{l1r-}.bl.example.org redirect=_spf.example.com"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := spf.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckHost measures checks over the in-memory resolver; internal/bench/spf
// compares them with blitiri.com.ar/go/spf.
func BenchmarkCheckHost(b *testing.B) {
	res := mailauthtest.NewResolver(mailauthtest.Zones{
		"plain.example": {mailauthtest.TXT("v=spf1 ip4:203.0.113.0/24 ip4:192.0.2.0/24 -all")},
		"macro.example": {mailauthtest.TXT("v=spf1 exists:%{ir}.%{l1r-}.%{d}.bl.example -all")},
		"10.2.0.192.user.macro.example.bl.example": {mailauthtest.A("127.0.0.2")},
	})
	checker, err := spf.New(spf.Config{Resolver: res})
	if err != nil {
		b.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.10")
	for _, domain := range []string{"plain.example", "macro.example"} {
		b.Run(domain, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got, x := checker.CheckHost(context.Background(), ip, domain, "user@"+domain, "h.example"); got != spf.Pass {
					b.Fatalf("CheckHost = %s\n%s", got, x)
				}
			}
		})
	}
}

// BenchmarkParseHostile parses 64 KiB records built to cost: spaces, 32 Ki
// terms, nested macros. Time and memory stay linear in the record's size.
func BenchmarkParseHostile(b *testing.B) {
	for name, rec := range map[string]string{
		"spaces":  "v=spf1" + strings.Repeat(" ", 64<<10),
		"terms":   "v=spf1" + strings.Repeat(" a", 32<<10),
		"macros":  "v=spf1 exists:" + strings.Repeat("%{d9999r-.+,/_=}", 4<<10) + ".example.com",
		"nesting": "v=spf1 a:" + strings.Repeat("%{", 32<<10),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(rec)))
			for b.Loop() {
				spf.Parse(rec)
			}
		})
	}
}
