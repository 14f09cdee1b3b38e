package mailauth

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// auditResolver is the resolver one audit run shares between its workers.
// It asks the upstream Resolver at most QueryRate times a second and, unless
// the cache is off, at most once per name and type for the whole run:
// thousands of customers include the same few providers' records, and
// Policy.Sender asks for a customer's own record many times over.
//
// Unlike dnsclient's cache it works in front of any Resolver, keeps
// negative answers and failures too (a name that timed out would time out
// again, and make every customer needing it wait again), and collapses
// simultaneous lookups of one name into one query. It keeps everything for
// the run, which is a snapshot: no TTL applies.
//
// A lookup runs under the run's context, not under the context of the
// customer who asked first: a customer whose deadline passes stops waiting,
// and the customers waiting with it still get the answer.
type auditResolver struct {
	up      Resolver
	run     context.Context // cancelled when the run ends
	pace    *pacer          // nil: no rate limit
	cache   bool
	queries atomic.Int64

	mu    sync.Mutex
	calls map[lookupKey]*lookupCall
}

// lookupKey identifies a lookup: the method (and network) and the name,
// lower-cased without its trailing dot, as DNS compares names.
type lookupKey struct {
	kind string
	name string
}

// lookupCall is one lookup, answered once for every caller; done is closed
// when the answer is in.
type lookupCall struct {
	done  chan struct{}
	txt   []string
	addrs []netip.Addr
	mx    []*net.MX
	names []string
	err   error
}

func newAuditResolver(run context.Context, up Resolver, rate float64, cache bool) *auditResolver {
	r := &auditResolver{up: up, run: run, cache: cache, calls: make(map[lookupKey]*lookupCall)}
	if rate > 0 {
		r.pace = &pacer{every: time.Duration(float64(time.Second) / rate)}
	}
	return r
}

// Queries returns the number of lookups sent upstream so far.
func (r *auditResolver) Queries() int64 { return r.queries.Load() }

// lookup answers k through the cache, or straight from upstream (ask) when
// the cache is off.
func (r *auditResolver) lookup(ctx context.Context, k lookupKey, ask func(context.Context, *lookupCall)) (*lookupCall, error) {
	if !r.cache {
		c := &lookupCall{}
		if err := r.send(ctx, c, ask); err != nil {
			return nil, err
		}
		return c, nil
	}
	k.name = strings.ToLower(strings.TrimSuffix(k.name, "."))
	r.mu.Lock()
	c, ok := r.calls[k]
	if !ok {
		c = &lookupCall{done: make(chan struct{})}
		r.calls[k] = c
		go func() {
			defer close(c.done)
			if err := r.send(r.run, c, ask); err != nil {
				c.err = err
			}
		}()
	}
	r.mu.Unlock()
	select {
	case <-c.done:
		return c, nil
	case <-ctx.Done():
		return nil, ctxDNSError(k.name, ctx.Err())
	}
}

// send waits for the rate limit and asks upstream.
func (r *auditResolver) send(ctx context.Context, c *lookupCall, ask func(context.Context, *lookupCall)) error {
	if r.pace != nil {
		if err := r.pace.wait(ctx); err != nil {
			return ctxDNSError("", err)
		}
	}
	r.queries.Add(1)
	ask(ctx, c)
	return nil
}

// ctxDNSError reports a lookup given up by its caller as a *net.DNSError,
// the error type every Resolver returns; a deadline is a timeout.
func ctxDNSError(name string, err error) error {
	return &net.DNSError{Err: err.Error(), Name: name, UnwrapErr: err, IsTimeout: errors.Is(err, context.DeadlineExceeded)}
}

func (r *auditResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	c, err := r.lookup(ctx, lookupKey{"txt", name}, func(ctx context.Context, c *lookupCall) {
		c.txt, c.err = r.up.LookupTXT(ctx, name)
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.txt), c.err
}

func (r *auditResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	c, err := r.lookup(ctx, lookupKey{network, host}, func(ctx context.Context, c *lookupCall) {
		c.addrs, c.err = r.up.LookupNetIP(ctx, network, host)
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.addrs), c.err
}

func (r *auditResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	c, err := r.lookup(ctx, lookupKey{"mx", name}, func(ctx context.Context, c *lookupCall) {
		c.mx, c.err = r.up.LookupMX(ctx, name)
	})
	if err != nil {
		return nil, err
	}
	if c.mx == nil {
		return nil, c.err
	}
	out := make([]*net.MX, len(c.mx))
	for i, mx := range c.mx {
		m := *mx
		out[i] = &m
	}
	return out, c.err
}

func (r *auditResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	c, err := r.lookup(ctx, lookupKey{"ptr", addr}, func(ctx context.Context, c *lookupCall) {
		c.names, c.err = r.up.LookupAddr(ctx, addr)
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.names), c.err
}

// pacer spaces events at least every apart: a rate limit without bursts,
// which is what a DNS server asked by thousands of customers in a row
// wants. It is safe for concurrent use.
type pacer struct {
	every time.Duration

	mu   sync.Mutex
	next time.Time
}

// wait blocks until the caller's turn, or until ctx is done.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.every)
	p.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
