package mailauthtest_test

import (
	"context"
	"fmt"

	"github.com/alertmail/alertmail/mailauth/dnsclient"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

func ExampleNewResolver() {
	r := mailauthtest.NewResolver(mailauthtest.Zones{
		"example.com": {
			mailauthtest.TXT("v=spf1 ", "mx -all"),
			mailauthtest.MX(10, "mail.example.com"),
		},
		"mail.example.com": {mailauthtest.A("192.0.2.25")},
	})
	ctx := context.Background()
	txt, _ := r.LookupTXT(ctx, "example.com")
	fmt.Printf("%q\n", txt)
	_, err := r.LookupTXT(ctx, "mail.example.com")
	fmt.Println(dnsclient.IsNoData(err))
	_, err = r.LookupTXT(ctx, "nowhere.example.com")
	fmt.Println(dnsclient.IsNXDomain(err))
	// Output:
	// ["v=spf1 mx -all"]
	// true
	// true
}
