package mailauth_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/mailauth"
)

func TestFixString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fix  *mailauth.Fix
		want string
	}{
		{"everything", &mailauth.Fix{
			Domain: "customer.example",
			Sender: "noreply@platform.example",
			SPF: &mailauth.SPFMerge{
				Domain: "customer.example", Current: "v=spf1 mx ~all",
				Record: "v=spf1 mx ip4:192.0.2.11 ~all", Added: []string{"ip4:192.0.2.11"}, Lookups: 1,
			},
			AllowList: []string{"*@platform.example", "*@corp.example"},
			DKIM:      &mailauth.DKIMRecord{Name: "s._domainkey.customer.example", Selector: "s", Text: "v=DKIM1; k=ed25519; p=AAAA"},
		}, `Set the report's sender to noreply@platform.example.
Add these to your SPF record for customer.example: ip4:192.0.2.11
The record to publish (1 of 10 DNS lookups):
  customer.example. IN TXT "v=spf1 mx ip4:192.0.2.11 ~all"
If your gateway enforces a strict DMARC policy, allow *@platform.example and *@corp.example.
To have mail signed with customer.example, publish this DKIM key:
  s._domainkey.customer.example. IN TXT "v=DKIM1; k=ed25519; p=AAAA"
`},
		{"no record within the limit", &mailauth.Fix{
			Domain: "big.example",
			SPF: &mailauth.SPFMerge{
				Domain: "big.example", Current: "v=spf1 include:a include:b ~all", CurrentLookups: 12,
				Notes:  []string{"Your SPF record for big.example already needs 12 DNS lookups, over the limit of 10."},
				Costly: []mailauth.LookupCost{{Term: "include:a", Lookups: 7}, {Term: "include:b", Lookups: 5}},
			},
		}, `Your SPF record for big.example already needs 12 DNS lookups, over the limit of 10.
The terms that cost most DNS lookups: include:a (7) include:b (5).
`},
		{"allow list only", &mailauth.Fix{Domain: "c.example", AllowList: []string{"*@platform.example"}},
			"If your gateway enforces a strict DMARC policy, allow *@platform.example.\n"},
		{"nothing", &mailauth.Fix{Domain: "c.example"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.fix.String()
			assert.Equalf(t, tt.want, got, "Fix.String() = %q; want %q", got, tt.want)
		})
	}
}

func TestDecisionString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    *mailauth.Decision
		want string
	}{
		{&mailauth.Decision{App: mailauth.AlertEmails, Choice: mailauth.SenderDefault, From: "noreply@platform.example",
			Findings: []mailauth.Finding{{Code: mailauth.CodeNoCustomerSender, Text: "No sender of the customer's own."}}},
			"alert-emails: send from noreply@platform.example (platform-default)\n- No sender of the customer's own.\n"},
		{&mailauth.Decision{App: mailauth.ScanNotifications, Choice: mailauth.SenderCustomer, From: "scans@c.example"},
			"scan-notifications: send from scans@c.example (customer-domain)\n"},
		{&mailauth.Decision{App: mailauth.ScanNotifications, Choice: mailauth.SenderFallback, From: "noreply@platform.example", ReplyTo: "scans@c.example",
			Fix: &mailauth.Fix{Domain: "c.example", AllowList: []string{"*@platform.example"}}},
			"scan-notifications: send from noreply@platform.example, Reply-To scans@c.example (fallback)\nIf your gateway enforces a strict DMARC policy, allow *@platform.example.\n"},
	}
	for _, tt := range tests {
		got := tt.d.String()
		assert.Equalf(t, tt.want, got, "Decision.String() = %q; want %q", got, tt.want)
	}
}

func TestSPFMergeZoneRecord(t *testing.T) {
	t.Parallel()
	long := "v=spf1"
	for range 20 { // 386 octets: two strings
		long += " ip4:198.51.100.100"
	}
	m := &mailauth.SPFMerge{Domain: "c.example", Record: long}
	want := `c.example. IN TXT "` + long[:255] + `" "` + long[255:] + `"`
	got := m.ZoneRecord()
	assert.Equalf(t, want, got, "ZoneRecord() = %q; want %q", got, want)
	got = (&mailauth.SPFMerge{Domain: "c.example"}).ZoneRecord()
	assert.Emptyf(t, got, "ZoneRecord() without a record = %q; want empty", got)
}

// TestResultStrings: every result type prints on its own, the way the
// reports print it.
func TestResultStrings(t *testing.T) {
	t.Parallel()
	p, _ := scenarioPolicy(t, nil)
	d, err := p.Sender(context.Background(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@soft.example"})
	require.NoError(t, err)
	var failing mailauth.SPFCheck
	for _, c := range d.SPF {
		if c.IP == netip.MustParseAddr("192.0.2.11") {
			failing = c
		}
	}
	tests := []struct {
		name string
		got  fmt.Stringer
		want string
	}{
		{"SPFCheck", failing, "192.0.2.11: softfail (~all matched in soft.example)"},
		{"DMARCCheck", d.DMARC, d.DMARC.Summary()},
		{"PreflightDKIM", mailauth.PreflightDKIM{Domain: "platform.example", Result: "pass", Note: "key not checked: no selector given"},
			"d=platform.example s=-: pass (key not checked: no selector given)"},
		{"LookupCost", mailauth.LookupCost{Term: "include:_spf.example.com", Lookups: 3}, "include:_spf.example.com (3)"},
	}
	for _, tt := range tests {
		s := tt.got.String()
		assert.Equalf(t, tt.want, s, "%s.String() = %q; want %q", tt.name, s, tt.want)
	}
}
