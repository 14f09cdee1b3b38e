package main

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"go.opentelemetry.io/otel/metric"

	"github.com/alertmail/alertmail/mailauth"
)

// The platform the console plays: its domains and the addresses its mail
// leaves from.
const (
	corporateDomain = "corp.example"
	platformDomain  = "platform.example"
	sendingNetwork  = "192.0.2.16/29"
)

// sampleZones are the DNS records the console's resolver answers with: the
// customer domains of the sample tenants and a few more to type in the
// sender check.
var sampleZones = map[string][]string{
	// Authorises the platform's network and publishes DMARC: the platform
	// may send as alerts@ready.example.
	"ready.example":        {"v=spf1 ip4:192.0.2.16/29 mx -all"},
	"_dmarc.ready.example": {"v=DMARC1; p=reject; rua=mailto:dmarc@ready.example"},
	// A strict DMARC policy and an SPF record without the platform: mail
	// "from" strict.example through the platform would be rejected.
	"strict.example":        {"v=spf1 mx -all"},
	"_dmarc.strict.example": {"v=DMARC1; p=reject"},
	// No DMARC record, and an SPF record that does not name the platform.
	"relaxed.example": {"v=spf1 ip4:198.51.100.0/24 ~all"},
}

// zoneResolver is a mailauth.Resolver over a map of TXT records: a name
// that is not in it does not exist, and nothing has A, AAAA, MX or PTR
// records. It is safe for concurrent use.
type zoneResolver map[string][]string

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (z zoneResolver) LookupTXT(_ context.Context, name string) ([]string, error) {
	if txt, ok := z[strings.TrimSuffix(strings.ToLower(name), ".")]; ok {
		return txt, nil
	}
	return nil, notFound(name)
}

func (z zoneResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	return nil, notFound(host)
}

func (z zoneResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return nil, notFound(name)
}

func (z zoneResolver) LookupAddr(_ context.Context, addr string) ([]string, error) {
	return nil, notFound(addr)
}

// newPolicy returns the platform's sender-domain policy, asking resolver.
func newPolicy(resolver mailauth.Resolver, clock mailauth.Clock, mp metric.MeterProvider, log *slog.Logger) (*mailauth.Policy, error) {
	return mailauth.NewPolicy(mailauth.PolicyConfig{
		CorporateDomain: corporateDomain,
		PlatformDomain:  platformDomain,
		SendingIPs:      []netip.Prefix{netip.MustParsePrefix(sendingNetwork)},
		Resolver:        resolver,
		Clock:           clock,
		MeterProvider:   mp,
		Logger:          log,
	})
}
