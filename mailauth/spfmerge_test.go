package mailauth_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/dnsclient"
	"github.com/alertmail/alertmail/mailauth/internal/pyspf"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// propertyZones adds to the platform's zones the records generated
// customer records may include, each of a known cost.
func propertyZones() mailauthtest.Zones {
	z := platformZones()
	z["inc0.example"] = []mailauthtest.Record{txt("v=spf1 ip4:203.0.113.0/24 -all")}                                                 // 1
	z["inc1.example"] = []mailauthtest.Record{txt("v=spf1 a:h.inc1.example include:inc0.example -all")}                              // 3
	z["h.inc1.example"] = []mailauthtest.Record{mailauthtest.A("203.0.113.50"), mailauthtest.AAAA("2001:db8:50::1")}                 //
	z["inc2.example"] = []mailauthtest.Record{txt("v=spf1 include:inc1.example include:inc0.example ~all")}                          // 5
	z["inc3.example"] = []mailauthtest.Record{txt("v=spf1 ip4:192.0.2.10 -all")}                                                     // 1, one platform address
	z["inc4.example"] = []mailauthtest.Record{txt("v=spf1 include:_spf.platform.example -all")}                                      // 3, the whole platform
	z["inc5.example"] = []mailauthtest.Record{txt("v=spf1 mx:inc0.example a:h.inc1.example a:h.inc1.example a:h.inc1.example -all")} // 5
	z["inc0.example"] = append(z["inc0.example"], mailauthtest.MX(10, "h.inc1.example"))
	z["red.example"] = []mailauthtest.Record{txt("v=spf1 ip4:198.51.100.200 a:h.inc1.example -all")}
	z["198.51.100.5.ex.example"] = []mailauthtest.Record{mailauthtest.A("127.0.0.2")}
	return z
}

// genRecord returns a random SPF record for domain, with the records of
// its own hosts added to z.
func genRecord(r *rand.Rand, domain string, z mailauthtest.Zones) string {
	z[domain] = []mailauthtest.Record{mailauthtest.A("198.51.100.20"), mailauthtest.MX(10, "mx."+domain)}
	if r.IntN(2) == 0 {
		z[domain] = append(z[domain], mailauthtest.AAAA("2001:db8:ff::20"))
	}
	z["mx."+domain] = []mailauthtest.Record{mailauthtest.A("198.51.100.21"), mailauthtest.AAAA("2001:db8:ff::21")}
	if r.IntN(12) == 0 {
		return "" // no SPF record at all
	}
	quals := []string{"", "", "+", "-", "~", "?"}
	q := func() string { return quals[r.IntN(len(quals))] }
	pool := []func() string{
		func() string { return fmt.Sprintf("%sip4:198.51.100.%d/%d", q(), r.IntN(256), 24+r.IntN(9)) },
		func() string { return q() + "ip4:192.0.2.0/24" },
		func() string { return q() + "ip4:192.0.2.11" },
		func() string { return q() + "ip6:2001:db8::/32" },
		func() string { return q() + "ip6:2001:db8:ff::/48" },
		func() string { return q() + "a" },
		func() string { return q() + "mx" },
		func() string { return q() + "a:mx." + domain },
		func() string { return fmt.Sprintf("%sinclude:inc%d.example", q(), r.IntN(6)) },
		func() string { return "exists:%{i}.ex.example" },
		func() string { return "include:_spf.platform.example" },
		func() string { return "include:inc2.example" },
		func() string { return "include:inc5.example" },
	}
	terms := []string{"v=spf1"}
	for range 1 + r.IntN(7) {
		terms = append(terms, pool[r.IntN(len(pool))]())
	}
	switch r.IntN(6) {
	case 0:
		terms = append(terms, "-all")
	case 1:
		terms = append(terms, "~all")
	case 2:
		terms = append(terms, "?all")
	case 3:
		terms = append(terms, "redirect=red.example")
	case 4:
		terms = append(terms, "-all", "exp=exp."+domain)
		z["exp."+domain] = []mailauthtest.Record{txt("%{i} is not allowed")}
	}
	return strings.Join(terms, " ")
}

// otherIPs are addresses outside the platform whose verdicts a merge must
// not change.
var otherIPs = []netip.Addr{
	netip.MustParseAddr("198.51.100.5"), netip.MustParseAddr("198.51.100.20"), netip.MustParseAddr("198.51.100.21"),
	netip.MustParseAddr("198.51.100.77"), netip.MustParseAddr("198.51.100.200"), netip.MustParseAddr("198.51.100.250"),
	netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("203.0.113.50"), netip.MustParseAddr("192.0.2.99"),
	netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8:ff::20"), netip.MustParseAddr("2001:db8:50::1"),
}

// platformProbes are the platform's addresses.
var platformProbes = []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.11"), netip.MustParseAddr("2001:db8::25")}

// TestMergeSPFProperty generates customer records, serves each on the
// loopback DNS server, asks for the merged record, serves that in its
// place, and checks with the spf verifier (and with pyspf, an independent
// implementation, when installed) that every platform address gets pass,
// every other address keeps its verdict, and the record stays within 10
// lookups; or that the helper said why it could not propose one.
func TestMergeSPFProperty(t *testing.T) {
	t.Parallel()
	const n = 50
	r := rand.New(rand.NewPCG(6, 2026))
	zones := propertyZones()
	records := make([]string, n)
	for i := range records {
		d := fmt.Sprintf("c%d.example", i)
		records[i] = genRecord(r, d, zones)
		if records[i] != "" {
			zones[d] = append(zones[d], txt(records[i]))
		}
	}
	srv := mailauthtest.NewServer(t, zones)
	// No zone here times out on purpose, so a slow answer on a loaded
	// machine (thousands of checks, under -race) must not read as one:
	// a patient resolver, more so than the server's default.
	cfg := srv.Config()
	cfg.Timeout, cfg.Attempts = 2*time.Second, 3
	res, err := dnsclient.New(cfg)
	require.NoError(t, err)
	for _, include := range []string{"_spf.platform.example", ""} {
		p, err := mailauth.NewPolicy(mailauth.PolicyConfig{
			CorporateDomain: "corp.example", PlatformDomain: "platform.example",
			SendingIPs: platformIPs, SPFInclude: include, Resolver: res,
		})
		require.NoError(t, err)
		checker, err := spf.New(spf.Config{Resolver: res})
		require.NoError(t, err)
		counter, err := spf.New(spf.Config{Resolver: res, LookupLimit: 1000, VoidLimit: 1000})
		require.NoError(t, err)
		py := startPyspf(t, srv)
		pyCheck := func(ip netip.Addr, domain string) string {
			if py == nil {
				return ""
			}
			return py.Check(t, ip, "postmaster@"+domain, "mail.platform.example").Result
		}
		ctx := context.Background()
		merged, cannot, unchanged, first := 0, 0, 0, 0
		for i, rec := range records {
			d := fmt.Sprintf("c%d.example", i)
			srv.Set(d, zones[d]...)
			m, err := p.MergeSPF(ctx, d)
			require.NoErrorf(t, err, "MergeSPF(%q) = %v", rec, err)
			if m.Record == "" {
				cannot++
				assert.NotEmptyf(t, m.Notes, "MergeSPF(%q) proposed no record and said nothing", rec)
				assert.Greaterf(t, m.CurrentLookups, mailauth.SPFLookupLimit, "MergeSPF(%q) proposed no record though the record costs %d lookups: %q", rec, m.CurrentLookups, m.Notes)
				continue
			}
			if len(m.Added) == 0 {
				unchanged++
			} else {
				merged++
			}
			if strings.Contains(strings.Join(m.Notes, " "), "go first") {
				first++
			}
			before := map[netip.Addr]spf.Result{}
			pyBefore := map[netip.Addr]string{}
			for _, ip := range otherIPs {
				before[ip], _ = checker.CheckHost(ctx, ip, d, "postmaster@"+d, "mail.platform.example")
				pyBefore[ip] = pyCheck(ip, d)
			}
			var served []mailauthtest.Record
			for _, r := range zones[d] {
				if r.Type != mailauthtest.TypeTXT {
					served = append(served, r)
				}
			}
			srv.Set(d, append(served, txt(m.Record))...)
			for _, ip := range platformProbes {
				got, x := checker.CheckHost(ctx, ip, d, "postmaster@"+d, "mail.platform.example")
				assert.Equalf(t, spf.Pass, got, "original %q, merged %q: check_host(%s) = %s; want pass\n%s", rec, m.Record, ip, got, x)
				if py != nil {
					got := pyCheck(ip, d)
					assert.Equalf(t, "pass", got, "original %q, merged %q: pyspf(%s) = %s; want pass", rec, m.Record, ip, got)
				}
			}
			for _, ip := range otherIPs {
				// Without a record every sender got none; the proposal ends
				// in ?all, neutral, which DMARC and receivers read alike.
				if got, _ := checker.CheckHost(ctx, ip, d, "postmaster@"+d, "mail.platform.example"); !(rec == "" && got == spf.Neutral) {
					assert.Equalf(t, before[ip], got, "original %q, merged %q: check_host(%s) = %s; want %s as before", rec, m.Record, ip, got, before[ip])
				}
				if got := pyCheck(ip, d); py != nil && !(rec == "" && got == "neutral") {
					assert.Equalf(t, pyBefore[ip], got, "original %q, merged %q: pyspf(%s) = %s; want %s as before", rec, m.Record, ip, got, pyBefore[ip])
				}
			}
			worst := 0
			for _, ip := range []netip.Addr{netip.MustParseAddr("0.0.0.1"), netip.MustParseAddr("100::1")} {
				_, x := counter.CheckHost(ctx, ip, d, "postmaster@"+d, "mail.platform.example")
				worst = max(worst, x.Lookups)
			}
			assert.Truef(t, worst <= mailauth.SPFLookupLimit && worst == m.Lookups,
				"original %q, merged %q: %d lookups, the helper said %d; want at most %d", rec, m.Record, worst, m.Lookups, mailauth.SPFLookupLimit)
		}
		t.Logf("include %q: %d records merged (%d with the platform's terms first), %d already passing, %d over the limit", include, merged, first, unchanged, cannot)
		assert.Truef(t, merged >= n/2 && cannot > 0 && first > 0,
			"include %q: %d merged, %d over the limit of %d: the generator no longer covers both", include, merged, cannot, n)
	}
}

// startPyspf starts pyspf on srv, or returns nil when it is not installed
// outside CI: the property then holds for the spf package alone.
func startPyspf(t *testing.T, srv *mailauthtest.Server) *pyspf.Checker {
	t.Helper()
	if err := pyspf.Usable(); err != nil && os.Getenv("CI") != "true" {
		t.Logf("%v: checking with the spf package only", err)
		return nil
	}
	return pyspf.Start(t, srv.Addr())
}

// TestMergeSPFUnmergeable: a domain with two SPF records, or an invalid
// one, gets no record to publish and a note saying why.
func TestMergeSPFUnmergeable(t *testing.T) {
	t.Parallel()
	p, srv := scenarioPolicy(t, nil)
	srv.Set("two.example", txt("v=spf1 -all"), txt("v=spf1 +all"))
	srv.Set("invalid.example", txt("v=spf1 ip4:192.0.2.300 -all"))
	for domain, note := range map[string]string{
		"two.example":     "publishes 2 SPF records",
		"invalid.example": "is invalid",
	} {
		m, err := p.MergeSPF(context.Background(), domain)
		require.NoErrorf(t, err, "MergeSPF(%q)", domain)
		require.NotNilf(t, m, "MergeSPF(%q) = nil; want a merge saying why there is no record", domain)
		assert.Emptyf(t, m.Record, "MergeSPF(%q).Record = %q; want none", domain, m.Record)
		assert.Containsf(t, strings.Join(m.Notes, "\n"), note, "MergeSPF(%q).Notes = %q; want %q", domain, m.Notes, note)
	}
}

// TestMergeSPFRefusesBadDomains: the customer's domain is a mail domain, a
// host name (RFC 5321), so "_" is refused as any other bad name is.
func TestMergeSPFRefusesBadDomains(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	for _, domain := range []string{"", "com", "exa mple.example", "mail_1.customer.example"} {
		m, err := p.MergeSPF(context.Background(), domain)
		assert.Errorf(t, err, "MergeSPF(%q) = %v, %v; want an error", domain, m, err)
		assert.Nilf(t, m, "MergeSPF(%q) = %v; want nil", domain, m)
	}
}
