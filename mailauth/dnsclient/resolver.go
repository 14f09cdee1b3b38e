package dnsclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/mailauth/internal/dnsname"
)

// Defaults of the Config fields.
const (
	DefaultTimeout    = 2 * time.Second
	DefaultAttempts   = 2
	DefaultUDPSize    = 1232 // the DNS Flag Day 2020 recommendation
	DefaultMaxTTL     = time.Hour
	defaultResolvConf = "/etc/resolv.conf"
)

// A Clock tells the time; the cache reads it to expire answers. Any type
// with this method fits. Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to a [Clock]; ClockFunc(time.Now) is the
// system clock.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }

// Config configures a [Resolver]. Its zero value is ready to use: the servers
// of /etc/resolv.conf, a 2 s timeout, two attempts, EDNS0 with a 1232-octet
// buffer, no cache. [New] validates it.
type Config struct {
	// Servers are the name servers asked, in order, as "host:port" or
	// "host" (port 53). Default: the nameserver lines of /etc/resolv.conf,
	// or 127.0.0.1:53 when it has none.
	Servers []string
	// Timeout bounds each query sent to one server, over UDP and then over
	// TCP if the answer was truncated. Default: DefaultTimeout (2 s). The
	// context passed to a lookup bounds the whole lookup.
	Timeout time.Duration
	// Attempts is how many times the list of servers is tried before a
	// lookup fails with a timeout. Default: DefaultAttempts (2).
	Attempts int
	// UDPSize is the EDNS0 buffer size advertised over UDP; an answer larger
	// than this comes back truncated and is asked again over TCP. Zero means
	// DefaultUDPSize (1232); values under 512 mean 512 without EDNS0.
	UDPSize int
	// CacheEntries is the number of answers kept in a cache that honours
	// their TTLs; zero disables the cache. Only positive answers are cached.
	CacheEntries int
	// MaxTTL caps how long a cached answer is kept, whatever its TTL says.
	// Default: DefaultMaxTTL (1 h).
	MaxTTL time.Duration
	// Clock tells the time to the cache. Default: the system clock.
	Clock Clock
	// MeterProvider gives the Resolver's metrics: the queries sent by
	// record type and result (timeouts among them), and the cache's hits
	// and misses. Default: none, the no-op provider; never the global
	// one.
	MeterProvider metric.MeterProvider
	// TracerProvider gives each lookup a span (alertmail.dns.lookup, with
	// the name and type) when the context carries a recording span, as an
	// SPF check's span is. Default: none, the no-op provider; never the
	// global one.
	TracerProvider trace.TracerProvider
	// Logger receives a Debug record of each query that failed. Default:
	// none, quiet.
	Logger *slog.Logger
}

// A Resolver sends DNS queries with github.com/miekg/dns. Create one with
// [New]; the zero value is not usable. It is safe for concurrent use.
type Resolver struct {
	servers  []string
	timeout  time.Duration
	attempts int
	udpSize  uint16
	edns     bool
	cache    *cache
	tel      *telemetry // nil: none
}

// New validates cfg and returns a Resolver.
func New(cfg Config) (*Resolver, error) {
	r := &Resolver{timeout: cfg.Timeout, attempts: cfg.Attempts}
	switch {
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("dnsclient: Config.Timeout %v is negative", cfg.Timeout)
	case cfg.Timeout == 0:
		r.timeout = DefaultTimeout
	}
	switch {
	case cfg.Attempts < 0:
		return nil, fmt.Errorf("dnsclient: Config.Attempts %d is negative", cfg.Attempts)
	case cfg.Attempts == 0:
		r.attempts = DefaultAttempts
	}
	switch {
	case cfg.UDPSize < 0 || cfg.UDPSize > 65535:
		return nil, fmt.Errorf("dnsclient: Config.UDPSize %d is out of range 0-65535", cfg.UDPSize)
	case cfg.UDPSize == 0:
		r.udpSize, r.edns = DefaultUDPSize, true
	case cfg.UDPSize <= dns.MinMsgSize:
		r.udpSize = dns.MinMsgSize
	default:
		r.udpSize, r.edns = uint16(cfg.UDPSize), true
	}
	servers := cfg.Servers
	if len(servers) == 0 {
		servers = systemServers(defaultResolvConf)
	}
	for i, s := range servers {
		addr, err := serverAddr(s)
		if err != nil {
			return nil, fmt.Errorf("dnsclient: Config.Servers[%d] %q: %w", i, s, err)
		}
		r.servers = append(r.servers, addr)
	}
	if cfg.CacheEntries < 0 {
		return nil, fmt.Errorf("dnsclient: Config.CacheEntries %d is negative", cfg.CacheEntries)
	}
	if cfg.MaxTTL < 0 {
		return nil, fmt.Errorf("dnsclient: Config.MaxTTL %v is negative", cfg.MaxTTL)
	}
	if cfg.CacheEntries > 0 {
		maxTTL, clock := cfg.MaxTTL, cfg.Clock
		if maxTTL == 0 {
			maxTTL = DefaultMaxTTL
		}
		if clock == nil {
			clock = ClockFunc(time.Now)
		}
		r.cache = newCache(cfg.CacheEntries, maxTTL, clock)
	}
	var err error
	if r.tel, err = newTelemetry(&cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// Servers returns the addresses of the servers the Resolver asks.
func (r *Resolver) Servers() []string { return slices.Clone(r.servers) }

// serverAddr normalises "host" or "host:port" to "ip:port".
func serverAddr(s string) (string, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.String(), nil
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return netip.AddrPortFrom(a, 53).String(), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", errors.New("not an address or address:port")
	}
	if host == "" || port == "" {
		return "", errors.New("empty host or port")
	}
	return net.JoinHostPort(host, port), nil
}

// systemServers reads the nameserver lines of a resolv.conf file.
func systemServers(path string) []string {
	var out []string
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && fields[0] == "nameserver" {
				out = append(out, fields[1])
			}
		}
	}
	if len(out) == 0 {
		out = []string{"127.0.0.1:53"}
	}
	return out
}

// LookupTXT returns the TXT records of name, the strings of each record
// joined without separator (RFC 7208 section 3.3).
func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := r.lookup(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		var sb strings.Builder
		for _, s := range rr.(*dns.TXT).Txt {
			sb.WriteString(dnsname.Raw(s))
		}
		out = append(out, sb.String())
	}
	return out, nil
}

// LookupNetIP returns the addresses of host: A records for network "ip4",
// AAAA records for "ip6", both for "ip". An IP address literal is returned as
// it is.
func (r *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	var types []uint16
	switch network {
	case "ip4":
		types = []uint16{dns.TypeA}
	case "ip6":
		types = []uint16{dns.TypeAAAA}
	case "ip":
		types = []uint16{dns.TypeA, dns.TypeAAAA}
	default:
		return nil, &net.DNSError{Err: "unsupported network " + network, Name: host}
	}
	var out []netip.Addr
	var firstErr error
	for _, t := range types {
		rrs, err := r.lookup(ctx, host, t)
		if err != nil {
			if firstErr == nil || (isNotFound(firstErr) && !isNotFound(err)) {
				firstErr = err
			}
			continue
		}
		for _, rr := range rrs {
			switch rr := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(rr.A.To4()); ok {
					out = append(out, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(rr.AAAA.To16()); ok {
					out = append(out, a)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, firstErr
	}
	return out, nil
}

// LookupMX returns the MX records of name sorted by preference, each host
// with its trailing dot, as [net.Resolver.LookupMX] does.
func (r *Resolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	rrs, err := r.lookup(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	out := make([]*net.MX, 0, len(rrs))
	for _, rr := range rrs {
		mx := rr.(*dns.MX)
		out = append(out, &net.MX{Host: dnsname.Raw(mx.Mx), Pref: mx.Preference})
	}
	slices.SortStableFunc(out, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	return out, nil
}

// LookupAddr returns the names the PTR records of the address addr point to,
// each with its trailing dot.
func (r *Resolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "unrecognized address", Name: addr}
	}
	rev, err := dns.ReverseAddr(ip.Unmap().String())
	if err != nil {
		return nil, &net.DNSError{Err: "unrecognized address", Name: addr}
	}
	rrs, err := r.lookup(ctx, rev, dns.TypePTR)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, dnsname.Raw(rr.(*dns.PTR).Ptr))
	}
	return out, nil
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
