package dnsclient

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/alertmail/alertmail/mailauth/internal/dnsname"
)

// maxCNAMEs bounds the CNAME chain followed inside one answer.
const maxCNAMEs = 16

// lookup returns the records of type qtype at name, following the CNAME
// chain in the answer, from the cache or from the servers.
func (r *Resolver) lookup(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	ctx, span := r.tel.start(ctx, name, qtype)
	rrs, cached, err := r.lookupRRs(ctx, name, qtype)
	r.tel.done(span, cached, err)
	return rrs, err
}

// lookupRRs is lookup without its span, and reports whether the answer
// came from the cache.
func (r *Resolver) lookupRRs(ctx context.Context, name string, qtype uint16) ([]dns.RR, bool, error) {
	if !dnsname.Valid(name) {
		return nil, false, &net.DNSError{Err: "invalid domain name", Name: name, IsNotFound: true, UnwrapErr: ErrInvalidName}
	}
	var key cacheKey
	if r.cache != nil {
		key = cacheKey{name: strings.ToLower(strings.TrimSuffix(name, ".")), qtype: qtype}
		rrs, ok := r.cache.get(key)
		r.tel.cached(ok)
		if ok {
			return rrs, true, nil
		}
	}
	m := new(dns.Msg)
	m.SetQuestion(dnsname.Text(name), qtype)
	m.RecursionDesired = true
	if r.edns {
		m.SetEdns0(r.udpSize, false)
	}
	var lastErr error
	for range r.attempts {
		for _, srv := range r.servers {
			if err := ctx.Err(); err != nil {
				return nil, false, lookupError(name, srv, err)
			}
			m.Id = dns.Id()
			resp, err := r.exchange(ctx, m, srv)
			if err != nil {
				lastErr = lookupError(name, srv, err)
				r.tel.queried(ctx, qtype, queryResult(err, 0, false), srv, lastErr)
				if ctx.Err() != nil {
					return nil, false, lastErr
				}
				continue
			}
			if resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
				lastErr = &net.DNSError{
					Err:         "server misbehaving: " + dns.RcodeToString[resp.Rcode],
					Name:        name,
					Server:      srv,
					IsTemporary: true,
					UnwrapErr:   ErrServerFailure,
				}
				r.tel.queried(ctx, qtype, resultError, srv, lastErr)
				continue
			}
			rrs, ttl := follow(resp, name, qtype)
			r.tel.queried(ctx, qtype, queryResult(nil, resp.Rcode, len(rrs) > 0), srv, nil)
			if len(rrs) == 0 {
				return nil, false, notFound(name, srv, resp.Rcode == dns.RcodeNameError)
			}
			if r.cache != nil {
				r.cache.put(key, rrs, ttl)
			}
			return rrs, false, nil
		}
	}
	return nil, false, lastErr
}

// follow returns the records of type qtype that answer name, walking the
// CNAME chain in resp, and the smallest TTL met on the way.
func follow(resp *dns.Msg, name string, qtype uint16) ([]dns.RR, time.Duration) {
	var out []dns.RR
	ttl := ^uint32(0)
	cur := name
	for range maxCNAMEs {
		next := ""
		for _, rr := range resp.Answer {
			h := rr.Header()
			if h.Class != dns.ClassINET || !dnsname.Equal(dnsname.Raw(h.Name), cur) {
				continue
			}
			switch {
			case h.Rrtype == qtype:
				out = append(out, rr)
				ttl = min(ttl, h.Ttl)
			case h.Rrtype == dns.TypeCNAME && qtype != dns.TypeCNAME:
				next = dnsname.Raw(rr.(*dns.CNAME).Target)
				ttl = min(ttl, h.Ttl)
			}
		}
		if len(out) > 0 || next == "" {
			break
		}
		cur = next
	}
	return out, time.Duration(ttl) * time.Second
}

// exchange asks srv over UDP, and again over TCP when the answer is
// truncated.
func (r *Resolver) exchange(ctx context.Context, m *dns.Msg, srv string) (*dns.Msg, error) {
	resp, err := r.exchangeNet(ctx, "udp", m, srv)
	if err == nil && resp.Truncated {
		resp, err = r.exchangeNet(ctx, "tcp", m, srv)
	}
	return resp, err
}

var errMismatch = errors.New("dnsclient: answer does not match the question")

// exchangeNet sends m to srv over network and reads the answer, within the
// per-query timeout and the life of ctx.
func (r *Resolver) exchangeNet(ctx context.Context, network string, m *dns.Msg, srv string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, srv)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// Cancellation unblocks a read in progress by moving its deadline.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	co := &dns.Conn{Conn: conn, UDPSize: r.udpSize}
	if err := co.WriteMsg(m); err != nil {
		return nil, ctxErr(ctx, err)
	}
	for {
		resp, err := co.ReadMsg()
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		if !answers(resp, m) {
			if network == "udp" {
				// A late answer to an earlier query, or a forgery: keep
				// waiting for ours until the deadline (RFC 5452 section 9.1).
				continue
			}
			return nil, errMismatch
		}
		return resp, nil
	}
}

// answers reports whether resp is the answer to m: the same ID and the same
// question (RFC 5452 section 4).
func answers(resp, m *dns.Msg) bool {
	q := m.Question[0]
	return resp.Id == m.Id && resp.Response && len(resp.Question) == 1 &&
		resp.Question[0].Qtype == q.Qtype && resp.Question[0].Qclass == q.Qclass &&
		dnsname.Equal(dnsname.Raw(resp.Question[0].Name), dnsname.Raw(q.Name))
}

// ctxErr prefers the context's error to the I/O error it caused: a read
// that hit the context's deadline may return before ctx.Err reports it.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	var ne net.Error
	if dl, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return err
}
