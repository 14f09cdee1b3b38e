package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/internal/storetest"
	"github.com/alertmail/alertmail/redisstore"
)

func TestLimitStoreConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	storetest.LimitStore(t, func(t *testing.T) alerts.LimitStore {
		return newStore(t, srv, client).Limits()
	})
}

func TestLimitStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.StartCluster(t)
	client := srv.ClusterClient(t)
	storetest.LimitStore(t, func(t *testing.T) alerts.LimitStore {
		return newStore(t, srv, client).Limits()
	})
}

// TestLimitFastPath checks the field the fast path of Take reads: present
// exactly while the key is cooling in cooldown mode with no lease out, and
// giving the same answers as the full path.
func TestLimitFastPath(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	st, prefix := newPrefixedStore(t, srv, client)
	ls := st.Limits()
	ctx := context.Background()
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	p := alerts.FrequencyLimit{}.WithDefaults()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 123, time.UTC)
	fc := func() string {
		t.Helper()
		ks := keys(t, client, prefix+":{acme}:lim:*")
		if len(ks) != 1 {
			t.Fatalf("limiter state keys = %q; want one", ks)
		}
		v, _ := client.HGet(ctx, ks[0], "fc").Result()
		return v
	}
	ev := func(id string) []alerts.Event {
		return []alerts.Event{{ID: id, Tenant: "acme", Category: alerts.ActiveThreat}}
	}
	for i := range 5 {
		g, err := ls.Take(ctx, key, p, t0, time.Minute, ev(fmt.Sprint("e", i)))
		if err != nil || g.Lease == "" {
			t.Fatalf("Take %d = %+v, %v; want a lease", i, g, err)
		}
		if i == 4 && fc() != "" {
			t.Errorf("with a lease out, fc = %q; want empty", fc())
		}
		if err := ls.Commit(ctx, key, p, g.Lease, t0); err != nil {
			t.Fatal(err)
		}
	}
	want := fixed(t0.Add(p.Period)) + fixed(t0)
	if got := fc(); got != want {
		t.Fatalf("cooling: fc = %q; want %q", got, want)
	}
	for i, now := range []time.Time{t0, t0.Add(time.Hour), t0.Add(p.Period - time.Nanosecond)} {
		g, err := ls.Take(ctx, key, p, now, time.Minute, ev(fmt.Sprint("x", i)))
		if err != nil || g.Lease != "" || !g.Next.Equal(t0.Add(p.Period)) || g.Pending != i+1 {
			t.Errorf("Take at %v = %+v, %v; want a suppression until %v with %d pending", now, g, err, t0.Add(p.Period), i+1)
		}
	}
	// The clock steps back a day: the full path clamps the cooling period
	// to now + period and the fast path agrees from then on.
	back := t0.Add(-24 * time.Hour)
	for i := range 2 {
		g, err := ls.Take(ctx, key, p, back, time.Minute, nil)
		if err != nil || !g.Next.Equal(back.Add(p.Period)) {
			t.Errorf("Take %d after a step back = %+v, %v; want next %v", i, g, err, back.Add(p.Period))
		}
	}
	if got, want := fc(), fixed(back.Add(p.Period))+fixed(back); got != want {
		t.Errorf("after a step back fc = %q; want %q", got, want)
	}
}

func fixed(t time.Time) string { return fmt.Sprintf("%011d%09d", t.Unix(), t.Nanosecond()) }

// TestLimitKeyTTL checks the key TTL as LimitStore and Config.PendingTTL
// document it: every change of state sets the TTL of the state, the
// pending events and the leased events to Config.PendingTTL (raised to the
// policy's period plus the lease TTL plus a minute) plus the period. The
// doc said PendingTTL, without the period, which the code has always added
// for the appends of Take's fast path.
func TestLimitKeyTTL(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	ctx := context.Background()
	const lease = time.Minute
	p := alerts.FrequencyLimit{Max: 1, Period: 4 * time.Hour}
	for _, tt := range []struct {
		pendingTTL, want time.Duration
	}{
		{0, 30*24*time.Hour + 4*time.Hour},                           // the default, 30 days
		{48 * time.Hour, 52 * time.Hour},                             // as configured
		{time.Hour, 4*time.Hour + lease + time.Minute + 4*time.Hour}, // raised to period + lease TTL + a minute
	} {
		t.Run(tt.pendingTTL.String(), func(t *testing.T) {
			t.Parallel()
			prefix := srv.Prefix(t)
			st, err := redisstore.New(redisstore.Config{Client: client, Prefix: prefix, PendingTTL: tt.pendingTTL})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { checkTTLs(t, srv, prefix) })
			ls := st.Limits()
			key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
			t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			ev := func(id string) []alerts.Event {
				return []alerts.Event{{ID: id, Tenant: "acme", Category: alerts.ActiveThreat}}
			}
			// A lease out and an event pending: all three keys exist.
			g, err := ls.Take(ctx, key, p, t0, lease, ev("a"))
			if err != nil || g.Lease == "" {
				t.Fatalf("Take = %+v, %v; want a lease", g, err)
			}
			if g, err := ls.Take(ctx, key, p, t0, lease, ev("b")); err != nil || g.Pending != 1 {
				t.Fatalf("second Take = %+v, %v; want 1 pending", g, err)
			}
			ks := keys(t, client, prefix+":{acme}:*")
			if len(ks) != 3 {
				t.Fatalf("keys = %q; want the state, the pending and the leased events", ks)
			}
			for _, k := range ks {
				got, err := client.PTTL(ctx, k).Result()
				if err != nil {
					t.Fatal(err)
				}
				if got > tt.want || got < tt.want-5*time.Second {
					t.Errorf("PTTL %q = %v; want %v (PendingTTL %v)", k, got, tt.want, tt.pendingTTL)
				}
			}
			if err := ls.Commit(ctx, key, p, g.Lease, t0); err != nil {
				t.Fatal(err)
			}
		})
	}
}
