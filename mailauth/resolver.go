package mailauth

import (
	"context"
	"net"
	"net/netip"
)

// A Resolver answers the DNS queries that SPF, DKIM and DMARC evaluation
// make. Its method set is that of [*net.Resolver], so net.DefaultResolver
// fits as it is; package dnsclient offers one on github.com/miekg/dns with
// configurable servers, timeouts, TCP fallback and the distinction between a
// name that does not exist and a name without records of the asked type.
//
// A name that does not exist, or has no record of the asked type, is reported
// as a *net.DNSError with IsNotFound set; a timeout as one with IsTimeout set.
// Implementations must be safe for concurrent use.
type Resolver interface {
	// LookupTXT returns the TXT records of name, the strings of each record
	// joined into one.
	LookupTXT(ctx context.Context, name string) ([]string, error)
	// LookupNetIP returns the addresses of host: A records for network
	// "ip4", AAAA records for "ip6", both for "ip".
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	// LookupMX returns the MX records of name.
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	// LookupAddr returns the names that the reverse (PTR) records of addr
	// point to.
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// *net.Resolver is the reference implementation of the method set.
var _ Resolver = (*net.Resolver)(nil)
