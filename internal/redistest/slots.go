package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// ExpectScriptSlots records the keys of every script cc runs (EVAL,
// EVALSHA and their read-only forms) and makes tb fail, when it ends, if a
// script's keys map to more than one hash slot (CLUSTER KEYSLOT) or if no
// script ran at all. Redis Cluster refuses such a script with CROSSSLOT;
// this check names the keys.
func (c *Cluster) ExpectScriptSlots(tb testing.TB, cc *redis.ClusterClient) {
	tb.Helper()
	rec := &scriptRecorder{}
	cc.AddHook(rec)
	tb.Cleanup(func() {
		rec.mu.Lock()
		calls := rec.calls
		rec.mu.Unlock()
		if len(calls) == 0 {
			tb.Errorf("redistest: no script ran on the cluster client")
			return
		}
		slots := keySlots(tb, c.Nodes[0].Addr, calls)
		for _, keys := range calls {
			for _, k := range keys[1:] {
				if slots[k] != slots[keys[0]] {
					tb.Errorf("redistest: a script's keys %q are in slots %d and %d; want one slot", keys, slots[keys[0]], slots[k])
					break
				}
			}
		}
	})
}

// keySlots returns the hash slot of every key of calls, asked of the server
// at addr in one pipeline.
func keySlots(tb testing.TB, addr string, calls [][]string) map[string]int64 {
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	ctx := context.Background()
	cmds := map[string]*redis.IntCmd{}
	pipe := rc.Pipeline()
	for _, keys := range calls {
		for _, k := range keys {
			if cmds[k] == nil {
				cmds[k] = pipe.ClusterKeySlot(ctx, k)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		tb.Fatalf("redistest: CLUSTER KEYSLOT: %v", err)
	}
	out := make(map[string]int64, len(cmds))
	for k, cmd := range cmds {
		out[k] = cmd.Val()
	}
	return out
}

// scriptRecorder is a go-redis hook that keeps the keys of each script
// call.
type scriptRecorder struct {
	mu    sync.Mutex
	calls [][]string
}

func (r *scriptRecorder) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

func (r *scriptRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.record(cmd)
		return next(ctx, cmd)
	}
}

func (r *scriptRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			r.record(cmd)
		}
		return next(ctx, cmds)
	}
}

func (r *scriptRecorder) record(cmd redis.Cmder) {
	switch strings.ToLower(cmd.Name()) {
	case "eval", "evalsha", "eval_ro", "evalsha_ro":
	default:
		return
	}
	args := cmd.Args() // name, script or SHA, numkeys, keys…, args…
	if len(args) < 3 {
		return
	}
	n, err := strconv.Atoi(fmt.Sprint(args[2]))
	if err != nil || n < 1 || len(args) < 3+n {
		return
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint(args[3+i])
	}
	r.mu.Lock()
	r.calls = append(r.calls, keys)
	r.mu.Unlock()
}
