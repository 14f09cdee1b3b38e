package spf

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	blitiri "blitiri.com.ar/go/spf"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// scenario is one benchmark: records, a client and the sender's domain.
type scenario struct {
	name   string
	zones  mailauthtest.Zones
	ip     string
	domain string
	want   spf.Result
}

func scenarios() []scenario {
	txt := mailauthtest.TXT
	limit := mailauthtest.Zones{}
	var terms []string
	for i := range 11 {
		h := fmt.Sprintf("h%d.limit.example", i)
		limit[h] = []mailauthtest.Record{mailauthtest.A(fmt.Sprintf("198.51.100.%d", i+1))}
		terms = append(terms, "a:"+h)
	}
	limit["limit.example"] = []mailauthtest.Record{txt("v=spf1 " + strings.Join(terms, " ") + " -all")}
	return []scenario{
		{
			name:   "IP4Pass",
			zones:  mailauthtest.Zones{"plain.example": {txt("v=spf1 ip4:203.0.113.0/24 ip4:192.0.2.0/24 -all")}},
			ip:     "192.0.2.10",
			domain: "plain.example",
			want:   spf.Pass,
		},
		{
			name: "IncludeChain3",
			zones: mailauthtest.Zones{
				"chain.example":       {txt("v=spf1 include:_spf1.chain.example -all")},
				"_spf1.chain.example": {txt("v=spf1 ip4:203.0.113.0/24 include:_spf2.chain.example ~all")},
				"_spf2.chain.example": {txt("v=spf1 ip6:2001:db8::/32 include:_spf3.chain.example ~all")},
				"_spf3.chain.example": {txt("v=spf1 ip4:192.0.2.0/24 ~all")},
			},
			ip:     "192.0.2.10",
			domain: "chain.example",
			want:   spf.Pass,
		},
		{
			name:   "LookupLimit",
			zones:  limit,
			ip:     "192.0.2.10",
			domain: "limit.example",
			want:   spf.PermError,
		},
	}
}

// TestSameResults checks that both libraries reach the expected result on
// every benchmark scenario, so that the benchmarks compare like with like.
func TestSameResults(t *testing.T) {
	for _, sc := range scenarios() {
		res := mailauthtest.NewResolver(sc.zones)
		checker, err := spf.New(spf.Config{Resolver: res})
		if err != nil {
			t.Fatal(err)
		}
		ip := netip.MustParseAddr(sc.ip)
		got, x := checker.CheckHost(context.Background(), ip, sc.domain, "user@"+sc.domain, "helo.example")
		if got != sc.want {
			t.Errorf("%s: spf.CheckHost = %s; want %s\n%s", sc.name, got, sc.want, x)
		}
		peer, err := blitiri.CheckHostWithSender(net.IP(ip.AsSlice()), "helo.example", "user@"+sc.domain,
			blitiri.WithResolver(res), blitiri.WithContext(context.Background()))
		if string(peer) != string(sc.want) {
			t.Errorf("%s: blitiri CheckHostWithSender = %s (%v); want %s", sc.name, peer, err, sc.want)
		}
	}
}

func BenchmarkCheckHost(b *testing.B) {
	for _, sc := range scenarios() {
		res := mailauthtest.NewResolver(sc.zones)
		ip := netip.MustParseAddr(sc.ip)
		sender := "user@" + sc.domain
		ctx := context.Background()

		// alertmail runs with its defaults, which keep parsed records by
		// their text; alertmail-noparsecache parses every record at every
		// check, as blitiri does.
		for _, v := range []struct {
			name       string
			parseCache int
		}{{"alertmail", 0}, {"alertmail-noparsecache", -1}} {
			b.Run(sc.name+"/"+v.name, func(b *testing.B) {
				checker, err := spf.New(spf.Config{Resolver: res, ParseCache: v.parseCache})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if got, _ := checker.CheckHost(ctx, ip, sc.domain, sender, "helo.example"); got != sc.want {
						b.Fatalf("CheckHost = %s; want %s", got, sc.want)
					}
				}
			})
		}
		b.Run(sc.name+"/blitiri", func(b *testing.B) {
			nip := net.IP(ip.AsSlice())
			b.ReportAllocs()
			for b.Loop() {
				got, _ := blitiri.CheckHostWithSender(nip, "helo.example", sender,
					blitiri.WithResolver(res), blitiri.WithContext(ctx))
				if string(got) != string(sc.want) {
					b.Fatalf("CheckHostWithSender = %s; want %s", got, sc.want)
				}
			}
		})
	}
}
