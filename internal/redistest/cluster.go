package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterTimeout bounds how long a new cluster may take to serve every slot
// with every replica attached.
const clusterTimeout = 60 * time.Second

// A Cluster is a Redis Cluster of three masters, each with one replica,
// started by this package (see [StartReplicatedCluster] and
// [SharedCluster]) from Debian's redis-server on free loopback ports.
//
// Its methods are safe for concurrent use.
type Cluster struct {
	// Nodes are the six nodes, in the order they were given to
	// redis-cli --cluster create.
	Nodes []*Server

	links []*link // of StartProxiedCluster: the link of each node
}

// StartReplicatedCluster starts a Redis Cluster of three masters and three
// replicas, waits until every slot is served and every replica is attached,
// and stops it when tb ends.
//
// If redis-server or redis-cli is not installed, it skips tb, or fails it
// when the environment variable CI is "true".
func StartReplicatedCluster(tb testing.TB) *Cluster {
	tb.Helper()
	server, cli := Binary(tb), need(tb, "redis-cli")
	c, err := startCluster(server, cli, tb.TempDir(), false)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(c.stop)
	return c
}

// StartProxiedCluster starts a cluster as [StartReplicatedCluster] does,
// but with each node announced at a proxy of its own in the test process,
// which every connection to the node then goes through (clients learn the
// address from the cluster, and replicas connect to their master at it),
// so that [Cluster.SetReplicationLag] can hold back what a master sends
// its replica, and what a killed master has sent but its proxy has not
// delivered is lost, as with a crashed host. [Server.Addr] stays the
// node's own address.
func StartProxiedCluster(tb testing.TB) *Cluster {
	tb.Helper()
	server, cli := Binary(tb), need(tb, "redis-cli")
	c, err := startCluster(server, cli, tb.TempDir(), true)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(c.stop)
	return c
}

// SetReplicationLag makes the proxy of master (see [StartProxiedCluster])
// deliver what master sends its replicas d late, from now on, as a slow
// network would: the replicas fall d behind. It fails tb on a cluster
// without proxies.
func (c *Cluster) SetReplicationLag(tb testing.TB, master *Server, d time.Duration) {
	tb.Helper()
	for i, s := range c.Nodes {
		if s == master && c.links != nil {
			c.links[i].lag.Store(int64(d))
			return
		}
	}
	tb.Fatalf("redistest: SetReplicationLag: %s is not a node of a proxied cluster", master.Addr)
}

// announced returns the address the cluster knows s by: its proxy's, or
// its own.
func (c *Cluster) announced(s *Server) string {
	for i, n := range c.Nodes {
		if n == s && c.links != nil {
			return c.links[i].addr()
		}
	}
	return s.Addr
}

// A SharedCluster starts one [Cluster] for all the tests of a package, on
// the first call of [SharedCluster.Get], so that they pay for its start-up
// once. Its zero value is ready to use; it is safe for concurrent use. The
// package's TestMain must call [SharedCluster.Close] after m.Run, or the
// cluster's processes outlive the test binary:
//
//	var cluster redistest.SharedCluster
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		cluster.Close()
//		os.Exit(code)
//	}
type SharedCluster struct {
	once sync.Once
	dir  string
	c    *Cluster
	err  error
}

// Get returns the shared cluster, starting it on the first call. Tests
// share its keyspace, so they use [Cluster.Prefix] for their keys.
//
// If redis-server or redis-cli is not installed, it skips tb, or fails it
// when the environment variable CI is "true"; if the cluster did not
// start, it fails tb.
func (s *SharedCluster) Get(tb testing.TB) *Cluster {
	tb.Helper()
	server, cli := Binary(tb), need(tb, "redis-cli")
	s.once.Do(func() {
		if s.dir, s.err = os.MkdirTemp("", "redistest-cluster-"); s.err == nil {
			s.c, s.err = startCluster(server, cli, s.dir, false)
		}
	})
	if s.err != nil {
		tb.Fatalf("redistest: shared cluster: %v", s.err)
	}
	return s.c
}

// Close stops the shared cluster, if it was started, and removes its files.
func (s *SharedCluster) Close() {
	s.once.Do(func() {}) // no Get from now on starts one
	if s.c != nil {
		s.c.stop()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// startCluster starts six nodes under dir and joins them into a cluster
// with redis-cli, trying again from scratch if that fails (a port taken
// by another process between probing and binding, say).
func startCluster(server, cli, dir string, proxied bool) (*Cluster, error) {
	var err error
	for i := range 3 {
		var c *Cluster
		if c, err = tryCluster(server, cli, filepath.Join(dir, strconv.Itoa(i)), proxied); err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("starting a 3×2 cluster: %w", err)
}

func tryCluster(server, cli, dir string, proxied bool) (c *Cluster, err error) {
	c = &Cluster{}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	create := []string{"--cluster", "create"}
	for range 6 {
		var l *link
		var announce []string
		if proxied {
			if l, err = newLink(); err != nil {
				return nil, err
			}
			c.links = append(c.links, l)
			announce = []string{"--cluster-announce-port", strconv.Itoa(l.port())}
		}
		s, err := startNode(server, dir, announce...)
		if err != nil {
			return nil, err
		}
		if l != nil {
			l.target.Store(&s.Addr)
		}
		c.Nodes = append(c.Nodes, s)
		create = append(create, s.Addr)
	}
	create = append(create, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, create...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("redis-cli --cluster create: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return c, c.wait(ctx)
}

// startNode starts one cluster node with a cluster bus port and a cluster
// config file of its own. The bus port is chosen apart from the client port
// (the default, port+10000, may be out of range or taken).
func startNode(server, dir string, args ...string) (*Server, error) {
	var err error
	for range 5 {
		var bus int
		if bus, err = freePort(); err != nil {
			return nil, err
		}
		var s *Server
		s, err = startOwn(server, dir, append([]string{
			"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", "nodes-" + strconv.Itoa(bus) + ".conf",
			// A replica's first sync starts at once, not after 5s.
			"--repl-diskless-sync-delay", "0",
		}, args...))
		if err == nil {
			return s, nil
		}
	}
	return nil, err
}

// wait returns when every node reports a healthy cluster that serves all
// 16384 slots and knows all six nodes, three masters each have their
// replica, each replica's link to its master is up, and each replica
// acknowledges its master's writes.
func (c *Cluster) wait(ctx context.Context) error {
	var last string
	for {
		if last = c.notReady(ctx); last == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready: %s", last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// notReady returns why the cluster is not ready yet, or "" when it is.
func (c *Cluster) notReady(ctx context.Context) string {
	masters := 0
	for _, s := range c.Nodes {
		rc := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		info, err := rc.ClusterInfo(ctx).Result()
		var repl string
		if err == nil {
			repl, err = rc.Info(ctx, "replication").Result()
		}
		rc.Close()
		if err != nil {
			return fmt.Sprintf("%s: %v", s.Addr, err)
		}
		for _, want := range []string{"cluster_state:ok", "cluster_slots_ok:16384", "cluster_known_nodes:6"} {
			if !hasLine(info, want) {
				return fmt.Sprintf("%s: no %q in CLUSTER INFO", s.Addr, want)
			}
		}
		switch {
		case hasLine(repl, "role:master"):
			if !hasLine(repl, "connected_slaves:1") {
				return fmt.Sprintf("%s: master without its replica", s.Addr)
			}
			masters++
		case !hasLine(repl, "master_link_status:up"):
			return fmt.Sprintf("%s: replica not linked to its master", s.Addr)
		}
	}
	if masters != 3 {
		return fmt.Sprintf("%d masters; want 3", masters)
	}
	return c.settled(ctx)
}

// settled returns "" once the replica of each master acknowledges its
// writes (see settle), or why not.
func (c *Cluster) settled(ctx context.Context) string {
	for _, s := range c.Nodes {
		nodes, _, err := layoutOf(ctx, s.Addr, "")
		if err != nil {
			return fmt.Sprintf("%s: %v", s.Addr, err)
		}
		for _, n := range nodes {
			if !n.myself || !n.master {
				continue
			}
			key, err := keyIn(ctx, s.Addr, n)
			if err == nil {
				wctx, cancel := context.WithTimeout(ctx, time.Second)
				err = settle(wctx, s.Addr, key)
				cancel()
			}
			if err != nil {
				return fmt.Sprintf("%s: %v", s.Addr, err)
			}
		}
	}
	return ""
}

// keyIn returns a key of a slot that node, a master whose address is
// addr, serves.
func keyIn(ctx context.Context, addr string, node clusterNode) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1})
	defer c.Close()
	for i := range 10000 {
		key := "redistest-settle-" + strconv.Itoa(i)
		slot, err := c.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			return "", err
		}
		if node.serves(int(slot)) {
			return key, nil
		}
	}
	return "", fmt.Errorf("no key of %s's slots", addr)
}

// hasLine reports whether the INFO-style text holds line.
func hasLine(text, line string) bool {
	for l := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

func (c *Cluster) stop() {
	var wg sync.WaitGroup
	for _, s := range c.Nodes {
		wg.Go(s.stop)
	}
	wg.Wait()
	for _, l := range c.links {
		l.close()
	}
}

// ClusterClient returns a new go-redis cluster client that knows every
// node, closed when tb ends.
func (c *Cluster) ClusterClient(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	addrs := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		addrs[i] = s.Addr
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	tb.Cleanup(func() { cc.Close() })
	return cc
}

// Masters returns the nodes that are masters now, failing tb if a node
// does not answer.
func (c *Cluster) Masters(tb testing.TB) []*Server {
	tb.Helper()
	var out []*Server
	for _, s := range c.Nodes {
		rc := redis.NewClient(&redis.Options{Addr: s.Addr})
		role, err := rc.Do(context.Background(), "ROLE").Slice()
		rc.Close()
		if err != nil || len(role) == 0 {
			tb.Fatalf("redistest: ROLE on %s = %v, %v", s.Addr, role, err)
		}
		if role[0] == "master" {
			out = append(out, s)
		}
	}
	return out
}

// Prefix returns a new key prefix unique to this call ("amtest-<hex>"), so
// that tests sharing the cluster never see each other's keys. The keys
// stay until the cluster stops.
func (c *Cluster) Prefix(tb testing.TB) string {
	tb.Helper()
	return newPrefix(tb)
}

// Keys returns the keys of every master that match pattern, failing tb if
// a master does not answer.
func (c *Cluster) Keys(tb testing.TB, pattern string) []string {
	tb.Helper()
	var out []string
	for _, s := range c.Masters(tb) {
		out = append(out, s.Keys(tb, pattern)...)
	}
	return out
}

// ExpectTTLs makes tb fail, when it ends, if a key under prefix on any
// master has no TTL, as [Server.ExpectTTLs] does on one server.
func (c *Cluster) ExpectTTLs(tb testing.TB, prefix string) {
	tb.Helper()
	tb.Cleanup(func() {
		for _, s := range c.Masters(tb) {
			rc := redis.NewClient(&redis.Options{Addr: s.Addr})
			checkTTLs(tb, rc, prefix)
			rc.Close()
		}
	})
}

var (
	_ Keyspace = (*Server)(nil)
	_ Keyspace = (*Cluster)(nil)
)
