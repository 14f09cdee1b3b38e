package redisstore_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/redisstore"
)

// newStore returns a Store on client with a key prefix of its own, so that
// tests sharing a server never meet. When the test ends it checks that
// every key the store left has a TTL.
func newStore(t *testing.T, srv *redistest.Server, client redis.Scripter) *redisstore.Store {
	t.Helper()
	s, _ := newPrefixedStore(t, srv, client)
	return s
}

// newPrefixedStore is newStore that also returns the store's key prefix,
// for tests that look at the keys themselves: a pattern without the prefix
// would match the keys of other tests sharing the server.
func newPrefixedStore(t *testing.T, srv *redistest.Server, client redis.Scripter) (*redisstore.Store, string) {
	t.Helper()
	prefix := srv.Prefix(t)
	s, err := redisstore.New(redisstore.Config{Client: client, Prefix: prefix})
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	t.Cleanup(func() { checkTTLs(t, srv, prefix) })
	return s, prefix
}

// checkTTLs fails t if a key under prefix has no TTL: nothing the stores
// write may live forever.
func checkTTLs(t *testing.T, srv *redistest.Server, prefix string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		ttl, err := c.PTTL(ctx, iter.Val()).Result()
		if err != nil {
			t.Errorf("PTTL %q: %v", iter.Val(), err)
			continue
		}
		if ttl < 0 {
			t.Errorf("key %q has no TTL (PTTL = %v)", iter.Val(), ttl)
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("SCAN: %v", err)
	}
}

// keys returns the keys under prefix.
func keys(t *testing.T, c *redis.Client, pattern string) []string {
	t.Helper()
	var out []string
	ctx := context.Background()
	iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		out = append(out, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN %q: %v", pattern, err)
	}
	return out
}
