package redisstore_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/internal/storetest"
)

// serverMicros returns the microseconds the server spent in the commands
// named since the last CONFIG RESETSTAT (INFO commandstats): the
// benchmarks report it per call, the cost of a call on the server, which
// the round trip and the machine's load hide in ns/op. Commands that
// scripts run are counted in their own stats as well as in the script's:
// the names must be those the benchmark sends itself, and no script may
// run them.
func serverMicros(b *testing.B, c *redis.Client, names ...string) float64 {
	b.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var usec float64
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !slices.Contains(names, strings.TrimPrefix(name, "cmdstat_")) {
			continue
		}
		for f := range strings.SplitSeq(rest, ",") {
			if v, ok := strings.CutPrefix(f, "usec="); ok {
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatalf("INFO commandstats: %s: %v", line, err)
				}
				usec += x
			}
		}
	}
	return usec
}

// resetStats clears the server's command statistics.
func resetStats(b *testing.B, c *redis.Client) {
	b.Helper()
	if err := c.ConfigResetStat(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}
}

// benchStore returns a store on a redis-server of its own (so that the
// server's time is the benchmark's), and a client of the server.
func benchStore(b *testing.B) (*redisstore.Store, *redis.Client) {
	srv := redistest.Start(b)
	client := srv.Client(b)
	st, err := redisstore.New(redisstore.Config{Client: client, Prefix: srv.Prefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	return st, client
}

// BenchmarkTakeSuppressed measures Take on the fast path: a key in its
// cooling period, each call with one new event, kept as pending (b.N
// events at the end, a few megabytes: nothing but the decision is
// measured). It reports the server's time per call beside the client's:
// the script's own cost, which the round trip and the machine's load hide
// in ns/op. "id" events carry an ID (checked and recorded by the fast
// path), "no-id" events do not.
func BenchmarkTakeSuppressed(b *testing.B) {
	for _, withID := range []bool{true, false} {
		name := "no-id"
		if withID {
			name = "id"
		}
		b.Run(name, func(b *testing.B) {
			st, client := benchStore(b)
			ctx := context.Background()
			key := alerts.LimitKey{Tenant: "bench", Category: alerts.ActiveThreat}
			p := alerts.FrequencyLimit{}.WithDefaults()
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			for i := range p.Max {
				g, err := st.Take(ctx, key, p, now, time.Minute, []alerts.Event{{ID: fmt.Sprint("sent", i), Tenant: "bench", Category: alerts.ActiveThreat}})
				if err != nil || g.Lease == "" {
					b.Fatalf("Take = %+v, %v; want a lease", g, err)
				}
				if err := st.Commit(ctx, key, p, g.Lease, now); err != nil {
					b.Fatal(err)
				}
			}
			ev := []alerts.Event{{Tenant: "bench", Category: alerts.ActiveThreat, Score: 9, Summary: "benchmark", Time: now}}
			resetStats(b, client)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if withID {
					ev[0].ID = "evt-" + strconv.Itoa(i)
				}
				g, err := st.Take(ctx, key, p, now, time.Minute, ev)
				if err != nil || g.Lease != "" || g.Duplicates != 0 {
					b.Fatalf("Take = %+v, %v; want a suppression", g, err)
				}
				i++
			}
			b.ReportMetric(serverMicros(b, client, "evalsha", "eval")/float64(i), "server-µs/op")

		})
	}
}

// BenchmarkDue measures Due with 10,000 idle keys (events pending, due a
// day later) and 100 due keys, which each call claims for a millisecond;
// the next call, a millisecond later, finds them due again.
func BenchmarkDue(b *testing.B) {
	st, client := benchStore(b)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	p := alerts.FrequencyLimit{Max: 1, Period: 24 * time.Hour}
	const idle, due = 10000, 100
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < idle+due; i += 8 {
				tenant := fmt.Sprint("tenant-", i)
				key := alerts.LimitKey{Tenant: tenant, Category: alerts.ActiveThreat}
				ev := []alerts.Event{{ID: "a", Tenant: tenant, Category: alerts.ActiveThreat}}
				if i < idle {
					g, err := st.Take(ctx, key, p, now, time.Minute, ev)
					if err == nil {
						err = st.Commit(ctx, key, p, g.Lease, now)
					}
					ev[0].ID = "b"
					if err != nil {
						errs <- err
						return
					}
				}
				if _, err := st.Queue(ctx, key, p, now, ev); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	resetStats(b, client)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		keys, _, err := st.Due(ctx, now, 1000, time.Millisecond)
		if err != nil || len(keys) != due {
			b.Fatalf("Due = %d keys, %v; want %d", len(keys), err, due)
		}
		now = now.Add(time.Millisecond)
		n++
	}
	// Due's first round trip sends ZCOUNT and ZRANGE, which its scripts
	// do not use.
	b.ReportMetric(serverMicros(b, client, "evalsha", "eval", "zcount", "zrange")/float64(n), "server-µs/op")
}

// BenchmarkDispatch measures Dispatch for a key in its cooling period on
// Redis, with and without event IDs (see storetest.BenchDispatch; memory's
// is in package alerts).
func BenchmarkDispatch(b *testing.B) {
	srv := redistest.Start(b)
	client := srv.Client(b)
	storetest.BenchDispatch(b, func(b *testing.B) alerts.LimitStore {
		st, err := redisstore.New(redisstore.Config{Client: client, Prefix: srv.Prefix(b), DedupWindow: time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}, time.Millisecond)
}

// BenchmarkFlushDue measures FlushDue on Redis with 10,000 idle keys and
// 100 due (see storetest.BenchFlushDue).
func BenchmarkFlushDue(b *testing.B) {
	st, _ := benchStore(b)
	storetest.BenchFlushDue(b, st)
}
