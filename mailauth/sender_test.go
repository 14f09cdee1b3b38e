package mailauth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// The platform of the scenarios: bulk mail from platform.example, leaving
// from 192.0.2.10, 192.0.2.11 and 2001:db8::25, which its include lists
// through a nested include (so including it costs two lookups).
var platformIPs = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.10/32"),
	netip.MustParsePrefix("192.0.2.11/32"),
	netip.MustParsePrefix("2001:db8::25/128"),
}

func platformZones() mailauthtest.Zones {
	return mailauthtest.Zones{
		"_spf.platform.example":      {txt("v=spf1 include:_ip4._spf.platform.example ip6:2001:db8::25 -all")},
		"_ip4._spf.platform.example": {txt("v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all")},
		"bounce.platform.example":    {txt("v=spf1 include:_spf.platform.example -all")},
		"_dmarc.platform.example":    {txt("v=DMARC1; p=reject")},
	}
}

// customerZones are the customers of the scenarios, one domain each.
func customerZones() mailauthtest.Zones {
	z := platformZones()
	add := func(name string, records ...mailauthtest.Record) { z[name] = append(z[name], records...) }
	// Already includes the platform.
	add("good.example", txt("v=spf1 mx include:_spf.platform.example -all"), mailauthtest.MX(10, "mx.good.example"))
	add("mx.good.example", mailauthtest.A("198.51.100.5"))
	add("_dmarc.good.example", txt("v=DMARC1; p=reject"))
	// Lists two of the three platform addresses, then ~all.
	add("soft.example", txt("v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ~all"))
	add("_dmarc.soft.example", txt("v=DMARC1; p=quarantine"))
	// Nine lookups: a, mx, a:web, mx:alt (one each), include:i1 (three),
	// include:i2 (two, with i3).
	add("nine.example", txt("v=spf1 a mx a:web.nine.example mx:alt.nine.example include:i1.nine.example include:i2.nine.example ~all"),
		mailauthtest.A("198.51.100.20"), mailauthtest.AAAA("2001:db8:9::20"), mailauthtest.MX(10, "mx1.nine.example"))
	add("mx1.nine.example", mailauthtest.A("198.51.100.21"), mailauthtest.AAAA("2001:db8:9::21"))
	add("web.nine.example", mailauthtest.A("198.51.100.22"), mailauthtest.AAAA("2001:db8:9::22"))
	add("alt.nine.example", mailauthtest.MX(10, "mx1.nine.example"))
	add("i1.nine.example", txt("v=spf1 a:h1.nine.example a:h2.nine.example ip4:198.51.100.128/25 -all"))
	add("h1.nine.example", mailauthtest.A("198.51.100.23"), mailauthtest.AAAA("2001:db8:9::23"))
	add("h2.nine.example", mailauthtest.A("198.51.100.24"), mailauthtest.AAAA("2001:db8:9::24"))
	add("i2.nine.example", txt("v=spf1 include:i3.nine.example -all"))
	add("i3.nine.example", txt("v=spf1 ip4:203.0.113.0/24 -all"))
	add("_dmarc.nine.example", txt("v=DMARC1; p=none"))
	// Authorises the platform, but p=reject and mail would leave with the
	// platform's bounce domain: no alignment.
	add("strict.example", txt("v=spf1 include:_spf.platform.example -all"))
	add("_dmarc.strict.example", txt("v=DMARC1; p=reject; adkim=r; aspf=r"))
	// Sends its own mail from its own host; a scheduled report from it
	// through the platform is the trap.
	add("trap.example", txt("v=spf1 ip4:198.51.100.77 -all"))
	add("_dmarc.trap.example", txt("v=DMARC1; p=reject"))
	// Authorises the platform and publishes no DMARC record.
	add("nodmarc.example", txt("v=spf1 include:_spf.platform.example ~all"))
	// Twelve lookups already: twelve a: terms.
	var terms []string
	for i := range 12 {
		host := "h" + string(rune('a'+i)) + ".twelve.example"
		terms = append(terms, "a:"+host)
		add(host, mailauthtest.A("198.51.100.9"))
	}
	add("twelve.example", txt("v=spf1 "+strings.Join(terms, " ")+" include:big.twelve.example ~all"))
	add("big.twelve.example", txt("v=spf1 a:ha.twelve.example a:hb.twelve.example -all"))
	// Redirects to a shared record.
	add("redir.example", txt("v=spf1 ip4:198.51.100.40 redirect=_spf.redir.example"))
	add("_spf.redir.example", txt("v=spf1 ip4:198.51.100.41 -all"))
	return z
}

// txt returns a TXT record of text, split into strings of at most 255
// octets as DNS requires.
func txt(text string) mailauthtest.Record {
	var parts []string
	for len(text) > 255 {
		parts = append(parts, text[:255])
		text = text[255:]
	}
	return mailauthtest.TXT(append(parts, text)...)
}

// scenarioPolicy returns a policy on a loopback DNS server serving
// customerZones, with edit applied to its configuration.
func scenarioPolicy(t *testing.T, edit func(*mailauth.PolicyConfig)) (*mailauth.Policy, *mailauthtest.Server) {
	t.Helper()
	srv := mailauthtest.NewServer(t, customerZones())
	cfg := mailauth.PolicyConfig{
		CorporateDomain: "corp.example",
		PlatformDomain:  "platform.example",
		SendingIPs:      platformIPs,
		SPFInclude:      "_spf.platform.example",
		Resolver:        srv.Resolver(t),
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := mailauth.NewPolicy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, srv
}

func hasCode(d *mailauth.Decision, c mailauth.Code) bool {
	return slices.ContainsFunc(d.Findings, func(f mailauth.Finding) bool { return f.Code == c })
}

func TestSenderCustomerAlreadyIncludesPlatform(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	d, err := p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{From: "alerts@good.example"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Choice != mailauth.SenderCustomer || d.From != "alerts@good.example" || d.ReplyTo != "" || d.Fix != nil {
		t.Fatalf("Sender(good.example) = %v, From %q, Reply-To %q, Fix %v; want the customer's own From\n%s", d.Choice, d.From, d.ReplyTo, d.Fix, d)
	}
	if len(d.SPF) != 3 {
		t.Errorf("Sender(good.example).SPF has %d checks; want 3, one per platform address", len(d.SPF))
	}
	for _, c := range d.SPF {
		if c.Result != spf.Pass {
			t.Errorf("SPF(%s, good.example) = %s; want pass", c.IP, c.Result)
		}
	}
	if d.DMARC == nil || !d.DMARC.Pass() {
		t.Errorf("Sender(good.example).DMARC = %v; want a pass", d.DMARC)
	}
	if d.DKIMDomain != "platform.example" {
		t.Errorf("Sender(good.example).DKIMDomain = %q; want platform.example", d.DKIMDomain)
	}
}

func TestSenderSoftfailMissingOneAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		include string
		record  string
		added   []string
		lookups int
	}{
		{"with the platform's include", "_spf.platform.example",
			"v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 include:_spf.platform.example ~all", []string{"include:_spf.platform.example"}, 2},
		{"with addresses only", "",
			"v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ip4:192.0.2.11 ~all", []string{"ip4:192.0.2.11"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, srv := scenarioPolicy(t, func(c *mailauth.PolicyConfig) { c.SPFInclude = tt.include })
			d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@soft.example"})
			if err != nil {
				t.Fatal(err)
			}
			if d.Choice != mailauth.SenderFallback || d.From != "noreply@platform.example" || d.ReplyTo != "alerts@soft.example" {
				t.Fatalf("Sender(soft.example) = %v, From %q, Reply-To %q; want a fallback to noreply@platform.example\n%s", d.Choice, d.From, d.ReplyTo, d)
			}
			var failing []string
			for _, c := range d.SPF {
				if c.Result != spf.Pass {
					failing = append(failing, c.IP.String()+" "+string(c.Result))
				}
			}
			if want := []string{"192.0.2.11 softfail"}; !slices.Equal(failing, want) {
				t.Errorf("Sender(soft.example) SPF failures = %v; want %v", failing, want)
			}
			if !hasCode(d, mailauth.CodeSPFNotAuthorised) {
				t.Errorf("Sender(soft.example) findings = %v; want %s", d.Findings, mailauth.CodeSPFNotAuthorised)
			}
			m := d.Fix.SPF
			if m == nil {
				t.Fatalf("Sender(soft.example).Fix.SPF = nil; want a merged record\n%s", d)
			}
			if m.Record != tt.record || m.Lookups != tt.lookups || !slices.Equal(m.Added, tt.added) {
				t.Errorf("merged record = %q (%d lookups, added %v); want %q (%d lookups, added %v)", m.Record, m.Lookups, m.Added, tt.record, tt.lookups, tt.added)
			}
			if want := []string{"*@platform.example"}; !slices.Equal(d.Fix.AllowList, want) {
				t.Errorf("Fix.AllowList = %v; want %v", d.Fix.AllowList, want)
			}
			// The fix works: published, the customer's own From is used.
			srv.Set("soft.example", txt(m.Record))
			d, err = p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@soft.example"})
			if err != nil || d.Choice != mailauth.SenderCustomer {
				t.Errorf("Sender(soft.example) after publishing the fix = %v, %v; want %s\n%s", d.Choice, err, mailauth.SenderCustomer, d)
			}
		})
	}
}

func TestSenderNineLookupsGetsAddressTerms(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	d, err := p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{From: "scans@nine.example"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Choice != mailauth.SenderFallback || d.Fix == nil || d.Fix.SPF == nil {
		t.Fatalf("Sender(nine.example) = %v with fix %v; want a fallback with an SPF fix\n%s", d.Choice, d.Fix, d)
	}
	m := d.Fix.SPF
	if m.CurrentLookups != 9 {
		t.Errorf("CurrentLookups = %d; want 9", m.CurrentLookups)
	}
	want := "v=spf1 a mx a:web.nine.example mx:alt.nine.example include:i1.nine.example include:i2.nine.example ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25 ~all"
	if m.Record != want || m.Lookups != 9 {
		t.Errorf("merged record = %q (%d lookups); want %q (9 lookups)", m.Record, m.Lookups, want)
	}
	if !slices.ContainsFunc(m.Notes, func(n string) bool {
		return strings.Contains(n, "include:_spf.platform.example would make 11 DNS lookups, over the limit of 10")
	}) {
		t.Errorf("Notes = %q; want the include's 11 lookups said", m.Notes)
	}
	if s := d.String(); !strings.Contains(s, "(9 of 10 DNS lookups)") || !strings.Contains(s, "Add these to your SPF record for nine.example: ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25") {
		t.Errorf("report = %s; want the terms to add and the lookup count", s)
	}
}

func TestMergeSPFOverTheLimit(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	m, err := p.MergeSPF(context.Background(), "twelve.example")
	if err != nil {
		t.Fatal(err)
	}
	if m.Record != "" {
		t.Errorf("MergeSPF(twelve.example).Record = %q; want none, the record is over the limit already", m.Record)
	}
	if m.CurrentLookups != 15 {
		t.Errorf("MergeSPF(twelve.example).CurrentLookups = %d; want 15", m.CurrentLookups)
	}
	if len(m.Costly) == 0 || m.Costly[0] != (mailauth.LookupCost{Term: "include:big.twelve.example", Lookups: 3}) {
		t.Errorf("MergeSPF(twelve.example).Costly = %v; want include:big.twelve.example (3) first", m.Costly)
	}
	if s := m.String(); !strings.Contains(s, "already needs 15 DNS lookups") || !strings.Contains(s, "include:big.twelve.example (3)") {
		t.Errorf("MergeSPF(twelve.example) report = %s; want the count and the costliest include", s)
	}
}

func TestMergeSPFRedirect(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, func(c *mailauth.PolicyConfig) { c.SPFInclude = "" })
	m, err := p.MergeSPF(context.Background(), "redir.example")
	if err != nil {
		t.Fatal(err)
	}
	want := "v=spf1 ip4:198.51.100.40 ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25 redirect=_spf.redir.example"
	if m.Record != want || m.Lookups != 1 {
		t.Errorf("MergeSPF(redir.example) = %q (%d lookups); want %q (1 lookup)", m.Record, m.Lookups, want)
	}
}

// TestSenderNetworkCarvedOut: a platform network whose first and last
// addresses pass but whose middle a customer's record rejects, directly or
// through an include, is not authorised.
func TestSenderNetworkCarvedOut(t *testing.T) {
	t.Parallel()
	p, srv := scenarioPolicy(t, func(c *mailauth.PolicyConfig) {
		c.SendingIPs, c.SPFInclude = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, ""
	})
	srv.Set("carve.example", txt("v=spf1 -ip4:192.0.2.100 ip4:192.0.2.0/24 -all"))
	srv.Set("nested.example", txt("v=spf1 include:inner.nested.example -all"))
	srv.Set("inner.nested.example", txt("v=spf1 ?ip4:192.0.2.128/25 ip4:192.0.2.0/24 -all"))
	srv.Set("whole.example", txt("v=spf1 ip4:192.0.2.0/25 ip4:192.0.2.128/25 -all"))
	tests := []struct {
		from, failing, record string
		want                  mailauth.SenderChoice
	}{
		{"a@carve.example", "192.0.2.100 fail", "v=spf1 ip4:192.0.2.0/24 -ip4:192.0.2.100 ip4:192.0.2.0/24 -all", mailauth.SenderFallback},
		{"a@nested.example", "192.0.2.255 fail, 192.0.2.128 fail", "", mailauth.SenderFallback},
		{"a@whole.example", "", "", mailauth.SenderCustomer},
	}
	for _, tt := range tests {
		d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: tt.from})
		if err != nil {
			t.Fatal(err)
		}
		var failing []string
		for _, c := range d.SPF {
			if c.Result != spf.Pass {
				failing = append(failing, c.IP.String()+" "+string(c.Result))
			}
		}
		if d.Choice != tt.want || strings.Join(failing, ", ") != tt.failing {
			t.Errorf("Sender(%s) = %v, failing %q; want %v, failing %q", tt.from, d.Choice, failing, tt.want, tt.failing)
		}
		if tt.record != "" && (d.Fix == nil || d.Fix.SPF == nil || d.Fix.SPF.Record != tt.record) {
			t.Errorf("Sender(%s).Fix = %v; want the record %q", tt.from, d.Fix, tt.record)
		}
	}
}

func TestSenderStrictDMARCWithoutAlignment(t *testing.T) {
	t.Parallel()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_ = priv
	p, srv := scenarioPolicy(t, func(c *mailauth.PolicyConfig) {
		c.BounceDomain = "bounce.platform.example"
		c.CustomerDKIM = &mailauth.DKIMKey{Selector: "alertmail", PublicKey: pub}
	})
	customer := mailauth.Customer{From: "soc@strict.example", DKIM: true}
	d, err := p.Sender(context.Background(), mailauth.AlertEmails, customer)
	if err != nil {
		t.Fatal(err)
	}
	if d.Choice != mailauth.SenderFallback || d.ReplyTo != "soc@strict.example" {
		t.Fatalf("Sender(strict.example) = %v, Reply-To %q; want a fallback keeping the Reply-To\n%s", d.Choice, d.ReplyTo, d)
	}
	if hasCode(d, mailauth.CodeSPFNotAuthorised) || d.Fix.SPF != nil {
		t.Errorf("Sender(strict.example) blames SPF (%v, fix %v); its record authorises the platform", d.Findings, d.Fix.SPF)
	}
	if !hasCode(d, mailauth.CodeDMARCFails) || !hasCode(d, mailauth.CodeDKIMKeyMissing) {
		t.Errorf("Sender(strict.example) findings = %v; want DMARC failing and the DKIM key missing", d.Findings)
	}
	for _, v := range []*dmarc.Verdict{d.DMARC.Report.RFC9989, d.DMARC.Report.RFC7489} {
		if v.Result != dmarc.Fail || v.Disposition != dmarc.PolicyReject {
			t.Errorf("DMARC (%v) = %s, %s; want fail, reject", v.Generation, v.Result, v.Disposition)
		}
	}
	if want := []string{"*@platform.example"}; !slices.Equal(d.Fix.AllowList, want) {
		t.Errorf("Fix.AllowList = %v; want %v", d.Fix.AllowList, want)
	}
	if d.Fix.DKIM == nil || d.Fix.DKIM.Name != "alertmail._domainkey.strict.example" {
		t.Fatalf("Fix.DKIM = %v; want the key record under alertmail._domainkey.strict.example", d.Fix.DKIM)
	}
	if s := d.String(); !strings.Contains(s, "allow *@platform.example") {
		t.Errorf("report = %s; want the allow-list entry", s)
	}
	// With the key published, mail is signed with the customer's domain,
	// aligns through DKIM, and the customer's From is used.
	srv.Set(d.Fix.DKIM.Name, txt(d.Fix.DKIM.Text))
	d, err = p.Sender(context.Background(), mailauth.AlertEmails, customer)
	if err != nil || d.Choice != mailauth.SenderCustomer || d.DKIMDomain != "strict.example" {
		t.Errorf("Sender(strict.example) with the key published = %v, DKIM %q, %v; want the customer's From signed by strict.example\n%s", d.Choice, d.DKIMDomain, err, d)
	}
}

// TestSenderWithoutDMARCRecord: with no DMARC policy there is nothing to
// fail, and the customer's From is used when an identifier aligns all the
// same (SPF of the customer's own envelope sender); with the platform's
// bounce domain as envelope sender nothing aligns.
func TestSenderWithoutDMARCRecord(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		bounce string
		want   mailauth.SenderChoice
	}{{"", mailauth.SenderCustomer}, {"bounce.platform.example", mailauth.SenderFallback}} {
		p, _ := scenarioPolicy(t, func(c *mailauth.PolicyConfig) { c.BounceDomain = tt.bounce })
		d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@nodmarc.example"})
		if err != nil {
			t.Fatal(err)
		}
		if d.Choice != tt.want {
			t.Errorf("Sender(nodmarc.example, bounce domain %q) = %v; want %v\n%s", tt.bounce, d.Choice, tt.want, d)
		}
		if tt.want == mailauth.SenderFallback && !strings.Contains(d.String(), "nodmarc.example publishes no DMARC policy") {
			t.Errorf("Sender(nodmarc.example) report = %s; want it to say there is no DMARC policy", d)
		}
	}
}

func TestSenderPrivateCloudSkipsChecks(t *testing.T) {
	t.Parallel()
	p, srv := scenarioPolicy(t, nil)
	d, err := p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{
		From: "alerts@private.example", Cloud: mailauth.PrivateCloud, Gateway: "smtp.private.example",
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.Choice != mailauth.SenderPrivateCloud || d.From != "alerts@private.example" || d.ReplyTo != "" || d.Fix != nil || d.SPF != nil || d.DMARC != nil {
		t.Errorf("Sender(private cloud) = %+v; want the customer's From, no check, no fix", d)
	}
	if !hasCode(d, mailauth.CodePrivateCloud) || !strings.Contains(d.String(), "no change is needed") {
		t.Errorf("Sender(private cloud) report = %s; want it to say no change is needed", d)
	}
	if n := srv.Queries(); n != 0 {
		t.Errorf("Sender(private cloud) made %d DNS queries; want none", n)
	}
	// Without a sender of its own, a private-cloud customer gets the
	// platform default too, as the seed's notice says.
	d, err = p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{Cloud: mailauth.PrivateCloud, Gateway: "smtp.private.example"})
	if err != nil || d.Choice != mailauth.SenderDefault || d.From != "noreply@platform.example" {
		t.Errorf("Sender(private cloud, no sender) = %v, %v; want the platform default", d, err)
	}
	// Without a gateway of its own, a private-cloud customer's mail leaves
	// through the platform and is checked like any other.
	d, err = p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{From: "alerts@soft.example", Cloud: mailauth.PrivateCloud})
	if err != nil || d.Choice != mailauth.SenderFallback {
		t.Errorf("Sender(private cloud, no gateway) = %v, %v; want %s", d.Choice, err, mailauth.SenderFallback)
	}
}

func TestSenderMigration(t *testing.T) {
	t.Parallel()
	at := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	var now time.Time
	p, _ := scenarioPolicy(t, func(c *mailauth.PolicyConfig) {
		c.Clock = mailauth.ClockFunc(func() time.Time { return now })
		c.Applications = []mailauth.Application{{ID: mailauth.ScanNotifications, Migration: &mailauth.Migration{Old: "corp.example", At: at}}}
	})
	tests := []struct {
		name      string
		now       time.Time
		from      string
		migrating bool
	}{
		{"before", at.Add(-time.Second), "noreply@corp.example", true},
		{"at the instant", at, "noreply@platform.example", false},
		{"after", at.Add(time.Second), "noreply@platform.example", false},
	}
	for _, tt := range tests { // sequential: they share the clock
		now = tt.now
		d, err := p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Choice != mailauth.SenderDefault || d.From != tt.from {
			t.Errorf("%s: Sender() = %v, %q; want %s, %q", tt.name, d.Choice, d.From, mailauth.SenderDefault, tt.from)
		}
		if got := hasCode(d, mailauth.CodeMigration); got != tt.migrating {
			t.Errorf("%s: migration finding = %v; want %v (%v)", tt.name, got, tt.migrating, d.Findings)
		}
	}
	// Falling back before the instant, gateways must allow both domains.
	now = at.Add(-time.Second)
	d, err := p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{From: "alerts@soft.example"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"*@platform.example", "*@corp.example"}; d.Fix == nil || !slices.Equal(d.Fix.AllowList, want) {
		t.Errorf("Sender(soft.example) before the migration: fix %v; want allow list %v", d.Fix, want)
	}
}

func TestSenderScheduledReportTrap(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	d, err := p.Sender(context.Background(), mailauth.ScheduledReports, mailauth.Customer{From: "reports@trap.example"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Choice != mailauth.SenderFallback || d.From != "noreply@platform.example" {
		t.Fatalf("Sender(scheduled report, trap.example) = %v, %q; want a fallback to the platform sender", d.Choice, d.From)
	}
	if len(d.Findings) == 0 || d.Findings[0].Code != mailauth.CodeScheduledReportTrap {
		t.Fatalf("Sender(scheduled report, trap.example) findings = %v; want the trap first", d.Findings)
	}
	if !strings.Contains(d.Findings[0].Text, "DMARC alignment fails") || !hasCode(d, mailauth.CodeDMARCFails) {
		t.Errorf("trap finding = %q; want the DMARC alignment reason", d.Findings[0].Text)
	}
	if d.Fix.Sender != "noreply@platform.example" || !strings.HasPrefix(d.Fix.String(), "Set the report's sender to noreply@platform.example.") {
		t.Errorf("Fix = %s; want the platform sender recommended first", d.Fix)
	}
	// A report that passes DMARC through the customer's DKIM key, but whose
	// SPF record misses a platform address, falls back on SPF: no trap.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, srv := scenarioPolicy(t, func(c *mailauth.PolicyConfig) {
		c.CustomerDKIM = &mailauth.DKIMKey{Selector: "alertmail", PublicKey: pub}
	})
	rec, _ := pk.DKIMRecord("soft.example")
	srv.Set(rec.Name, txt(rec.Text))
	d, err = pk.Sender(context.Background(), mailauth.ScheduledReports, mailauth.Customer{From: "reports@soft.example", DKIM: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Choice != mailauth.SenderFallback || !d.DMARC.Pass() || hasCode(d, mailauth.CodeScheduledReportTrap) || !hasCode(d, mailauth.CodeSPFNotAuthorised) {
		t.Errorf("Sender(scheduled report, DKIM-aligned soft.example) = %v, DMARC pass %v, findings %v; want an SPF fallback without the trap", d.Choice, d.DMARC.Pass(), d.Findings)
	}
	// The same customer's alert emails fall back too, but that is no trap.
	d, err = p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "reports@trap.example"})
	if err != nil || hasCode(d, mailauth.CodeScheduledReportTrap) || d.Fix.Sender != "" {
		t.Errorf("Sender(alert email, trap.example) = %v; want no trap finding", d)
	}
}

func TestSenderRejectsBadCustomers(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	for _, c := range []mailauth.Customer{
		{From: "Alerts <alerts@soft.example>"},
		{From: "alerts@soft.example\r\nBcc: x@evil.example"},
		{From: "not an address"},
		{From: "alerts@localhost"},
		{From: "alerts@soft.example", Gateway: "smtp.soft.example"},
		{From: "alerts@soft.example", Cloud: "hybrid"},
		{From: "alerts@private.example", Cloud: mailauth.PrivateCloud, Gateway: "bad gateway"},
	} {
		if d, err := p.Sender(context.Background(), mailauth.AlertEmails, c); !errors.Is(err, mailauth.ErrSender) {
			t.Errorf("Sender(%+v) = %v, %v; want ErrSender", c, d, err)
		}
	}
	if _, err := p.Sender(context.Background(), "billing", mailauth.Customer{}); !errors.Is(err, mailauth.ErrUnknownApp) {
		t.Errorf("Sender(billing) = %v; want ErrUnknownApp", err)
	}
}

func TestSenderSpecialDomains(t *testing.T) {
	t.Parallel()
	p, srv := scenarioPolicy(t, nil)
	d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "soc@Platform.Example"})
	if err != nil || d.Choice != mailauth.SenderDefault || d.From != "soc@platform.example" {
		t.Errorf("Sender(platform address) = %v, %v; want it used as the platform's own", d, err)
	}
	d, err = p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "it@mail.corp.example"})
	if err != nil || d.Choice != mailauth.SenderFallback || !hasCode(d, mailauth.CodeCorporateSender) || d.From != "noreply@platform.example" {
		t.Errorf("Sender(corporate address) = %v, %v; want a fallback refusing the corporate domain", d, err)
	}
	if n := srv.Queries(); n != 0 {
		t.Errorf("Sender(platform or corporate address) made %d DNS queries; want none", n)
	}
}

func TestSenderTempError(t *testing.T) {
	t.Parallel()
	p, srv := scenarioPolicy(t, nil)
	srv.Set("slow.example", mailauthtest.Timeout())
	d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@slow.example"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Choice != mailauth.SenderFallback || !hasCode(d, mailauth.CodeSPFError) {
		t.Errorf("Sender(timing out domain) = %v, %v; want a fallback with an SPF error", d.Choice, d.Findings)
	}

	// SPF passes, but the DMARC record cannot be read: a fallback whose
	// finding says the check failed, not that DMARC fails, and no
	// scheduled-report trap is claimed.
	srv.Set("dmarcslow.example", txt("v=spf1 include:_spf.platform.example -all"))
	srv.Set("_dmarc.dmarcslow.example", mailauthtest.Timeout())
	d, err = p.Sender(context.Background(), mailauth.ScheduledReports, mailauth.Customer{From: "reports@dmarcslow.example"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Choice != mailauth.SenderFallback || !hasCode(d, mailauth.CodeDMARCError) ||
		hasCode(d, mailauth.CodeDMARCFails) || hasCode(d, mailauth.CodeScheduledReportTrap) {
		t.Errorf("Sender(DMARC record timing out) = %v, %v; want a fallback with a DMARC error, no DMARC failure, no trap", d.Choice, d.Findings)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Sender(ctx, mailauth.AlertEmails, mailauth.Customer{From: "alerts@soft.example"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Sender(cancelled) = %v; want context.Canceled", err)
	}
}

// FuzzSender feeds arbitrary customer senders: never a panic, an invalid
// one is refused with ErrSender, and a decision never carries a line
// break into a header.
func FuzzSender(f *testing.F) {
	for _, s := range []string{"alerts@soft.example", "", "A <a@b.example>", "a@b.example\r\nBcc: c@d.example", "a@[192.0.2.1]", "\"q u\"@soft.example", "a@platform.example", "a@xn--p1ai"} {
		f.Add(s, false)
	}
	res := mailauthtest.NewResolver(customerZones())
	p, err := mailauth.NewPolicy(mailauth.PolicyConfig{
		CorporateDomain: "corp.example", PlatformDomain: "platform.example",
		SendingIPs: platformIPs, Resolver: res,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, from string, private bool) {
		c := mailauth.Customer{From: from}
		if private {
			c.Cloud, c.Gateway = mailauth.PrivateCloud, "smtp.private.example"
		}
		d, err := p.Sender(context.Background(), mailauth.AlertEmails, c)
		if err != nil {
			if !errors.Is(err, mailauth.ErrSender) {
				t.Fatalf("Sender(%q) = %v; want ErrSender", from, err)
			}
			return
		}
		for _, h := range []string{d.From, d.ReplyTo} {
			if strings.ContainsAny(h, "\r\n") {
				t.Fatalf("Sender(%q) = From %q, Reply-To %q: a line break", from, d.From, d.ReplyTo)
			}
		}
		if d.Choice == mailauth.SenderFallback && d.ReplyTo == "" {
			t.Errorf("Sender(%q) fell back without keeping the Reply-To", from)
		}
	})
}

// BenchmarkSender measures one decision over the map-based resolver: the
// SPF checks of the three platform addresses and the DMARC preflight, for
// a customer whose record already includes the platform, and the fallback
// with its merged record for one whose record misses an address.
func BenchmarkSender(b *testing.B) {
	p, err := mailauth.NewPolicy(mailauth.PolicyConfig{
		CorporateDomain: "corp.example", PlatformDomain: "platform.example",
		SendingIPs: platformIPs, SPFInclude: "_spf.platform.example",
		Resolver: mailauthtest.NewResolver(customerZones()),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, bm := range []struct{ name, from string }{{"customer-domain", "alerts@good.example"}, {"fallback", "alerts@soft.example"}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Sender(ctx, mailauth.AlertEmails, mailauth.Customer{From: bm.from}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSenderInternationalizedCustomer: a customer's From in U-labels is
// checked, and used, as the A-labels its DNS is published under.
func TestSenderInternationalizedCustomer(t *testing.T) {
	t.Parallel()
	p, srv := scenarioPolicy(t, nil)
	srv.Set("xn--bcher-kva.example", txt("v=spf1 include:_spf.platform.example -all"))
	srv.Set("_dmarc.xn--bcher-kva.example", txt("v=DMARC1; p=reject"))
	d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@Bücher.example"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Choice != mailauth.SenderCustomer || d.From != "alerts@xn--bcher-kva.example" {
		t.Errorf("Sender(alerts@Bücher.example) = %v, From %q; want the customer's From as alerts@xn--bcher-kva.example\n%s", d.Choice, d.From, d)
	}
	if _, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@bü cher.example"}); !errors.Is(err, mailauth.ErrSender) {
		t.Errorf("Sender(invalid U-label) = %v; want ErrSender", err)
	}
}

func TestDecisionSender(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	tests := []struct {
		name        string
		from        string // Customer.From
		wantFrom    string
		wantReplyTo string
		wantDKIM    string
	}{
		{name: "own domain", from: "alerts@good.example",
			wantFrom: "alerts@good.example", wantDKIM: "platform.example"},
		{name: "fallback", from: "alerts@soft.example",
			wantFrom: "noreply@platform.example", wantReplyTo: "alerts@soft.example", wantDKIM: "platform.example"},
		{name: "default", wantFrom: "noreply@platform.example", wantDKIM: "platform.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: tt.from})
			if err != nil {
				t.Fatal(err)
			}
			if d.From != tt.wantFrom || d.ReplyTo != tt.wantReplyTo || d.DKIMDomain != tt.wantDKIM {
				t.Errorf("Sender(%q) = From %q, Reply-To %q, DKIM %q; want %q, %q, %q", tt.from, d.From, d.ReplyTo, d.DKIMDomain, tt.wantFrom, tt.wantReplyTo, tt.wantDKIM)
			}
		})
	}
}
