package mailauth_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// An ESP sends for example.com: its own envelope domain passes SPF but does
// not align, so the message passes DMARC only once it is DKIM-signed as
// example.com with a published key.
func ExamplePreflight_Check() {
	res := mailauthtest.NewResolver(mailauthtest.Zones{
		"_dmarc.example.com":        {mailauthtest.TXT("v=DMARC1; p=reject")},
		"s1._domainkey.example.com": {mailauthtest.TXT("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")},
		"esp.example":               {mailauthtest.TXT("v=spf1 ip4:198.51.100.0/24 -all")},
	})
	p, err := mailauth.NewPreflight(mailauth.PreflightConfig{Resolver: res})
	if err != nil {
		panic(err)
	}
	in := mailauth.PreflightInput{
		From:     "Alerts <alerts@example.com>",
		IP:       netip.MustParseAddr("198.51.100.7"),
		MailFrom: "bounce@esp.example",
		HELO:     "mta.esp.example",
	}
	r, err := p.Check(context.Background(), in)
	if err != nil {
		panic(err)
	}
	fmt.Println("unsigned:", r.RFC9989.Result, r.RFC9989.Disposition)
	for _, f := range r.Fixes {
		fmt.Println("fix:", f)
	}

	in.DKIM = []mailauth.Signing{{Domain: "example.com", Selector: "s1"}}
	if r, err = p.Check(context.Background(), in); err != nil {
		panic(err)
	}
	fmt.Println("signed:", r.RFC9989.Result, "pass with both generations:", r.Pass())
	// Output:
	// unsigned: fail reject
	// fix: SPF passes for esp.example, which is not aligned with example.com (aspf=relaxed): send with an envelope sender (MAIL FROM) in example.com or a subdomain of its organizational domain, whose SPF record authorises 198.51.100.7
	// fix: sign with DKIM as d=example.com or a subdomain of its organizational domain and publish the key (a signature survives forwarding, SPF does not)
	// signed: pass pass with both generations: true
}
