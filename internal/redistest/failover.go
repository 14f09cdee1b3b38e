package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Shard returns the master that serves key now and its replica, as they
// see themselves (CLUSTER NODES of each node, for its own slots; ROLE of
// the master, for its replicas), failing tb if no master answers for the
// key's slot or if it has no replica.
func (c *Cluster) Shard(tb testing.TB, key string) (master, replica *Server) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	_, slot, err := c.layout(ctx, key)
	if err != nil {
		tb.Fatalf("redistest: the shard of %q: %v", key, err)
	}
	for _, s := range c.Nodes {
		nodes, _, err := layoutOf(ctx, s.Addr, "")
		if err != nil {
			continue // a node that is down serves nothing
		}
		for _, n := range nodes {
			if n.myself && n.master && n.serves(slot) {
				master = s
			}
		}
	}
	if master == nil {
		tb.Fatalf("redistest: no master serves slot %d of %q", slot, key)
	}
	return master, c.replicaOf(tb, ctx, master)
}

// replicaOf returns the first replica that master lists in ROLE, failing
// tb if it lists none.
func (c *Cluster) replicaOf(tb testing.TB, ctx context.Context, master *Server) *Server {
	tb.Helper()
	rc := redis.NewClient(&redis.Options{Addr: master.Addr, MaxRetries: -1, PoolSize: 1})
	defer rc.Close()
	role, err := rc.Do(ctx, "ROLE").Slice()
	if err != nil || len(role) < 3 || role[0] != "master" {
		tb.Fatalf("redistest: ROLE of %s = %v, %v; want a master's", master.Addr, role, err)
	}
	// ["master", offset, [[ip, port, offset]...]]
	replicas, _ := role[2].([]any)
	for _, r := range replicas {
		if f, ok := r.([]any); ok && len(f) >= 2 {
			if s := c.node(fmt.Sprintf("%v:%v", f[0], f[1])); s != nil {
				return s
			}
		}
	}
	tb.Fatalf("redistest: %s has no replica (ROLE %v)", master.Addr, role)
	return nil
}

// Failover waits until every node knows every other's role (see
// [Cluster.Rejoin]), kills master with SIGKILL (a crash: what it has not yet sent to
// its replica is lost) and makes its replica take over at once with
// CLUSTER FAILOVER FORCE, rather than after the cluster's node timeout
// (15 s by default, during which the cluster refuses every command), then
// waits until every node still running sees the replica as the master of
// the slots. It returns the new master. The killed node stays down until
// [Cluster.Rejoin]; meanwhile its shard has no replica.
func (c *Cluster) Failover(tb testing.TB, master *Server) *Server {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	replica := c.replicaOf(tb, ctx, master)
	if err := c.converge(ctx); err != nil {
		tb.Fatalf("redistest: failover of %s: %v", master.Addr, err)
	}
	master.Kill(tb)
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr, MaxRetries: -1})
	defer rc.Close()
	// A manual failover that gets no votes gives up after 5 s: ask again.
	var asked time.Time
	for {
		if time.Since(asked) > 5*time.Second {
			if err := rc.Do(ctx, "CLUSTER", "FAILOVER", "FORCE").Err(); err != nil {
				tb.Fatalf("redistest: CLUSTER FAILOVER FORCE on %s: %v", replica.Addr, err)
			}
			asked = time.Now()
		}
		last := c.promoted(ctx, master, replica)
		if last == "" {
			return replica
		}
		if ctx.Err() != nil {
			tb.Fatalf("redistest: failover of %s to %s: %s", master.Addr, replica.Addr, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// promoted returns why the nodes other than dead do not all see replica as
// a master with slots yet, or "" when they do.
func (c *Cluster) promoted(ctx context.Context, dead, replica *Server) string {
	for _, s := range c.Nodes {
		if s == dead {
			continue
		}
		nodes, _, err := layoutOf(ctx, s.Addr, "")
		if err != nil {
			return fmt.Sprintf("%s: %v", s.Addr, err)
		}
		for _, n := range nodes {
			if n.addr == c.announced(replica) && (!n.master || len(n.slots) == 0) {
				return fmt.Sprintf("%s does not see %s as a master with slots yet", s.Addr, replica.Addr)
			}
		}
	}
	return ""
}

// Rejoin starts a node that [Cluster.Failover] killed again, on the same
// port and cluster configuration: it finds its slots taken and becomes a
// replica of the node that took them. Rejoin waits until the cluster is
// whole again (three masters, each with its replica linked) and every
// node knows it.
func (c *Cluster) Rejoin(tb testing.TB, node *Server) {
	tb.Helper()
	node.Restart(tb)
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if err := c.wait(ctx); err != nil {
		tb.Fatalf("redistest: rejoining %s: %v", node.Addr, err)
	}
	if err := c.converge(ctx); err != nil {
		tb.Fatalf("redistest: rejoining %s: %v", node.Addr, err)
	}
}

// converge returns when every node sees each other node in the role it
// has (CLUSTER NODES). A node learns that another became a replica from
// the gossip only, seconds later, and until then refuses that replica its
// vote in a failover (it takes it for a master); so converge has each node
// that is seen in the wrong role introduce itself again to the node that
// sees it so (CLUSTER MEET, whose header carries its role).
func (c *Cluster) converge(ctx context.Context) error {
	for {
		views := map[string][]clusterNode{} // addr → its CLUSTER NODES
		var last string
		for _, s := range c.Nodes {
			nodes, _, err := layoutOf(ctx, s.Addr, "")
			if err != nil {
				last = fmt.Sprintf("%s: %v", s.Addr, err)
				break
			}
			views[s.Addr] = nodes
		}
		if last == "" {
			last = c.nudge(ctx, views)
		}
		if last == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster views differ: %s", last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// nudge compares the views of the nodes with each node's view of itself,
// sends CLUSTER MEET from each node seen in the wrong role to the node that
// sees it so, and returns the last difference, or "" if there is none.
func (c *Cluster) nudge(ctx context.Context, views map[string][]clusterNode) string {
	self := map[string]clusterNode{} // by the address the cluster knows
	bus := map[string]string{}       // a node's own address → its bus port
	for addr, nodes := range views {
		for _, n := range nodes {
			if n.myself {
				self[n.addr] = n
				bus[addr] = n.bus
			}
		}
	}
	var last string
	for viewer, nodes := range views {
		for _, n := range nodes {
			own, ok := self[n.addr]
			if !ok || own.master == n.master {
				continue
			}
			last = fmt.Sprintf("%s takes %s for a %s", viewer, n.addr, map[bool]string{true: "master", false: "replica"}[n.master])
			if seen := c.node(n.addr); seen != nil {
				host, port, _ := strings.Cut(viewer, ":")
				rc := redis.NewClient(&redis.Options{Addr: seen.Addr, MaxRetries: -1, PoolSize: 1})
				rc.Do(ctx, "CLUSTER", "MEET", host, port, bus[viewer]) // the gossip would tell it anyway
				rc.Close()
			}
		}
	}
	return last
}

// node returns the node of c at addr, its own address or the one the
// cluster knows it by, or nil.
func (c *Cluster) node(addr string) *Server {
	for _, s := range c.Nodes {
		if s.Addr == addr || c.announced(s) == addr {
			return s
		}
	}
	return nil
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, addr, masterID string
	bus                string // the cluster bus port
	master, myself     bool
	slots              [][2]int // ranges, inclusive
}

func (n clusterNode) serves(slot int) bool {
	for _, r := range n.slots {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

// layout asks the first node of c that answers for CLUSTER NODES and, if
// key is not "", for key's slot.
func (c *Cluster) layout(ctx context.Context, key string) ([]clusterNode, int, error) {
	var err error
	for _, s := range c.Nodes {
		var nodes []clusterNode
		var slot int
		if nodes, slot, err = layoutOf(ctx, s.Addr, key); err == nil {
			return nodes, slot, nil
		}
	}
	return nil, 0, err
}

// layoutOf asks the node at addr for CLUSTER NODES and, if key is not "",
// for key's slot.
func layoutOf(ctx context.Context, addr, key string) ([]clusterNode, int, error) {
	rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1})
	defer rc.Close()
	slot := -1
	if key != "" {
		n, err := rc.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			return nil, 0, err
		}
		slot = int(n)
	}
	text, err := rc.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, 0, err
	}
	var nodes []clusterNode
	for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		// <id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, 0, fmt.Errorf("CLUSTER NODES line %q", line)
		}
		addr, bus, _ := strings.Cut(f[1], "@")
		bus, _, _ = strings.Cut(bus, ",") // after the port: ",<hostname>"
		flags := strings.Split(f[2], ",")
		n := clusterNode{id: f[0], addr: addr, bus: bus, masterID: f[3]}
		for _, fl := range flags {
			switch fl {
			case "master":
				n.master = true
			case "myself":
				n.myself = true
			}
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue // a slot being migrated
			}
			lo, hi, ok := strings.Cut(r, "-")
			if !ok {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil {
				return nil, 0, fmt.Errorf("CLUSTER NODES slots %q", r)
			}
			n.slots = append(n.slots, [2]int{a, b})
		}
		nodes = append(nodes, n)
	}
	return nodes, slot, nil
}
