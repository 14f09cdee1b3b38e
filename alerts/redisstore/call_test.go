package redisstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/rediskey"
	"github.com/alertmail/alertmail/internal/redistest"
)

func TestArgRef(t *testing.T) {
	a := &argRef{b: []byte("abc")}
	b, err := a.MarshalBinary()
	require.NoError(t, err, "MarshalBinary()")
	assert.Equalf(t, "abc", string(b), "MarshalBinary() = %q; want %q", b, "abc")
}

func TestPutCallClears(t *testing.T) {
	c := getCall(3)
	c.buf = append(c.buf, "secret"...)
	c.refs[0].b = c.buf
	c.args = append(c.args, &c.refs[0])
	putCall(c)
	assert.Emptyf(t, c.buf, "after putCall: buf %q; want empty", c.buf)
	assert.Emptyf(t, c.args, "after putCall: args %v; want empty", c.args)
	assert.Nilf(t, c.refs[0].b, "after putCall: refs[0] %q; want nil", c.refs[0].b)
}

// TestKeyCache checks that the cache answers every key with its own keys,
// across more keys than it has entries (so entries are replaced).
func TestKeyCache(t *testing.T) {
	ks, err := rediskey.NewSpace("p")
	require.NoError(t, err)
	kc := &keyCache{}
	for round := range 2 {
		for i := range 3 * keyCacheSize {
			key := alerts.LimitKey{Tenant: fmt.Sprint("t", i%97), Category: alerts.CategoryID(fmt.Sprint("c", i))}
			e, err := kc.get(ks, key)
			require.NoErrorf(t, err, "round %d: get(%v)", round, key)
			want, err := ks.Keys(key.Tenant, "category", string(key.Category), "lim", "pend", "lease")
			require.NoError(t, err)
			require.Equalf(t, key, e.key, "round %d: get(%v).key = %v", round, key, e.key)
			require.Equalf(t, want, e.strs, "round %d: get(%v) = %q; want %q", round, key, e.strs, want)
			require.Equalf(t, any(want[1]), e.boxed[1], "round %d: get(%v).boxed[1] = %v; want %q", round, key, e.boxed[1], want[1])
		}
	}
	_, err = kc.get(ks, alerts.LimitKey{Tenant: string(make([]byte, 257))})
	assert.ErrorIs(t, err, rediskey.ErrInvalidKey, "get of a too long tenant")
}

// TestTakeClients runs Take through every kind of client: the direct
// EVALSHA of Do (Client, Ring) and redis.Script (AutoPipeliner), each
// starting with a server that does not have the script (NOSCRIPT, then
// EVAL), and checks they decide alike.
func TestTakeClients(t *testing.T) {
	srv := redistest.Start(t)
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
			st, err := New(Config{Client: client, Prefix: srv.Prefix(t)})
			require.NoError(t, err)
			assert.Equalf(t, name != "AutoPipeliner", st.do != nil, "direct doer = %v; want it for every client but an AutoPipeliner", st.do)
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
