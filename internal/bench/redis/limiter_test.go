package redisbench

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	ulule "github.com/ulule/limiter/v3"
	ulredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/rediskey"
	"github.com/alertmail/alertmail/internal/redisscript"
	"github.com/alertmail/alertmail/internal/redistest"
)

// clients is the number of concurrent clients of every contender: the
// connections of redis-benchmark (-c) and the goroutines (and pool
// connections) of the Go clients.
const clients = 64

// leaseTTL is the lease of every Take, as in the dispatcher's default.
const leaseTTL = 5 * time.Minute

// A rig is one redis-server with the contenders set up on it.
type rig struct {
	addr   string
	prefix string
	admin  *redis.Client
	policy alerts.FrequencyLimit
	// enc is an encoded event as redisstore stores it, for its length.
	enc string
	// ops are the Go contenders: each call is one decision.
	ops map[string]func() error
}

// The keys of redisstore's contenders: the raw key (redis-benchmark's)
// and the key of the Go contenders, and the event each decision keeps
// (each with an ID of its own: a redelivered ID is a duplicate, which the
// store keeps once).
var (
	rawKey   = alerts.LimitKey{Tenant: "raw", Category: alerts.ActiveThreat}
	benchKey = alerts.LimitKey{Tenant: "bench", Category: alerts.ActiveThreat}
	benchEv  = alerts.Event{ID: "evt-000001", Tenant: "bench", Category: alerts.ActiveThreat, Score: 9, Summary: "benchmark", Time: time.Unix(1772442000, 0).UTC()}
	evSeq    atomic.Int64
)

// newEvents returns evs with a new ID each.
func newEvents(evs []alerts.Event) []alerts.Event {
	if evs == nil {
		return nil
	}
	out := slices.Clone(evs)
	for i := range out {
		out[i].ID = "evt-" + strconv.FormatInt(evSeq.Add(1), 10)
	}
	return out
}

// newRig starts (or reuses) a server, cools the keys of redisstore's
// contenders (5 emails sent: every benchmarked decision then finds the key
// in its cooling period, the steady state of a noisy key) and builds the
// contenders.
func newRig(b *testing.B) *rig {
	srv := redistest.New(b)
	r := &rig{addr: srv.Addr, prefix: srv.Prefix(b), policy: alerts.FrequencyLimit{}.WithDefaults(), ops: map[string]func() error{}}
	r.admin = r.newClient(b)
	limits, err := redisstore.New(redisstore.Config{Client: r.newClient(b), Prefix: r.prefix})
	if err != nil {
		b.Fatal(err)
	}
	r.cool(b, limits)
	r.ops["alertmail"] = r.take(limits, []alerts.Event{benchEv})
	// The same decision for a call that brings no event (a Flush): what
	// the decision costs without keeping an event.
	r.ops["alertmail-no-event"] = r.take(limits, nil)
	r.addPeers(b)
	r.addPipelined(b)
	return r
}

// newClient returns a client of the rig's server with a connection for
// each of the clients, closed when b ends.
func (r *rig) newClient(b *testing.B) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.addr, PoolSize: clients, MinIdleConns: clients})
	b.Cleanup(func() { c.Close() })
	return c
}

// cool sends 5 emails for the raw key and for the benchmarked key, so
// that both are in their cooling period, and reads how long a stored event
// is from one decision on the raw key.
func (r *rig) cool(b *testing.B, limits *redisstore.Store) {
	ctx := context.Background()
	for _, key := range []alerts.LimitKey{rawKey, benchKey} {
		for range r.policy.Max {
			g, err := limits.Take(ctx, key, r.policy, time.Now(), leaseTTL, newEvents([]alerts.Event{benchEv}))
			if err != nil || g.Lease == "" {
				b.Fatalf("Take = %+v, %v; want a lease", g, err)
			}
			if err := limits.Commit(ctx, key, r.policy, g.Lease, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := limits.Take(ctx, rawKey, r.policy, time.Now(), leaseTTL, newEvents([]alerts.Event{benchEv})); err != nil {
		b.Fatal(err)
	}
	var err error
	if r.enc, err = r.admin.LIndex(ctx, r.pendKey(), 0).Result(); err != nil {
		b.Fatalf("the pending list is not at %q: %v", r.pendKey(), err)
	}
}

// take returns the decision of st on the benchmarked key, keeping evs,
// which must be a suppression.
func (r *rig) take(st *redisstore.Store, evs []alerts.Event) func() error {
	return func() error {
		g, err := st.Take(context.Background(), benchKey, r.policy, time.Now(), leaseTTL, newEvents(evs))
		if err == nil && g.Lease != "" {
			err = fmt.Errorf("Take = %+v; want a suppression", g)
		}
		return err
	}
}

// rateLimit is the policy as redis_rate takes it.
func (r *rig) rateLimit() redis_rate.Limit {
	return redis_rate.Limit{Rate: r.policy.Max, Burst: r.policy.Max, Period: r.policy.Period}
}

// addPeers adds the contenders of the other libraries, each on a client
// of its own.
func (r *rig) addPeers(b *testing.B) {
	ctx := context.Background()
	rr := redis_rate.NewLimiter(r.newClient(b))
	r.ops["redis_rate"] = func() error { _, err := rr.Allow(ctx, r.prefix+":redis_rate", r.rateLimit()); return err }
	ust, err := ulredis.NewStoreWithOptions(r.newClient(b), ulule.StoreOptions{Prefix: r.prefix + ":ulule"})
	if err != nil {
		b.Fatal(err)
	}
	ul := ulule.New(ust, ulule.Rate{Period: r.policy.Period, Limit: int64(r.policy.Max)})
	r.ops["ulule"] = func() error { _, err := ul.Get(ctx, "key"); return err }
}

// addPipelined adds the contenders through go-redis's AutoPipeline, which
// batches the concurrent calls of the goroutines into pipelines;
// redis-benchmark -P 16 is the raw counterpart. ulule/limiter cannot take
// part: its store needs WATCH, which an AutoPipeliner does not offer.
func (r *rig) addPipelined(b *testing.B) {
	ap, err := r.newClient(b).AutoPipeline()
	if err != nil {
		b.Fatal(err)
	}
	apStore, err := redisstore.New(redisstore.Config{Client: ap, Prefix: r.prefix})
	if err != nil {
		b.Fatal(err)
	}
	r.ops["pipelined/alertmail"] = r.take(apStore, []alerts.Event{benchEv})
	ap2, err := r.newClient(b).AutoPipeline()
	if err != nil {
		b.Fatal(err)
	}
	rrp := redis_rate.NewLimiter(ap2)
	ctx := context.Background()
	r.ops["pipelined/redis_rate"] = func() error { _, err := rrp.Allow(ctx, r.prefix+":redis_rate", r.rateLimit()); return err }
}

// key returns the key of kind of the raw key, the one redis-benchmark
// uses ("due": its bucket's due index), and the raw key's member in the
// due index.
func (r *rig) key(kind string) (string, string) {
	ks, err := rediskey.NewSpace(r.prefix)
	if err != nil {
		panic(err)
	}
	keys, member, err := ks.BucketKeys(rawKey.Tenant, "category", string(rawKey.Category), kind)
	if err != nil {
		panic(err)
	}
	if kind == "due" {
		return ks.BucketIndex(rediskey.Bucket(rawKey.Tenant), "due"), member
	}
	return keys[0], member
}

// pendKey returns the raw key's pending list.
func (r *rig) pendKey() string { k, _ := r.key("pend"); return k }

// runOps calls op n times from clients goroutines.
func runOps(n int, op func() error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	per := n / clients
	for i := range clients {
		count := per
		if i < n%clients {
			count++
		}
		wg.Go(func() {
			for range count {
				if err := op(); err != nil {
					mu.Lock()
					first = cmp(first, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// resetStats clears the server's command statistics.
func (r *rig) resetStats(b *testing.B) {
	if err := r.admin.ConfigResetStat(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}
}

// serverMicros returns the microseconds redis-server spent in commands
// since resetStats (INFO commandstats), divided by n: the server's own
// time per decision, which the load of the machine on the clients does not
// change much.
func (r *rig) serverMicros(b *testing.B, n int) float64 {
	info, err := r.admin.Info(context.Background(), "commandstats").Result()
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
	return usec / float64(n)
}

// rawEvalSHA runs redis-benchmark with n EVALSHA calls of redisstore's
// Take script on the raw key (cooling), pipeline requests per round trip,
// and returns the decisions per second it measured.
func (r *rig) rawEvalSHA(b *testing.B, n, pipeline int) float64 {
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
	exists, err := r.admin.ScriptExists(ctx, sha).Result()
	if err != nil || !exists[0] {
		b.Fatalf("the Take script is not loaded as %s (%v): internal/bench/redis reads the script from ../../../alerts/redisstore/lua", sha, err)
	}
	// The event, the same length, without the NUL bytes a command line
	// cannot carry: the script reads only the ID at its start (a format
	// byte, the length, 12 bytes that redis-benchmark -r makes a random
	// number for each call), and stores the rest as it is.
	placeholder := "\x01\x0c__rand_int__" + strings.Repeat("e", len(r.enc)-14)
	now := time.Now()
	keyTTL := max(30*24*time.Hour, r.policy.Period+leaseTTL+time.Minute) + r.policy.Period
	seenTTL := max(keyTTL, alerts.DefaultDedupWindow+time.Millisecond)
	before, err := r.admin.LLen(ctx, r.pendKey()).Result()
	if err != nil {
		b.Fatal(err)
	}
	lim, member := r.key("lim")
	lease, _ := r.key("lease")
	seen, _ := r.key("seen")
	due, _ := r.key("due")
	args := []string{
		"-h", "127.0.0.1", "-p", r.addr[strings.LastIndexByte(r.addr, ':')+1:], "-c", strconv.Itoa(clients), "-P", strconv.Itoa(pipeline),
		"-n", strconv.Itoa(n), "-r", "2000000000", "--csv",
		"EVALSHA", sha, "5", lim, r.pendKey(), lease, seen, due,
		"cooldown", strconv.FormatInt(keyTTL.Milliseconds(), 10), fixed(now.Add(1)), fixed(now.Add(r.policy.Period + 1)),
		fmt.Sprintf("5 14400 0 %d %d 86400 0 %d %s", now.Unix(), now.Nanosecond(), seenTTL.Milliseconds(), member), "lease-raw", "300 0", placeholder,
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		b.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	rps, err := parseRPS(out)
	if err != nil {
		b.Fatalf("redis-benchmark output: %v\n%s", err, out)
	}
	// Every call was a suppressed decision that kept its event, but for
	// the few whose random ID came up twice (about n²/4e9). With -P,
	// redis-benchmark's clients may each send up to a pipeline more than
	// the n it counts.
	after, err := r.admin.LLen(ctx, r.pendKey()).Result()
	if grew := after - before; err != nil || grew < int64(n-n/1000) || grew > int64(n+clients*pipeline) {
		b.Fatalf("redis-benchmark made %d calls but the pending list grew by %d (%v); want every call suppressed", n, grew, err)
	}
	return rps
}

// BenchmarkLimiters measures one limiter decision per call, with 64
// concurrent clients, on one redis-server, each contender in turn:
//
//   - redis-benchmark-EVALSHA: raw EVALSHA of redisstore's Take script, with
//     the same keys and arguments (a C client: the ceiling of the server);
//   - alertmail: redisstore.Store.Take through go-redis, one event per
//     call, on a key in its cooling period (every decision appends its event
//     to pending and says when the next email may go);
//   - alertmail-no-event: the same decision for a call without an event;
//   - redis_rate: redis_rate.Limiter.Allow (GCRA), 5 per 4 hours;
//   - ulule: ulule/limiter Get (fixed-window counter), 5 per 4 hours;
//   - pipelined/...: the same through go-redis AutoPipeline, and
//     redis-benchmark with -P 16.
//
// Each reports decisions/s and the server's µs per decision. On a busy
// machine prefer BenchmarkInterleaved, which alternates the contenders.
func BenchmarkLimiters(b *testing.B) {
	r := newRig(b)
	for _, name := range []string{"redis-benchmark-EVALSHA", "alertmail", "alertmail-no-event", "redis_rate", "ulule",
		"pipelined/redis-benchmark-EVALSHA-P16", "pipelined/alertmail", "pipelined/redis_rate"} {
		b.Run(name, func(b *testing.B) {
			n := max(b.N, clients*16)
			r.resetStats(b)
			var rate float64
			switch name {
			case "redis-benchmark-EVALSHA":
				rate = r.rawEvalSHA(b, n, 1)
			case "pipelined/redis-benchmark-EVALSHA-P16":
				rate = r.rawEvalSHA(b, n, 16)
			default:
				b.ReportAllocs()
				b.ResetTimer()
				if err := runOps(n, r.ops[name]); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				rate = float64(n) / b.Elapsed().Seconds()
			}
			b.ReportMetric(rate, "decisions/s")
			b.ReportMetric(r.serverMicros(b, n), "server-µs/decision")
		})
	}
}

// BenchmarkInterleaved runs every contender of BenchmarkLimiters for
// -rounds rounds of 20,000 decisions, in a new random order each round, so
// that the load of a shared machine falls on all of them alike; it reports
// the median decisions/s of each and the ratios the goals are about. Run it
// with -benchtime 1x.
func BenchmarkInterleaved(b *testing.B) {
	const rounds, perRound = 7, 20000
	r := newRig(b)
	names := []string{"redis-benchmark-EVALSHA", "alertmail", "alertmail-no-event", "redis_rate", "ulule",
		"pipelined/redis-benchmark-EVALSHA-P16", "pipelined/alertmail", "pipelined/redis_rate"}
	rates := map[string][]float64{}
	micros := map[string][]float64{}
	for range b.N {
		for range rounds {
			order := slices.Clone(names)
			rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			for _, name := range order {
				r.resetStats(b)
				var rate float64
				switch name {
				case "redis-benchmark-EVALSHA":
					rate = r.rawEvalSHA(b, perRound, 1)
				case "pipelined/redis-benchmark-EVALSHA-P16":
					rate = r.rawEvalSHA(b, perRound, 16)
				default:
					start := time.Now()
					if err := runOps(perRound, r.ops[name]); err != nil {
						b.Fatal(err)
					}
					rate = perRound / time.Since(start).Seconds()
				}
				rates[name] = append(rates[name], rate)
				micros[name] = append(micros[name], r.serverMicros(b, perRound))
			}
		}
	}
	med := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[len(s)/2]
	}
	for _, name := range names {
		b.ReportMetric(med(rates[name]), name+"-decisions/s")
		b.Logf("%-40s median %8.0f decisions/s, server %5.2f µs/decision; rounds %v", name, med(rates[name]), med(micros[name]), rounded(rates[name]))
	}
	am, raw := med(rates["alertmail"]), med(rates["redis-benchmark-EVALSHA"])
	b.Logf("alertmail / raw EVALSHA = %.2f; alertmail / redis_rate = %.2f; alertmail / ulule = %.2f",
		am/raw, am/med(rates["redis_rate"]), am/med(rates["ulule"]))
	pam := med(rates["pipelined/alertmail"])
	b.Logf("pipelined: alertmail / raw EVALSHA -P 16 = %.2f; alertmail / redis_rate = %.2f",
		pam/med(rates["pipelined/redis-benchmark-EVALSHA-P16"]), pam/med(rates["pipelined/redis_rate"]))
}

// fixed writes t as redisstore's Take script takes now + 1ns and now +
// period + 1ns.
func fixed(t time.Time) string { return fmt.Sprintf("%011d%09d", t.Unix(), t.Nanosecond()) }

func rounded(xs []float64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

// takeSHA returns the SHA1 of redisstore's Take script, as go-redis
// computes it: the event ID reader, its fast path, the time functions of
// internal/redisscript, the common part, then the Take part.
func takeSHA() (string, error) {
	var lua [4][]byte
	for i, name := range []string{"limit_event.lua", "limit_fast.lua", "limit_common.lua", "limit_take.lua"} {
		b, err := os.ReadFile("../../../alerts/redisstore/lua/" + name)
		if err != nil {
			return "", err
		}
		lua[i] = b
	}
	sum := sha1.Sum(slices.Concat(lua[0], lua[1], []byte(redisscript.TimeLua), lua[2], lua[3]))
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
