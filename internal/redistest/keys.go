package redistest

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Keys returns the keys of the server that match pattern (SCAN), failing
// tb if the server does not answer.
func (s *Server) Keys(tb testing.TB, pattern string) []string {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	var out []string
	ctx := context.Background()
	iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		out = append(out, iter.Val())
	}
	if err := iter.Err(); err != nil {
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
	})
}
