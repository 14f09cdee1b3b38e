package mailauth_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// exampleDNS is the DNS of the examples: the platform's SPF include and
// the records of a few customers.
func exampleDNS() *mailauthtest.Resolver {
	z := mailauthtest.Zones{
		"_spf.platform.example":      {mailauthtest.TXT("v=spf1 include:_ip4._spf.platform.example ip6:2001:db8::25 -all")},
		"_ip4._spf.platform.example": {mailauthtest.TXT("v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all")},
		// A customer whose record lists two of the platform's three
		// addresses.
		"customer.example":        {mailauthtest.TXT("v=spf1 mx ip4:192.0.2.10 ip6:2001:db8::25 ~all"), mailauthtest.MX(10, "mx.customer.example")},
		"mx.customer.example":     {mailauthtest.A("198.51.100.5"), mailauthtest.AAAA("2001:db8:5::5")},
		"_dmarc.customer.example": {mailauthtest.TXT("v=DMARC1; p=quarantine")},
		// A customer that authorises the platform, with a strict policy.
		"bank.example":        {mailauthtest.TXT("v=spf1 include:_spf.platform.example -all")},
		"_dmarc.bank.example": {mailauthtest.TXT("v=DMARC1; p=reject")},
		// The platform's bounce domain.
		"bounce.platform.example": {mailauthtest.TXT("v=spf1 include:_spf.platform.example -all")},
		// A customer at 9 lookups: mx, and an include of 8 hosts.
		"busy.example":      {mailauthtest.TXT("v=spf1 mx include:_spf.busy.example ~all"), mailauthtest.MX(10, "h1.busy.example")},
		"_spf.busy.example": {mailauthtest.TXT("v=spf1 a:h1.busy.example a:h2.busy.example a:h3.busy.example a:h4.busy.example a:h5.busy.example a:h6.busy.example a:h7.busy.example -all")},
	}
	for i := 1; i <= 7; i++ {
		z[fmt.Sprintf("h%d.busy.example", i)] = []mailauthtest.Record{mailauthtest.A(fmt.Sprintf("198.51.100.%d", i)), mailauthtest.AAAA(fmt.Sprintf("2001:db8:b::%d", i))}
	}
	return mailauthtest.NewResolver(z)
}

// examplePolicy is the platform of the seed's notice: corporate mail on
// corp.example, platform mail moving to platform.example.
func examplePolicy(edit func(*mailauth.PolicyConfig)) *mailauth.Policy {
	cfg := mailauth.PolicyConfig{
		CorporateDomain: "corp.example",
		PlatformDomain:  "platform.example",
		SendingIPs: []netip.Prefix{
			netip.MustParsePrefix("192.0.2.10/32"),
			netip.MustParsePrefix("192.0.2.11/32"),
			netip.MustParsePrefix("2001:db8::25/128"),
		},
		Resolver: exampleDNS(),
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := mailauth.NewPolicy(cfg)
	if err != nil {
		panic(err)
	}
	return p
}

// A shared-cloud customer sends scan notifications from its own domain,
// whose SPF record misses one platform address: the platform's sender is
// used, the customer's kept as Reply-To, and the notice says which DNS
// change allows the customer's own From.
func ExamplePolicy_Sender() {
	p := examplePolicy(nil)
	d, err := p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{From: "scans@customer.example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Choice, d.From, d.ReplyTo)
	fmt.Print(d.Fix)
	// Output:
	// fallback noreply@platform.example scans@customer.example
	// Add these to your SPF record for customer.example: ip4:192.0.2.11
	// The record to publish (1 of 10 DNS lookups):
	//   customer.example. IN TXT "v=spf1 mx ip4:192.0.2.10 ip6:2001:db8::25 ip4:192.0.2.11 ~all"
	// If your gateway enforces a strict DMARC policy, allow *@platform.example.
}

// The whole decision prints as a short report: the sender, each finding,
// then the fix.
func ExampleDecision_String() {
	// The platform's key for signing customers' mail; a real one is
	// generated once and kept secret.
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	p := examplePolicy(func(c *mailauth.PolicyConfig) {
		c.BounceDomain = "bounce.platform.example"
		c.CustomerDKIM = &mailauth.DKIMKey{Selector: "alertmail", PublicKey: key.Public()}
	})
	d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "soc@bank.example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(d)
	// Output:
	// alert-emails: send from noreply@platform.example, Reply-To soc@bank.example (fallback)
	// - DMARC: mail from 192.0.2.10 has no aligned pass for bank.example (SPF pass for bounce.platform.example, DKIM pass for d=platform.example): bank.example's gateway would reject it (p=reject).
	// If your gateway enforces a strict DMARC policy, allow *@platform.example.
	// To have mail signed with bank.example, publish this DKIM key:
	//   alertmail._domainkey.bank.example. IN TXT "v=DKIM1; k=ed25519; p=O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="
}

// A private-cloud customer with its own SMTP gateway needs no change; no
// check is run.
func ExamplePolicy_Sender_privateCloud() {
	p := examplePolicy(nil)
	d, err := p.Sender(context.Background(), mailauth.ScanNotifications, mailauth.Customer{
		From:    "scans@private.example",
		Cloud:   mailauth.PrivateCloud,
		Gateway: "smtp.private.example",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(d)
	// Output:
	// scan-notifications: send from scans@private.example (private-cloud)
	// - Private cloud with its own SMTP gateway smtp.private.example: mail from private.example leaves through the customer's gateway, so no change is needed and no SPF or DMARC check was run.
}

// A scheduled report configured with the customer's own sender, leaving
// through the platform, fails DMARC: the helper recommends the platform
// sender.
func ExamplePolicy_Sender_scheduledReport() {
	p := examplePolicy(nil)
	d, err := p.Sender(context.Background(), mailauth.ScheduledReports, mailauth.Customer{From: "reports@customer.example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Findings[0])
	fmt.Println(d.Fix.Sender)
	// Output:
	// Scheduled-report trap: the report's sender reports@customer.example is the customer's own domain, but the report leaves through the platform, so DMARC alignment fails at customer.example's gateway; use the platform sender noreply@platform.example.
	// noreply@platform.example
}

// MergeSPF proposes the record alone, for a DNS settings page. With an SPF
// include configured, the platform's include is merged in: it costs two
// lookups, and lets the platform change its addresses later.
func ExamplePolicy_MergeSPF() {
	p := examplePolicy(func(c *mailauth.PolicyConfig) { c.SPFInclude = "_spf.platform.example" })
	m, err := p.MergeSPF(context.Background(), "customer.example")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Current, "->", m.CurrentLookups, "lookups")
	fmt.Println(m.Record, "->", m.Lookups, "lookups")
	// Output:
	// v=spf1 mx ip4:192.0.2.10 ip6:2001:db8::25 ~all -> 1 lookups
	// v=spf1 mx ip4:192.0.2.10 ip6:2001:db8::25 include:_spf.platform.example ~all -> 3 lookups
}

// A customer already at 9 DNS lookups: the platform's include would cost
// two more, so the notice lists the addresses, which cost none.
func ExampleSPFMerge_String() {
	p := examplePolicy(func(c *mailauth.PolicyConfig) { c.SPFInclude = "_spf.platform.example" })
	m, err := p.MergeSPF(context.Background(), "busy.example")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(m)
	// Output:
	// Adding include:_spf.platform.example would make 11 DNS lookups, over the limit of 10. The platform's addresses are listed as ip4/ip6 terms instead, which cost none.
	// Add these to your SPF record for busy.example: ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25
	// The record to publish (9 of 10 DNS lookups):
	//   busy.example. IN TXT "v=spf1 mx include:_spf.busy.example ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25 ~all"
}

// Platform email never sends from the corporate domain: NewPolicy names the
// field that would.
func ExampleNewPolicy() {
	_, err := mailauth.NewPolicy(mailauth.PolicyConfig{
		CorporateDomain: "corp.example",
		PlatformDomain:  "platform.example",
		SendingIPs:      []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32")},
		Applications: []mailauth.Application{
			{ID: mailauth.AccountManagement},
			{ID: mailauth.VulnerabilityFeed, Domain: "feeds.corp.example"},
		},
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, mailauth.ErrCorporateDomain))
	// Output:
	// mailauth: PolicyConfig.Applications[1] (vulnerability-feed).Domain "feeds.corp.example": is a subdomain of the corporate domain corp.example; platform email must be sent from the platform domain
	// true
}

// Each application moves to the platform domain on its own date; the
// instant itself belongs to the new domain.
func ExamplePolicy_DomainAt() {
	end2022 := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	p := examplePolicy(func(c *mailauth.PolicyConfig) {
		c.Applications = []mailauth.Application{
			{ID: mailauth.ScanNotifications, Migration: &mailauth.Migration{Old: "corp.example", New: "platform.example", At: end2022}},
		}
	})
	for _, t := range []time.Time{end2022.Add(-time.Second), end2022} {
		d, _ := p.DomainAt(mailauth.ScanNotifications, t)
		fmt.Println(t.Format(time.RFC3339), d)
	}
	// Output:
	// 2022-12-31T23:59:59Z corp.example
	// 2023-01-01T00:00:00Z platform.example
}

// The decision goes on the message on its way to the notifier: the
// platform's sender as From, the customer's address as Reply-To. The SMTP
// backend signs as d.DKIMDomain (its DKIM configuration's Domain).
func ExampleDecision() {
	p := examplePolicy(nil)
	d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@customer.example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := &alerts.Message{ID: "a1", Subject: "Critical vulnerability on web-01", To: []string{"soc@customer.example"}}
	msg.From = d.From
	if d.ReplyTo != "" {
		msg.ReplyTo = d.ReplyTo
	}
	fmt.Println("From:", msg.From)
	fmt.Println("Reply-To:", msg.ReplyTo)
	fmt.Println("sign as:", d.DKIMDomain)
	// Output:
	// From: noreply@platform.example
	// Reply-To: alerts@customer.example
	// sign as: platform.example
}
