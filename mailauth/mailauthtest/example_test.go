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

// A Server outside a test: StartServer, and Close when done. In a test,
// NewServer(t, zones) does both.
func ExampleStartServer() {
	srv, err := mailauthtest.StartServer(mailauthtest.Zones{
		"example.com":     {mailauthtest.TXT("v=spf1 ip4:192.0.2.0/24 -all"), mailauthtest.A("192.0.2.25")},
		"www.example.com": {mailauthtest.CNAME("example.com")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	r, err := dnsclient.New(srv.Config())
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	txt, err := r.LookupTXT(ctx, "www.example.com")
	fmt.Printf("%q %v\n", txt, err)
	_, err = r.LookupMX(ctx, "example.com")
	fmt.Println("no MX:", dnsclient.IsNoData(err))
	_, err = r.LookupTXT(ctx, "absent.example.com")
	fmt.Println("absent:", dnsclient.IsNXDomain(err))
	fmt.Println("queries:", srv.Queries())
	// Output:
	// ["v=spf1 ip4:192.0.2.0/24 -all"] <nil>
	// no MX: true
	// absent: true
	// queries: 3
}
