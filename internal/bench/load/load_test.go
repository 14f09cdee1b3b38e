package loadbench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/fleettest"
	"github.com/alertmail/alertmail/internal/redistest"
)

func TestMain(m *testing.M) {
	fleettest.Main()
	os.Exit(m.Run())
}

// The shape of the load: what the package documentation describes.
const (
	workers     = 4
	concurrency = 16
	tenants     = 10000
)

// A deployment is Redis as the fleet sees it: the addresses it connects
// to, and the servers to read INFO from.
type deployment struct {
	name     string
	addrs    []string
	cluster  bool
	masters  []*redistest.Server
	replicas []*redistest.Server
	prefix   func(testing.TB) string
}

// single is one redis-server with one replica (so that durability has a
// replica to wait for; its cost is the same either way).
func single(b *testing.B) *deployment {
	m := redistest.Start(b)
	r := m.StartReplica(b)
	return &deployment{name: "single", addrs: []string{m.Addr}, masters: []*redistest.Server{m}, replicas: []*redistest.Server{r}, prefix: m.Prefix}
}

// cluster is a Redis Cluster of 3 masters and 3 replicas.
func cluster(b *testing.B) *deployment {
	cl := redistest.StartReplicatedCluster(b)
	d := &deployment{name: "cluster", cluster: true, prefix: cl.Prefix}
	masters := cl.Masters(b)
	for _, s := range cl.Nodes {
		d.addrs = append(d.addrs, s.Addr)
		isMaster := false
		for _, m := range masters {
			isMaster = isMaster || m == s
		}
		if isMaster {
			d.masters = append(d.masters, s)
		} else {
			d.replicas = append(d.replicas, s)
		}
	}
	return d
}

// BenchmarkLoad runs the fleet on each deployment, inline (Dispatch
// sends) and async (Dispatch queues, Run sends), with each notifier,
// durability off and on. One op is one event.
func BenchmarkLoad(b *testing.B) {
	sink := fleettest.StartSink(b)
	for _, dep := range []*deployment{single(b), cluster(b)} {
		for _, async := range []bool{false, true} {
			for _, notifier := range []fleettest.NotifierKind{fleettest.Null, fleettest.SMTP} {
				for _, durable := range []bool{false, true} {
					name := fmt.Sprintf("redis=%s/mode=%s/notifier=%s/durability=%s", dep.name,
						map[bool]string{false: "inline", true: "async"}[async], notifier, map[bool]string{false: "off", true: "on"}[durable])
					b.Run(name, func(b *testing.B) {
						if b.N < workers*10 {
							return // testing's first run, N=1: not worth a fleet
						}
						run(b, dep, async, notifier, durable, sink.Addr)
					})
				}
			}
		}
	}
}

// run runs b.N events through the fleet on dep and reports its metrics.
func run(b *testing.B, dep *deployment, async bool, notifier fleettest.NotifierKind, durable bool, smtpAddr string) {
	cfg := fleettest.Config{
		Addrs: dep.addrs, Cluster: dep.cluster, Prefix: dep.prefix(b),
		Workers: workers, Concurrency: concurrency, Tenants: tenants,
		Events: (b.N + workers - 1) / workers, Async: async,
		Notifier: notifier, SMTPAddr: smtpAddr,
		LeaseTTL: 30 * time.Second, Drain: 1500 * time.Millisecond, Seeded: true,
	}
	if durable {
		cfg.Durability = redisstore.Durability{Replicas: 1, Timeout: time.Second}
	}
	fleettest.SeedSettings(b, cfg)
	before := readStats(b, dep)
	b.ResetTimer()
	r := fleettest.Start(b, cfg).Wait(b, 30*time.Minute)
	b.StopTimer()
	after := readStats(b, dep)
	if r.Unacked > 0 {
		b.Fatalf("%d events never acknowledged: %q", r.Unacked, r.FirstErrors)
	}
	ev := float64(r.Events)
	b.ReportMetric(r.EventsPerSecond(), "events/s")
	b.ReportMetric(float64(r.P50)/1e6, "p50-ms")
	b.ReportMetric(float64(r.P99)/1e6, "p99-ms")
	b.ReportMetric(float64(after.masterCalls-before.masterCalls)/ev, "cmds/event")
	b.ReportMetric(float64(after.masterScripts-before.masterScripts)/ev, "scripts/event")
	b.ReportMetric((after.masterCPU-before.masterCPU)*1e3/ev*1e4, "cpu-ms/1e4ev")
	b.ReportMetric((after.replicaCPU-before.replicaCPU)*1e3/ev*1e4, "replica-cpu-ms/1e4ev")
	b.ReportMetric(float64(r.Emails)/ev, "emails/event")
	b.Logf("%s: %v; outcomes %v", b.Name(), r, r.Outcomes)
}

// stats are the sums of INFO counters over the servers of a deployment.
type stats struct {
	masterCalls, masterScripts int64   // commands, and EVALSHA and EVAL
	masterCPU, replicaCPU      float64 // seconds, user and system
}

func readStats(b *testing.B, dep *deployment) stats {
	var st stats
	for _, s := range dep.masters {
		calls, scripts, cpu := serverStats(b, s)
		st.masterCalls += calls
		st.masterScripts += scripts
		st.masterCPU += cpu
	}
	for _, s := range dep.replicas {
		_, _, cpu := serverStats(b, s)
		st.replicaCPU += cpu
	}
	return st
}

// serverStats returns the commands s ran (INFO itself left out), the
// scripts among them, and its CPU time.
func serverStats(b *testing.B, s *redistest.Server) (calls, scripts int64, cpu float64) {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	info, err := c.Info(context.Background(), "commandstats", "cpu").Result()
	if err != nil {
		b.Fatalf("INFO on %s: %v", s.Addr, err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		line = strings.TrimSpace(line)
		if name, rest, ok := strings.Cut(line, ":"); ok && strings.HasPrefix(name, "cmdstat_") {
			v, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatalf("INFO commandstats line %q: %v", line, err)
			}
			switch name {
			case "cmdstat_info":
			case "cmdstat_evalsha", "cmdstat_eval":
				scripts += n
				calls += n
			default:
				calls += n
			}
			continue
		}
		if name, v, ok := strings.Cut(line, ":"); ok && (name == "used_cpu_sys" || name == "used_cpu_user") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("INFO cpu line %q: %v", line, err)
			}
			cpu += f
		}
	}
	return calls, scripts, cpu
}
