package mailauth_test

import (
	"crypto/ed25519"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/dkim"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// The platform of the audit tests: bulk mail from platform.example, leaving
// from 192.0.2.16/29 and 2001:db8:25::1, which its include lists; a DKIM
// key customers may publish; three applications moving off corp.example on
// their own dates, and one that always sent from the platform domain.
var (
	auditNetworks = []netip.Prefix{netip.MustParsePrefix("192.0.2.16/29"), netip.MustParsePrefix("2001:db8:25::1/128")}
	auditKey      = ed25519.NewKeyFromSeed([]byte("alertmail audit test key seed 32")).Public().(ed25519.PublicKey)
	auditCutover  = time.Date(2026, time.December, 31, 0, 0, 0, 0, time.UTC)
)

// auditPolicyConfig is the platform's configuration, without a resolver.
func auditPolicyConfig() mailauth.PolicyConfig {
	migrate := func(at time.Time) *mailauth.Migration {
		return &mailauth.Migration{Old: "corp.example", At: at}
	}
	return mailauth.PolicyConfig{
		CorporateDomain: "corp.example",
		PlatformDomain:  "platform.example",
		SendingIPs:      slices.Clone(auditNetworks),
		SPFInclude:      "_spf.platform.example",
		CustomerDKIM:    &mailauth.DKIMKey{Selector: "pf1", PublicKey: auditKey},
		Applications: []mailauth.Application{
			{ID: mailauth.ScanNotifications, Name: "Scan Notifications", Migration: migrate(auditCutover)},
			{ID: mailauth.AlertEmails, Name: "Alert Emails", Migration: migrate(auditCutover.AddDate(0, 1, 0))},
			{ID: mailauth.ScheduledReports, Name: "Scheduled Reports", Migration: migrate(auditCutover)},
			{ID: mailauth.AccountManagement, Name: "Account Management"},
		},
	}
}

// auditPlatformZones are the platform's records and those of the mail
// providers customers include.
func auditPlatformZones() mailauthtest.Zones {
	return mailauthtest.Zones{
		"_spf.platform.example":   {txt("v=spf1 ip4:192.0.2.16/29 ip6:2001:db8:25::1 -all")},
		"_dmarc.platform.example": {txt("v=DMARC1; p=reject")},
		// A provider whose include costs two lookups.
		"_spf.mailprov.example":  {txt("v=spf1 ip4:203.0.113.0/24 include:_spf2.mailprov.example -all")},
		"_spf2.mailprov.example": {txt("v=spf1 ip4:198.51.100.0/25 -all")},
		"_spf.crm.example":       {txt("v=spf1 ip4:198.51.100.128/26 -all")},
		// A shared record customers redirect to.
		"_spf.hosted.example": {txt("v=spf1 include:_spf.mailprov.example ~all")},
		// Two trees of five lookups each.
		"_spf.big.example":  {txt("v=spf1 include:b1.big.example include:b2.big.example -all")},
		"b1.big.example":    {txt("v=spf1 include:b3.big.example a:h.big.example -all")},
		"b2.big.example":    {txt("v=spf1 ip4:198.51.100.240/28 -all")},
		"b3.big.example":    {txt("v=spf1 ip4:198.51.100.224/28 -all")},
		"h.big.example":     {mailauthtest.A("198.51.100.250")},
		"_spf.big2.example": {txt("v=spf1 include:c1.big2.example include:c2.big2.example a:h.big2.example -all")},
		"c1.big2.example":   {txt("v=spf1 include:c3.big2.example -all")},
		"c2.big2.example":   {txt("v=spf1 ip4:198.51.100.192/28 -all")},
		"c3.big2.example":   {txt("v=spf1 ip4:198.51.100.208/28 -all")},
		"h.big2.example":    {mailauthtest.A("198.51.100.251")},
	}
}

// An auditKind is one kind of customer of the generated audits: the
// records its domain publishes and the status the audit must give it.
type auditKind struct {
	name string
	want mailauth.AuditStatus
	// merged reports that the audit proposes an SPF record for it.
	merged bool
	// timeout reports that its lookups time out: left out of benchmarks.
	timeout bool
	// add puts the customer's records for domain dom into z and returns
	// the customer.
	add func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer
}

// own returns a shared-cloud customer sending as alerts@dom.
func own(dom string) mailauth.AuditCustomer {
	return mailauth.AuditCustomer{App: mailauth.ScanNotifications, Customer: mailauth.Customer{From: "alerts@" + dom}}
}

// set adds records to z, with a DMARC record when dmarcRecord is not empty.
func set(z mailauthtest.Zones, dom, dmarcRecord string, records ...mailauthtest.Record) {
	z[dom] = append(z[dom], records...)
	if dmarcRecord != "" {
		z["_dmarc."+dom] = []mailauthtest.Record{txt(dmarcRecord)}
	}
}

var auditKinds = []auditKind{
	{name: "includes-platform", want: mailauth.AuditReady, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=reject", txt("v=spf1 include:_spf.mailprov.example include:_spf.platform.example -all"))
		return own(dom)
	}},
	{name: "lists-platform-ips", want: mailauth.AuditReady, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=quarantine", txt("v=spf1 mx ip4:192.0.2.16/29 ip6:2001:db8:25::1 ~all"), mailauthtest.MX(10, "mx."+dom))
		z["mx."+dom] = []mailauthtest.Record{mailauthtest.A("198.51.100.9")}
		return own(dom)
	}},
	{name: "softfail-include", want: mailauth.AuditNeedsSPF, merged: true, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=none", txt("v=spf1 include:_spf.mailprov.example ~all"))
		return own(dom)
	}},
	{name: "redirect", want: mailauth.AuditNeedsSPF, merged: true, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=quarantine", txt("v=spf1 ip4:198.51.100.200 redirect=_spf.hosted.example"))
		return own(dom)
	}},
	{name: "no-spf-no-dmarc", want: mailauth.AuditNeedsSPF, merged: true, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "", mailauthtest.A("198.51.100.10"))
		return own(dom)
	}},
	{name: "strict-dmarc", want: mailauth.AuditNeedsSPF, merged: true, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=reject; adkim=s; aspf=s", txt("v=spf1 a -all"), mailauthtest.A("198.51.100.11"))
		return own(dom)
	}},
	{name: "ten-lookups", want: mailauth.AuditNeedsSPF, merged: true, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=none",
			txt("v=spf1 a mx include:_spf.big.example include:_spf.mailprov.example include:_spf.crm.example ~all"),
			mailauthtest.A("198.51.100.12"), mailauthtest.MX(10, "mx."+dom))
		z["mx."+dom] = []mailauthtest.Record{mailauthtest.A("198.51.100.13")}
		return own(dom)
	}},
	{name: "over-limit-tree", want: mailauth.AuditOverLookupLimit, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=reject", txt("v=spf1 include:_spf.big.example include:_spf.big2.example include:_spf.mailprov.example -all"))
		return own(dom)
	}},
	{name: "report-trap", want: mailauth.AuditReportTrap, merged: true, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=reject", txt("v=spf1 ip4:198.51.100.77 -all"))
		return mailauth.AuditCustomer{App: mailauth.ScanNotifications, ReportSender: "reports@" + dom}
	}},
	{name: "private-cloud", want: mailauth.AuditPrivateCloud, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		c := own(dom)
		c.Cloud, c.Gateway = mailauth.PrivateCloud, "smtp."+dom
		c.ReportSender = "reports@" + dom
		return c
	}},
	{name: "spf-timeout", want: mailauth.AuditDNSError, timeout: true, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=reject", mailauthtest.Timeout())
		return own(dom)
	}},
	{name: "corporate-sender", want: mailauth.AuditNeedsAllowList, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		c := own(dom)
		c.From = "alerts@corp.example"
		return c
	}},
	{name: "malformed-dmarc", want: mailauth.AuditNeedsAllowList, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=bogus", txt("v=spf1 include:_spf.platform.example -all"))
		return own(dom)
	}},
	{name: "default-sender", want: mailauth.AuditReady, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		return mailauth.AuditCustomer{App: mailauth.AlertEmails}
	}},
	{name: "dkim-published", want: mailauth.AuditReady, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		rec, err := dkim.KeyRecord(auditKey)
		if err != nil {
			panic(err)
		}
		set(z, dom, "v=DMARC1; p=reject", txt("v=spf1 include:_spf.platform.example -all"))
		z["pf1._domainkey."+dom] = []mailauthtest.Record{txt(rec)}
		c := own(dom)
		c.DKIM = true
		c.ReportSender = "reports@" + dom
		return c
	}},
	{name: "term-rejects-platform", want: mailauth.AuditNeedsSPF, merged: true, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=quarantine", txt("v=spf1 -ip4:192.0.2.20 include:_spf.platform.example -all"))
		return own(dom)
	}},
	{name: "network-carved-out", want: mailauth.AuditNeedsSPF, merged: true, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=reject", txt("v=spf1 ip4:192.0.2.16/30 ip6:2001:db8:25::/64 ~all"))
		return own(dom)
	}},
	{name: "two-spf-records", want: mailauth.AuditNeedsSPF, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=none", txt("v=spf1 -all"), txt("v=spf1 include:_spf.platform.example ~all"))
		return own(dom)
	}},
	{name: "subdomain-sender", want: mailauth.AuditNeedsSPF, merged: true, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "v=DMARC1; p=reject; sp=quarantine", txt("v=spf1 include:_spf.crm.example -all"))
		set(z, "mail."+dom, "", txt("v=spf1 include:_spf.crm.example ~all"))
		c := own(dom)
		c.From = "alerts@mail." + dom
		c.App = mailauth.AlertEmails
		return c
	}},
	{name: "servfail", want: mailauth.AuditDNSError, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		z[dom] = []mailauthtest.Record{mailauthtest.CNAME(dom)}
		return own(dom)
	}},
	{name: "dmarc-timeout", want: mailauth.AuditDNSError, timeout: true, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		set(z, dom, "", txt("v=spf1 include:_spf.platform.example -all"))
		z["_dmarc."+dom] = []mailauthtest.Record{mailauthtest.Timeout()}
		return own(dom)
	}},
	{name: "unknown-app", want: mailauth.AuditInvalid, add: func(z mailauthtest.Zones, dom string) mailauth.AuditCustomer {
		c := own(dom)
		c.App = "billing"
		return c
	}},
}

// auditWorld is a generated audit: the zones, the customers and the kind
// of each (by tenant).
type auditWorld struct {
	zones     mailauthtest.Zones
	customers []mailauth.AuditCustomer
	kinds     map[string]auditKind
}

// newAuditWorld generates n customers, cycling through the kinds; without
// timeouts, the kinds whose lookups time out are left out.
func newAuditWorld(n int, timeouts bool) *auditWorld {
	w := &auditWorld{zones: auditPlatformZones(), kinds: make(map[string]auditKind)}
	var kinds []auditKind
	for _, k := range auditKinds {
		if timeouts || !k.timeout {
			kinds = append(kinds, k)
		}
	}
	for i := range n {
		k := kinds[i%len(kinds)]
		dom := fmt.Sprintf("c%05d.example", i)
		c := k.add(w.zones, dom)
		c.Tenant = fmt.Sprintf("t%05d", i)
		c.Line = i + 2
		w.customers = append(w.customers, c)
		w.kinds[c.Tenant] = k
	}
	return w
}
