package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/internal/redistest"
)

func TestStartReplicatedCluster(t *testing.T) {
	t.Parallel()
	start := time.Now()
	cl := redistest.StartReplicatedCluster(t)
	t.Logf("3×2 cluster ready in %v", time.Since(start))
	require.Lenf(t, cl.Nodes, 6, "StartReplicatedCluster: %d nodes; want 6", len(cl.Nodes))
	masters := cl.Masters(t)
	assert.Lenf(t, masters, 3, "Masters() = %d nodes; want 3", len(masters))

	ctx := context.Background()
	for _, s := range cl.Nodes {
		info, err := s.Client(t).ClusterInfo(ctx).Result()
		require.NoErrorf(t, err, "CLUSTER INFO on %s", s.Addr)
		for _, want := range []string{"cluster_state:ok", "cluster_slots_ok:16384", "cluster_size:3"} {
			assert.Containsf(t, info, want, "CLUSTER INFO on %s = %q; want %q", s.Addr, info, want)
		}
	}

	// Keys of different slots are served by the cluster through one client;
	// a script across two slots is refused.
	c := cl.ClusterClient(t)
	p := cl.Prefix(t)
	for _, k := range []string{"{a}", "{b}", "{c}", "{d}"} {
		require.NoErrorf(t, c.Set(ctx, p+":"+k, "v", time.Hour).Err(), "SET %s", p+":"+k)
	}
	got := cl.Keys(t, p+":*")
	assert.Lenf(t, got, 4, "Keys(%q) = %q; want 4 keys, each from its master once", p+":*", got)
	err := c.Eval(ctx, "redis.call('SET', KEYS[1], 1); return redis.call('SET', KEYS[2], 1)", []string{"{a}x", "{b}x"}).Err()
	require.Error(t, err, "EVAL across slots; want a cross-slot error")
	assert.Containsf(t, err.Error(), "CROSSSLOT", "EVAL across slots = %v; want a CROSSSLOT error", err)

	// Every replica holds a copy of its master's keys.
	var replicas int
	for _, s := range cl.Nodes {
		role, err := s.Client(t).Do(ctx, "ROLE").Slice()
		require.NoErrorf(t, err, "ROLE on %s", s.Addr)
		if role[0] == "slave" {
			replicas++
		}
	}
	assert.Equalf(t, 3, replicas, "replicas = %d; want 3", replicas)
}

func TestSharedCluster(t *testing.T) {
	t.Parallel()
	var shared redistest.SharedCluster
	defer shared.Close()
	a := shared.Get(t)
	b := shared.Get(t)
	assert.Samef(t, a, b, "SharedCluster.Get twice = %p, %p; want one cluster", a, b)
	c := a.ClusterClient(t)
	assert.NoError(t, c.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		return m.Ping(ctx).Err()
	}), "PING every master")
	shared.Close()
	rc := redis.NewClient(&redis.Options{Addr: a.Nodes[0].Addr, MaxRetries: -1})
	defer rc.Close()
	assert.Error(t, rc.Ping(context.Background()).Err(), "PING after Close succeeded; want an error")
}

func TestExpectScriptSlots(t *testing.T) {
	t.Parallel()
	cl := redistest.StartReplicatedCluster(t)
	c := cl.ClusterClient(t)
	ctx := context.Background()

	rec := &recordingTB{TB: t}
	cl.ExpectScriptSlots(rec, c)
	rec.end()
	assert.Lenf(t, rec.errors, 1, "ExpectScriptSlots with no script run reported %q; want one error", rec.errors)

	rec = &recordingTB{TB: t}
	cl.ExpectScriptSlots(rec, c)
	require.NoError(t, c.Eval(ctx, "return redis.call('SET', KEYS[1], 1)", []string{"{a}x"}).Err(), "EVAL on one slot")
	require.NoError(t, c.Eval(ctx, "return 1", []string{"{a}x", "{a}y"}).Err(), "EVAL on one slot")
	rec.end()
	assert.Emptyf(t, rec.errors, "ExpectScriptSlots with one-slot scripts reported %q; want nothing", rec.errors)

	rec = &recordingTB{TB: t}
	cl.ExpectScriptSlots(rec, c)
	c.Eval(ctx, "return 1", []string{"{a}x", "{b}x"}) // refused with CROSSSLOT
	rec.end()
	if assert.Lenf(t, rec.errors, 1, "ExpectScriptSlots with a cross-slot script reported %q; want one error", rec.errors) {
		assert.Containsf(t, rec.errors[0], "{b}x", "ExpectScriptSlots error = %q; want it to name the keys", rec.errors[0])
	}
}

// TestClusterFailover kills the master of a key, lets its replica take
// over, and brings the killed node back as the new master's replica: the
// key is served throughout, but for the moment of the failover.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	cl := redistest.StartReplicatedCluster(t)
	c := cl.ClusterClient(t)
	ctx := context.Background()
	const key = "{t}k"
	require.NoError(t, c.Set(ctx, key, "v", time.Hour).Err(), "SET")
	master, replica := cl.Shard(t, key)
	require.NotEqual(t, master.Addr, replica.Addr)
	assert.Equal(t, master.Dump(t, key), replica.Dump(t, key), "the replica's copy of the key (READONLY)")

	start := time.Now()
	promoted := cl.Failover(t, master)
	t.Logf("failover in %v", time.Since(start))
	assert.Equalf(t, replica.Addr, promoted.Addr, "Failover(%s) = %s; want its replica %s", master.Addr, promoted.Addr, replica.Addr)
	c.ReloadState(ctx)
	require.Eventually(t, func() bool { return c.Get(ctx, key).Val() == "v" }, 10*time.Second, 50*time.Millisecond,
		"GET %s after the failover; want v from the new master", key)

	cl.Rejoin(t, master)
	m2, r2 := cl.Shard(t, key)
	assert.Truef(t, m2 == replica && r2 == master, "Shard(%q) after Rejoin = %s, %s; want %s, %s", key, m2.Addr, r2.Addr, replica.Addr, master.Addr)
	assert.Equal(t, m2.Dump(t, key), r2.Dump(t, key), "the rejoined replica's copy of the key")
}

// TestProxiedCluster checks the proxies of StartProxiedCluster: a lagging
// replica gets its master's writes late, and the writes its master made
// in the last lag before it was killed are lost in the failover.
func TestProxiedCluster(t *testing.T) {
	t.Parallel()
	cl := redistest.StartProxiedCluster(t)
	c := cl.ClusterClient(t)
	ctx := context.Background()
	const key = "{t}k"
	require.NoError(t, c.Set(ctx, key, "1", time.Hour).Err(), "SET through the proxies")
	master, replica := cl.Shard(t, key)
	require.Eventually(t, func() bool { return replica.Dump(t, key)[key] == "string 1" }, 5*time.Second, 10*time.Millisecond,
		"the replica's copy of %s; want 1", key)

	cl.SetReplicationLag(t, master, time.Second)
	require.NoError(t, c.Set(ctx, key, "2", time.Hour).Err(), "SET with the replica a second behind")
	time.Sleep(100 * time.Millisecond)
	assert.Equalf(t, "string 1", replica.Dump(t, key)[key], "the replica's copy of %s 100 ms after a SET, a second behind; want the old value", key)

	cl.Failover(t, master)
	c.ReloadState(ctx)
	require.Eventually(t, func() bool { return c.Get(ctx, key).Err() == nil }, 10*time.Second, 50*time.Millisecond, "GET %s after the failover", key)
	assert.Equalf(t, "1", c.Get(ctx, key).Val(), "GET %s after the failover; want 1: the write the replica had not received is lost", key)
}
