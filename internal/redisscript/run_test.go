package redisscript_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/internal/rediskey"
	"github.com/alertmail/alertmail/internal/redisscript"
	"github.com/alertmail/alertmail/internal/redistest"
)

func TestConnect(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { rdb.Close() })
	_, err := redisscript.Connect(nil, "")
	assert.ErrorIsf(t, err, redisscript.ErrNoClient, "Connect(nil, \"\") = %v; want ErrNoClient", err)
	_, err = redisscript.Connect(rdb, "a*")
	assert.ErrorIsf(t, err, rediskey.ErrInvalidKey, "Connect(client, %q) = %v; want ErrInvalidKey", "a*", err)
	c, err := redisscript.Connect(rdb, "")
	require.NoError(t, err, "Connect(client, \"\")")
	base, err := c.Keys.Tenant("acme")
	require.NoError(t, err)
	assert.Equalf(t, rediskey.DefaultPrefix+":{acme}", base, "Keys.Tenant(%q) = %q; want the default prefix", "acme", base)
}

func TestTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d, want time.Duration
		wantErr string
	}{
		{0, time.Hour, ""},
		{time.Minute, time.Minute, ""},
		{time.Millisecond, time.Millisecond, ""},
		{time.Microsecond, 0, "redisstore: Config.PendingTTL 1µs is less than a millisecond"},
		{-time.Hour, 0, "redisstore: Config.PendingTTL -1h0m0s is less than a millisecond"},
	}
	for _, tt := range tests {
		got, err := redisscript.TTL("PendingTTL", tt.d, time.Hour)
		if tt.wantErr != "" {
			assert.EqualErrorf(t, err, tt.wantErr, "TTL(%v)", tt.d)
			continue
		}
		if assert.NoErrorf(t, err, "TTL(%v)", tt.d) {
			assert.Equalf(t, tt.want, got, "TTL(%v) = %v; want %v", tt.d, got, tt.want)
		}
	}
}

// TestRun runs a script on a server that does not have it (EVALSHA, then
// EVAL), again (EVALSHA), and on a server that is down (an *OpError).
func TestRun(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c, err := redisscript.Connect(srv.Client(t), "")
	require.NoError(t, err)
	script := redis.NewScript("return {KEYS[1], tonumber(ARGV[1]) + 1}")
	ctx := context.Background()
	for i := range 2 {
		r, err := c.Run(ctx, "test op", script, []string{"k"}, 41)
		require.NoErrorf(t, err, "Run %d", i)
		a, err := r.Array(2)
		require.NoErrorf(t, err, "Run %d", i)
		key, n := a.Text(0, "the key"), a.Int(1, "the answer")
		require.NoError(t, a.Err())
		assert.Truef(t, key == "k" && n == 42, "Run %d = %q, %d; want %q, 42", i, key, n, "k")
	}
	srv.Stop(t)
	_, err = c.Run(ctx, "test op", script, []string{"k"}, 41)
	oe, ok := errors.AsType[*redisscript.OpError](err)
	require.Truef(t, ok, "Run with the server down = %v; want an *OpError", err)
	assert.Equalf(t, "test op", oe.Op, "OpError.Op = %q; want %q", oe.Op, "test op")
	assert.Errorf(t, oe.Unwrap(), "the OpError wraps no client error")
}
