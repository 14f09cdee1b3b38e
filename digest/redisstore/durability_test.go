package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/digest/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
)

// waitTimeout is the Durability.Timeout of these tests: what an
// unreplicated decision costs them.
const waitTimeout = 300 * time.Millisecond

// TestDurabilityReplica runs Append, Claim and Commit with Durability on a
// Redis with one replica: each one acknowledged is on the replica when it
// returns; with the replica stopped, each is a *ReplicationError that
// stands on the master as the package documentation says.
func TestDurabilityReplica(t *testing.T) {
	t.Parallel()
	master := redistest.Start(t)
	replica := master.StartReplica(t)
	checkDurability(t, master, master.Client(t), master, replica, func() { replica.Stop(t) })
}

// TestDurabilityReplicatedCluster does the same on the 3×2 cluster,
// reading the replica of the tenant's shard with READONLY, and pausing it
// (SIGSTOP: to its master, a replica that does not answer) rather than
// stopping it, since the cluster is shared.
func TestDurabilityReplicatedCluster(t *testing.T) {
	t.Parallel()
	cl := cluster.Get(t)
	master, replica := cl.Shard(t, "{acme}")
	checkDurability(t, cl, cl.ClusterClient(t), master, replica, func() {
		replica.Pause(t)
		t.Cleanup(func() { replica.Resume(t) })
	})
}

// checkDurability runs Append, Claim and Commit with Durability through
// client, comparing replica with master after each acknowledged one; then
// it calls down and checks what an unreplicated Append, Claim and Commit
// leave on the master, through a store on the same keys that does not
// wait.
func checkDurability(t *testing.T, ks redistest.Keyspace, client redis.Scripter, master, replica *redistest.Server, down func()) {
	t.Helper()
	prefix := ks.Prefix(t)
	st, err := redisstore.New(redisstore.Config{Client: client, Prefix: prefix, Durability: redisstore.Durability{Replicas: 1, Timeout: waitTimeout}})
	require.NoError(t, err, "redisstore.New")
	ks.ExpectTTLs(t, prefix)
	plain, err := redisstore.New(redisstore.Config{Client: client, Prefix: prefix}) // the same keys, no wait
	require.NoError(t, err, "redisstore.New without Durability")
	ctx := context.Background()
	replicated := func(what string) {
		t.Helper()
		want := master.Dump(t, prefix+":*")
		require.NotEmptyf(t, want, "the master's keys after %s", what)
		require.Equalf(t, want, replica.Dump(t, prefix+":*"), "the replica's keys after %s, acknowledged", what)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	item := func(fp string) digest.Item {
		return digest.Item{Tenant: "acme", Category: alerts.ActiveThreat, Asset: "host", Fingerprint: fp, Summary: fp, Time: now}
	}
	day := digest.DayOf(now)

	require.NoError(t, st.Append(ctx, "acme", []digest.Item{item("a"), item("b")}), "Append")
	replicated("Append")
	status, err := st.Claim(ctx, "acme", digest.Claim{Day: day, Token: "t1", Now: now, Until: now.Add(time.Minute)})
	require.NoError(t, err, "Claim")
	require.Equalf(t, digest.Claimed, status, "Claim = %v; want Claimed", status)
	replicated("Claim")
	_, through, err := st.Pending(ctx, "acme")
	require.NoError(t, err, "Pending")
	commit := digest.Commit{Day: day, Token: "t1", Through: through, Reported: []digest.ItemKey{item("a").Key()}, Now: now, ExpireBefore: now.Add(-24 * time.Hour)}
	require.NoError(t, st.Commit(ctx, "acme", commit), "Commit")
	replicated("Commit")

	down()
	// Append: the items are pending on the master.
	err = st.Append(ctx, "acme", []digest.Item{item("c")})
	checkReplicationError(t, err, "digest append")
	items, _, err := plain.Pending(ctx, "acme")
	require.NoError(t, err, "Pending after an unreplicated Append")
	assert.Truef(t, len(items) == 1 && items[0].Fingerprint == "c", "Pending after an unreplicated Append = %+v; want item c", items)
	// Claim: the lease is held on the master.
	next := day + 1
	later := now.Add(24 * time.Hour)
	_, err = st.Claim(ctx, "acme", digest.Claim{Day: next, Token: "t2", Now: later, Until: later.Add(time.Minute)})
	checkReplicationError(t, err, "digest claim")
	status, err = plain.Claim(ctx, "acme", digest.Claim{Day: next, Token: "t3", Now: later, Until: later.Add(time.Minute)})
	require.NoError(t, err, "Claim after an unreplicated Claim")
	assert.Equalf(t, digest.Busy, status, "Claim after an unreplicated Claim = %v; want Busy (the lease holds)", status)
	// Commit: the day is recorded as sent on the master.
	_, through, err = plain.Pending(ctx, "acme")
	require.NoError(t, err)
	err = st.Commit(ctx, "acme", digest.Commit{Day: next, Token: "t2", Through: through, Now: later, ExpireBefore: later.Add(-24 * time.Hour)})
	checkReplicationError(t, err, "digest commit")
	status, err = plain.Claim(ctx, "acme", digest.Claim{Day: next, Token: "t3", Now: later, Until: later.Add(time.Minute)})
	require.NoError(t, err, "Claim after an unreplicated Commit")
	assert.Equalf(t, digest.AlreadySent, status, "Claim after an unreplicated Commit = %v; want AlreadySent", status)
}

// checkReplicationError fails t unless err is the *ReplicationError of op.
func checkReplicationError(t *testing.T, err error, op string) {
	t.Helper()
	require.ErrorIsf(t, err, redisstore.ErrNotReplicated, "%s with the replica down = %v; want ErrNotReplicated", op, err)
	re, ok := errors.AsType[*redisstore.ReplicationError](err)
	require.Truef(t, ok, "%s with the replica down = %T; want a *ReplicationError", op, err)
	assert.Equalf(t, redisstore.ReplicationError{Op: op, Acked: 0, Want: 1, Timeout: waitTimeout}, *re, "%s: the ReplicationError", op)
}
