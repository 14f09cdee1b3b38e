package dnsclient_test

import (
	"fmt"

	"github.com/alertmail/alertmail/mailauth/dnsclient"
)

func ExampleNew() {
	r, err := dnsclient.New(dnsclient.Config{
		Servers:      []string{"192.0.2.53", "[2001:db8::53]:5353"},
		CacheEntries: 10000,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Servers())
	// Output: [192.0.2.53:53 [2001:db8::53]:5353]
}

func ExampleNew_invalid() {
	_, err := dnsclient.New(dnsclient.Config{Servers: []string{"ns1:"}})
	fmt.Println(err)
	// Output: dnsclient: Config.Servers[0] "ns1:": empty host or port
}
