package redistest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/internal/redistest"
)

func TestStartRestart(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	c := s.Client(t)
	ctx := context.Background()
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err(), "SET")
	s.Restart(t)
	got, err := c.Get(ctx, "k").Result()
	require.NoError(t, err, "GET k after restart with appendonly")
	assert.Equalf(t, "v", got, "GET k after restart with appendonly = %q; want %q", got, "v")
	s.Stop(t)
	assert.Error(t, c.Ping(ctx).Err(), "PING after Stop succeeded; want an error")
}

func TestStartNoPersistence(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	cfg, err := c.ConfigGet(ctx, "*").Result()
	require.NoError(t, err)
	for k, want := range map[string]string{"save": "", "appendonly": "no", "bind": "127.0.0.1"} {
		assert.Equalf(t, want, cfg[k], "CONFIG GET %s = %q; want %q", k, cfg[k], want)
	}
}

func TestPauseResume(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	c := s.Client(t)
	s.Pause(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	require.Error(t, c.Ping(ctx).Err(), "PING to a paused server succeeded; want a timeout")
	s.Resume(t)
	assert.NoError(t, c.Ping(context.Background()).Err(), "PING after Resume")
}

func TestNewPrefix(t *testing.T) {
	t.Parallel()
	s := redistest.New(t)
	a, b := s.Prefix(t), s.Prefix(t)
	assert.Truef(t, a != b && strings.HasPrefix(a, "amtest-"), "Prefix() = %q, %q; want two distinct amtest- prefixes", a, b)
	assert.NoError(t, s.Client(t).Ping(context.Background()).Err(), "PING")
}

func TestStartCluster(t *testing.T) {
	t.Parallel()
	s := redistest.StartCluster(t)
	c := s.ClusterClient(t)
	ctx := context.Background()
	require.NoError(t, c.Eval(ctx, "return redis.call('SET', KEYS[1], 1)", []string{"{a}x"}).Err(), "EVAL on one slot")
	err := c.Eval(ctx, "redis.call('SET', KEYS[1], 1); return redis.call('SET', KEYS[2], 1)", []string{"{a}x", "{b}x"}).Err()
	require.Error(t, err, "EVAL across slots; want a cross-slot error")
	assert.Containsf(t, err.Error(), "CROSSSLOT", "EVAL across slots = %v; want a CROSSSLOT error", err)
}

func TestKeys(t *testing.T) {
	t.Parallel()
	s := redistest.New(t)
	p := s.Prefix(t)
	c := s.Client(t)
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, c.Set(ctx, p+":"+k, "v", 0).Err())
	}
	got := s.Keys(t, p+":[ab]")
	assert.ElementsMatchf(t, []string{p + ":a", p + ":b"}, got, "Keys(%q) = %q; want a and b", p+":[ab]", got)
}

// recordingTB is a testing.TB whose errors and cleanups are recorded, so
// that a test can see what a helper reports when the test ends.
type recordingTB struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *recordingTB) Helper()                   {}
func (r *recordingTB) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(f string, a ...any) { r.errors = append(r.errors, fmt.Sprintf(f, a...)) }

// end runs the cleanups, last first, as testing does.
func (r *recordingTB) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestExpectTTLs(t *testing.T) {
	t.Parallel()
	s := redistest.New(t)
	p := s.Prefix(t)
	c := s.Client(t)
	ctx := context.Background()
	require.NoError(t, c.Set(ctx, p+":expiring", "v", time.Hour).Err())

	rec := &recordingTB{TB: t}
	s.ExpectTTLs(rec, p)
	rec.end()
	assert.Emptyf(t, rec.errors, "ExpectTTLs with every key expiring reported %q; want nothing", rec.errors)

	require.NoError(t, c.Set(ctx, p+":forever", "v", 0).Err())
	rec = &recordingTB{TB: t}
	s.ExpectTTLs(rec, p)
	rec.end()
	if assert.Lenf(t, rec.errors, 1, "ExpectTTLs with a key without TTL reported %q; want one error", rec.errors) {
		assert.Containsf(t, rec.errors[0], p+":forever", "ExpectTTLs error = %q; want it to name the key", rec.errors[0])
	}
}

func TestStartReplica(t *testing.T) {
	t.Parallel()
	m := redistest.Start(t)
	r := m.StartReplica(t)
	c := m.Client(t)
	ctx := context.Background()
	require.NoError(t, c.HSet(ctx, "h", "b", "2", "a", "1").Err(), "HSET")
	require.NoError(t, c.RPush(ctx, "l", "x", "y").Err(), "RPUSH")
	require.NoError(t, c.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "m"}).Err(), "ZADD")
	// WAIT: the replica has every write of this connection.
	n, err := c.Do(ctx, "WAIT", 1, 5000).Int()
	require.NoError(t, err, "WAIT 1")
	require.Equalf(t, 1, n, "WAIT 1 = %d; want 1", n)
	want := map[string]string{
		"h": `hash ["a=1" "b=2"]`,
		"l": `list ["x" "y"]`,
		"z": `zset [{1 m}]`,
	}
	assert.Equal(t, want, m.Dump(t, "*"), "Dump of the master")
	assert.Equal(t, want, r.Dump(t, "*"), "Dump of the replica")

	r.Stop(t)
	n, err = c.Do(ctx, "WAIT", 1, 50).Int()
	require.NoError(t, err, "WAIT 1 with the replica stopped")
	assert.Zerof(t, n, "WAIT 1 with the replica stopped = %d; want 0", n)
}

func TestKill(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	c := s.Client(t)
	s.Kill(t)
	require.Error(t, c.Ping(context.Background()).Err(), "PING after Kill succeeded; want an error")
	s.Restart(t)
	assert.NoError(t, c.Ping(context.Background()).Err(), "PING after Restart")
}
