package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/internal/storetest"
)

func TestLimitStoreConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	storetest.LimitStore(t, func(t *testing.T) alerts.LimitStore {
		st, _ := newStore(t, srv, redisstore.Config{Client: client})
		return st
	})
}

func TestLimitStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.StartCluster(t)
	client := srv.ClusterClient(t)
	storetest.LimitStore(t, func(t *testing.T) alerts.LimitStore {
		st, _ := newStore(t, srv, redisstore.Config{Client: client})
		return st
	})
}

// TestLimitFastPath checks the field the fast path of Take reads: present
// exactly while the key is cooling in cooldown mode with no lease out, and
// giving the same answers as the full path.
func TestLimitFastPath(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	ls, prefix := newStore(t, srv, redisstore.Config{Client: client})
	ctx := context.Background()
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	p := alerts.FrequencyLimit{}.WithDefaults()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 123, time.UTC)
	state := limiterKey(t, prefix, key, "lim")
	fc := func() string {
		t.Helper()
		ks := srv.Keys(t, limiterPattern(t, prefix, "acme"))
		require.Containsf(t, ks, state, "limiter keys = %q; want the state among them", ks)
		v, err := client.HGet(ctx, state, "fc").Result()
		if err == redis.Nil {
			return ""
		}
		require.NoErrorf(t, err, "HGET %s fc", state)
		return v
	}
	ev := func(id string) []alerts.Event {
		return []alerts.Event{{ID: id, Tenant: "acme", Category: alerts.ActiveThreat}}
	}
	for i := range 5 {
		g, err := ls.Take(ctx, key, p, t0, time.Minute, ev(fmt.Sprint("e", i)))
		require.NoErrorf(t, err, "Take %d", i)
		require.NotEmptyf(t, g.Lease, "Take %d = %+v; want a lease", i, g)
		if i == 4 {
			assert.Emptyf(t, fc(), "with a lease out, fc = %q; want empty", fc())
		}
		require.NoError(t, ls.Commit(ctx, key, p, g.Lease, t0), "Commit")
	}
	want := fixed(t0.Add(p.Period)) + fixed(t0)
	require.Equalf(t, want, fc(), "cooling: fc = %q; want %q", fc(), want)
	for i, now := range []time.Time{t0, t0.Add(time.Hour), t0.Add(p.Period - time.Nanosecond)} {
		g, err := ls.Take(ctx, key, p, now, time.Minute, ev(fmt.Sprint("x", i)))
		if assert.NoErrorf(t, err, "Take at %v", now) {
			assert.Emptyf(t, g.Lease, "Take at %v = %+v; want a suppression", now, g)
			assert.Truef(t, g.Next.Equal(t0.Add(p.Period)), "Take at %v: Next = %v; want %v", now, g.Next, t0.Add(p.Period))
			assert.Equalf(t, i+1, g.Pending, "Take at %v: Pending = %d; want %d", now, g.Pending, i+1)
		}
	}
	// The clock steps back a day: the full path clamps the cooling period
	// to now + period and the fast path agrees from then on.
	back := t0.Add(-24 * time.Hour)
	for i := range 2 {
		g, err := ls.Take(ctx, key, p, back, time.Minute, nil)
		if assert.NoErrorf(t, err, "Take %d after a step back", i) {
			assert.Truef(t, g.Next.Equal(back.Add(p.Period)), "Take %d after a step back: Next = %v; want %v", i, g.Next, back.Add(p.Period))
		}
	}
	want = fixed(back.Add(p.Period)) + fixed(back)
	assert.Equalf(t, want, fc(), "after a step back fc = %q; want %q", fc(), want)
}

func fixed(t time.Time) string { return fmt.Sprintf("%011d%09d", t.Unix(), t.Nanosecond()) }

// TestTakeClients runs Take through every kind of client a host may pass
// (Client, Ring, AutoPipeliner), each starting with a server that does not
// have the script (NOSCRIPT, then EVAL), and checks they decide alike, on
// the full path and on the fast path.
func TestTakeClients(t *testing.T) {
	srv := redistest.Start(t) // a server of its own: the test flushes its scripts
	ctx := context.Background()
	clients := map[string]func() redis.Scripter{
		"Client": func() redis.Scripter { return redis.NewClient(&redis.Options{Addr: srv.Addr}) },
		"Ring": func() redis.Scripter {
			return redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": srv.Addr}})
		},
		"AutoPipeliner": func() redis.Scripter {
			ap, err := redis.NewClient(&redis.Options{Addr: srv.Addr}).AutoPipeline()
			require.NoError(t, err)
			return ap
		},
	}
	for name, newClient := range clients {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, srv.Client(t).ScriptFlush(ctx).Err())
			client := newClient()
			if c, ok := client.(interface{ Close() error }); ok {
				t.Cleanup(func() { c.Close() })
			}
			st, _ := newStore(t, srv, redisstore.Config{Client: client})
			key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
			p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
			t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			ev := []alerts.Event{{ID: "e1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 9, Time: t0}}
			g, err := st.Take(ctx, key, p, t0, time.Minute, ev)
			require.NoError(t, err, "Take")
			require.NotEmptyf(t, g.Lease, "Take = %+v; want a lease", g)
			require.Equalf(t, ev, g.Events, "Take leased %+v; want e1", g.Events)
			require.NoError(t, st.Commit(ctx, key, p, g.Lease, t0))
			for i := range 2 { // the fast path (the first Take took the full one)
				ev := []alerts.Event{{ID: fmt.Sprint("x", i), Tenant: "acme", Category: alerts.ActiveThreat, Score: 9, Time: t0}}
				g, err = st.Take(ctx, key, p, t0.Add(time.Minute), time.Minute, ev)
				if assert.NoErrorf(t, err, "Take %d while cooling", i) {
					assert.Emptyf(t, g.Lease, "Take %d while cooling = %+v; want a suppression", i, g)
					assert.Equalf(t, i+1, g.Pending, "Take %d while cooling: Pending = %d; want %d", i, g.Pending, i+1)
					assert.Truef(t, g.Next.Equal(t0.Add(time.Hour)), "Take %d while cooling: Next = %v; want %v", i, g.Next, t0.Add(time.Hour))
				}
			}
		})
	}
}

// TestLimitKeyTTL checks the key TTL as the package doc and
// Config.PendingTTL document it: every change of state sets the TTL of the
// state, the pending events and the leased events to Config.PendingTTL
// (raised to the policy's period plus the lease TTL plus a minute) plus
// the period, the seen IDs get that or the dedup window if it is longer,
// the due index of the key's bucket at least that, and Undeliver sets the
// undelivered list's.
func TestLimitKeyTTL(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	ctx := context.Background()
	const lease = time.Minute
	p := alerts.FrequencyLimit{Max: 1, Period: 4 * time.Hour}
	for _, tt := range []struct {
		pendingTTL, window, want, wantSeen time.Duration
	}{
		{0, 0, 30*24*time.Hour + 4*time.Hour, 30*24*time.Hour + 4*time.Hour},            // the defaults, 30 days and a day
		{48 * time.Hour, 0, 52 * time.Hour, 52 * time.Hour},                             // as configured
		{48 * time.Hour, 72 * time.Hour, 52 * time.Hour, 72 * time.Hour},                // a window longer than the key TTL
		{time.Hour, 0, 4*time.Hour + lease + time.Minute + 4*time.Hour, 24 * time.Hour}, // raised to period + lease TTL + a minute
	} {
		t.Run(tt.pendingTTL.String()+"-"+tt.window.String(), func(t *testing.T) {
			t.Parallel()
			st, prefix := newStore(t, srv, redisstore.Config{Client: client, PendingTTL: tt.pendingTTL, DedupWindow: tt.window})
			key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
			t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			ev := func(id string) []alerts.Event {
				return []alerts.Event{{ID: id, Tenant: "acme", Category: alerts.ActiveThreat}}
			}
			// A lease out and an event pending: all four keys exist.
			g, err := st.Take(ctx, key, p, t0, lease, ev("a"))
			require.NoError(t, err, "Take")
			require.NotEmptyf(t, g.Lease, "Take = %+v; want a lease", g)
			g2, err := st.Take(ctx, key, p, t0, lease, ev("b"))
			require.NoError(t, err, "second Take")
			require.Equalf(t, 1, g2.Pending, "second Take = %+v; want 1 pending", g2)
			ks := srv.Keys(t, limiterPattern(t, prefix, "acme"))
			require.Lenf(t, ks, 4, "keys = %q; want the state, the pending and the leased events, and the seen IDs", ks)
			pttl := func(k string) time.Duration {
				t.Helper()
				got, err := client.PTTL(ctx, k).Result()
				require.NoErrorf(t, err, "PTTL %q", k)
				return got
			}
			for _, k := range ks {
				want := tt.want
				if strings.HasSuffix(k, ":seen") {
					want = tt.wantSeen
				}
				got := pttl(k)
				assert.Truef(t, got <= want+time.Millisecond && got >= want-5*time.Second,
					"PTTL %q = %v; want %v (PendingTTL %v, DedupWindow %v)", k, got, want, tt.pendingTTL, tt.window)
			}
			index := dueIndex(t, prefix, "acme")
			got := pttl(index)
			assert.GreaterOrEqualf(t, got, tt.want-5*time.Second, "PTTL %q = %v; want at least the key TTL %v", index, got, tt.want)
			// The undelivered list gets the key TTL, as the pending events
			// do at the same change of state.
			_, err = st.Undeliver(ctx, key, p, g.Lease, t0)
			require.NoError(t, err, "Undeliver")
			undl, pend := limiterKey(t, prefix, key, "undl"), limiterKey(t, prefix, key, "pend")
			assert.InDeltaf(t, pttl(pend), pttl(undl), float64(5*time.Second), "PTTL %q = %v; want that of the pending events, %v", undl, pttl(undl), pttl(pend))
		})
	}
}
