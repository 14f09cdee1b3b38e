package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/rediskey"
	"github.com/alertmail/alertmail/internal/redistest"
)

// waitTimeout is the Durability.Timeout of these tests: what an
// unreplicated decision costs them.
const waitTimeout = 300 * time.Millisecond

// TestDurabilityReplica runs decisions with Durability on a Redis with one
// replica: each one acknowledged is on the replica when it returns; with
// the replica stopped, each is a *ReplicationError that stands on the
// master as the package documentation says.
func TestDurabilityReplica(t *testing.T) {
	t.Parallel()
	master := redistest.Start(t)
	replica := master.StartReplica(t)
	checkDurability(t, master, master.Client(t), []shard{{master, replica}}, func() { replica.Stop(t) })
}

// A shard is a master and its replica.
type shard struct{ master, replica *redistest.Server }

// TestDurabilityReplicatedCluster does the same on the 3×2 cluster,
// reading the replicas of the tenant's shards with READONLY, and pausing them
// (SIGSTOP: to its master, a replica that does not answer) rather than
// stopping them, since the cluster is shared.
func TestDurabilityReplicatedCluster(t *testing.T) {
	t.Parallel()
	cl := cluster.Get(t)
	// The tenant's settings are under its own hash tag, its limiter keys
	// under its bucket's: one shard or two.
	var shards []shard
	for _, tag := range []string{"{acme}", fmt.Sprintf("{b:%02x}", rediskey.Bucket("acme"))} {
		m, r := cl.Shard(t, tag)
		if len(shards) == 0 || shards[0].master != m {
			shards = append(shards, shard{m, r})
		}
	}
	checkDurability(t, cl, cl.ClusterClient(t), shards, func() {
		for _, sh := range shards {
			sh.replica.Pause(t)
			t.Cleanup(func() { sh.replica.Resume(t) })
		}
	})
}

// checkDurability runs Save, Take, Commit and Queue with Durability
// through client, comparing replica with master after each acknowledged
// one; then it calls down and checks what an unreplicated Queue, Take,
// Commit and Save leave on the master, through a store on the same keys
// that does not wait.
func checkDurability(t *testing.T, ks redistest.Keyspace, client redis.Scripter, shards []shard, down func()) {
	t.Helper()
	st, prefix := newStore(t, ks, redisstore.Config{Client: client, Durability: redisstore.Durability{Replicas: 1, Timeout: waitTimeout}})
	plain, err := redisstore.New(redisstore.Config{Client: client, Prefix: prefix})
	require.NoError(t, err, "redisstore.New without Durability")
	ctx := context.Background()
	replicated := func(what string) {
		t.Helper()
		n := 0
		for _, sh := range shards {
			want := sh.master.Dump(t, prefix+":*")
			n += len(want)
			require.Equalf(t, want, sh.replica.Dump(t, prefix+":*"), "the keys of replica %s after %s, acknowledged", sh.replica.Addr, what)
		}
		require.Positivef(t, n, "the masters' keys after %s: none", what)
	}

	saveRecipients(t, st, "acme")
	replicated("Save")
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	p := alerts.FrequencyLimit{Max: 5, Period: time.Hour}
	for i := range 7 {
		now := t0.Add(time.Duration(i) * time.Minute)
		g, err := st.Take(ctx, key, p, now, time.Minute, []alerts.Event{threat(fmt.Sprint(i), now)})
		require.NoErrorf(t, err, "Take %d", i)
		replicated(fmt.Sprintf("Take %d", i))
		if i < 5 {
			require.NotEmptyf(t, g.Lease, "Take %d = %+v; want a lease", i, g)
			require.NoErrorf(t, st.Commit(ctx, key, p, g.Lease, now), "Commit %d", i)
			replicated(fmt.Sprintf("Commit %d", i))
		} else {
			require.Emptyf(t, g.Lease, "Take %d in the cooling period = %+v; want none", i, g)
		}
	}

	// Queue (Dispatch with Async) records the event for Run.
	_, err = st.Queue(ctx, key, p, t0.Add(7*time.Minute), []alerts.Event{threat("q", t0)})
	require.NoError(t, err, "Queue")
	replicated("Queue")

	down()
	// Queue: the event is pending on the master; offered again, it is a
	// duplicate there.
	_, err = st.Queue(ctx, key, p, t0.Add(8*time.Minute), []alerts.Event{threat("q2", t0)})
	checkReplicationError(t, err, "limiter queue")
	g, err := plain.Queue(ctx, key, p, t0.Add(8*time.Minute), []alerts.Event{threat("q2", t0)})
	require.NoError(t, err, "Queue again after an unreplicated Queue")
	assert.Equalf(t, 1, g.Duplicates, "Queue again after an unreplicated Queue = %+v; want the event a duplicate", g)
	// Take: the event is pending on the master, and the lease the script
	// took is given back (a new Take gets it, with the one slot of Max 1).
	key2 := alerts.LimitKey{Tenant: "acme", Category: "durability"}
	p1 := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	_, err = st.Take(ctx, key2, p1, t0, time.Minute, []alerts.Event{threat("x", t0)})
	checkReplicationError(t, err, "limiter take")
	g, err = plain.Take(ctx, key2, p1, t0, time.Minute, nil)
	require.NoError(t, err, "Take after an unreplicated Take")
	require.Truef(t, g.Lease != "" && len(g.Events) == 1 && g.Events[0].ID == "x",
		"Take after an unreplicated Take = %+v; want a lease on its event x (given back, slot released)", g)
	// Commit: the send is recorded on the master (the slot is spent).
	err = st.Commit(ctx, key2, p1, g.Lease, t0)
	checkReplicationError(t, err, "limiter commit")
	g, err = plain.Take(ctx, key2, p1, t0, time.Minute, []alerts.Event{threat("y", t0)})
	require.NoError(t, err, "Take after an unreplicated Commit")
	assert.Truef(t, g.Lease == "" && g.Pending == 1, "Take after an unreplicated Commit = %+v; want y suppressed (the send counts)", g)
	// Save: the new version is on the master.
	cur, err := plain.Load(ctx, "acme")
	require.NoError(t, err)
	d := cur.Edit()
	require.NoError(t, d.Set(alerts.ActiveThreat, false))
	_, err = st.Save(ctx, d.Settings())
	checkReplicationError(t, err, "settings save")
	got, err := plain.Load(ctx, "acme")
	require.NoError(t, err)
	assert.Falsef(t, got.Enabled(alerts.ActiveThreat), "Load after an unreplicated Save = version %d, on; want the saved version, off", got.Version)
}

// checkReplicationError fails t unless err is the *ReplicationError of op.
func checkReplicationError(t *testing.T, err error, op string) {
	t.Helper()
	require.ErrorIsf(t, err, redisstore.ErrNotReplicated, "%s with the replica down = %v; want ErrNotReplicated", op, err)
	re, ok := errors.AsType[*redisstore.ReplicationError](err)
	require.Truef(t, ok, "%s with the replica down = %T; want a *ReplicationError", op, err)
	assert.Equalf(t, redisstore.ReplicationError{Op: op, Acked: 0, Want: 1, Timeout: waitTimeout}, *re, "%s: the ReplicationError", op)
}

func TestDurabilityConfig(t *testing.T) {
	t.Parallel()
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}}) // never dialled
	t.Cleanup(func() { ring.Close() })
	_, err := redisstore.New(redisstore.Config{Client: ring, Durability: redisstore.Durability{Replicas: 1}})
	assert.EqualErrorf(t, err, "redisstore: Config.Durability.Replicas 1 needs a Config.Client that is a *redis.Client or a *redis.ClusterClient, not *redis.Ring",
		"New with Durability on a Ring")
	_, err = redisstore.New(redisstore.Config{Client: ring, Durability: redisstore.Durability{Replicas: -1}})
	assert.EqualErrorf(t, err, "redisstore: Config.Durability.Replicas -1 is negative", "New with Durability.Replicas -1")
}
