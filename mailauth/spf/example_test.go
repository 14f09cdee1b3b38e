package spf_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/alertmail/alertmail/mailauth/dnsclient"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
	"github.com/alertmail/alertmail/mailauth/spf"
)

func ExampleChecker_CheckMailFrom() {
	// In production: dnsclient.New(dnsclient.Config{}) as the Resolver.
	res := mailauthtest.NewResolver(mailauthtest.Zones{
		"customer.example":      {mailauthtest.TXT("v=spf1 include:_spf.platform.example -all")},
		"_spf.platform.example": {mailauthtest.TXT("v=spf1 a:out.platform.example ip4:198.51.100.0/24 ~all")},
		"out.platform.example":  {mailauthtest.A("192.0.2.25")},
	})
	checker, err := spf.New(spf.Config{Resolver: res})
	if err != nil {
		fmt.Println(err)
		return
	}
	result, x := checker.CheckMailFrom(context.Background(),
		netip.MustParseAddr("198.51.100.7"), "alerts@customer.example", "out.platform.example")
	fmt.Println(result)
	fmt.Print(x)
	// Output:
	// pass
	// pass: include:_spf.platform.example matched in customer.example (ip 198.51.100.7, lookups 2, void 0)
	// customer.example "v=spf1 include:_spf.platform.example -all" -> pass
	//   include:_spf.platform.example lookups +1 (total 1) matched
	//     _spf.platform.example "v=spf1 a:out.platform.example ip4:198.51.100.0/24 ~all" -> pass
	//       a:out.platform.example lookups +1 (total 2)
	//       ip4:198.51.100.0/24 matched
}

func ExampleParse() {
	rec, err := spf.Parse("v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Merge a platform term before the final "all".
	n := len(rec.Terms)
	rec.Terms = append(rec.Terms[:n-1:n-1], spf.IncludeTerm("_spf.platform.example"), rec.Terms[n-1])
	fmt.Println(rec, "- lookups:", rec.Lookups())

	_, err = spf.Parse("v=spf1 a:museum ip4:192.0.2.300 -all")
	fmt.Println(err)
	// Output:
	// v=spf1 ip4:192.0.2.0/24 include:_spf.example.net include:_spf.platform.example -all - lookups: 2
	// spf: syntax error at 7 in "a:museum": domain-spec "museum" is a single label; spf: syntax error at 16 in "ip4:192.0.2.300": invalid ip4 address "192.0.2.300"
}

// The production wiring: dnsclient as the Resolver (here asking a loopback
// server; by default the servers of /etc/resolv.conf), the RFC 7208 limits
// by default, and a Config that New rejects.
func ExampleNew() {
	srv, err := mailauthtest.StartServer(mailauthtest.Zones{
		"customer.example":    {mailauthtest.TXT("v=spf1 mx -all"), mailauthtest.MX(10, "mx.customer.example")},
		"mx.customer.example": {mailauthtest.A("192.0.2.25")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	res, err := dnsclient.New(srv.Config())
	if err != nil {
		fmt.Println(err)
		return
	}
	checker, err := spf.New(spf.Config{Resolver: res, Receiver: "mx.platform.example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	result, x := checker.CheckHost(context.Background(), netip.MustParseAddr("192.0.2.25"),
		"customer.example", "alerts@customer.example", "mx.customer.example")
	fmt.Println(result, x.Lookups)

	_, err = spf.New(spf.Config{DefaultExplanation: "%{z} is not allowed"})
	fmt.Println(err)
	// Output:
	// pass 1
	// spf: Config.DefaultExplanation "%{z} is not allowed": invalid macro letter 'z' in "%{z}"
}

// A fail comes with its explanation: the exp= text of the record that
// failed, macros expanded, and the term that decided.
func ExampleChecker_CheckHost() {
	res := mailauthtest.NewResolver(mailauthtest.Zones{
		"customer.example":     {mailauthtest.TXT("v=spf1 ip4:198.51.100.0/24 -all exp=why.customer.example")},
		"why.customer.example": {mailauthtest.TXT("%{i} may not send for %{d}; see https://customer.example/spf")},
	})
	checker, err := spf.New(spf.Config{Resolver: res})
	if err != nil {
		fmt.Println(err)
		return
	}
	result, x := checker.CheckHost(context.Background(), netip.MustParseAddr("192.0.2.99"),
		"customer.example", "alerts@customer.example", "mail.example")
	fmt.Println(result)
	fmt.Println(x.Match.Term, "in", x.Match.Domain)
	fmt.Println(x.Exp)
	// Output:
	// fail
	// -all in customer.example
	// 192.0.2.99 may not send for customer.example; see https://customer.example/spf
}
