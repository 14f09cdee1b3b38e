package mailauth_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/dnsclient"
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
	// a patient resolver, not the server's 250 ms default.
	cfg := srv.Config()
	cfg.Timeout, cfg.Attempts = 2*time.Second, 3
	res, err := dnsclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, include := range []string{"_spf.platform.example", ""} {
		p, err := mailauth.NewPolicy(mailauth.PolicyConfig{
			CorporateDomain: "corp.example", PlatformDomain: "platform.example",
			SendingIPs: platformIPs, SPFInclude: include, Resolver: res,
		})
		if err != nil {
			t.Fatal(err)
		}
		checker, err := spf.New(spf.Config{Resolver: res})
		if err != nil {
			t.Fatal(err)
		}
		counter, err := spf.New(spf.Config{Resolver: res, LookupLimit: 1000, VoidLimit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		py := startPyspf(t, srv)
		ctx := context.Background()
		merged, cannot, unchanged, first := 0, 0, 0, 0
		for i, rec := range records {
			d := fmt.Sprintf("c%d.example", i)
			srv.Set(d, zones[d]...)
			m, err := p.MergeSPF(ctx, d)
			if err != nil {
				t.Fatalf("MergeSPF(%q) = %v", rec, err)
			}
			if m.Record == "" {
				cannot++
				if len(m.Notes) == 0 {
					t.Errorf("MergeSPF(%q) proposed no record and said nothing", rec)
				}
				if m.CurrentLookups <= mailauth.SPFLookupLimit {
					t.Errorf("MergeSPF(%q) proposed no record though the record costs %d lookups: %q", rec, m.CurrentLookups, m.Notes)
				}
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
				pyBefore[ip] = py.check(t, ip, d)
			}
			var served []mailauthtest.Record
			for _, r := range zones[d] {
				if r.Type != mailauthtest.TypeTXT {
					served = append(served, r)
				}
			}
			srv.Set(d, append(served, txt(m.Record))...)
			for _, ip := range platformProbes {
				if got, x := checker.CheckHost(ctx, ip, d, "postmaster@"+d, "mail.platform.example"); got != spf.Pass {
					t.Errorf("original %q, merged %q: check_host(%s) = %s; want pass\n%s", rec, m.Record, ip, got, x)
				}
				if got := py.check(t, ip, d); py != nil && got != "pass" {
					t.Errorf("original %q, merged %q: pyspf(%s) = %s; want pass", rec, m.Record, ip, got)
				}
			}
			for _, ip := range otherIPs {
				// Without a record every sender got none; the proposal ends
				// in ?all, neutral, which DMARC and receivers read alike.
				if got, _ := checker.CheckHost(ctx, ip, d, "postmaster@"+d, "mail.platform.example"); got != before[ip] && !(rec == "" && got == spf.Neutral) {
					t.Errorf("original %q, merged %q: check_host(%s) = %s; want %s as before", rec, m.Record, ip, got, before[ip])
				}
				if got := py.check(t, ip, d); py != nil && got != pyBefore[ip] && !(rec == "" && got == "neutral") {
					t.Errorf("original %q, merged %q: pyspf(%s) = %s; want %s as before", rec, m.Record, ip, got, pyBefore[ip])
				}
			}
			worst := 0
			for _, ip := range []netip.Addr{netip.MustParseAddr("0.0.0.1"), netip.MustParseAddr("100::1")} {
				_, x := counter.CheckHost(ctx, ip, d, "postmaster@"+d, "mail.platform.example")
				worst = max(worst, x.Lookups)
			}
			if worst > mailauth.SPFLookupLimit || worst != m.Lookups {
				t.Errorf("original %q, merged %q: %d lookups, the helper said %d; want at most %d", rec, m.Record, worst, m.Lookups, mailauth.SPFLookupLimit)
			}
		}
		t.Logf("include %q: %d records merged (%d with the platform's terms first), %d already passing, %d over the limit", include, merged, first, unchanged, cannot)
		if merged < n/2 || cannot == 0 || first == 0 {
			t.Errorf("include %q: %d merged, %d over the limit of %d: the generator no longer covers both", include, merged, cannot, n)
		}
	}
}

// pyspfDriver answers one check per line of JSON on stdin with pyspf's
// check2, its DNS pointed at the loopback server whose port is argv[1].
const pyspfDriver = `
import json, sys
import dns.resolver
import spf
r = dns.resolver.Resolver(configure=False)
r.nameservers = ['127.0.0.1']
r.port = int(sys.argv[1])
r.timeout = 2
r.lifetime = 6
dns.resolver.default_resolver = r
for line in sys.stdin:
    c = json.loads(line)
    try:
        res, _ = spf.check2(i=c['ip'], s=c['sender'], h='mail.platform.example', timeout=20, querytime=0)
    except Exception as e:
        res = 'exception ' + repr(e)
    print(str(res).lower(), flush=True)
`

// pyspf is a running pyspf driver, or nil when pyspf is not installed
// (outside CI).
type pyspf struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

func startPyspf(t *testing.T, srv *mailauthtest.Server) *pyspf {
	t.Helper()
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import spf, dns.resolver").CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pyspf (python3-spf, python3-dnspython) is missing: %v %s", err, out)
		}
		t.Logf("pyspf is not installed (%v): checking with the spf package only", err)
		return nil
	}
	script := t.TempDir() + "/driver.py"
	if err := os.WriteFile(script, []byte(pyspfDriver), 0o600); err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(srv.Addr(), ":")
	cmd := exec.Command(python, script, port)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	return &pyspf{in: in, out: bufio.NewScanner(out)}
}

// check returns pyspf's result for ip sending as postmaster@domain; "" when
// pyspf is not running.
func (p *pyspf) check(t *testing.T, ip netip.Addr, domain string) string {
	t.Helper()
	if p == nil {
		return ""
	}
	line, _ := json.Marshal(map[string]string{"ip": ip.String(), "sender": "postmaster@" + domain})
	if _, err := fmt.Fprintf(p.in, "%s\n", line); err != nil {
		t.Fatalf("writing to pyspf: %v", err)
	}
	if !p.out.Scan() {
		t.Fatalf("pyspf stopped: %v", p.out.Err())
	}
	return p.out.Text()
}

// TestMergeSPFPlacement pins where the platform's terms go and what is not
// repeated, record by record.
func TestMergeSPFPlacement(t *testing.T) {
	t.Parallel()
	network := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::25/128")}
	tests := []struct {
		name     string
		include  string
		ips      []netip.Prefix // default platformIPs
		records  []string       // the TXT records of the domain
		want     string         // the record to publish; empty for none
		added    []string
		lookups  int
		noteHas  string
		noChange bool
	}{
		{name: "before all", include: "_spf.platform.example",
			records: []string{"v=spf1 mx -all"},
			want:    "v=spf1 mx include:_spf.platform.example -all", added: []string{"include:_spf.platform.example"}, lookups: 3},
		{name: "only the addresses that fail", records: []string{"v=spf1 ip4:192.0.2.11/32 ~all"},
			want: "v=spf1 ip4:192.0.2.11/32 ip4:192.0.2.10 ip6:2001:db8::25 ~all", added: []string{"ip4:192.0.2.10", "ip6:2001:db8::25"}},
		{name: "a network is one term", ips: network, records: []string{"v=spf1 ~all"},
			want: "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::25 ~all", added: []string{"ip4:192.0.2.0/24", "ip6:2001:db8::25"}},
		{name: "an include that misses a network", include: "_spf.platform.example", ips: network, records: []string{"v=spf1 ~all"},
			want: "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::25 ~all", added: []string{"ip4:192.0.2.0/24", "ip6:2001:db8::25"},
			noteHas: "The platform's include _spf.platform.example does not give pass for 192.0.2.0, so the platform's addresses are listed instead."},
		{name: "terms after all are left where they are", records: []string{"v=spf1 ?all ip4:198.51.100.1 exp=why.example"},
			want:  "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25 ?all ip4:198.51.100.1 exp=why.example",
			added: []string{"ip4:192.0.2.10", "ip4:192.0.2.11", "ip6:2001:db8::25"}},
		{name: "redirect only", records: []string{"v=spf1 redirect=_spf.redir.example"},
			want:  "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25 redirect=_spf.redir.example",
			added: []string{"ip4:192.0.2.10", "ip4:192.0.2.11", "ip6:2001:db8::25"}, lookups: 1},
		{name: "a rejecting term puts the platform first", include: "_spf.platform.example",
			records: []string{"v=spf1 -ip4:192.0.2.0/24 include:_spf.platform.example -all"},
			want:    "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -ip4:192.0.2.0/24 include:_spf.platform.example -all",
			added:   []string{"ip4:192.0.2.10", "ip4:192.0.2.11"}, lookups: 2,
			noteHas: "The term -ip4:192.0.2.0/24 of c.example gives fail for the platform address 192.0.2.10, so the platform's terms go first."},
		{name: "already passing", include: "_spf.platform.example", records: []string{"v=spf1 include:_spf.platform.example -all"},
			want: "v=spf1 include:_spf.platform.example -all", lookups: 2, noChange: true},
		{name: "no record", include: "_spf.platform.example", records: []string{"google-site-verification=abc"},
			want: "v=spf1 include:_spf.platform.example ?all", added: []string{"include:_spf.platform.example"}, lookups: 2,
			noteHas: "publishes no SPF record"},
		{name: "already passing but over the limit",
			records: []string{"v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25 a:h1.c.example a:h2.c.example a:h3.c.example a:h4.c.example a:h5.c.example a:h6.c.example a:h7.c.example a:h8.c.example a:h9.c.example a:h10.c.example a:h11.c.example -all"},
			want:    "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25 a:h1.c.example a:h2.c.example a:h3.c.example a:h4.c.example a:h5.c.example a:h6.c.example a:h7.c.example a:h8.c.example a:h9.c.example a:h10.c.example a:h11.c.example -all",
			lookups: 11, noteHas: "needs 11 DNS lookups, over the limit of 10"},
		{name: "two records", records: []string{"v=spf1 -all", "v=spf1 mx -all"}, noteHas: "publishes 2 SPF records"},
		{name: "invalid record", records: []string{"v=spf1 ip4:300.1.1.1 -all"}, noteHas: "is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			z := platformZones()
			for _, r := range tt.records {
				z["c.example"] = append(z["c.example"], txt(r))
			}
			z["_spf.redir.example"] = []mailauthtest.Record{txt("v=spf1 ip4:198.51.100.41 -all")}
			srv := mailauthtest.NewServer(t, z)
			ips := tt.ips
			if ips == nil {
				ips = platformIPs
			}
			p, err := mailauth.NewPolicy(mailauth.PolicyConfig{
				CorporateDomain: "corp.example", PlatformDomain: "platform.example",
				SendingIPs: ips, SPFInclude: tt.include, Resolver: srv.Resolver(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			m, err := p.MergeSPF(context.Background(), "C.Example.")
			if err != nil {
				t.Fatal(err)
			}
			if m.Record != tt.want || m.Lookups != tt.lookups || !slices.Equal(m.Added, tt.added) {
				t.Errorf("MergeSPF(%q) = %q (%d lookups, added %q); want %q (%d lookups, added %q)\nnotes: %q", tt.records, m.Record, m.Lookups, m.Added, tt.want, tt.lookups, tt.added, m.Notes)
			}
			if tt.noteHas != "" && !strings.Contains(strings.Join(m.Notes, "\n"), tt.noteHas) {
				t.Errorf("MergeSPF(%q).Notes = %q; want one saying %q", tt.records, m.Notes, tt.noteHas)
			}
			if tt.noteHas == "" && len(m.Notes) > 0 {
				t.Errorf("MergeSPF(%q).Notes = %q; want none", tt.records, m.Notes)
			}
			if tt.noChange && (m.Record != m.Current || m.String() != "") {
				t.Errorf("MergeSPF(%q) = %q, report %q; want the current record and nothing to do", tt.records, m.Record, m.String())
			}
		})
	}
}

func TestMergeSPFIncludeOnlyPolicy(t *testing.T) {
	t.Parallel()
	z := platformZones()
	z["c.example"] = []mailauthtest.Record{txt("v=spf1 ip4:192.0.2.11 -all")}
	srv := mailauthtest.NewServer(t, z)
	p, err := mailauth.NewPolicy(mailauth.PolicyConfig{
		CorporateDomain: "corp.example", PlatformDomain: "platform.example",
		SPFInclude: "_spf.platform.example", Resolver: srv.Resolver(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "a@c.example"})
	if err != nil {
		t.Fatal(err)
	}
	// The addresses are learnt from the include's record, nested include
	// followed: 192.0.2.10 and 192.0.2.11 from it, 2001:db8::25 beside it.
	var ips []string
	for _, c := range d.SPF {
		ips = append(ips, c.IP.String()+" "+string(c.Result))
	}
	if want := []string{"2001:db8::25 fail", "192.0.2.10 fail", "192.0.2.11 pass"}; !slices.Equal(ips, want) {
		t.Errorf("Sender(c.example).SPF = %v; want %v", ips, want)
	}
	if m := d.Fix.SPF; m == nil || m.Record != "v=spf1 ip4:192.0.2.11 include:_spf.platform.example -all" {
		t.Errorf("Sender(c.example).Fix.SPF = %v; want the include merged", m)
	}
	srv.Set("_spf.platform.example", txt("v=spf1 a -all"))
	if _, err := p.MergeSPF(context.Background(), "c.example"); err == nil || !strings.Contains(err.Error(), "lists no ip4 or ip6 network") {
		t.Errorf("MergeSPF with an include listing no network = %v; want an error saying so", err)
	}
}

// FuzzMergeSPF merges the platform into arbitrary records served by the
// map-based resolver: never a panic, and a proposed record parses, keeps
// the original terms in order, stays within the limit and gives pass for
// every platform address.
func FuzzMergeSPF(f *testing.F) {
	for _, s := range []string{
		"v=spf1 -all", "v=spf1 mx ~all", "v=spf1 redirect=_spf.platform.example", "v=spf1 ip4:192.0.2.0/24 -all",
		"v=spf1 -ip4:192.0.2.10 include:inc1.example ?all exp=x.example", "v=spf1 a:%{d}.x.example exists:%{i}.ex.example ~all",
		"v=spf1 include:inc2.example include:inc2.example include:inc5.example -all", "v=spf1", "v=spf1 ip6:::/0", "spf2.0/pra -all",
	} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, record string) {
		zones := propertyZones()
		zones["c.example"] = []mailauthtest.Record{mailauthtest.TXT(record), mailauthtest.A("198.51.100.20"), mailauthtest.MX(10, "mx.c.example")}
		res := mailauthtest.NewResolver(zones)
		p, err := mailauth.NewPolicy(mailauth.PolicyConfig{
			CorporateDomain: "corp.example", PlatformDomain: "platform.example",
			SendingIPs: platformIPs, SPFInclude: "_spf.platform.example", Resolver: res,
		})
		if err != nil {
			t.Fatal(err)
		}
		m, err := p.MergeSPF(ctx, "c.example")
		if err != nil {
			t.Fatalf("MergeSPF(%q) = %v", record, err)
		}
		if m.Record == "" || len(m.Added) == 0 {
			return
		}
		merged, err := spf.Parse(m.Record)
		if err != nil {
			t.Fatalf("MergeSPF(%q) = %q, which does not parse: %v", record, m.Record, err)
		}
		if m.Current != "" {
			orig, _ := spf.Parse(m.Current)
			k := 0
			for _, term := range merged.Terms {
				if k < len(orig.Terms) && term.String() == orig.Terms[k].String() {
					k++
				}
			}
			if k != len(orig.Terms) {
				t.Errorf("MergeSPF(%q) = %q, which loses or reorders the original terms", record, m.Record)
			}
		}
		if m.Lookups > mailauth.SPFLookupLimit {
			t.Errorf("MergeSPF(%q) = %q with %d lookups; want at most %d", record, m.Record, m.Lookups, mailauth.SPFLookupLimit)
		}
		res.Set("c.example", mailauthtest.TXT(m.Record))
		checker, _ := spf.New(spf.Config{Resolver: res})
		for _, ip := range platformProbes {
			if got, x := checker.CheckHost(ctx, ip, "c.example", "postmaster@c.example", "mail.platform.example"); got != spf.Pass {
				t.Errorf("MergeSPF(%q) = %q: check_host(%s) = %s; want pass\n%s", record, m.Record, ip, got, x)
			}
		}
	})
}
