package redisstore

import (
	"context"
	_ "embed"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
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

// DigestStore is a [digest.Store] on Redis, so that replicas sharing one
// Redis send each tenant's digest once and report each item once. A
// tenant's state is three keys in its hash slot:
//
//	<prefix>:{<tenant>}:dg:state     last day sent, lease, items removed
//	<prefix>:{<tenant>}:dg:pending   pending items, oldest first
//	<prefix>:{<tenant>}:dg:reported  sorted set: key -> Unix second reported
//
// Claim, Commit, Append and Release are each one Lua script. The state and
// the pending items live [Config.DigestTTL] after the last write; the
// reported keys live at least the retention the last Commit implies
// (Now - ExpireBefore) plus a day. Deduplication state costs one sorted-set
// member per reported key: the 16-byte [digest.ItemKey] and a score.
//
// A DigestStore is safe for concurrent use. Get one from [Store.Digest].
type DigestStore struct {
	s                                             *Store
	append, pending, claim, commit, reported, rel *redis.Script
}

var _ digest.Store = (*DigestStore)(nil)

// Digest returns the store of the daily digest's state.
func (s *Store) Digest() *DigestStore {
	script := func(body string) *redis.Script { return redis.NewScript(digestCommonLua + body) }
	return &DigestStore{
		s:        s,
		append:   script(digestAppendLua),
		pending:  script(digestPendingLua),
		claim:    script(digestClaimLua),
		commit:   script(digestCommitLua),
		reported: script(digestReportedLua),
		rel:      script(digestReleaseLua),
	}
}

func (ds *DigestStore) keys(tenant string) ([]string, error) {
	base, err := ds.s.keys.tenant(tenant)
	if err != nil {
		return nil, err
	}
	return []string{base + ":dg:state", base + ":dg:pending", base + ":dg:reported"}, nil
}

// do checks ctx, builds tenant's keys and runs script.
func (ds *DigestStore) do(ctx context.Context, op, tenant string, script *redis.Script, args ...any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, &OpError{Op: op, Err: err}
	}
	keys, err := ds.keys(tenant)
	if err != nil {
		return nil, err
	}
	return ds.s.run(ctx, op, script, keys, append([]any{ms(ds.s.digestTTL)}, args...)...)
}

// Append implements [digest.Store]: the items are appended in one script,
// all or none.
func (ds *DigestStore) Append(ctx context.Context, tenant string, items []digest.Item) error {
	if len(items) == 0 {
		if err := ctx.Err(); err != nil {
			return &OpError{Op: "digest append", Err: err}
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
	_, err := ds.do(ctx, "digest append", tenant, ds.append, args...)
	return err
}

// Pending implements [digest.Store].
func (ds *DigestStore) Pending(ctx context.Context, tenant string) ([]digest.Item, uint64, error) {
	v, err := ds.do(ctx, "digest pending", tenant, ds.pending)
	if err != nil {
		return nil, 0, err
	}
	r, _ := v.([]any)
	if len(r) == 0 {
		return nil, 0, fmt.Errorf("redisstore: digest pending: unexpected reply %v", v)
	}
	s, _ := r[0].(string)
	removed, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("redisstore: digest pending of tenant %q: items removed %q: %w", tenant, s, err)
	}
	if len(r) == 1 {
		return nil, removed, nil
	}
	items := make([]digest.Item, len(r)-1)
	for i, x := range r[1:] {
		s, _ := x.(string)
		if items[i], err = decodeItem(s); err != nil {
			return nil, 0, fmt.Errorf("redisstore: digest pending of tenant %q: item %d: %w", tenant, i, err)
		}
	}
	return items, removed + uint64(len(items)), nil
}

// Reported implements [digest.Store]. Report times are kept to the second.
func (ds *DigestStore) Reported(ctx context.Context, tenant string, keys []digest.ItemKey, since time.Time) ([]bool, error) {
	out := make([]bool, len(keys))
	if err := ctx.Err(); err != nil {
		return nil, &OpError{Op: "digest reported", Err: err}
	}
	floor := since.Unix()
	for start := 0; start < len(keys); start += reportedBatch {
		batch := keys[start:min(start+reportedBatch, len(keys))]
		args := make([]any, len(batch))
		for i := range batch {
			args[i] = batch[i][:]
		}
		v, err := ds.do(ctx, "digest reported", tenant, ds.reported, args...)
		if err != nil {
			return nil, err
		}
		r, _ := v.([]any)
		if len(r) != len(batch) {
			return nil, fmt.Errorf("redisstore: digest reported: %d replies for %d keys", len(r), len(batch))
		}
		for i, x := range r {
			s, ok := x.(string)
			if !ok {
				continue // never reported, or forgotten
			}
			at, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("redisstore: digest reported: score %q: %w", s, err)
			}
			out[start+i] = int64(at) >= floor
		}
	}
	return out, nil
}

// Claim implements [digest.Store] in one script.
func (ds *DigestStore) Claim(ctx context.Context, tenant string, c digest.Claim) (digest.ClaimStatus, error) {
	v, err := ds.do(ctx, "digest claim", tenant, ds.claim, int64(c.Day), c.Token, encTime(c.Now), encTime(c.Until))
	if err != nil {
		return 0, err
	}
	switch st, _ := v.(int64); st {
	case 1:
		return digest.Claimed, nil
	case 2:
		return digest.Busy, nil
	case 3:
		return digest.AlreadySent, nil
	}
	return 0, fmt.Errorf("redisstore: digest claim: unexpected reply %v", v)
}

// Commit implements [digest.Store] in one script: pending items removed
// through c.Through, keys recorded as reported at c.Now (never moved back),
// keys reported before c.ExpireBefore forgotten, the last day sent moved
// forward, and the lease ended if c.Token holds it. It is idempotent. On
// an *[OpError] the commit may or may not have happened; committing again
// is safe.
func (ds *DigestStore) Commit(ctx context.Context, tenant string, c digest.Commit) error {
	retention := max(c.Now.Sub(c.ExpireBefore), 0) + 24*time.Hour
	args := make([]any, 0, 6+len(c.Reported))
	args = append(args, int64(c.Day), c.Token, strconv.FormatUint(c.Through, 10),
		c.Now.Unix(), c.ExpireBefore.Unix(), ms(max(retention, ds.s.digestTTL)))
	for i := range c.Reported {
		args = append(args, c.Reported[i][:])
	}
	_, err := ds.do(ctx, "digest commit", tenant, ds.commit, args...)
	return err
}

// Release implements [digest.Store].
func (ds *DigestStore) Release(ctx context.Context, tenant, token string) error {
	_, err := ds.do(ctx, "digest release", tenant, ds.rel, token)
	return err
}

// encTime writes t as the scripts' "seconds.nanoseconds".
func encTime(t time.Time) string {
	s, n := splitTime(t)
	return fmt.Sprintf("%d.%09d", s, n)
}

// appendItem appends the encoding of it to b, in the format of events
// (string fields, then the time), without a score.
func appendItem(b []byte, it *digest.Item) ([]byte, error) {
	tm, err := it.Time.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b = append(b, itemFormat)
	for _, s := range [...]string{it.Tenant, string(it.Category), it.Asset, it.Fingerprint, it.Summary, string(tm)} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b, nil
}

// itemFormat is the first byte of an encoded item.
const itemFormat = 0x11

// decodeItem decodes an item encoded by appendItem.
func decodeItem(data string) (digest.Item, error) {
	if len(data) == 0 || data[0] != itemFormat {
		return digest.Item{}, errBadEvent
	}
	fs, ok := splitFields(data[1:], 6)
	if !ok {
		return digest.Item{}, errBadEvent
	}
	it := digest.Item{Tenant: fs[0], Category: alerts.CategoryID(fs[1]), Asset: fs[2], Fingerprint: fs[3], Summary: fs[4]}
	if err := it.Time.UnmarshalBinary([]byte(fs[5])); err != nil {
		return digest.Item{}, errBadEvent
	}
	return it, nil
}

// splitFields splits data into exactly n uvarint-length-prefixed fields.
func splitFields(data string, n int) ([]string, bool) {
	out := make([]string, 0, n)
	for range n {
		l, k := binary.Uvarint([]byte(data[:min(len(data), binary.MaxVarintLen64)]))
		if k <= 0 || l > uint64(len(data)-k) {
			return nil, false
		}
		out = append(out, data[k:k+int(l)])
		data = data[k+int(l):]
	}
	return out, data == ""
}
