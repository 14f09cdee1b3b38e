package loadbench

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
)

// BenchmarkTake measures what durability costs one decision, on one Redis
// with one replica on the same host: a Take of a key in its cooling period
// (the fast path: the event is kept, no email), and a send (a Take that
// leases, then its Commit: two decisions that each wait), from one client
// (the latency a Dispatch adds) and from 16 goroutines (the throughput
// the server keeps). Compare durability off and on with
//
//	go test -run '^$' -bench Take -count 6 | tee take.txt
//	benchstat -col /durability take.txt
func BenchmarkTake(b *testing.B) {
	m := redistest.Start(b)
	m.StartReplica(b)
	client := redis.NewClient(&redis.Options{Addr: m.Addr, PoolSize: 32})
	b.Cleanup(func() { client.Close() })
	ctx := context.Background()
	for _, op := range []string{"suppressed", "send"} {
		for _, clients := range []int{1, 16} {
			for _, durable := range []bool{false, true} {
				name := fmt.Sprintf("op=%s/clients=%d/durability=%s", op, clients, map[bool]string{false: "off", true: "on"}[durable])
				b.Run(name, func(b *testing.B) {
					// Keys of their own for each run of the function.
					cfg := redisstore.Config{Client: client, Prefix: m.Prefix(b)}
					if durable {
						cfg.Durability = redisstore.Durability{Replicas: 1}
					}
					st, err := redisstore.New(cfg)
					if err != nil {
						b.Fatal(err)
					}
					decide := suppressed(b, ctx, st)
					if op == "send" {
						decide = send(ctx, st)
					}
					if clients == 1 {
						for b.Loop() {
							if err := decide(); err != nil {
								b.Fatal(err)
							}
						}
						return
					}
					b.SetParallelism((clients + 1) / 2) // 2 cores: 16 goroutines
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := decide(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		}
	}
}

var (
	policy   = alerts.FrequencyLimit{}.WithDefaults() // 5, then 4 hours
	leaseTTL = time.Minute
	// No ID: each Take appends it (an ID would make the next a duplicate).
	benchEv = alerts.Event{Tenant: "t", Category: alerts.ActiveThreat, Score: 9, Summary: "benchmark", Time: time.Unix(1772442000, 0).UTC()}
)

// suppressed returns a Take of a key that sent its 5 emails: the event is
// kept for the next email.
func suppressed(b *testing.B, ctx context.Context, st *redisstore.Store) func() error {
	key := alerts.LimitKey{Tenant: "cooling", Category: alerts.ActiveThreat}
	for range policy.Max {
		g, err := st.Take(ctx, key, policy, time.Now(), leaseTTL, []alerts.Event{benchEv})
		if err == nil && g.Lease == "" {
			err = fmt.Errorf("Take = %+v; want a lease", g)
		}
		if err == nil {
			err = st.Commit(ctx, key, policy, g.Lease, time.Now())
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	evs := []alerts.Event{benchEv}
	return func() error {
		g, err := st.Take(ctx, key, policy, time.Now(), leaseTTL, evs)
		if err == nil && g.Lease != "" {
			err = fmt.Errorf("Take = %+v; want a suppression", g)
		}
		return err
	}
}

// send returns a Take of a new tenant's key, which leases, and the Commit
// of its lease: one email's decisions.
func send(ctx context.Context, st *redisstore.Store) func() error {
	var n atomic.Int64
	evs := []alerts.Event{benchEv}
	return func() error {
		key := alerts.LimitKey{Tenant: "send-" + strconv.FormatInt(n.Add(1), 36), Category: alerts.ActiveThreat}
		now := time.Now()
		g, err := st.Take(ctx, key, policy, now, leaseTTL, evs)
		if err == nil && g.Lease == "" {
			err = fmt.Errorf("Take = %+v; want a lease", g)
		}
		if err != nil {
			return err
		}
		return st.Commit(ctx, key, policy, g.Lease, now)
	}
}
