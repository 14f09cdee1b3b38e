package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/internal/storetest"
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
