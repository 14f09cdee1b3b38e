package redistest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartReplica starts a new redis-server of its own that replicates s
// (--replicaof), waits until its link to s is up and it acknowledges the
// writes of s (WAIT 1 counts it), and stops it when tb ends. s may be any server,
// shared or not.
//
// If redis-server is not installed, StartReplica skips tb, or fails it
// when the environment variable CI is "true".
func (s *Server) StartReplica(tb testing.TB) *Server {
	tb.Helper()
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// The first sync at once, not after the default 5 s.
	mc := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, PoolSize: 1})
	err = mc.ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err()
	mc.Close()
	if err != nil {
		tb.Fatalf("redistest: CONFIG SET on %s: %v", s.Addr, err)
	}
	r := Start(tb, "--replicaof", host, port)
	for {
		info, err := infoOf(ctx, r.Addr, "replication")
		if err == nil && hasLine(info, "master_link_status:up") {
			break
		}
		if ctx.Err() != nil {
			tb.Fatalf("redistest: replica %s of %s not linked: %v (INFO %q)", r.Addr, s.Addr, err, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := settle(ctx, s.Addr, "redistest-settle"); err != nil {
		tb.Fatalf("redistest: replica %s of %s: %v", r.Addr, s.Addr, err)
	}
	return r
}

// settle returns once the replicas of the master at addr acknowledge its
// writes (WAIT), writing key (which expires at once) until they do. A new
// replica's link is up before the master counts it: the master streams
// to it only after its first acknowledgement, which a replica sends once a
// second.
func settle(ctx context.Context, addr, key string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1})
	defer c.Close()
	for {
		var wait *redis.Cmd
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, "1", time.Millisecond)
			wait = p.Do(ctx, "WAIT", 1, 100)
			return nil
		})
		if err != nil {
			return fmt.Errorf("WAIT on %s: %w", addr, err)
		}
		if n, _ := wait.Int(); n >= 1 {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("no replica of %s acknowledges its writes", addr)
		}
	}
}

// Kill kills a server started by this package with SIGKILL, as a crash
// would: it writes nothing more, not even to its replicas, and its
// connections drop. [Server.Restart] starts it again.
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	s.signal(tb, syscall.SIGKILL)
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	<-done
}

// Dump returns the contents of the keys of s that match pattern, each as
// one string (a hash's fields, a list's elements, a sorted set's members
// and scores, in a canonical order), so that a test can compare a replica
// with its master. It reads a cluster replica too (READONLY). TTLs are
// left out. It fails tb if s does not answer.
func (s *Server) Dump(tb testing.TB, pattern string) map[string]string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	info, err := infoOf(ctx, s.Addr, "cluster")
	if err != nil {
		tb.Fatalf("redistest: INFO cluster on %s: %v", s.Addr, err)
	}
	opt := &redis.Options{Addr: s.Addr, PoolSize: 1}
	if hasLine(info, "cluster_enabled:1") {
		opt.OnConnect = func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() }
	}
	c := redis.NewClient(opt)
	defer c.Close()
	keys, err := scanKeys(ctx, c, pattern)
	if err != nil {
		tb.Fatalf("redistest: SCAN %q on %s: %v", pattern, s.Addr, err)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		v, err := dumpKey(ctx, c, k)
		if err != nil {
			tb.Fatalf("redistest: reading %q on %s: %v", k, s.Addr, err)
		}
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// dumpKey returns the contents of key as one string, or "" if it is gone.
func dumpKey(ctx context.Context, c *redis.Client, key string) (string, error) {
	typ, err := c.Type(ctx, key).Result()
	if err != nil {
		return "", err
	}
	switch typ {
	case "none":
		return "", nil
	case "string":
		v, err := c.Get(ctx, key).Result()
		return "string " + v, err
	case "hash":
		m, err := c.HGetAll(ctx, key).Result()
		fields := make([]string, 0, len(m))
		for f, v := range m {
			fields = append(fields, f+"="+v)
		}
		slices.Sort(fields)
		return fmt.Sprintf("hash %q", fields), err
	case "list":
		l, err := c.LRange(ctx, key, 0, -1).Result()
		return fmt.Sprintf("list %q", l), err
	case "set":
		m, err := c.SMembers(ctx, key).Result()
		slices.Sort(m)
		return fmt.Sprintf("set %q", m), err
	case "zset":
		z, err := c.ZRangeWithScores(ctx, key, 0, -1).Result()
		return fmt.Sprintf("zset %v", z), err
	}
	return "", fmt.Errorf("type %s not read", typ)
}

// infoOf returns the INFO section of the server at addr, asked with a
// client of its own that does not retry.
func infoOf(ctx context.Context, addr, section string) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1})
	defer c.Close()
	return c.Info(ctx, section).Result()
}
