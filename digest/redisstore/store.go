package redisstore

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/internal/rediskey"
	"github.com/alertmail/alertmail/internal/redisscript"
)

var (
	//go:embed lua/digest_common.lua
	digestCommonLua string
	//go:embed lua/digest_append.lua
	digestAppendLua string
	//go:embed lua/digest_pending.lua
	digestPendingLua string
	//go:embed lua/digest_claim.lua
	digestClaimLua string
	//go:embed lua/digest_commit.lua
	digestCommitLua string
	//go:embed lua/digest_reported.lua
	digestReportedLua string
	//go:embed lua/digest_release.lua
	digestReleaseLua string
)

// reportedBatch is how many keys one Reported script looks up, well under
// the Lua stack limit of unpack.
const reportedBatch = 1000

// DefaultPrefix begins every key when [Config.Prefix] is empty.
const DefaultPrefix = rediskey.DefaultPrefix

// ErrNoClient means [Config.Client] is nil.
var ErrNoClient = redisscript.ErrNoClient

// ErrInvalidKey is the sentinel of a [KeyError]: a prefix that the store
// refuses. A tenant id is refused as everywhere in the SDK, with the error
// of [github.com/alertmail/alertmail/alerts.ValidateTenant] (wrapping
// [github.com/alertmail/alertmail/alerts.ErrInvalidTenant]).
var ErrInvalidKey = rediskey.ErrInvalidKey

// A KeyError reports a prefix the store refuses: too long, or holding a
// character outside [A-Za-z0-9._:-] (it is used as given). Tenant ids are
// escaped, so they may hold anything ValidateTenant accepts. Its fields
// are Field ("prefix"), Value and Reason; it wraps [ErrInvalidKey]. It is
// the same type as alerts/redisstore's KeyError.
type KeyError = rediskey.KeyError

// An OpError reports a Redis operation that failed: the server was
// unreachable, timed out, or refused the command. Its Op names the store
// operation ("digest claim", "digest commit") and it wraps the Redis
// client's error. The operation may or may not have taken effect if the
// reply was lost; see the package documentation for what a host should do.
// It is the same type as alerts/redisstore's OpError.
type OpError = redisscript.OpError

// Config configures a [Store]. Only Client is required; every other field's
// zero value is a working default.
type Config struct {
	// Client is the connection to Redis: a *redis.Client, a
	// *redis.ClusterClient (every script touches the keys of one tenant,
	// which share a hash slot) or a *redis.Ring. Required.
	Client redis.Scripter

	// Prefix begins every key, so that several applications or
	// environments can share one Redis; the alerts' store on Redis may
	// use the same one. It may hold only [A-Za-z0-9._:-], at most 64
	// bytes. Default: [DefaultPrefix].
	Prefix string

	// TTL is how long a tenant's digest state (last day sent, lease,
	// pending items) lives after its last write; reported keys live at
	// least the retention. Default: 60 days.
	TTL time.Duration

	// Durability, when its Replicas is not zero, makes Append, Claim and
	// Commit wait until that many replicas of the Redis master hold their
	// decision (WAIT) before they return, so that a failover cannot undo
	// what the digest mailer acts on; fewer in time is a
	// *[ReplicationError]. See "Durability and failover" in the package
	// documentation. Default: no wait.
	Durability Durability
}

// A Store is a [digest.Store] on Redis, so that replicas sharing one Redis
// send each tenant's digest once and report each item once. A tenant's
// state is three keys in its hash slot:
//
//	<prefix>:{<tenant>}:dg:state     last day sent, lease, items removed
//	<prefix>:{<tenant>}:dg:pending   pending items, oldest first
//	<prefix>:{<tenant>}:dg:reported  sorted set: key -> Unix second reported
//
// Claim, Commit, Append and Release are each one Lua script. The state and
// the pending items live [Config.TTL] after the last write; the reported
// keys live at least the retention the last Commit implies (Now -
// ExpireBefore) plus a day. Deduplication state costs one sorted-set
// member per reported key: the 16-byte [digest.ItemKey] and a score.
//
// A Store is safe for concurrent use. Create one with [New]; the zero value
// is not usable.
type Store struct {
	conn                                          redisscript.Conn
	ttl                                           time.Duration
	append, pending, claim, commit, reported, rel *redis.Script
}

var _ digest.Store = (*Store)(nil)

// New validates cfg and returns a Store. It does no I/O: the first call of
// each script loads it on the server (EVAL when EVALSHA finds it missing).
func New(cfg Config) (*Store, error) {
	conn, err := redisscript.Connect(cfg.Client, cfg.Prefix)
	if err != nil {
		return nil, err
	}
	if conn, err = conn.WithDurability(cfg.Durability); err != nil {
		return nil, err
	}
	if cfg.TTL, err = redisscript.TTL("TTL", cfg.TTL, 60*24*time.Hour); err != nil {
		return nil, err
	}
	script := func(body string) *redis.Script { return redis.NewScript(redisscript.TimeLua + digestCommonLua + body) }
	return &Store{
		conn:     conn,
		ttl:      cfg.TTL,
		append:   script(digestAppendLua),
		pending:  script(digestPendingLua),
		claim:    script(digestClaimLua),
		commit:   script(digestCommitLua),
		reported: script(digestReportedLua),
		rel:      script(digestReleaseLua),
	}, nil
}

// keys returns the three keys of tenant.
func (s *Store) keys(tenant string) ([]string, error) {
	base, err := s.conn.Keys.Tenant(tenant)
	if err != nil {
		return nil, err
	}
	return []string{base + ":dg:state", base + ":dg:pending", base + ":dg:reported"}, nil
}

// do checks ctx, builds tenant's keys and runs script.
func (s *Store) do(ctx context.Context, op, tenant string, script *redis.Script, args ...any) (redisscript.Reply, error) {
	if err := ctx.Err(); err != nil {
		return redisscript.Reply{}, &redisscript.OpError{Op: op, Err: err}
	}
	keys, err := s.keys(tenant)
	if err != nil {
		return redisscript.Reply{}, err
	}
	run := s.conn.Run
	if script == s.append || script == s.claim || script == s.commit {
		run = s.conn.Decide // acted on outside Redis: see Config.Durability
	}
	return run(ctx, op, script, keys, append([]any{redisscript.Millis(s.ttl)}, args...)...)
}

// Append implements [digest.Store]: the items are appended in one script,
// all or none.
func (s *Store) Append(ctx context.Context, tenant string, items []digest.Item) error {
	if len(items) == 0 {
		if err := ctx.Err(); err != nil {
			return &redisscript.OpError{Op: "digest append", Err: err}
		}
		return nil
	}
	args := make([]any, len(items))
	var buf []byte
	for i := range items {
		start := len(buf)
		var err error
		if buf, err = appendItem(buf, &items[i]); err != nil {
			return fmt.Errorf("redisstore: digest item %d of tenant %q: %w", i, tenant, err)
		}
		args[i] = buf[start:len(buf):len(buf)]
	}
	_, err := s.do(ctx, "digest append", tenant, s.append, args...)
	return err
}

// The elements of the reply of digest_pending.lua: {removed, items...}.
const (
	pendingRemoved = iota // the number of items ever removed, in decimal
	pendingItems          // the pending items, oldest first
)

// Pending implements [digest.Store].
func (s *Store) Pending(ctx context.Context, tenant string) ([]digest.Item, uint64, error) {
	r, err := s.do(ctx, "digest pending", tenant, s.pending)
	if err != nil {
		return nil, 0, err
	}
	items, through, err := decodePending(r)
	if err != nil {
		return nil, 0, fmt.Errorf("redisstore: digest pending of tenant %q: %w", tenant, err)
	}
	return items, through, nil
}

// decodePending decodes the reply of digest_pending.lua: the pending items
// and the number of the last one.
func decodePending(r redisscript.Reply) ([]digest.Item, uint64, error) {
	a, err := r.Array(pendingItems)
	if err != nil {
		return nil, 0, err
	}
	rs := a.Text(pendingRemoved, "the items removed")
	encs := a.Texts(pendingItems, "an item")
	if err := a.Err(); err != nil {
		return nil, 0, err
	}
	removed, err := strconv.ParseUint(rs, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("items removed %q: %w", rs, err)
	}
	if len(encs) == 0 {
		return nil, removed, nil
	}
	items := make([]digest.Item, len(encs))
	for i, enc := range encs {
		if items[i], err = decodeItem(enc); err != nil {
			return nil, 0, fmt.Errorf("item %d: %w", i, err)
		}
	}
	return items, removed + uint64(len(items)), nil
}

// Reported implements [digest.Store]. Report times are kept to the second.
func (s *Store) Reported(ctx context.Context, tenant string, keys []digest.ItemKey, since time.Time) ([]bool, error) {
	out := make([]bool, len(keys))
	if err := ctx.Err(); err != nil {
		return nil, &redisscript.OpError{Op: "digest reported", Err: err}
	}
	for start := 0; start < len(keys); start += reportedBatch {
		batch := keys[start:min(start+reportedBatch, len(keys))]
		if err := s.reportedBatch(ctx, tenant, batch, since.Unix(), out[start:]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// reportedBatch sets out[i] to whether keys[i] was reported at or after
// the Unix second floor, in one script call.
func (s *Store) reportedBatch(ctx context.Context, tenant string, keys []digest.ItemKey, floor int64, out []bool) error {
	args := make([]any, len(keys))
	for i := range keys {
		args[i] = keys[i][:]
	}
	r, err := s.do(ctx, "digest reported", tenant, s.reported, args...)
	if err != nil {
		return err
	}
	a, err := r.Array(len(keys))
	if err != nil {
		return err
	}
	if a.Len() != len(keys) {
		return fmt.Errorf("redisstore: digest reported: %d replies for %d keys", a.Len(), len(keys))
	}
	for i := range keys {
		score, ok := a.OptionalText(i, "a report time")
		if !ok {
			continue // never reported, or forgotten
		}
		at, err := strconv.ParseFloat(score, 64)
		if err != nil {
			return fmt.Errorf("redisstore: digest reported: score %q: %w", score, err)
		}
		out[i] = int64(at) >= floor
	}
	return a.Err()
}

// Claim implements [digest.Store] in one script.
func (s *Store) Claim(ctx context.Context, tenant string, c digest.Claim) (digest.ClaimStatus, error) {
	r, err := s.do(ctx, "digest claim", tenant, s.claim, int64(c.Day), c.Token, encTime(c.Now), encTime(c.Until))
	if err != nil {
		return 0, err
	}
	st, err := r.Int()
	if err != nil {
		return 0, err
	}
	// The replies of digest_claim.lua.
	switch st {
	case 1:
		return digest.Claimed, nil
	case 2:
		return digest.Busy, nil
	case 3:
		return digest.AlreadySent, nil
	}
	return 0, fmt.Errorf("redisstore: digest claim: the reply is %d; want 1, 2 or 3", st)
}

// Commit implements [digest.Store] in one script: pending items removed
// through c.Through, keys recorded as reported at c.Now (never moved back),
// keys reported before c.ExpireBefore forgotten, the last day sent moved
// forward, and the lease ended if c.Token holds it. It is idempotent. On
// an *[OpError] the commit may or may not have happened; committing again
// is safe.
func (s *Store) Commit(ctx context.Context, tenant string, c digest.Commit) error {
	retention := max(c.Now.Sub(c.ExpireBefore), 0) + 24*time.Hour
	args := make([]any, 0, 6+len(c.Reported))
	args = append(args, int64(c.Day), c.Token, strconv.FormatUint(c.Through, 10),
		c.Now.Unix(), c.ExpireBefore.Unix(), redisscript.Millis(max(retention, s.ttl)))
	for i := range c.Reported {
		args = append(args, c.Reported[i][:])
	}
	_, err := s.do(ctx, "digest commit", tenant, s.commit, args...)
	return err
}

// Release implements [digest.Store].
func (s *Store) Release(ctx context.Context, tenant, token string) error {
	_, err := s.do(ctx, "digest release", tenant, s.rel, token)
	return err
}

// encTime writes t as the scripts' "seconds.nanoseconds".
func encTime(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }
