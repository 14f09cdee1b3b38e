package mailauthsender_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/alerts/mailauthsender"
	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// The sender-domain policy chooses the From of every alert: a customer
// whose SPF record misses a platform address gets the platform's From,
// with its own address as Reply-To, and the platform's DKIM domain. The
// same Cache goes into digest.MailerConfig.Sender for the digests.
func Example() {
	dns := mailauthtest.NewResolver(mailauthtest.Zones{ // in production: a dnsclient.Resolver
		"customer.example": {mailauthtest.TXT("v=spf1 ip4:192.0.2.10 ~all")},
	})
	policy, err := mailauth.NewPolicy(mailauth.PolicyConfig{
		CorporateDomain: "corp.example",
		PlatformDomain:  "platform.example",
		SendingIPs:      []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("192.0.2.11/32")},
		Resolver:        dns,
	})
	if err != nil {
		panic(err)
	}
	senders, err := mailauthsender.New(mailauthsender.Config{
		Policy: policy,
		// The host's own mapping, from its customer records.
		Customer: func(_ context.Context, tenant string) (mailauth.Customer, mailauth.App, error) {
			return mailauth.Customer{From: "soc@customer.example"}, mailauth.AlertEmails, nil
		},
		DisplayName: "Acme Security",
	})
	if err != nil {
		panic(err)
	}

	settings := alerts.NewMemorySettingsStore(nil)
	cur, _ := settings.Load(context.Background(), "acme")
	draft := cur.Edit()
	if err := draft.SetRecipients([]string{"soc@customer.example"}); err != nil {
		panic(err)
	}
	if _, err := settings.Save(context.Background(), draft.Settings()); err != nil {
		panic(err)
	}
	outbox := alertstest.NewRecorder() // in production: smtpnotify, which signs as DKIMDomain
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{Settings: settings, Notifier: outbox, Sender: senders})
	if err != nil {
		panic(err)
	}
	ev := alerts.Event{ID: "det-1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 9}
	if _, err := d.Dispatch(context.Background(), ev); err != nil {
		panic(err)
	}
	m := outbox.Messages()[0]
	fmt.Println("From:", m.From)
	fmt.Println("Reply-To:", m.ReplyTo)
	fmt.Println("DKIM d=", m.DKIMDomain)
	// Output:
	// From: "Acme Security" <noreply@platform.example>
	// Reply-To: soc@customer.example
	// DKIM d= platform.example
}
