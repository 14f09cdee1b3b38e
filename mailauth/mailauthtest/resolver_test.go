package mailauthtest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/alertmail/alertmail/mailauth/dnsclient"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// The resolver interface of package mailauth, repeated to check both fakes
// without importing it.
type resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

var (
	_ resolver = (*mailauthtest.Resolver)(nil)
	_ resolver = (*dnsclient.Resolver)(nil)
)

var suiteZones = mailauthtest.Zones{
	"both.example.net":        {mailauthtest.TXT("v=spf1 -all"), mailauthtest.SPF("v=spf1 +all")},
	"spfonly.example.net":     {mailauthtest.SPF("v=spf1 -all")},
	"spfnone.example.net":     {mailauthtest.SPF("v=spf1 -all"), mailauthtest.NoneOf(mailauthtest.TypeTXT)},
	"spftimeout.example.net":  {mailauthtest.TXT("v=spf1 -all"), mailauthtest.Timeout()},
	"txttimeout.example.net":  {mailauthtest.SPF("v=spf1 -all"), mailauthtest.NoneOf(mailauthtest.TypeTXT), mailauthtest.Timeout()},
	"typed.example.net":       {mailauthtest.TimeoutOf(mailauthtest.TypeMX), mailauthtest.A("192.0.2.1")},
	"multi.example.net":       {mailauthtest.TXT("a", "b", "c"), mailauthtest.TXT()},
	"chain.example.net":       {mailauthtest.CNAME("chain2.example.net")},
	"chain2.example.net":      {mailauthtest.CNAME("Target.Example.NET.")},
	"target.example.net":      {mailauthtest.A("192.0.2.2"), mailauthtest.MX(5, "mail.example.net")},
	"loop.example.net":        {mailauthtest.CNAME("loop.example.net")},
	"5.2.0.192.in-addr.arpa":  {mailauthtest.PTR("Host.Example.net.")},
	"host.example.net":        {mailauthtest.AAAA("2001:db8::5")},
	"percent%{x}.example.net": {mailauthtest.TXT("macro-like")},
}

type outcome struct {
	vals []string
	err  string // "", "nx", "nodata", "timeout", "servfail"
}

func (o outcome) String() string { return fmt.Sprintf("%q %s", o.vals, o.err) }

func classify(vals []string, err error) outcome {
	var de *net.DNSError
	switch {
	case err == nil:
		return outcome{vals: vals}
	case errors.Is(err, dnsclient.ErrNXDomain):
		return outcome{err: "nx"}
	case errors.Is(err, dnsclient.ErrNoData):
		return outcome{err: "nodata"}
	case errors.As(err, &de) && de.IsTimeout:
		return outcome{err: "timeout"}
	case errors.Is(err, dnsclient.ErrServerFailure):
		return outcome{err: "servfail"}
	}
	return outcome{err: err.Error()}
}

func query(r resolver, kind, name string) outcome {
	ctx := context.Background()
	switch kind {
	case "TXT":
		return classify(r.LookupTXT(ctx, name))
	case "A", "AAAA":
		network := map[string]string{"A": "ip4", "AAAA": "ip6"}[kind]
		addrs, err := r.LookupNetIP(ctx, network, name)
		var s []string
		for _, a := range addrs {
			s = append(s, a.String())
		}
		return classify(s, err)
	case "MX":
		mxs, err := r.LookupMX(ctx, name)
		var s []string
		for _, mx := range mxs {
			s = append(s, fmt.Sprintf("%d %s", mx.Pref, mx.Host))
		}
		return classify(s, err)
	}
	return classify(r.LookupAddr(ctx, name))
}

// TestServerAndResolverAgree runs the same queries through the loopback
// server (with dnsclient) and the in-memory resolver, and checks both
// against the expected answers.
func TestServerAndResolverAgree(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, suiteZones)
	impls := map[string]resolver{
		"server":   srv.Resolver(t),
		"inmemory": mailauthtest.NewResolver(suiteZones),
	}
	tests := []struct {
		kind, name string
		want       outcome
	}{
		{"TXT", "both.example.net", outcome{vals: []string{"v=spf1 -all"}}},
		{"TXT", "spfonly.example.net", outcome{vals: []string{"v=spf1 -all"}}},
		{"TXT", "spfnone.example.net", outcome{err: "nodata"}},
		{"TXT", "spftimeout.example.net", outcome{vals: []string{"v=spf1 -all"}}},
		{"A", "spftimeout.example.net", outcome{err: "timeout"}},
		{"TXT", "txttimeout.example.net", outcome{err: "timeout"}},
		{"MX", "typed.example.net", outcome{err: "timeout"}},
		{"A", "typed.example.net", outcome{vals: []string{"192.0.2.1"}}},
		{"TXT", "typed.example.net", outcome{err: "nodata"}},
		{"TXT", "multi.example.net", outcome{vals: []string{"abc", ""}}},
		{"A", "CHAIN.example.net", outcome{vals: []string{"192.0.2.2"}}},
		{"MX", "chain.example.net", outcome{vals: []string{"5 mail.example.net."}}},
		{"AAAA", "chain.example.net", outcome{err: "nodata"}},
		{"A", "loop.example.net", outcome{err: "servfail"}},
		{"A", "absent.example.net", outcome{err: "nx"}},
		{"PTR", "192.0.2.5", outcome{vals: []string{"Host.Example.net."}}},
		{"PTR", "192.0.2.6", outcome{err: "nx"}},
		{"TXT", "percent%{x}.example.net", outcome{vals: []string{"macro-like"}}},
	}
	for _, tt := range tests {
		for implName, r := range impls {
			t.Run(implName+"/"+tt.kind+"/"+tt.name, func(t *testing.T) {
				got := query(r, tt.kind, tt.name)
				if got.String() != tt.want.String() {
					t.Errorf("%s %s(%q) = %v; want %v", implName, tt.kind, tt.name, got, tt.want)
				}
			})
		}
	}
}

func TestSet(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, nil)
	mem := mailauthtest.NewResolver(nil)
	r := srv.Resolver(t)
	ctx := context.Background()
	for _, set := range []func(string, ...mailauthtest.Record){srv.Set, mem.Set} {
		set("new.example", mailauthtest.TXT("hello"))
	}
	for name, res := range map[string]resolver{"server": r, "inmemory": mem} {
		if got, err := res.LookupTXT(ctx, "new.example"); err != nil || !slices.Equal(got, []string{"hello"}) {
			t.Errorf("%s LookupTXT(after Set) = %q, %v; want [hello]", name, got, err)
		}
	}
	srv.Set("new.example")
	mem.Set("new.example")
	for name, res := range map[string]resolver{"server": r, "inmemory": mem} {
		if _, err := res.LookupTXT(ctx, "new.example"); !dnsclient.IsNXDomain(err) {
			t.Errorf("%s LookupTXT(after removal) error = %v; want NXDOMAIN", name, err)
		}
	}
}

func TestReverseName(t *testing.T) {
	t.Parallel()
	tests := []struct{ ip, want string }{
		{"192.0.2.5", "5.2.0.192.in-addr.arpa"},
		{"::ffff:192.0.2.5", "5.2.0.192.in-addr.arpa"},
		{"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
	}
	for _, tt := range tests {
		if got := mailauthtest.ReverseName(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("ReverseName(%q) = %q; want %q", tt.ip, got, tt.want)
		}
	}
}

// TestLegacyLookups checks LookupIPAddr and LookupHost, the older
// *net.Resolver methods some libraries call.
func TestLegacyLookups(t *testing.T) {
	t.Parallel()
	r := mailauthtest.NewResolver(mailauthtest.Zones{
		"dual.example": {mailauthtest.A("192.0.2.1"), mailauthtest.AAAA("2001:db8::1")},
		"v6.example":   {mailauthtest.AAAA("2001:db8::2")},
		"none.example": {mailauthtest.TXT("x")},
		"slow.example": {mailauthtest.TimeoutOf(mailauthtest.TypeA), mailauthtest.AAAA("2001:db8::3")},
	})
	ctx := context.Background()
	tests := []struct {
		host string
		want []string
		err  string
	}{
		{"dual.example", []string{"192.0.2.1", "2001:db8::1"}, ""},
		{"v6.example", []string{"2001:db8::2"}, ""},
		{"192.0.2.9", []string{"192.0.2.9"}, ""},
		{"slow.example", []string{"2001:db8::3"}, ""},
		{"none.example", nil, "nodata"},
		{"absent.example", nil, "nx"},
	}
	for _, tt := range tests {
		addrs, err := r.LookupIPAddr(ctx, tt.host)
		var got []string
		for _, a := range addrs {
			got = append(got, a.IP.String())
		}
		if o := classify(got, err); o.String() != (outcome{vals: tt.want, err: tt.err}).String() {
			t.Errorf("LookupIPAddr(%q) = %v; want %q %s", tt.host, o, tt.want, tt.err)
		}
		hosts, err := r.LookupHost(ctx, tt.host)
		if o := classify(hosts, err); o.String() != (outcome{vals: tt.want, err: tt.err}).String() {
			t.Errorf("LookupHost(%q) = %v; want %q %s", tt.host, o, tt.want, tt.err)
		}
	}
}
