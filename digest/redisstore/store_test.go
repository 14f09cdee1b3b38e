package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/digest/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/internal/storetest"
)

// newStore returns a Store on client with a key prefix of its own, so that
// tests sharing a server never meet. When the test ends it checks that
// every key the store left has a TTL.
func newStore(t *testing.T, srv redistest.Keyspace, client redis.Scripter) *redisstore.Store {
	t.Helper()
	prefix := srv.Prefix(t)
	s, err := redisstore.New(redisstore.Config{Client: client, Prefix: prefix})
	require.NoError(t, err, "redisstore.New")
	srv.ExpectTTLs(t, prefix)
	return s
}

func TestStoreConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	storetest.DigestStore(t, func(t *testing.T) digest.Store { return newStore(t, srv, client) })
}

// On a Redis Cluster every script must keep to one hash slot: the suite
// passes there too, through a cluster client.
func TestStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.StartCluster(t)
	client := srv.ClusterClient(t)
	storetest.DigestStore(t, func(t *testing.T) digest.Store { return newStore(t, srv, client) })
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { rdb.Close() })
	tests := []struct {
		name    string
		cfg     redisstore.Config
		wantErr string // substring; "" means success
	}{
		{"zero but the client", redisstore.Config{Client: rdb}, ""},
		{"no client", redisstore.Config{}, "Config.Client is nil"},
		{"prefix with a brace", redisstore.Config{Client: rdb, Prefix: "a{b"}, "invalid prefix"},
		{"prefix too long", redisstore.Config{Client: rdb, Prefix: strings.Repeat("p", 65)}, "longer than 64"},
		{"negative TTL", redisstore.Config{Client: rdb, TTL: -1}, "Config.TTL"},
		{"sub-millisecond TTL", redisstore.Config{Client: rdb, TTL: time.Microsecond}, "Config.TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := redisstore.New(tt.cfg)
			if tt.wantErr == "" {
				require.NoErrorf(t, err, "New(%+v)", tt.cfg)
				assert.NotNilf(t, st, "New(%+v) = nil; want a store", tt.cfg)
				return
			}
			require.Errorf(t, err, "New(%+v); want an error containing %q", tt.cfg, tt.wantErr)
			assert.Containsf(t, err.Error(), tt.wantErr, "New(%+v) error = %v; want one containing %q", tt.cfg, err, tt.wantErr)
			assert.Truef(t, strings.HasPrefix(err.Error(), "redisstore: "), "error %q lacks the package prefix", err)
		})
	}
	_, err := redisstore.New(redisstore.Config{})
	assert.ErrorIsf(t, err, redisstore.ErrNoClient, "New(Config{}) = %v; want ErrNoClient", err)
}

// TestRedisDown checks that every operation of the store fails with an
// *OpError, wrapping the client's error, when Redis is down.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	ds, err := redisstore.New(redisstore.Config{Client: client, Prefix: "down"})
	require.NoError(t, err)
	srv.Stop(t)
	var ctx context.Context // each operation's, set by its subtest
	now := time.Now()
	ops := map[string]func() error{
		"digest append": func() error {
			return ds.Append(ctx, "acme", []digest.Item{{Tenant: "acme", Time: now}})
		},
		"digest pending": func() error { _, _, err := ds.Pending(ctx, "acme"); return err },
		"digest reported": func() error {
			_, err := ds.Reported(ctx, "acme", []digest.ItemKey{digest.ItemKeyOf("h", "f")}, now)
			return err
		},
		"digest claim": func() error {
			_, err := ds.Claim(ctx, "acme", digest.Claim{Day: digest.DayOf(now), Token: "t", Now: now, Until: now.Add(time.Minute)})
			return err
		},
		"digest commit": func() error {
			return ds.Commit(ctx, "acme", digest.Commit{Day: digest.DayOf(now), Token: "t", Now: now})
		},
		"digest release": func() error { return ds.Release(ctx, "acme", "t") },
	}
	for op, call := range ops {
		t.Run(op, func(t *testing.T) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := call()
			oe, ok := errors.AsType[*redisstore.OpError](err)
			require.Truef(t, ok, "%s with Redis down = %v; want an *OpError", op, err)
			assert.Equalf(t, op, oe.Op, "%s with Redis down: OpError.Op = %q; want %q", op, oe.Op, op)
			assert.Errorf(t, errors.Unwrap(oe), "%s with Redis down: the OpError wraps no client error", op)
			assert.Truef(t, strings.HasPrefix(err.Error(), "redisstore: "+op+": "), "%s with Redis down = %q; want the prefix %q", op, err, "redisstore: "+op+": ")
		})
	}
}
