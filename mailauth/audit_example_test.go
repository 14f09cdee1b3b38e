package mailauth_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// An audit of three customers before platform mail moves to
// platform.example: one already authorises the platform, one must add it
// to its SPF record, one has the scheduled-report trap.
func ExampleAudit_Run() {
	dns := mailauthtest.NewResolver(mailauthtest.Zones{
		"_spf.platform.example":  {mailauthtest.TXT("v=spf1 ip4:192.0.2.16/29 -all")},
		"bank.example":           {mailauthtest.TXT("v=spf1 include:_spf.platform.example -all")},
		"_dmarc.bank.example":    {mailauthtest.TXT("v=DMARC1; p=reject")},
		"shop.example":           {mailauthtest.TXT("v=spf1 mx ~all"), mailauthtest.MX(10, "mx.shop.example")},
		"mx.shop.example":        {mailauthtest.A("198.51.100.5")},
		"_dmarc.shop.example":    {mailauthtest.TXT("v=DMARC1; p=quarantine")},
		"reports.example":        {mailauthtest.TXT("v=spf1 -all")},
		"_dmarc.reports.example": {mailauthtest.TXT("v=DMARC1; p=reject")},
	})
	audit, err := mailauth.NewAudit(mailauth.AuditConfig{Policy: mailauth.PolicyConfig{
		CorporateDomain: "corp.example",
		PlatformDomain:  "platform.example",
		SendingIPs:      []netip.Prefix{netip.MustParsePrefix("192.0.2.16/29")},
		SPFInclude:      "_spf.platform.example",
		Resolver:        dns,
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	customers := []mailauth.AuditCustomer{
		{Tenant: "bank", App: mailauth.ScanNotifications, Customer: mailauth.Customer{From: "alerts@bank.example"}},
		{Tenant: "shop", App: mailauth.ScanNotifications, Customer: mailauth.Customer{From: "alerts@shop.example"}},
		{Tenant: "acme", App: mailauth.AlertEmails, ReportSender: "reports@reports.example"},
	}
	var results []*mailauth.AuditResult
	summary, err := audit.Run(context.Background(), customers, func(r *mailauth.AuditResult) {
		results = append(results, r) // in the order the checks finish
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	slices.SortFunc(results, func(a, b *mailauth.AuditResult) int { return strings.Compare(a.Customer.Tenant, b.Customer.Tenant) })
	for _, r := range results {
		fmt.Printf("%s: %s\n", r.Customer.Tenant, r.Status)
		if r.Fix != nil && r.Fix.Sender != "" {
			fmt.Printf("  report sender: %s\n", r.Fix.Sender)
		}
		if r.Fix != nil && r.Fix.SPF != nil {
			fmt.Printf("  %s (%d lookups)\n", r.Fix.SPF.Record, r.Fix.SPF.Lookups)
		}
	}
	fmt.Println("all ready:", summary.Ready())
	// Output:
	// acme: scheduled-report-trap
	//   report sender: noreply@platform.example
	//   v=spf1 include:_spf.platform.example -all (1 lookups)
	// bank: ready
	// shop: needs-spf-change
	//   v=spf1 mx include:_spf.platform.example ~all (2 lookups)
	// all ready: false
}
