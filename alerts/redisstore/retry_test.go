package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
)

// A cutProxy forwards loopback connections to a Redis server. When armed,
// it swallows the next reply the server sends (when only is set: the next
// holding the bytes of only, after skip such replies) and closes the
// client's connection instead: the command ran on the server but the
// client sees EOF, and go-redis sends it again on a new connection, as it
// does after any connection error.
type cutProxy struct {
	ln    net.Listener
	cut   atomic.Bool
	only  atomic.Pointer[string]
	skip  atomic.Int32
	cuts  atomic.Int32
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, addr string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
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
		only := p.only.Load()
		match := n > 0 && (only == nil || bytes.Contains(buf[:n], []byte(*only)) && p.skip.Add(-1) < 0)
		if match && p.cut.CompareAndSwap(true, false) {
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
	ls, _ := newStore(t, srv, redisstore.Config{Client: client})
	ctx := context.Background()
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	p := alerts.FrequencyLimit{}.WithDefaults()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ev := func(id string) []alerts.Event {
		return []alerts.Event{{ID: id, Tenant: "acme", Category: alerts.ActiveThreat, Score: 9, Time: t0}}
	}

	// e1 is carried: taken, then given back.
	takeLease(t, ls, key, p, t0, "e1", func(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
		return ls.GiveBack(ctx, key, p, lease, now, now)
	})

	proxy.cut.Store(true)
	g, err := ls.Take(ctx, key, p, t0, time.Minute, ev("e2"))
	require.EqualValuesf(t, 1, proxy.cuts.Load(), "the proxy cut %d replies; want 1", proxy.cuts.Load())
	require.NoError(t, err, "retried Take(e2)")
	require.NotEmptyf(t, g.Lease, "retried Take(e2) = %+v; want a lease", g)
	assert.Equalf(t, []string{"e1", "e2"}, eventIDs(g.Events), "retried Take(e2) leased %q; want [e1 e2] (each once)", eventIDs(g.Events))
	require.NoError(t, ls.Commit(ctx, key, p, g.Lease, t0), "Commit")
	evs, err := ls.Drain(ctx, key, p, t0)
	if assert.NoError(t, err, "Drain after Commit") {
		assert.Emptyf(t, evs, "Drain after Commit = %v; want nothing pending", evs)
	}
	// One send so far: four more are allowed at t0, then the cooling
	// period. A second slot held by the retry would allow only three.
	for i := range p.Max - 1 {
		takeLease(t, ls, key, p, t0, fmt.Sprint("f", i), ls.Commit)
	}
	g, err = ls.Take(ctx, key, p, t0, time.Minute, ev("g"))
	if assert.NoErrorf(t, err, "Take after %d sends", p.Max) {
		assert.Emptyf(t, g.Lease, "Take after %d sends = %+v; want a suppression", p.Max, g)
		assert.Truef(t, g.Next.Equal(t0.Add(p.Period)), "Take after %d sends: Next = %v; want %v", p.Max, g.Next, t0.Add(p.Period))
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
			ls, prefix := newStore(t, srv, redisstore.Config{Client: client})
			tenant := "acme-" + string(mode)
			key := alerts.LimitKey{Tenant: tenant, Category: alerts.ActiveThreat}
			p := alerts.FrequencyLimit{Mode: mode}.WithDefaults()
			t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			ev := func(id string) []alerts.Event {
				return []alerts.Event{{ID: id, Tenant: tenant, Category: alerts.ActiveThreat}}
			}
			for i := range p.Max {
				g, err := ls.Take(ctx, key, p, t0, time.Minute, ev(fmt.Sprint("e", i)))
				require.NoError(t, err, "Take")
				require.NotEmptyf(t, g.Lease, "Take = %+v; want a lease", g)
				require.NoError(t, ls.Commit(ctx, key, p, g.Lease, t0), "Commit")
			}
			g, err := ls.Take(ctx, key, p, t0, time.Minute, ev("x"))
			require.NoError(t, err, "Take while limited")
			require.Equalf(t, 1, g.Pending, "Take while limited = %+v; want 1 pending", g)
			pend := srv.Keys(t, limiterKey(t, prefix, key, "pend"))
			require.Lenf(t, pend, 1, "pending keys = %q; want one", pend)
			first, err := client.PTTL(ctx, pend[0]).Result()
			require.NoError(t, err, "PTTL")
			const wait = 1500 * time.Millisecond
			time.Sleep(wait)
			g, err = ls.Take(ctx, key, p, t0.Add(time.Hour), time.Minute, ev("y"))
			require.NoError(t, err, "second Take while limited")
			require.Equalf(t, 2, g.Pending, "second Take while limited = %+v; want 2 pending", g)
			again, err := client.PTTL(ctx, pend[0]).Result()
			require.NoError(t, err, "PTTL")
			assert.GreaterOrEqualf(t, again, 30*24*time.Hour, "PTTL of pending %v after an append (%v before it); want at least PendingTTL, 30 days", again, first)
		})
	}
}

// TestLimitCallsRetried loses the reply of Commit, GiveBack, Drain and Drop
// after the server ran them, so that go-redis runs each again: the second
// run must answer what the first did. Before the calls left a record, a
// retried Commit or GiveBack reported its own lease as expired, a retried
// Drop counted nothing, and a retried Drain returned nothing: the drained
// events were lost. Undeliver and Requeue leave a record too.
func TestLimitCallsRetried(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	proxy := newCutProxy(t, srv.Addr)
	client := redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), MaxRetries: 3})
	t.Cleanup(func() { client.Close() })
	ls, _ := newStore(t, srv, redisstore.Config{Client: client})
	ctx := context.Background()
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	p := alerts.FrequencyLimit{}.WithDefaults()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	// Run every script once, so that the server has them: the cut reply
	// must be that of a run, not a NOSCRIPT answer to EVALSHA.
	warm := alerts.LimitKey{Tenant: "warm", Category: alerts.ActiveThreat}
	err := ls.GiveBack(ctx, warm, p, "none", t0, t0)
	require.ErrorIsf(t, err, alerts.ErrLeaseExpired, "GiveBack of an unknown lease = %v; want ErrLeaseExpired", err)
	_, err = ls.Drain(ctx, warm, p, t0)
	require.NoError(t, err, "Drain")
	_, err = ls.Requeue(ctx, warm, p, t0)
	require.NoError(t, err, "Requeue")
	// cut runs f with the reply of its (first) script call lost.
	cut := func(name string, f func() error) {
		t.Helper()
		before := proxy.cuts.Load()
		proxy.cut.Store(true)
		assert.NoErrorf(t, f(), "retried %s; want the first run's answer", name)
		require.Equalf(t, before+1, proxy.cuts.Load(), "the proxy did not cut the reply of %s", name)
	}
	// commitCut and giveBackCut end a lease with the reply of the call lost.
	commitCut := func(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
		cut("Commit", func() error { return ls.Commit(ctx, key, p, lease, now) })
		return nil
	}
	giveBackCut := func(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
		cut("GiveBack", func() error { return ls.GiveBack(ctx, key, p, lease, now, now) })
		return nil
	}
	takeLease(t, ls, key, p, t0, "e1", commitCut)
	takeLease(t, ls, key, p, t0, "e2", giveBackCut)
	takeLease(t, ls, key, p, t0, "e3", giveBackCut) // takes e2 along, and gives both back

	var evs []alerts.Event
	cut("Drain", func() error {
		var err error
		evs, err = ls.Drain(ctx, key, p, t0)
		return err
	})
	assert.Equalf(t, []string{"e2", "e3"}, eventIDs(evs), "retried Drain = %q; want [e2 e3]", eventIDs(evs))
	evs, err = ls.Drain(ctx, key, p, t0)
	if assert.NoError(t, err, "Drain after Drain") {
		assert.Emptyf(t, evs, "Drain after Drain = %v; want nothing", evs)
	}

	takeLease(t, ls, key, p, t0, "e4", giveBackCut)
	var n int
	cut("Drop", func() error {
		var err error
		n, err = ls.Drop(ctx, key, p, t0)
		return err
	})
	assert.Equalf(t, 1, n, "retried Drop = %d; want 1", n)

	// A retried Undeliver does not report its own lease as expired, and a
	// retried Requeue counts what the first run moved.
	takeLease(t, ls, key, p, t0, "e5", func(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
		cut("Undeliver", func() error { _, err := ls.Undeliver(ctx, key, p, lease, now); return err })
		return nil
	})
	cut("Requeue", func() error {
		var err error
		n, err = ls.Requeue(ctx, key, p, t0)
		return err
	})
	assert.Equalf(t, 1, n, "retried Requeue = %d; want 1", n)
	evs, err = ls.Drain(ctx, key, p, t0)
	if assert.NoError(t, err, "Drain after Requeue") {
		assert.Equalf(t, []string{"e5"}, eventIDs(evs), "Drain after Requeue = %q; want [e5]", eventIDs(evs))
	}
	// Of the five slots only the Commit's is used: four more sends.
	for i := range p.Max - 1 {
		takeLease(t, ls, key, p, t0, fmt.Sprint("f", i), ls.Commit)
	}
}

// takeLease takes a lease on key at now with the event id and ends it
// with end (Commit or GiveBack), failing t unless both succeed.
func takeLease(t *testing.T, ls alerts.LimitStore, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, id string,
	end func(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error) {
	t.Helper()
	ctx := context.Background()
	ev := alerts.Event{ID: id, Tenant: key.Tenant, Category: key.Category, Score: 9, Time: now}
	g, err := ls.Take(ctx, key, p, now, time.Minute, []alerts.Event{ev})
	require.NoErrorf(t, err, "Take(%s)", id)
	require.NotEmptyf(t, g.Lease, "Take(%s) = %+v; want a lease", id, g)
	require.NoErrorf(t, end(ctx, key, p, g.Lease, now), "ending the lease of %s", id)
}

// eventIDs returns the ids of evs, in order.
func eventIDs(evs []alerts.Event) []string {
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	return ids
}
