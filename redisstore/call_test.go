package redisstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/redistest"
)

func TestArgRef(t *testing.T) {
	a := &argRef{b: []byte("abc")}
	if b, err := a.MarshalBinary(); string(b) != "abc" || err != nil {
		t.Errorf("MarshalBinary() = %q, %v; want \"abc\", nil", b, err)
	}
}

func TestPutCallClears(t *testing.T) {
	c := getCall(3)
	c.buf = append(c.buf, "secret"...)
	c.refs[0].b = c.buf
	c.args = append(c.args, &c.refs[0])
	putCall(c)
	if len(c.buf) != 0 || len(c.args) != 0 || c.refs[0].b != nil {
		t.Errorf("after putCall: buf %q, args %v, refs[0] %q; want all empty", c.buf, c.args, c.refs[0].b)
	}
}

// TestKeyCache checks that the cache answers every key with its own keys,
// across more keys than it has entries (so entries are replaced).
func TestKeyCache(t *testing.T) {
	ks, err := newKeyspace("p")
	if err != nil {
		t.Fatal(err)
	}
	kc := &keyCache{}
	for round := range 2 {
		for i := range 3 * keyCacheSize {
			key := alerts.LimitKey{Tenant: fmt.Sprint("t", i%97), Category: alerts.CategoryID(fmt.Sprint("c", i))}
			e, err := kc.get(ks, key)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := ks.keys(key.Tenant, "category", string(key.Category), "lim", "pend", "lease")
			if e.key != key || !slices.Equal(e.strs, want) || e.boxed[1] != any(want[1]) {
				t.Fatalf("round %d: get(%v) = %v %q; want %q", round, key, e.key, e.strs, want)
			}
		}
	}
	if _, err := kc.get(ks, alerts.LimitKey{Tenant: string(make([]byte, alerts.MaxTenantLen+1))}); err == nil {
		t.Error("get of a too long tenant: no error")
	}
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
			if err != nil {
				t.Fatal(err)
			}
			return ap
		},
	}
	for name, newClient := range clients {
		t.Run(name, func(t *testing.T) {
			if err := srv.Client(t).ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			client := newClient()
			if c, ok := client.(interface{ Close() error }); ok {
				t.Cleanup(func() { c.Close() })
			}
			st, err := New(Config{Client: client, Prefix: srv.Prefix(t)})
			if err != nil {
				t.Fatal(err)
			}
			ls := st.Limits()
			if (ls.do != nil) != (name != "AutoPipeliner") {
				t.Errorf("direct doer = %v; want it for every client but an AutoPipeliner", ls.do)
			}
			key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
			p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
			t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			ev := []alerts.Event{{ID: "e1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 9, Time: t0}}
			g, err := ls.Take(ctx, key, p, t0, time.Minute, ev)
			if err != nil || g.Lease == "" || len(g.Events) != 1 || g.Events[0] != ev[0] {
				t.Fatalf("Take = %+v, %v; want a lease of e1", g, err)
			}
			if err := ls.Commit(ctx, key, p, g.Lease, t0); err != nil {
				t.Fatal(err)
			}
			for i := range 2 { // the fast path (the first Take took the full one)
				g, err = ls.Take(ctx, key, p, t0.Add(time.Minute), time.Minute, ev)
				if err != nil || g.Lease != "" || g.Pending != i+1 || !g.Next.Equal(t0.Add(time.Hour)) {
					t.Errorf("Take %d while cooling = %+v, %v; want %d pending until %v", i, g, err, i+1, t0.Add(time.Hour))
				}
			}
		})
	}
}
