package mailauthtest

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/alertmail/alertmail/mailauth/dnsclient"
)

// A Resolver answers from [Zones] in memory, with the method set of
// *net.Resolver (it satisfies mailauth.Resolver and spf.Resolver), plus
// LookupIPAddr and LookupHost so that libraries written against the older
// net.Resolver methods can share it in benchmarks. Its answers and errors
// are those of a dnsclient.Resolver asking a [Server] with the same zones:
// *net.DNSError with IsNotFound (and dnsclient.ErrNXDomain or
// dnsclient.ErrNoData) or IsTimeout set; a timeout entry fails at once
// instead of waiting.
//
// Create one with [NewResolver]; the zero value is not usable. A Resolver is
// safe for concurrent use, [Resolver.Set] included.
type Resolver struct {
	mu      sync.RWMutex
	ix      index
	queries atomic.Int64
}

// NewResolver returns a Resolver for zones.
func NewResolver(zones Zones) *Resolver {
	return &Resolver{ix: newIndex(zones)}
}

// Set replaces the records of name; no records removes the name.
func (r *Resolver) Set(name string, records ...Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(records) == 0 {
		delete(r.ix, canon(name))
	} else {
		r.ix[canon(name)] = append([]Record(nil), records...)
	}
}

// Queries returns the number of lookups answered so far (LookupNetIP with
// network "ip" counts two).
func (r *Resolver) Queries() int {
	return int(r.queries.Load())
}

func (r *Resolver) resolve(name string, t Type) answer {
	r.queries.Add(1)
	r.mu.RLock()
	a := r.ix.resolve(strings.TrimSuffix(name, "."), t)
	r.mu.RUnlock()
	return a
}

// fail returns the error for an answer without records, or nil.
func fail(name string, a answer) error {
	switch a.code {
	case rcodeTimeout:
		return &net.DNSError{Err: "i/o timeout", Name: name, IsTimeout: true, IsTemporary: true}
	case rcodeServFail:
		return &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true, UnwrapErr: dnsclient.ErrServerFailure}
	case rcodeNXDomain:
		return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true, UnwrapErr: dnsclient.ErrNXDomain}
	}
	if len(a.records) == 0 {
		return &net.DNSError{Err: "no records of the asked type", Name: name, IsNotFound: true, UnwrapErr: dnsclient.ErrNoData}
	}
	return nil
}

// LookupTXT returns the TXT records of name, the strings of each joined.
func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(name, err)
	}
	a := r.resolve(name, TypeTXT)
	if err := fail(name, a); err != nil {
		return nil, err
	}
	out := make([]string, len(a.records))
	for i, rec := range a.records {
		out[i] = strings.Join(rec.Text, "")
	}
	return out, nil
}

// LookupNetIP returns the A ("ip4"), AAAA ("ip6") or both ("ip") addresses
// of host.
func (r *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(host, err)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	var types []Type
	switch network {
	case "ip4":
		types = []Type{TypeA}
	case "ip6":
		types = []Type{TypeAAAA}
	case "ip":
		types = []Type{TypeA, TypeAAAA}
	default:
		return nil, &net.DNSError{Err: "unsupported network " + network, Name: host}
	}
	var out []netip.Addr
	var firstErr error
	for _, t := range types {
		a := r.resolve(host, t)
		if err := fail(host, a); err != nil {
			if firstErr == nil || (isNotFound(firstErr) && !isNotFound(err)) {
				firstErr = err
			}
			continue
		}
		for _, rec := range a.records {
			out = append(out, rec.Addr)
		}
	}
	if len(out) == 0 {
		return nil, firstErr
	}
	return out, nil
}

// LookupIPAddr returns the A and AAAA addresses of host as net.IPAddr.
func (r *Resolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	out := make([]net.IPAddr, len(addrs))
	for i, a := range addrs {
		out[i] = net.IPAddr{IP: a.AsSlice()}
	}
	return out, nil
}

// LookupHost returns the A and AAAA addresses of host as strings.
func (r *Resolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out, nil
}

// LookupMX returns the MX records of name sorted by preference (zone order
// among equals), hosts with a trailing dot, as dnsclient does.
func (r *Resolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(name, err)
	}
	a := r.resolve(name, TypeMX)
	if err := fail(name, a); err != nil {
		return nil, err
	}
	out := make([]*net.MX, len(a.records))
	for i, rec := range a.records {
		out[i] = &net.MX{Host: fqdn(rec.Host), Pref: rec.Pref}
	}
	slices.SortStableFunc(out, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	return out, nil
}

// LookupAddr returns the names the PTR records of addr point to, each with a
// trailing dot.
func (r *Resolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(addr, err)
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "unrecognized address", Name: addr}
	}
	name := ReverseName(ip)
	a := r.resolve(name, TypePTR)
	if err := fail(name, a); err != nil {
		return nil, err
	}
	out := make([]string, len(a.records))
	for i, rec := range a.records {
		out[i] = fqdn(rec.Host)
	}
	return out, nil
}

// ReverseName returns the in-addr.arpa or ip6.arpa name of ip (without a
// trailing dot), under which its PTR records are kept.
func ReverseName(ip netip.Addr) string {
	ip = ip.Unmap()
	var sb strings.Builder
	if ip.Is4() {
		b := ip.As4()
		for i := 3; i >= 0; i-- {
			sb.WriteString(strconv.Itoa(int(b[i])))
			sb.WriteByte('.')
		}
		sb.WriteString("in-addr.arpa")
		return sb.String()
	}
	const hex = "0123456789abcdef"
	b := ip.As16()
	for i := 15; i >= 0; i-- {
		sb.WriteByte(hex[b[i]&0xf])
		sb.WriteByte('.')
		sb.WriteByte(hex[b[i]>>4])
		sb.WriteByte('.')
	}
	sb.WriteString("ip6.arpa")
	return sb.String()
}

func fqdn(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

func ctxError(name string, err error) error {
	return &net.DNSError{Err: err.Error(), Name: name, UnwrapErr: err, IsTimeout: err == context.DeadlineExceeded}
}

func isNotFound(err error) bool {
	de, ok := err.(*net.DNSError)
	return ok && de.IsNotFound
}
