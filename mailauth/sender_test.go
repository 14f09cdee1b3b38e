package mailauth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/mail"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err)
	return p, srv
}

func hasCode(d *mailauth.Decision, c mailauth.Code) bool {
	return slices.ContainsFunc(d.Findings, func(f mailauth.Finding) bool { return f.Code == c })
}

// sent is the sender a Decision chose, compared in one assertion.
type sent struct {
	Choice        mailauth.SenderChoice
	From, ReplyTo string
}

func sentOf(d *mailauth.Decision) sent { return sent{d.Choice, d.From, d.ReplyTo} }

// spfFailures lists the SPF checks of d that do not pass, as "ip result".
func spfFailures(d *mailauth.Decision) []string {
	var failing []string
	for _, c := range d.SPF {
		if c.Result != spf.Pass {
			failing = append(failing, c.IP.String()+" "+string(c.Result))
		}
	}
	return failing
}

func TestSenderCustomerAlreadyIncludesPlatform(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	d, err := p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{From: "alerts@good.example"})
	require.NoError(t, err)
	want := sent{mailauth.SenderCustomer, "alerts@good.example", ""}
	require.Equalf(t, want, sentOf(d), "Sender(good.example) = %+v; want the customer's own From %+v\n%s", sentOf(d), want, d)
	assert.Nilf(t, d.Fix, "Sender(good.example).Fix = %v; want none", d.Fix)
	assert.Lenf(t, d.SPF, 3, "Sender(good.example).SPF has %d checks; want 3, one per platform address", len(d.SPF))
	for _, c := range d.SPF {
		assert.Equalf(t, spf.Pass, c.Result, "SPF(%s, good.example) = %s; want pass", c.IP, c.Result)
	}
	require.NotNilf(t, d.DMARC, "Sender(good.example).DMARC = nil; want a pass")
	assert.Truef(t, d.DMARC.Pass(), "Sender(good.example).DMARC = %v; want a pass", d.DMARC)
	assert.Equalf(t, "platform.example", d.DKIMDomain, "Sender(good.example).DKIMDomain = %q; want platform.example", d.DKIMDomain)
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
			require.NoError(t, err)
			want := sent{mailauth.SenderFallback, "noreply@platform.example", "alerts@soft.example"}
			require.Equalf(t, want, sentOf(d), "Sender(soft.example) = %+v; want a fallback %+v\n%s", sentOf(d), want, d)
			failing, wantFailing := spfFailures(d), []string{"192.0.2.11 softfail"}
			assert.Equalf(t, wantFailing, failing, "Sender(soft.example) SPF failures = %v; want %v", failing, wantFailing)
			assert.Truef(t, hasCode(d, mailauth.CodeSPFNotAuthorised), "Sender(soft.example) findings = %v; want %s", d.Findings, mailauth.CodeSPFNotAuthorised)
			m := d.Fix.SPF
			require.NotNilf(t, m, "Sender(soft.example).Fix.SPF = nil; want a merged record\n%s", d)
			assert.Equalf(t, tt.record, m.Record, "merged record = %q; want %q", m.Record, tt.record)
			assert.Equalf(t, tt.lookups, m.Lookups, "merged record %q costs %d lookups; want %d", m.Record, m.Lookups, tt.lookups)
			assert.Equalf(t, tt.added, m.Added, "merged record %q adds %v; want %v", m.Record, m.Added, tt.added)
			wantAllow := []string{"*@platform.example"}
			assert.Equalf(t, wantAllow, d.Fix.AllowList, "Fix.AllowList = %v; want %v", d.Fix.AllowList, wantAllow)
			// The fix works: published, the customer's own From is used.
			srv.Set("soft.example", txt(m.Record))
			d, err = p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@soft.example"})
			require.NoError(t, err)
			assert.Equalf(t, mailauth.SenderCustomer, d.Choice, "Sender(soft.example) after publishing the fix = %v; want %s\n%s", d.Choice, mailauth.SenderCustomer, d)
		})
	}
}

func TestSenderNineLookupsGetsAddressTerms(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	d, err := p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{From: "scans@nine.example"})
	require.NoError(t, err)
	require.Equalf(t, mailauth.SenderFallback, d.Choice, "Sender(nine.example) = %v; want a fallback\n%s", d.Choice, d)
	require.Truef(t, d.Fix != nil && d.Fix.SPF != nil, "Sender(nine.example).Fix = %v; want an SPF fix\n%s", d.Fix, d)
	m := d.Fix.SPF
	assert.Equalf(t, 9, m.CurrentLookups, "CurrentLookups = %d; want 9", m.CurrentLookups)
	want := "v=spf1 a mx a:web.nine.example mx:alt.nine.example include:i1.nine.example include:i2.nine.example ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25 ~all"
	assert.Equalf(t, want, m.Record, "merged record = %q; want %q", m.Record, want)
	assert.Equalf(t, 9, m.Lookups, "merged record %q costs %d lookups; want 9", m.Record, m.Lookups)
	assert.Containsf(t, strings.Join(m.Notes, "\n"), "include:_spf.platform.example would make 11 DNS lookups, over the limit of 10",
		"Notes = %q; want the include's 11 lookups said", m.Notes)
	s := d.String()
	assert.Containsf(t, s, "(9 of 10 DNS lookups)", "report = %s; want the lookup count", s)
	assert.Containsf(t, s, "Add these to your SPF record for nine.example: ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25", "report = %s; want the terms to add", s)
}

func TestMergeSPFOverTheLimit(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	m, err := p.MergeSPF(context.Background(), "twelve.example")
	require.NoError(t, err)
	assert.Emptyf(t, m.Record, "MergeSPF(twelve.example).Record = %q; want none, the record is over the limit already", m.Record)
	assert.Equalf(t, 15, m.CurrentLookups, "MergeSPF(twelve.example).CurrentLookups = %d; want 15", m.CurrentLookups)
	costliest := mailauth.LookupCost{Term: "include:big.twelve.example", Lookups: 3}
	if assert.NotEmptyf(t, m.Costly, "MergeSPF(twelve.example).Costly is empty; want %v first", costliest) {
		assert.Equalf(t, costliest, m.Costly[0], "MergeSPF(twelve.example).Costly = %v; want %v first", m.Costly, costliest)
	}
	s := m.String()
	assert.Containsf(t, s, "already needs 15 DNS lookups", "MergeSPF(twelve.example) report = %s; want the count", s)
	assert.Containsf(t, s, "include:big.twelve.example (3)", "MergeSPF(twelve.example) report = %s; want the costliest include", s)
}

func TestMergeSPFRedirect(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, func(c *mailauth.PolicyConfig) { c.SPFInclude = "" })
	m, err := p.MergeSPF(context.Background(), "redir.example")
	require.NoError(t, err)
	want := "v=spf1 ip4:198.51.100.40 ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25 redirect=_spf.redir.example"
	assert.Equalf(t, want, m.Record, "MergeSPF(redir.example) = %q; want %q", m.Record, want)
	assert.Equalf(t, 1, m.Lookups, "MergeSPF(redir.example) costs %d lookups; want 1", m.Lookups)
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
		require.NoError(t, err)
		failing := strings.Join(spfFailures(d), ", ")
		assert.Equalf(t, tt.want, d.Choice, "Sender(%s) = %v; want %v", tt.from, d.Choice, tt.want)
		assert.Equalf(t, tt.failing, failing, "Sender(%s) SPF failures = %q; want %q", tt.from, failing, tt.failing)
		if tt.record != "" && assert.Truef(t, d.Fix != nil && d.Fix.SPF != nil, "Sender(%s).Fix = %v; want the record %q", tt.from, d.Fix, tt.record) {
			assert.Equalf(t, tt.record, d.Fix.SPF.Record, "Sender(%s).Fix.SPF.Record = %q; want %q", tt.from, d.Fix.SPF.Record, tt.record)
		}
	}
}

func TestSenderStrictDMARCWithoutAlignment(t *testing.T) {
	t.Parallel()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	_ = priv
	p, srv := scenarioPolicy(t, func(c *mailauth.PolicyConfig) {
		c.BounceDomain = "bounce.platform.example"
		c.CustomerDKIM = &mailauth.DKIMKey{Selector: "alertmail", PublicKey: pub}
	})
	customer := mailauth.Customer{From: "soc@strict.example", DKIM: true}
	d, err := p.Sender(context.Background(), mailauth.AlertEmails, customer)
	require.NoError(t, err)
	want := sent{mailauth.SenderFallback, "noreply@platform.example", "soc@strict.example"}
	require.Equalf(t, want, sentOf(d), "Sender(strict.example) = %+v; want a fallback keeping the Reply-To %+v\n%s", sentOf(d), want, d)
	require.NotNilf(t, d.Fix, "Sender(strict.example).Fix = nil; want one\n%s", d)
	assert.Falsef(t, hasCode(d, mailauth.CodeSPFNotAuthorised), "Sender(strict.example) findings = %v; want none blaming SPF, its record authorises the platform", d.Findings)
	assert.Nilf(t, d.Fix.SPF, "Sender(strict.example).Fix.SPF = %v; want none, its record authorises the platform", d.Fix.SPF)
	assert.Truef(t, hasCode(d, mailauth.CodeDMARCFails), "Sender(strict.example) findings = %v; want DMARC failing", d.Findings)
	assert.Truef(t, hasCode(d, mailauth.CodeDKIMKeyMissing), "Sender(strict.example) findings = %v; want the DKIM key missing", d.Findings)
	for _, v := range []*dmarc.Verdict{d.DMARC.Report.RFC9989, d.DMARC.Report.RFC7489} {
		assert.Equalf(t, dmarc.Fail, v.Result, "DMARC (%v) = %s; want fail", v.Generation, v.Result)
		assert.Equalf(t, dmarc.PolicyReject, v.Disposition, "DMARC (%v) disposition = %s; want reject", v.Generation, v.Disposition)
	}
	wantAllow := []string{"*@platform.example"}
	assert.Equalf(t, wantAllow, d.Fix.AllowList, "Fix.AllowList = %v; want %v", d.Fix.AllowList, wantAllow)
	const keyName = "alertmail._domainkey.strict.example"
	require.NotNilf(t, d.Fix.DKIM, "Fix.DKIM = nil; want the key record under %s", keyName)
	require.Equalf(t, keyName, d.Fix.DKIM.Name, "Fix.DKIM.Name = %q; want %q", d.Fix.DKIM.Name, keyName)
	s := d.String()
	assert.Containsf(t, s, "allow *@platform.example", "report = %s; want the allow-list entry", s)
	// With the key published, mail is signed with the customer's domain,
	// aligns through DKIM, and the customer's From is used.
	srv.Set(d.Fix.DKIM.Name, txt(d.Fix.DKIM.Text))
	d, err = p.Sender(context.Background(), mailauth.AlertEmails, customer)
	require.NoError(t, err)
	assert.Equalf(t, mailauth.SenderCustomer, d.Choice, "Sender(strict.example) with the key published = %v; want the customer's From\n%s", d.Choice, d)
	assert.Equalf(t, "strict.example", d.DKIMDomain, "Sender(strict.example) with the key published signs as %q; want strict.example\n%s", d.DKIMDomain, d)
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
		require.NoError(t, err)
		assert.Equalf(t, tt.want, d.Choice, "Sender(nodmarc.example, bounce domain %q) = %v; want %v\n%s", tt.bounce, d.Choice, tt.want, d)
		if tt.want == mailauth.SenderFallback {
			assert.Containsf(t, d.String(), "nodmarc.example publishes no DMARC policy", "Sender(nodmarc.example) report = %s; want it to say there is no DMARC policy", d)
		}
	}
}

func TestSenderPrivateCloudSkipsChecks(t *testing.T) {
	t.Parallel()
	p, srv := scenarioPolicy(t, nil)
	d, err := p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{
		From: "alerts@private.example", Cloud: mailauth.PrivateCloud, Gateway: "smtp.private.example",
	})
	require.NoError(t, err)
	want := sent{mailauth.SenderPrivateCloud, "alerts@private.example", ""}
	assert.Equalf(t, want, sentOf(d), "Sender(private cloud) = %+v; want the customer's From %+v", sentOf(d), want)
	assert.Truef(t, d.Fix == nil && d.SPF == nil && d.DMARC == nil, "Sender(private cloud) = %+v; want no check, no fix", d)
	assert.Truef(t, hasCode(d, mailauth.CodePrivateCloud), "Sender(private cloud) findings = %v; want %s", d.Findings, mailauth.CodePrivateCloud)
	assert.Containsf(t, d.String(), "no change is needed", "Sender(private cloud) report = %s; want it to say no change is needed", d)
	assert.Zerof(t, srv.Queries(), "Sender(private cloud) made %d DNS queries; want none", srv.Queries())
	// Without a sender of its own, a private-cloud customer gets the
	// platform default too, as the seed's notice says.
	d, err = p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{Cloud: mailauth.PrivateCloud, Gateway: "smtp.private.example"})
	require.NoError(t, err)
	want = sent{mailauth.SenderDefault, "noreply@platform.example", ""}
	assert.Equalf(t, want, sentOf(d), "Sender(private cloud, no sender) = %+v; want the platform default %+v", sentOf(d), want)
	// Without a gateway of its own, a private-cloud customer's mail leaves
	// through the platform and is checked like any other.
	d, err = p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{From: "alerts@soft.example", Cloud: mailauth.PrivateCloud})
	require.NoError(t, err)
	assert.Equalf(t, mailauth.SenderFallback, d.Choice, "Sender(private cloud, no gateway) = %v; want %s", d.Choice, mailauth.SenderFallback)
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
		require.NoError(t, err)
		want := sent{mailauth.SenderDefault, tt.from, ""}
		assert.Equalf(t, want, sentOf(d), "%s: Sender() = %+v; want %+v", tt.name, sentOf(d), want)
		got := hasCode(d, mailauth.CodeMigration)
		assert.Equalf(t, tt.migrating, got, "%s: migration finding = %v; want %v (%v)", tt.name, got, tt.migrating, d.Findings)
	}
	// Falling back before the instant, gateways must allow both domains.
	now = at.Add(-time.Second)
	d, err := p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{From: "alerts@soft.example"})
	require.NoError(t, err)
	want := []string{"*@platform.example", "*@corp.example"}
	require.NotNilf(t, d.Fix, "Sender(soft.example) before the migration: fix nil; want allow list %v", want)
	assert.Equalf(t, want, d.Fix.AllowList, "Sender(soft.example) before the migration: allow list %v; want %v", d.Fix.AllowList, want)
}

func TestSenderScheduledReportTrap(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	d, err := p.Sender(context.Background(), mailauth.ScheduledReports, mailauth.Customer{From: "reports@trap.example"})
	require.NoError(t, err)
	want := sent{mailauth.SenderFallback, "noreply@platform.example", "reports@trap.example"}
	require.Equalf(t, want, sentOf(d), "Sender(scheduled report, trap.example) = %+v; want a fallback to the platform sender %+v", sentOf(d), want)
	require.NotEmptyf(t, d.Findings, "Sender(scheduled report, trap.example) has no findings; want the trap first")
	require.Equalf(t, mailauth.CodeScheduledReportTrap, d.Findings[0].Code, "Sender(scheduled report, trap.example) findings = %v; want the trap first", d.Findings)
	assert.Containsf(t, d.Findings[0].Text, "DMARC alignment fails", "trap finding = %q; want the DMARC alignment reason", d.Findings[0].Text)
	assert.Truef(t, hasCode(d, mailauth.CodeDMARCFails), "Sender(scheduled report, trap.example) findings = %v; want %s", d.Findings, mailauth.CodeDMARCFails)
	require.NotNilf(t, d.Fix, "Sender(scheduled report, trap.example).Fix = nil; want the platform sender recommended")
	assert.Equalf(t, "noreply@platform.example", d.Fix.Sender, "Fix.Sender = %q; want noreply@platform.example", d.Fix.Sender)
	assert.Truef(t, strings.HasPrefix(d.Fix.String(), "Set the report's sender to noreply@platform.example."), "Fix = %s; want the platform sender recommended first", d.Fix)
	// A report that passes DMARC through the customer's DKIM key, but whose
	// SPF record misses a platform address, falls back on SPF: no trap.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	pk, srv := scenarioPolicy(t, func(c *mailauth.PolicyConfig) {
		c.CustomerDKIM = &mailauth.DKIMKey{Selector: "alertmail", PublicKey: pub}
	})
	rec, _ := pk.DKIMRecord("soft.example")
	srv.Set(rec.Name, txt(rec.Text))
	d, err = pk.Sender(context.Background(), mailauth.ScheduledReports, mailauth.Customer{From: "reports@soft.example", DKIM: true})
	require.NoError(t, err)
	assert.Equalf(t, mailauth.SenderFallback, d.Choice, "Sender(scheduled report, DKIM-aligned soft.example) = %v; want %s", d.Choice, mailauth.SenderFallback)
	assert.Truef(t, d.DMARC.Pass(), "Sender(scheduled report, DKIM-aligned soft.example).DMARC = %v; want a pass", d.DMARC)
	assert.Truef(t, hasCode(d, mailauth.CodeSPFNotAuthorised) && !hasCode(d, mailauth.CodeScheduledReportTrap),
		"Sender(scheduled report, DKIM-aligned soft.example) findings = %v; want an SPF fallback without the trap", d.Findings)
	// The same customer's alert emails fall back too, but that is no trap.
	d, err = p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "reports@trap.example"})
	require.NoError(t, err)
	assert.Falsef(t, hasCode(d, mailauth.CodeScheduledReportTrap), "Sender(alert email, trap.example) findings = %v; want no trap finding", d.Findings)
	assert.Emptyf(t, d.Fix.Sender, "Sender(alert email, trap.example).Fix.Sender = %q; want none", d.Fix.Sender)
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
		// Mail domains and gateways are host names (RFC 5321): no "_".
		{From: "alerts@mail_1.soft.example"},
		{From: "alerts@private.example", Cloud: mailauth.PrivateCloud, Gateway: "smtp_1.private.example"},
	} {
		d, err := p.Sender(context.Background(), mailauth.AlertEmails, c)
		assert.ErrorIsf(t, err, mailauth.ErrSender, "Sender(%+v) = %v, %v; want ErrSender", c, d, err)
	}
	_, err := p.Sender(context.Background(), "billing", mailauth.Customer{})
	assert.ErrorIsf(t, err, mailauth.ErrUnknownApp, "Sender(billing) = %v; want ErrUnknownApp", err)
}

func TestSenderSpecialDomains(t *testing.T) {
	t.Parallel()
	p, srv := scenarioPolicy(t, nil)
	d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "soc@Platform.Example"})
	require.NoError(t, err)
	want := sent{mailauth.SenderDefault, "soc@platform.example", ""}
	assert.Equalf(t, want, sentOf(d), "Sender(platform address) = %+v; want it used as the platform's own %+v", sentOf(d), want)
	d, err = p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "it@mail.corp.example"})
	require.NoError(t, err)
	want = sent{mailauth.SenderFallback, "noreply@platform.example", "it@mail.corp.example"}
	assert.Equalf(t, want, sentOf(d), "Sender(corporate address) = %+v; want a fallback %+v", sentOf(d), want)
	assert.Truef(t, hasCode(d, mailauth.CodeCorporateSender), "Sender(corporate address) findings = %v; want %s", d.Findings, mailauth.CodeCorporateSender)
	assert.Zerof(t, srv.Queries(), "Sender(platform or corporate address) made %d DNS queries; want none", srv.Queries())
}

func TestSenderTempError(t *testing.T) {
	t.Parallel()
	p, srv := scenarioPolicy(t, nil)
	srv.Set("slow.example", mailauthtest.Timeout())
	d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@slow.example"})
	require.NoError(t, err)
	assert.Equalf(t, mailauth.SenderFallback, d.Choice, "Sender(timing out domain) = %v; want %s", d.Choice, mailauth.SenderFallback)
	assert.Truef(t, hasCode(d, mailauth.CodeSPFError), "Sender(timing out domain) findings = %v; want %s", d.Findings, mailauth.CodeSPFError)

	// SPF passes, but the DMARC record cannot be read: a fallback whose
	// finding says the check failed, not that DMARC fails, and no
	// scheduled-report trap is claimed.
	srv.Set("dmarcslow.example", txt("v=spf1 include:_spf.platform.example -all"))
	srv.Set("_dmarc.dmarcslow.example", mailauthtest.Timeout())
	d, err = p.Sender(context.Background(), mailauth.ScheduledReports, mailauth.Customer{From: "reports@dmarcslow.example"})
	require.NoError(t, err)
	assert.Equalf(t, mailauth.SenderFallback, d.Choice, "Sender(DMARC record timing out) = %v; want %s", d.Choice, mailauth.SenderFallback)
	assert.Truef(t, hasCode(d, mailauth.CodeDMARCError) && !hasCode(d, mailauth.CodeDMARCFails) && !hasCode(d, mailauth.CodeScheduledReportTrap),
		"Sender(DMARC record timing out) findings = %v; want a DMARC error, no DMARC failure, no trap", d.Findings)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Sender(ctx, mailauth.AlertEmails, mailauth.Customer{From: "alerts@soft.example"})
	assert.ErrorIsf(t, err, context.Canceled, "Sender(cancelled) = %v; want context.Canceled", err)
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
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, from string, private bool) {
		c := mailauth.Customer{From: from}
		if private {
			c.Cloud, c.Gateway = mailauth.PrivateCloud, "smtp.private.example"
		}
		d, err := p.Sender(context.Background(), mailauth.AlertEmails, c)
		if err != nil {
			require.ErrorIsf(t, err, mailauth.ErrSender, "Sender(%q) = %v; want ErrSender", from, err)
			return
		}
		for _, h := range []string{d.From, d.ReplyTo} {
			require.NotContainsf(t, h, "\r", "Sender(%q) = From %q, Reply-To %q: a line break", from, d.From, d.ReplyTo)
			require.NotContainsf(t, h, "\n", "Sender(%q) = From %q, Reply-To %q: a line break", from, d.From, d.ReplyTo)
		}
		if d.Choice == mailauth.SenderFallback {
			assert.NotEmptyf(t, d.ReplyTo, "Sender(%q) fell back without keeping the Reply-To", from)
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
	require.NoError(b, err)
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
	require.NoError(t, err)
	want := sent{mailauth.SenderCustomer, "alerts@xn--bcher-kva.example", ""}
	assert.Equalf(t, want, sentOf(d), "Sender(alerts@Bücher.example) = %+v; want the customer's From in A-labels %+v\n%s", sentOf(d), want, d)
	_, err = p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@bü cher.example"})
	assert.ErrorIsf(t, err, mailauth.ErrSender, "Sender(invalid U-label) = %v; want ErrSender", err)
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
			require.NoError(t, err)
			got := [3]string{d.From, d.ReplyTo, d.DKIMDomain}
			want := [3]string{tt.wantFrom, tt.wantReplyTo, tt.wantDKIM}
			assert.Equalf(t, want, got, "Sender(%q) = From, Reply-To, DKIM domain %q; want %q", tt.from, got, want)
		})
	}
}

// TestSenderFromName: an application's FromName goes with every From the
// policy chooses, formatted for a From header, and reads back as it was;
// the Reply-To and the fix keep bare addresses.
func TestSenderFromName(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, func(c *mailauth.PolicyConfig) {
		c.Applications = []mailauth.Application{
			{ID: mailauth.AlertEmails, FromName: "Acme, Inc. Security"},
			{ID: mailauth.ScanNotifications, FromName: "Équipe Sécurité 🚨"},
			{ID: mailauth.AccountManagement},
			{ID: mailauth.ScheduledReports, FromName: "Reports"},
		}
	})
	tests := []struct {
		name     string
		app      mailauth.App
		from     string // Customer.From
		want     sent
		wantName string
		wantFix  string // Fix.Sender, a bare address
	}{
		{"default sender", mailauth.AlertEmails, "",
			sent{mailauth.SenderDefault, `"Acme, Inc. Security" <noreply@platform.example>`, ""}, "Acme, Inc. Security", ""},
		{"fallback", mailauth.AlertEmails, "alerts@soft.example",
			sent{mailauth.SenderFallback, `"Acme, Inc. Security" <noreply@platform.example>`, "alerts@soft.example"}, "Acme, Inc. Security", ""},
		{"customer's own", mailauth.AlertEmails, "alerts@good.example",
			sent{mailauth.SenderCustomer, `"Acme, Inc. Security" <alerts@good.example>`, ""}, "Acme, Inc. Security", ""},
		{"not ascii", mailauth.ScanNotifications, "",
			sent{mailauth.SenderDefault, "=?utf-8?q?=C3=89quipe_S=C3=A9curit=C3=A9_=F0=9F=9A=A8?= <noreply@platform.example>", ""}, "Équipe Sécurité 🚨", ""},
		{"no name", mailauth.AccountManagement, "", sent{mailauth.SenderDefault, "noreply@platform.example", ""}, "", ""},
		{"report trap", mailauth.ScheduledReports, "reports@trap.example",
			sent{mailauth.SenderFallback, `"Reports" <noreply@platform.example>`, "reports@trap.example"}, "Reports", "noreply@platform.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := p.Sender(context.Background(), tt.app, mailauth.Customer{From: tt.from})
			require.NoErrorf(t, err, "Sender(%s, %q)", tt.app, tt.from)
			require.Equalf(t, tt.want, sentOf(d), "Sender(%s, %q) = %+v; want %+v\n%s", tt.app, tt.from, sentOf(d), tt.want, d)
			a, err := mail.ParseAddress(d.From)
			require.NoErrorf(t, err, "Sender(%s, %q).From = %q does not parse", tt.app, tt.from, d.From)
			assert.Equalf(t, tt.wantName, a.Name, "Sender(%s, %q).From = %q; want the name %q", tt.app, tt.from, d.From, tt.wantName)
			if d.Fix != nil || tt.wantFix != "" {
				require.NotNilf(t, d.Fix, "Sender(%s, %q).Fix = nil; want Sender %q", tt.app, tt.from, tt.wantFix)
				assert.Equalf(t, tt.wantFix, d.Fix.Sender, "Sender(%s, %q).Fix.Sender = %q; want %q", tt.app, tt.from, d.Fix.Sender, tt.wantFix)
			}
		})
	}
}

func TestNewPolicyRejectsFromName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Security\r\nBcc: spy@evil.example", "Security\x00", strings.Repeat("x", 257), "\xff"} {
		cfg := mailauth.PolicyConfig{CorporateDomain: "corp.example", PlatformDomain: "platform.example", SendingIPs: platformIPs,
			Applications: []mailauth.Application{{ID: mailauth.AlertEmails, FromName: name}}}
		_, err := mailauth.NewPolicy(cfg)
		var pe *mailauth.PolicyError
		require.ErrorAsf(t, err, &pe, "NewPolicy(FromName %q) = %v; want a PolicyError", name, err)
		assert.Equalf(t, "Applications[0] (alert-emails).FromName", pe.Field, "NewPolicy(FromName %q) = %v; want it to name FromName", name, err)
	}
}
