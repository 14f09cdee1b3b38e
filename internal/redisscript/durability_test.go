package redisscript_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/internal/redisscript"
	"github.com/alertmail/alertmail/internal/redistest"
)

// cluster is the Redis Cluster of three masters and three replicas that
// this package's tests share: it starts on first use and stops in TestMain.
var cluster redistest.SharedCluster

func TestMain(m *testing.M) {
	code := m.Run()
	cluster.Close()
	os.Exit(code)
}

func TestWithDurability(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { client.Close() })
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	t.Cleanup(func() { ring.Close() })
	tests := []struct {
		name    string
		client  redis.Scripter
		d       redisscript.Durability
		wantErr string
	}{
		{"off", ring, redisscript.Durability{}, ""},
		{"off with a timeout", ring, redisscript.Durability{Timeout: time.Hour}, ""},
		{"client", client, redisscript.Durability{Replicas: 1}, ""},
		{"client with a timeout", client, redisscript.Durability{Replicas: 2, Timeout: 2 * time.Second}, ""},
		{"negative", client, redisscript.Durability{Replicas: -1}, "redisstore: Config.Durability.Replicas -1 is negative"},
		{"sub-millisecond", client, redisscript.Durability{Replicas: 1, Timeout: time.Microsecond}, "redisstore: Config.Durability.Timeout 1µs is less than a millisecond"},
		{"negative timeout", client, redisscript.Durability{Timeout: -time.Second}, "redisstore: Config.Durability.Timeout -1s is less than a millisecond"},
		{"past ReadTimeout", client, redisscript.Durability{Replicas: 1, Timeout: 5 * time.Second}, "redisstore: Config.Durability.Timeout 5s is not shorter than the client's ReadTimeout 5s"},
		{"ring", ring, redisscript.Durability{Replicas: 1}, "redisstore: Config.Durability.Replicas 1 needs a Config.Client that is a *redis.Client or a *redis.ClusterClient, not *redis.Ring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := redisscript.Connect(tt.client, "")
			require.NoError(t, err)
			_, err = c.WithDurability(tt.d)
			if tt.wantErr == "" {
				assert.NoErrorf(t, err, "WithDurability(%+v)", tt.d)
				return
			}
			assert.EqualErrorf(t, err, tt.wantErr, "WithDurability(%+v)", tt.d)
		})
	}
}

// setScript writes ARGV[1] to KEYS[1] and returns it as a number.
var setScript = redis.NewScript("redis.call('SET', KEYS[1], ARGV[1], 'PX', 600000); return tonumber(ARGV[1])")

// TestDecideReplica runs decisions on a master with one replica: each one
// acknowledged is on the replica when Decide returns; with the replica
// stopped, Decide returns the script's reply and a *ReplicationError.
func TestDecideReplica(t *testing.T) {
	t.Parallel()
	master := redistest.Start(t)
	replica := master.StartReplica(t)
	c := connect(t, master.Client(t), redisscript.Durability{Replicas: 1, Timeout: 200 * time.Millisecond})
	checkDecisions(t, c, "{k}", master, replica)

	replica.Stop(t)
	checkUnreplicated(t, c, "{k}", master)
}

// TestDecideCluster runs decisions on the 3×2 cluster: each one acknowledged
// is on the replica of its key's master when Decide returns (read with
// READONLY); with that replica paused, Decide returns the script's reply
// and a *ReplicationError.
func TestDecideCluster(t *testing.T) {
	t.Parallel()
	cl := cluster.Get(t)
	key := "{" + cl.Prefix(t) + "}"
	master, replica := cl.Shard(t, key)
	c := connect(t, cl.ClusterClient(t), redisscript.Durability{Replicas: 1, Timeout: 200 * time.Millisecond})
	checkDecisions(t, c, key, master, replica)

	replica.Pause(t)
	defer replica.Resume(t)
	checkUnreplicated(t, c, key, master)
}

func connect(t *testing.T, client redis.Scripter, d redisscript.Durability) redisscript.Conn {
	t.Helper()
	c, err := redisscript.Connect(client, "")
	require.NoError(t, err)
	c, err = c.WithDurability(d)
	require.NoErrorf(t, err, "WithDurability(%+v)", d)
	return c
}

// checkDecisions runs 50 decisions on key through c and checks, right
// after each, that the replica holds what the master holds.
func checkDecisions(t *testing.T, c redisscript.Conn, key string, master, replica *redistest.Server) {
	t.Helper()
	ctx := context.Background()
	for i := range 50 {
		r, err := c.Decide(ctx, "test op", setScript, []string{key}, i)
		require.NoErrorf(t, err, "Decide %d", i)
		v, err := r.Int()
		require.NoErrorf(t, err, "Decide %d", i)
		require.EqualValuesf(t, i, v, "Decide %d = %d; want %d", i, v, i)
		want := master.Dump(t, key)
		require.Equalf(t, map[string]string{key: "string " + strconv.Itoa(i)}, want, "the master after Decide %d", i)
		require.Equalf(t, want, replica.Dump(t, key), "the replica after Decide %d, acknowledged", i)
	}
}

// checkUnreplicated runs a decision on key through c while its replica does
// not answer: the error is a *ReplicationError, and the reply and the
// write stand on the master.
func checkUnreplicated(t *testing.T, c redisscript.Conn, key string, master *redistest.Server) {
	t.Helper()
	r, err := c.Decide(context.Background(), "test op", setScript, []string{key}, 99)
	require.ErrorIsf(t, err, redisscript.ErrNotReplicated, "Decide with the replica down = %v; want ErrNotReplicated", err)
	re, ok := errors.AsType[*redisscript.ReplicationError](err)
	require.Truef(t, ok, "Decide with the replica down = %T; want a *ReplicationError", err)
	assert.Equalf(t, redisscript.ReplicationError{Op: "test op", Acked: 0, Want: 1, Timeout: 200 * time.Millisecond}, *re,
		"the ReplicationError = %+v", *re)
	assert.EqualErrorf(t, err, "redisstore: test op: decision not replicated: 0 of 1 replicas acknowledged it within 200ms", "Decide with the replica down")
	v, err := r.Int()
	require.NoError(t, err, "the reply of an unreplicated decision")
	assert.EqualValuesf(t, 99, v, "the reply of an unreplicated decision = %d; want 99", v)
	assert.Equalf(t, map[string]string{key: "string 99"}, master.Dump(t, key), "the master after an unreplicated decision")
}
