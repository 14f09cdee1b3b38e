package mailauth_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// A receiving gateway checks a message and writes its
// Authentication-Results header field.
func ExampleAuthenticator_Authenticate() {
	res := mailauthtest.NewResolver(mailauthtest.Zones{
		"_dmarc.example.com": {mailauthtest.TXT("v=DMARC1; p=quarantine")},
		"bounce.example.com": {mailauthtest.TXT("v=spf1 ip4:192.0.2.0/24 -all")},
	})
	a, err := mailauth.NewAuthenticator(mailauth.AuthenticatorConfig{ServID: "mx.customer.example", Resolver: res})
	if err != nil {
		panic(err)
	}
	msg := []byte("From: Alerts <alerts@example.com>\r\nSubject: New alert\r\n\r\nA new alert.\r\n")
	for _, ip := range []string{"192.0.2.25", "203.0.113.9"} {
		r, err := a.Authenticate(context.Background(), msg, netip.MustParseAddr(ip), "bounce@bounce.example.com", "mta.example.com")
		if err != nil {
			panic(err)
		}
		fmt.Println(r)
	}
	// Output:
	// Authentication-Results: mx.customer.example; spf=pass smtp.helo=mta.example.com smtp.mailfrom=bounce@bounce.example.com; dmarc=pass header.from=example.com policy.dmarc=quarantine
	// Authentication-Results: mx.customer.example; spf=fail smtp.helo=mta.example.com smtp.mailfrom=bounce@bounce.example.com; dmarc=fail reason="disposition quarantine" header.from=example.com policy.dmarc=quarantine
}
