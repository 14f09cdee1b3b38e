package redisbench

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	ulule "github.com/ulule/limiter/v3"
	ulredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/redisstore"
)

// clients is the number of concurrent clients of every contender: the
// connections of redis-benchmark (-c) and the goroutines (and pool
// connections) of the Go clients.
const clients = 64

// leaseTTL is the lease of every Take, as in the dispatcher's default.
const leaseTTL = 5 * time.Minute

// BenchmarkLimiters measures one limiter decision per call, with 64
// concurrent clients, on one redis-server:
//
//   - redis-benchmark: raw EVALSHA of redisstore's Take script, with the
//     same keys and arguments (a C client: the ceiling of the server);
//   - alertmail: redisstore.LimitStore.Take through go-redis, one event per
//     call, on a key in its cooling period (the steady state of a noisy
//     key: every decision appends the event to pending and says when the
//     next email may go);
//   - redis_rate: redis_rate.Limiter.Allow (GCRA), 5 per 4 hours;
//   - ulule: ulule/limiter Get (fixed-window counter), 5 per 4 hours.
//
// Each reports decisions/s.
func BenchmarkLimiters(b *testing.B) {
	srv := redistest.New(b)
	prefix := srv.Prefix(b)
	ctx := context.Background()
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: clients, MinIdleConns: clients})
		b.Cleanup(func() { c.Close() })
		return c
	}
	store, err := redisstore.New(redisstore.Config{Client: newClient(), Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	limits := store.Limits()
	policy := alerts.Policy{}.WithDefaults()
	ev := alerts.Event{ID: "evt-000001", Tenant: "bench", Category: alerts.ActiveThreat, Score: 9, Summary: "benchmark", Time: time.Unix(1772442000, 0).UTC()}

	// cool sends 5 emails for key so that it is cooling: the state every
	// benchmarked decision then sees.
	cool := func(b *testing.B, key alerts.Key) {
		for range policy.Limit {
			g, err := limits.Take(ctx, key, policy, time.Now(), leaseTTL, []alerts.Event{ev})
			if err != nil || g.Lease == "" {
				b.Fatalf("Take = %+v, %v; want a lease", g, err)
			}
			if err := limits.Commit(ctx, key, policy, g.Lease, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	}
	rawKey := alerts.Key{Tenant: "raw", Category: alerts.ActiveThreat}
	benchKey := alerts.Key{Tenant: "bench", Category: alerts.ActiveThreat}
	cool(b, rawKey)
	cool(b, benchKey)
	tk := func(kind string) string { return prefix + ":{raw}:" + kind + ":active-threat" }
	// One real decision, to see how long the stored event is; the
	// redis-benchmark run passes a string of that length without the NUL
	// bytes a command line cannot carry (the script stores events without
	// reading them).
	if _, err := limits.Take(ctx, rawKey, policy, time.Now(), leaseTTL, []alerts.Event{ev}); err != nil {
		b.Fatal(err)
	}
	admin := newClient()
	enc, err := admin.LIndex(ctx, tk("pend"), 0).Result()
	if err != nil {
		b.Fatalf("the pending list is not at %q: %v", tk("pend"), err)
	}
	// The server's own time per decision (INFO commandstats: the
	// microseconds redis-server spent in the commands), which the load of
	// a shared machine on the clients does not change much.
	resetStats := func(b *testing.B) {
		if err := admin.ConfigResetStat(ctx).Err(); err != nil {
			b.Fatal(err)
		}
	}
	serverTime := func(b *testing.B, n int) {
		info, err := admin.Info(ctx, "commandstats").Result()
		if err != nil {
			b.Fatal(err)
		}
		var usec float64
		for line := range strings.SplitSeq(info, "\n") {
			if !strings.HasPrefix(line, "cmdstat_") || strings.HasPrefix(line, "cmdstat_config") || strings.HasPrefix(line, "cmdstat_info") {
				continue
			}
			for f := range strings.SplitSeq(strings.TrimSpace(line[strings.IndexByte(line, ':')+1:]), ",") {
				if v, ok := strings.CutPrefix(f, "usec="); ok {
					x, _ := strconv.ParseFloat(v, 64)
					usec += x
				}
			}
		}
		b.ReportMetric(usec/float64(n), "server-µs/decision")
	}
	perSecond := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		serverTime(b, b.N)
	}

	// parallel runs op from clients goroutines and reports the rate.
	parallel := func(b *testing.B, op func() error) {
		b.SetParallelism(clients / max(1, runtime.GOMAXPROCS(0)))
		b.ReportAllocs()
		resetStats(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
		perSecond(b)
	}
	take := func(st *redisstore.LimitStore) func() error {
		evs := []alerts.Event{ev}
		return func() error {
			g, err := st.Take(ctx, benchKey, policy, time.Now(), leaseTTL, evs)
			if err == nil && g.Lease != "" {
				err = fmt.Errorf("Take = %+v; want a suppression", g)
			}
			return err
		}
	}
	rateLimit := redis_rate.Limit{Rate: policy.Limit, Burst: policy.Limit, Period: policy.Period}

	// One round trip per decision: what a plain client does.
	b.Run("redis-benchmark-EVALSHA", func(b *testing.B) { rawEvalSHA(b, srv.Addr, 1, enc, tk, admin, resetStats, serverTime) })
	b.Run("alertmail", func(b *testing.B) { parallel(b, take(limits)) })
	b.Run("redis_rate", func(b *testing.B) {
		lim := redis_rate.NewLimiter(newClient())
		parallel(b, func() error { _, err := lim.Allow(ctx, prefix+":redis_rate", rateLimit); return err })
	})
	b.Run("ulule", func(b *testing.B) {
		st, err := ulredis.NewStoreWithOptions(newClient(), ulule.StoreOptions{Prefix: prefix + ":ulule"})
		if err != nil {
			b.Fatal(err)
		}
		lim := ulule.New(st, ulule.Rate{Period: policy.Period, Limit: int64(policy.Limit)})
		parallel(b, func() error { _, err := lim.Get(ctx, "key"); return err })
	})

	// go-redis's AutoPipeline batches the concurrent calls of the
	// goroutines into pipelines; redis-benchmark -P 16 is the raw
	// counterpart. ulule/limiter cannot take part: its store needs
	// WATCH, which an AutoPipeliner does not offer.
	b.Run("pipelined/redis-benchmark-EVALSHA-P16", func(b *testing.B) { rawEvalSHA(b, srv.Addr, 16, enc, tk, admin, resetStats, serverTime) })
	b.Run("pipelined/alertmail", func(b *testing.B) {
		ap, err := newClient().AutoPipeline()
		if err != nil {
			b.Fatal(err)
		}
		st, err := redisstore.New(redisstore.Config{Client: ap, Prefix: prefix})
		if err != nil {
			b.Fatal(err)
		}
		parallel(b, take(st.Limits()))
	})
	b.Run("pipelined/redis_rate", func(b *testing.B) {
		ap, err := newClient().AutoPipeline()
		if err != nil {
			b.Fatal(err)
		}
		lim := redis_rate.NewLimiter(ap)
		parallel(b, func() error { _, err := lim.Allow(ctx, prefix+":redis_rate", rateLimit); return err })
	})
}

// rawEvalSHA runs redis-benchmark with the EVALSHA of redisstore's Take
// script for a cooling key (the raw key of BenchmarkLimiters), pipeline
// requests per round trip, and reports what it measured.
func rawEvalSHA(b *testing.B, addr string, pipeline int, enc string, tk func(string) string, admin *redis.Client,
	resetStats func(*testing.B), serverTime func(*testing.B, int)) {
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatal("redis-benchmark not found (Debian package redis-tools)")
		}
		b.Skip("redis-benchmark not found (Debian package redis-tools)")
	}
	ctx := context.Background()
	sha, err := takeSHA()
	if err != nil {
		b.Fatal(err)
	}
	exists, err := admin.ScriptExists(ctx, sha).Result()
	if err != nil || !exists[0] {
		b.Fatalf("the Take script is not loaded as %s (%v): bench/redis reads the script from ../../redisstore/lua", sha, err)
	}
	// The event, the same length, without the NUL bytes a command line
	// cannot carry: the script stores events without reading them.
	placeholder := strings.Repeat("e", len(enc))
	now := time.Now()
	keyTTL := max(30*24*time.Hour, alerts.DefaultPeriod+leaseTTL+time.Minute)
	before, err := admin.LLen(ctx, tk("pend")).Result()
	if err != nil {
		b.Fatal(err)
	}
	n := max(b.N, clients*pipeline)
	args := []string{
		"-h", "127.0.0.1", "-p", addr[strings.LastIndexByte(addr, ':')+1:], "-c", strconv.Itoa(clients), "-P", strconv.Itoa(pipeline),
		"-n", strconv.Itoa(n), "--csv",
		"EVALSHA", sha, "3", tk("lim"), tk("pend"), tk("lease"),
		"cooldown", "5", "14400", "0", strconv.FormatInt(now.Unix(), 10), strconv.Itoa(now.Nanosecond()),
		strconv.FormatInt(keyTTL.Milliseconds(), 10), "lease-raw", "300", "0", placeholder,
	}
	resetStats(b)
	b.ResetTimer()
	out, err := exec.Command(bin, args...).CombinedOutput()
	b.StopTimer()
	if err != nil {
		b.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	serverTime(b, n)
	rps, err := parseRPS(out)
	if err != nil {
		b.Fatalf("redis-benchmark output: %v\n%s", err, out)
	}
	// Every call was a suppressed decision that kept its event.
	after, err := admin.LLen(ctx, tk("pend")).Result()
	if err != nil || after-before != int64(n) {
		b.Fatalf("redis-benchmark made %d calls but the pending list grew by %d (%v); want every call suppressed", n, after-before, err)
	}
	b.ReportMetric(rps, "decisions/s")
}

// takeSHA returns the SHA1 of redisstore's Take script, as go-redis
// computes it: its fast path, the common part, then the Take part.
func takeSHA() (string, error) {
	var src []byte
	for _, name := range []string{"limit_fast.lua", "limit_common.lua", "limit_take.lua"} {
		b, err := os.ReadFile("../../redisstore/lua/" + name)
		if err != nil {
			return "", err
		}
		src = append(src, b...)
	}
	sum := sha1.Sum(src)
	return hex.EncodeToString(sum[:]), nil
}

// parseRPS reads the requests per second from redis-benchmark --csv.
func parseRPS(out []byte) (float64, error) {
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		return 0, err
	}
	for _, r := range recs {
		if len(r) >= 2 && strings.HasPrefix(r[0], "EVALSHA") {
			return strconv.ParseFloat(r[1], 64)
		}
	}
	return 0, fmt.Errorf("no EVALSHA line")
}
