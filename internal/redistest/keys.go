package redistest

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

// A Keyspace is where a test's store keeps its keys: a [Server] or a
// [Cluster]. Store tests take one so that the same test runs on both.
type Keyspace interface {
	// Prefix returns a new key prefix unique to this call.
	Prefix(tb testing.TB) string
	// Keys returns the keys that match pattern.
	Keys(tb testing.TB, pattern string) []string
	// ExpectTTLs makes tb fail, when it ends, if a key under prefix has
	// no TTL.
	ExpectTTLs(tb testing.TB, prefix string)
}

// Keys returns the keys of the server that match pattern (SCAN), failing
// tb if the server does not answer.
func (s *Server) Keys(tb testing.TB, pattern string) []string {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	out, err := scanKeys(context.Background(), c, pattern)
	if err != nil {
		tb.Fatalf("redistest: SCAN %q: %v", pattern, err)
	}
	return out
}

// ExpectTTLs makes tb fail, when it ends, if a key under prefix has no
// TTL: nothing the SDK's stores write may live forever. Call it after
// [Server.Prefix], so that the check runs before the prefix's keys are
// deleted.
func (s *Server) ExpectTTLs(tb testing.TB, prefix string) {
	tb.Helper()
	tb.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: s.Addr})
		defer c.Close()
		checkTTLs(tb, c, prefix)
	})
}

// scanKeys returns the keys of c's server that match pattern.
func scanKeys(ctx context.Context, c *redis.Client, pattern string) ([]string, error) {
	var out []string
	iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		out = append(out, iter.Val())
	}
	return out, iter.Err()
}

// checkTTLs fails tb for each key under prefix on c's server that has no
// TTL.
func checkTTLs(tb testing.TB, c *redis.Client, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		ttl, err := c.PTTL(ctx, iter.Val()).Result()
		if err != nil {
			tb.Errorf("redistest: PTTL %q: %v", iter.Val(), err)
			continue
		}
		if ttl < 0 {
			tb.Errorf("redistest: key %q has no TTL (PTTL = %v)", iter.Val(), ttl)
		}
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("redistest: SCAN: %v", err)
	}
}
