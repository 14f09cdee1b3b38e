package fleettest_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/fleettest"
	"github.com/alertmail/alertmail/internal/redistest"
)

func TestMain(m *testing.M) {
	fleettest.Main()
	os.Exit(m.Run())
}

// TestFailover runs 4 dispatcher processes on the 3×2 cluster, events
// flowing, and kills the master of a shard mid-run, its replica 50 ms
// behind (redistest's proxy delays the replication stream, and drops what
// it holds when the master dies, as with a crashed host, where the
// loopback would deliver it): its replica takes over
// (CLUSTER FAILOVER FORCE, not the 15 s default node timeout, so that the
// run fits in CI) and the killed node comes back as its replica. Once
// without durability and once with it, the report counts the events, the
// emails, the events lost, those in two emails and the most emails of a
// key in a period. With durability: nothing lost, at most 5 emails per key
// per period, and an event in two emails only under one Message-ID.
func TestFailover(t *testing.T) {
	cl := redistest.StartProxiedCluster(t)
	for _, durable := range []bool{false, true} {
		name := map[bool]string{false: "durability off", true: "durability on"}[durable]
		r := runFailover(t, cl, durable)
		t.Logf("%s: %v", name, r)
		for _, e := range r.FirstErrors {
			t.Logf("%s: error: %s", name, e)
		}
		require.Zerof(t, r.Unacked, "%s: events never acknowledged = %d; want 0", name, r.Unacked)
		require.Positivef(t, r.Emails, "%s: no email sent", name)
		if !durable {
			continue
		}
		assert.Zerof(t, r.Lost, "%s: events lost = %d; want 0", name, r.Lost)
		assert.LessOrEqualf(t, r.MaxInPeriod, 5, "%s: most emails of a key in a period = %d; want at most 5", name, r.MaxInPeriod)
		// An event in emails of two Message-IDs only where the host
		// offered it again after a Take or Commit whose reply was lost,
		// or where an email was sent but not recorded (its lease's
		// events go again, with what joined them, at its deadline).
		assert.Zerof(t, r.DuplicatesUnexplained, "%s: events in emails of two Message-IDs that were not offered twice = %d; want 0", name, r.DuplicatesUnexplained)
	}
}

// lag is how far behind its master the replica of the shard that fails
// over is.
const lag = 50 * time.Millisecond

// runFailover runs the fleet on cl and fails over the master of tenant 0's
// shard a third of the way through.
func runFailover(t *testing.T, cl *redistest.Cluster, durable bool) fleettest.Report {
	addrs := make([]string, len(cl.Nodes))
	for i, s := range cl.Nodes {
		addrs[i] = s.Addr
	}
	cfg := fleettest.Config{
		Addrs: addrs, Cluster: true, Prefix: cl.Prefix(t),
		Workers: 4, Concurrency: 8, Tenants: 200,
		Events: 800, Rate: 100, // per worker: 8 s at 400 events/s in all
		Limit:    alerts.FrequencyLimit{Mode: alerts.SlidingWindow, Max: 5, Period: 2 * time.Second},
		LeaseTTL: 2 * time.Second, PollInterval: time.Second,
	}
	if durable {
		cfg.Durability = redisstore.Durability{Replicas: 1, Timeout: 500 * time.Millisecond}
	}
	master, _ := cl.Shard(t, "{"+fleettest.Tenant(0)+"}")
	// The replica lags as across zones: the writes of the master's last
	// 50 ms are not on it when the master dies.
	cl.SetReplicationLag(t, master, lag)
	f := fleettest.Start(t, cfg)
	time.Sleep(3 * time.Second)
	start := time.Now()
	cl.Failover(t, master)
	cl.SetReplicationLag(t, master, 0)
	t.Logf("failover of %s in %v", master.Addr, time.Since(start))
	cl.Rejoin(t, master)
	t.Logf("%s back as a replica after %v", master.Addr, time.Since(start))
	return f.Wait(t, time.Minute)
}
