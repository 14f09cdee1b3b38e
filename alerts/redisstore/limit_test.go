package redisstore_test

import (
	"context"
	"fmt"
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
	fc := func() string {
		t.Helper()
		ks := srv.Keys(t, prefix+":{acme}:lim:*")
		require.Lenf(t, ks, 1, "limiter state keys = %q; want one", ks)
		v, err := client.HGet(ctx, ks[0], "fc").Result()
		if err == redis.Nil {
			return ""
		}
		require.NoErrorf(t, err, "HGET %s fc", ks[0])
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
