package redisstore

import (
	"context"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/rediskey"
)

// The hot path of the limiter (Take) hands its arguments to go-redis
// without allocating for them: each argument that varies is an argRef, a
// pointer (which boxes into an interface for free) to a slice of one
// pooled buffer, and go-redis writes it through encoding.BinaryMarshaler;
// the keys of a limiter key and the arguments of a policy are boxed once
// and cached. This file holds those pieces.

// An argRef is one script argument: bytes of a pooled call's buffer.
type argRef struct{ b []byte }

// MarshalBinary returns the argument's bytes, as they are (go-redis writes
// an encoding.BinaryMarshaler argument with it).
func (a *argRef) MarshalBinary() ([]byte, error) { return a.b, nil }

// A call holds the arguments of one script call; calls are pooled.
type call struct {
	buf  []byte
	refs []argRef
	args []any
}

var callPool = sync.Pool{New: func() any { return new(call) }}

// maxPooledBuf is the largest buffer a call keeps when it goes back to the
// pool, so that one call with many events does not pin its memory.
const maxPooledBuf = 16 << 10

// getCall returns a call whose refs has room for n arguments.
func getCall(n int) *call {
	c := callPool.Get().(*call)
	if cap(c.refs) < n {
		c.refs = make([]argRef, n)
	}
	c.refs = c.refs[:n]
	return c
}

// putCall clears c (it must hold no reference to a caller's data) and
// pools it.
func putCall(c *call) {
	if cap(c.buf) > maxPooledBuf {
		c.buf = nil
	}
	c.buf = c.buf[:0]
	clear(c.refs)
	clear(c.args)
	c.args = c.args[:0]
	callPool.Put(c)
}

// A limiterKeys holds the three keys of one [alerts.LimitKey] (state, pending,
// leases), as strings and boxed once.
type limiterKeys struct {
	key   alerts.LimitKey
	strs  []string
	boxed [3]any
}

// keyCacheSize is the number of entries of a LimitStore's cache of
// limiterKeys: a direct-mapped cache, so that its memory is bounded
// whatever the number of tenants.
const keyCacheSize = 1024

// keyCache is a direct-mapped cache of limiterKeys.
type keyCache struct {
	seed    maphash.Seed
	entries [keyCacheSize]atomic.Pointer[limiterKeys]
}

// get returns the keys of key, from the cache or built by ks.
func (kc *keyCache) get(ks rediskey.Space, key alerts.LimitKey) (*limiterKeys, error) {
	slot := &kc.entries[maphash.Comparable(kc.seed, key)%keyCacheSize]
	if e := slot.Load(); e != nil && e.key == key {
		return e, nil
	}
	strs, err := ks.Keys(key.Tenant, "category", string(key.Category), "lim", "pend", "lease")
	if err != nil {
		return nil, err
	}
	// Copies: the key must not pin the caller's (possibly larger) strings.
	e := &limiterKeys{key: alerts.LimitKey{Tenant: strings.Clone(key.Tenant), Category: alerts.CategoryID(strings.Clone(string(key.Category)))}, strs: strs}
	for i, s := range strs {
		e.boxed[i] = s
	}
	slot.Store(e)
	return e, nil
}

// A doer runs a command given as its arguments. *redis.Client,
// *redis.ClusterClient and *redis.Ring are doers that route EVALSHA by its
// first key; Take calls them with EVALSHA directly, so that nothing is
// boxed per call. An AutoPipeliner runs Do outside its pipelines, and a
// Pipeline only queues: both take the path through [redis.Script].
type doer interface {
	Do(ctx context.Context, args ...any) *redis.Cmd
}

// directDoer returns client as a doer when Do runs a script as EvalSha
// does.
func directDoer(client redis.Scripter) doer {
	switch c := client.(type) {
	case *redis.Client:
		return c
	case *redis.ClusterClient:
		return c
	case *redis.Ring:
		return c
	}
	return nil
}
