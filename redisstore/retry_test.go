package redisstore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/redistest"
)

// A cutProxy forwards loopback connections to a Redis server. When armed,
// it swallows the next reply the server sends and closes the client's
// connection instead: the command ran on the server but the client sees
// EOF, and go-redis sends it again on a new connection, as it does after
// any connection error.
type cutProxy struct {
	ln    net.Listener
	cut   atomic.Bool
	cuts  atomic.Int32
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, addr string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go p.back(c, s)
		}
	}()
	return p
}

// back copies the server's replies to the client, but for the one reply
// after arming.
func (p *cutProxy) back(c, s net.Conn) {
	defer c.Close()
	defer s.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 && p.cut.CompareAndSwap(true, false) {
			p.cuts.Add(1)
			return
		}
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestLimitTakeRetried runs a Take whose reply is lost after the server ran
// it, so that go-redis sends the same script call again: the retry must
// answer the lease the first run took, with the carried event, and hold no
// second slot. Before the Take script recognised its own lease id, the
// retry appended the event again, held a second slot and overwrote the
// lease's events with the new copy, losing the carried one.
func TestLimitTakeRetried(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	proxy := newCutProxy(t, srv.Addr)
	client := redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), MaxRetries: 3})
	t.Cleanup(func() { client.Close() })
	ls := newStore(t, srv, client).Limits()
	ctx := context.Background()
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	p := alerts.FrequencyLimit{}.WithDefaults()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ev := func(id string) []alerts.Event {
		return []alerts.Event{{ID: id, Tenant: "acme", Category: alerts.ActiveThreat, Score: 9, Time: t0}}
	}

	// e1 is carried: taken, then given back.
	g, err := ls.Take(ctx, key, p, t0, time.Minute, ev("e1"))
	if err != nil || g.Lease == "" {
		t.Fatalf("Take(e1) = %+v, %v; want a lease", g, err)
	}
	if err := ls.GiveBack(ctx, key, p, g.Lease, t0); err != nil {
		t.Fatal(err)
	}

	proxy.cut.Store(true)
	g, err = ls.Take(ctx, key, p, t0, time.Minute, ev("e2"))
	if proxy.cuts.Load() != 1 {
		t.Fatalf("the proxy cut %d replies; want 1", proxy.cuts.Load())
	}
	if err != nil || g.Lease == "" {
		t.Fatalf("retried Take(e2) = %+v, %v; want a lease", g, err)
	}
	var ids []string
	for _, e := range g.Events {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, []string{"e1", "e2"}) {
		t.Errorf("retried Take(e2) leased %q; want [e1 e2] (each once)", ids)
	}
	if err := ls.Commit(ctx, key, p, g.Lease, t0); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if evs, err := ls.Drain(ctx, key, p, t0); err != nil || len(evs) != 0 {
		t.Errorf("Drain after Commit = %v, %v; want nothing pending", evs, err)
	}
	// One send so far: four more are allowed at t0, then the cooling
	// period. A second slot held by the retry would allow only three.
	for i := range p.Max - 1 {
		g, err := ls.Take(ctx, key, p, t0, time.Minute, ev("f"))
		if err != nil || g.Lease == "" {
			t.Fatalf("Take %d after the retry = %+v, %v; want a lease (one slot used so far)", i+2, g, err)
		}
		if err := ls.Commit(ctx, key, p, g.Lease, t0); err != nil {
			t.Fatal(err)
		}
	}
	g, err = ls.Take(ctx, key, p, t0, time.Minute, ev("g"))
	if err != nil || g.Lease != "" || !g.Next.Equal(t0.Add(p.Period)) {
		t.Errorf("Take after %d sends = %+v, %v; want a suppression until %v", p.Max, g, err, t0.Add(p.Period))
	}
}

// TestLimitPendingTTLRenewed checks the TTL rule of pending events: an
// event lives at least Config.PendingTTL (30 days by default) after it was
// appended, also when the decision changes no state (the fast path of a
// cooling key in cooldown mode, the full path in window mode). Before,
// such appends left the TTL set by the last change of state, so an event
// appended late in a long cooling period lived that much less.
func TestLimitPendingTTLRenewed(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	ctx := context.Background()
	for _, mode := range []alerts.LimitMode{alerts.Cooldown, alerts.SlidingWindow} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			st, prefix := newPrefixedStore(t, srv, client)
			ls := st.Limits()
			tenant := "acme-" + string(mode)
			key := alerts.LimitKey{Tenant: tenant, Category: alerts.ActiveThreat}
			p := alerts.FrequencyLimit{Mode: mode}.WithDefaults()
			t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			ev := []alerts.Event{{ID: "e", Tenant: tenant, Category: alerts.ActiveThreat}}
			for range p.Max {
				g, err := ls.Take(ctx, key, p, t0, time.Minute, ev)
				if err != nil || g.Lease == "" {
					t.Fatalf("Take = %+v, %v; want a lease", g, err)
				}
				if err := ls.Commit(ctx, key, p, g.Lease, t0); err != nil {
					t.Fatal(err)
				}
			}
			if g, err := ls.Take(ctx, key, p, t0, time.Minute, ev); err != nil || g.Pending != 1 {
				t.Fatalf("Take while limited = %+v, %v; want 1 pending", g, err)
			}
			pend := keys(t, client, prefix+":{"+tenant+"}:pend:*")
			if len(pend) != 1 {
				t.Fatalf("pending keys = %q; want one", pend)
			}
			first, err := client.PTTL(ctx, pend[0]).Result()
			if err != nil {
				t.Fatal(err)
			}
			const wait = 1500 * time.Millisecond
			time.Sleep(wait)
			if g, err := ls.Take(ctx, key, p, t0.Add(time.Hour), time.Minute, ev); err != nil || g.Pending != 2 {
				t.Fatalf("second Take while limited = %+v, %v; want 2 pending", g, err)
			}
			again, err := client.PTTL(ctx, pend[0]).Result()
			if err != nil {
				t.Fatal(err)
			}
			if again < 30*24*time.Hour {
				t.Errorf("PTTL of pending %v after an append (%v before it); want at least PendingTTL, 30 days", again, first)
			}
		})
	}
}

// TestLimitCallsRetried loses the reply of Commit, GiveBack, Drain and Drop
// after the server ran them, so that go-redis runs each again: the second
// run must answer what the first did. Before the calls left a record, a
// retried Commit or GiveBack reported its own lease as expired, a retried
// Drop counted nothing, and a retried Drain returned nothing: the drained
// events were lost.
func TestLimitCallsRetried(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	proxy := newCutProxy(t, srv.Addr)
	client := redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), MaxRetries: 3})
	t.Cleanup(func() { client.Close() })
	ls := newStore(t, srv, client).Limits()
	ctx := context.Background()
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	p := alerts.FrequencyLimit{}.WithDefaults()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ev := func(id string) []alerts.Event {
		return []alerts.Event{{ID: id, Tenant: "acme", Category: alerts.ActiveThreat, Score: 9, Time: t0}}
	}
	// Run every script once, so that the server has them: the cut reply
	// must be that of a run, not a NOSCRIPT answer to EVALSHA.
	warm := alerts.LimitKey{Tenant: "warm", Category: alerts.ActiveThreat}
	if err := ls.GiveBack(ctx, warm, p, "none", t0); !errors.Is(err, alerts.ErrLeaseExpired) {
		t.Fatalf("GiveBack of an unknown lease = %v; want ErrLeaseExpired", err)
	}
	if _, err := ls.Drain(ctx, warm, p, t0); err != nil {
		t.Fatal(err)
	}
	// cut runs f with the reply of its (first) script call lost.
	cut := func(name string, f func() error) {
		t.Helper()
		before := proxy.cuts.Load()
		proxy.cut.Store(true)
		if err := f(); err != nil {
			t.Errorf("retried %s: %v; want the first run's answer", name, err)
		}
		if proxy.cuts.Load() != before+1 {
			t.Fatalf("the proxy did not cut the reply of %s", name)
		}
	}

	// take leases id's event and gives it back, so that it is pending.
	take := func(id string, giveBack bool) {
		t.Helper()
		g, err := ls.Take(ctx, key, p, t0, time.Minute, ev(id))
		if err != nil || g.Lease == "" {
			t.Fatalf("Take(%s) = %+v, %v; want a lease", id, g, err)
		}
		if giveBack {
			cut("GiveBack", func() error { return ls.GiveBack(ctx, key, p, g.Lease, t0) })
		} else {
			cut("Commit", func() error { return ls.Commit(ctx, key, p, g.Lease, t0) })
		}
	}
	take("e1", false)
	take("e2", true)
	take("e3", true) // takes e2 along, and gives both back

	var evs []alerts.Event
	cut("Drain", func() error {
		var err error
		evs, err = ls.Drain(ctx, key, p, t0)
		return err
	})
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, []string{"e2", "e3"}) {
		t.Errorf("retried Drain = %q; want [e2 e3]", ids)
	}
	if evs, err := ls.Drain(ctx, key, p, t0); err != nil || len(evs) != 0 {
		t.Errorf("Drain after Drain = %v, %v; want nothing", evs, err)
	}

	take("e4", true)
	var n int
	cut("Drop", func() error {
		var err error
		n, err = ls.Drop(ctx, key, p, t0)
		return err
	})
	if n != 1 {
		t.Errorf("retried Drop = %d; want 1", n)
	}
	// Of the five slots only the Commit's is used: four more sends.
	for i := range p.Max - 1 {
		g, err := ls.Take(ctx, key, p, t0, time.Minute, ev("f"))
		if err != nil || g.Lease == "" {
			t.Fatalf("Take %d = %+v, %v; want a lease", i+2, g, err)
		}
		if err := ls.Commit(ctx, key, p, g.Lease, t0); err != nil {
			t.Fatal(err)
		}
	}
}
