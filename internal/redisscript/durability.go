package redisscript

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultWaitTimeout is how long a decision waits for its replicas when
// [Durability.Timeout] is zero.
const DefaultWaitTimeout = time.Second

// ErrNotReplicated is wrapped by a *[ReplicationError]: a decision that
// fewer replicas than [Durability.Replicas] acknowledged in time.
var ErrNotReplicated = errors.New("redisstore: decision not replicated")

// A Durability asks a store to wait, after each script whose decision the
// caller acts on outside Redis, until that many replicas of the Redis
// master have it (the WAIT command), so that a failover cannot lose it.
// The zero value waits for none: a decision returns as soon as the master
// has it, and replication is asynchronous.
type Durability struct {
	// Replicas is how many replicas must acknowledge a decision before
	// the store returns it. Default: 0, no wait.
	Replicas int
	// Timeout bounds the wait; the decision is then a
	// *[ReplicationError] if fewer replicas acknowledged it. It must be
	// at least a millisecond (the unit of WAIT) and, the wait being read
	// within the client's ReadTimeout, shorter than that. Default:
	// [DefaultWaitTimeout].
	Timeout time.Duration
}

// A ReplicationError reports a decision that ran on the Redis master but
// that fewer replicas than [Durability.Replicas] acknowledged within
// [Durability.Timeout]: it stands on the master, and a failover before it
// reaches a replica would undo it. It wraps [ErrNotReplicated].
type ReplicationError struct {
	// Op names the store operation ("limiter take", "digest claim").
	Op string
	// Acked is the number of replicas that acknowledged the decision.
	Acked int
	// Want is [Durability.Replicas].
	Want int
	// Timeout is how long the store waited.
	Timeout time.Duration
}

// Error names the operation and the replicas, in the form
// "redisstore: <op>: decision not replicated: 0 of 1 replicas acknowledged
// it within 1s".
func (e *ReplicationError) Error() string {
	return fmt.Sprintf("redisstore: %s: decision not replicated: %d of %d replicas acknowledged it within %v", e.Op, e.Acked, e.Want, e.Timeout)
}

// Unwrap returns [ErrNotReplicated].
func (e *ReplicationError) Unwrap() error { return ErrNotReplicated }

// WithDurability returns c with d applied to its [Conn.Decide], or an error
// naming the field of a store's Config.Durability that is wrong. Waiting
// needs the script and the WAIT on one connection, so d with Replicas set
// needs a Client that is a *redis.Client (a single server, or a Sentinel
// failover client) or a *redis.ClusterClient.
func (c Conn) WithDurability(d Durability) (Conn, error) {
	if d.Replicas < 0 {
		return Conn{}, fmt.Errorf("redisstore: Config.Durability.Replicas %d is negative", d.Replicas)
	}
	if d.Timeout == 0 {
		d.Timeout = DefaultWaitTimeout
	}
	if d.Timeout < time.Millisecond {
		return Conn{}, fmt.Errorf("redisstore: Config.Durability.Timeout %v is less than a millisecond", d.Timeout)
	}
	if d.Replicas == 0 {
		c.durability = Durability{}
		return c, nil
	}
	var read time.Duration
	switch cl := c.client.(type) {
	case *redis.Client:
		read = cl.Options().ReadTimeout
	case *redis.ClusterClient:
		read = cl.Options().ReadTimeout
	default:
		return Conn{}, fmt.Errorf("redisstore: Config.Durability.Replicas %d needs a Config.Client that is a *redis.Client or a *redis.ClusterClient, not %T", d.Replicas, c.client)
	}
	if read > 0 && d.Timeout >= read {
		return Conn{}, fmt.Errorf("redisstore: Config.Durability.Timeout %v is not shorter than the client's ReadTimeout %v", d.Timeout, read)
	}
	c.durability = d
	return c, nil
}

// Decide runs a script whose decision the caller acts on outside Redis (an
// email sent, a digest marked), as [Conn.Run] does. With a [Durability]
// (see [Conn.WithDurability]) it then waits, with WAIT on the same
// connection (WAIT counts the writes of its own connection), until the
// replicas acknowledged the script's writes. When fewer did in time the
// error is a *[ReplicationError] and the Reply is the script's, valid: the
// decision stands on the master, and the caller may need it to undo what
// it can.
//
// On a cluster the script and the WAIT go to the master of keys[0], as
// the cluster client would route the script; a reply that says the slot
// moved (MOVED, ASK, CLUSTERDOWN, TRYAGAIN, a replica's READONLY) or a
// connection that failed makes it learn the cluster's layout again and
// try anew, as often as the client's MaxRedirects allows. The pipeline
// runs on the master's node client, so hooks added to the cluster client
// (ClusterClient.AddHook) do not see it; hooks added to every node
// (ClusterClient.OnNewNode, as redisotel's are) do.
func (c Conn) Decide(ctx context.Context, op string, script *redis.Script, keys []string, args ...any) (Reply, error) {
	if c.durability.Replicas == 0 {
		return c.Run(ctx, op, script, keys, args...)
	}
	switch cl := c.client.(type) {
	case *redis.Client:
		return c.decideOn(ctx, cl, op, script, keys, args)
	case *redis.ClusterClient:
		return c.decideCluster(ctx, cl, op, script, keys, args)
	}
	// WithDurability admits no other client.
	return Reply{}, fmt.Errorf("redisstore: %s: no wait for replicas through a %T", op, c.client)
}

// decideCluster runs Decide on the master of keys[0] of a cluster.
func (c Conn) decideCluster(ctx context.Context, cl *redis.ClusterClient, op string, script *redis.Script, keys []string, args []any) (Reply, error) {
	opt := cl.Options()
	for attempt := 0; ; attempt++ {
		node, err := cl.MasterForKey(ctx, keys[0])
		var r Reply
		if err == nil {
			if r, err = c.decideOn(ctx, node, op, script, keys, args); err == nil || !rerouted(err) {
				return r, err
			}
		} else {
			err = &OpError{Op: op, Err: err}
		}
		if attempt >= opt.MaxRedirects {
			return Reply{}, err
		}
		cl.ReloadState(ctx)
		backoff := min(opt.MinRetryBackoff<<attempt, opt.MaxRetryBackoff)
		select {
		case <-ctx.Done():
			return Reply{}, err
		case <-time.After(backoff):
		}
	}
}

// rerouted reports whether err, of a script run on the master the cluster
// client named for its slot, means that the slot is served elsewhere now
// or that the node is gone.
func rerouted(err error) bool {
	if errors.Is(err, ErrNotReplicated) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if _, ok := redis.IsMovedError(err); ok {
		return true
	}
	if _, ok := redis.IsAskError(err); ok {
		return true
	}
	var reply redis.Error
	if !errors.As(err, &reply) {
		return true // the connection failed: the node may be down
	}
	return redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
		redis.IsReadOnlyError(err) || redis.IsMasterDownError(err) || redis.IsLoadingError(err)
}

// decideOn runs script then WAIT in one pipeline (one connection) of node,
// by SHA1 first and by source when node does not have it.
func (c Conn) decideOn(ctx context.Context, node *redis.Client, op string, script *redis.Script, keys []string, args []any) (Reply, error) {
	v, acked, err := c.pipeWait(ctx, node, func(p redis.Pipeliner) *redis.Cmd { return script.EvalSha(ctx, p, keys, args...) })
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		v, acked, err = c.pipeWait(ctx, node, func(p redis.Pipeliner) *redis.Cmd { return script.Eval(ctx, p, keys, args...) })
	}
	if err != nil {
		return Reply{}, &OpError{Op: op, Err: err}
	}
	r := Reply{op: op, v: v}
	if acked < c.durability.Replicas {
		return r, &ReplicationError{Op: op, Acked: acked, Want: c.durability.Replicas, Timeout: c.durability.Timeout}
	}
	return r, nil
}

// pipeWait sends the script call eval makes and WAIT in one pipeline and
// returns the script's reply and the number of replicas WAIT counted.
func (c Conn) pipeWait(ctx context.Context, node *redis.Client, eval func(redis.Pipeliner) *redis.Cmd) (any, int, error) {
	pipe := node.Pipeline()
	cmd := eval(pipe)
	wait := pipe.Do(ctx, "WAIT", c.durability.Replicas, c.durability.Timeout.Milliseconds())
	pipe.Exec(ctx) // the errors are the commands'
	v, err := cmd.Result()
	if err != nil {
		return nil, 0, err
	}
	n, err := wait.Int()
	if err != nil {
		return nil, 0, err
	}
	return v, int(n), nil
}
