package redisstore

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
)

var (
	//go:embed lua/limit_fast.lua
	limitFastLua string
	//go:embed lua/limit_common.lua
	limitCommonLua string
	//go:embed lua/limit_take.lua
	limitTakeLua string
	//go:embed lua/limit_end.lua
	limitEndLua string
	//go:embed lua/limit_drain.lua
	limitDrainLua string
)

// LimitStore is an [alerts.LimitStore] on Redis, so that any number of
// replicas sending alerts for one key together send at most the policy's
// Limit emails per period, and every suppressed event is carried once.
//
// Each method is one Lua script over the three keys of an [alerts.LimitKey],
// which share the tenant's hash slot:
//
//	<prefix>:{<tenant>}:lim:<category>   the limiter state and the leases
//	<prefix>:{<tenant>}:pend:<category>  pending events, oldest first
//	<prefix>:{<tenant>}:lease:<category> events taken under each lease
//
// and, for ten minutes after a Commit, GiveBack, Drain or Drop, a record
// of what that call did, <prefix>:{<tenant>}:done:<category>:<call id>.
//
// The scripts evaluate the policy as [alerts.Limiter] does, with the time
// passed in by the caller (the SDK's clock) to the nanosecond, and expire
// leases at their deadline exactly as the in-memory store does: the
// conformance tests of alertstest.TestLimitStore pass on both. A decision
// that only keeps an event for a key in its cooling period changes no
// state, and runs a fast path that reads one field and appends the event.
//
// A key that holds nothing is deleted. Otherwise its TTL follows one rule.
// Let T be [Config.PendingTTL], raised to the policy's period plus the lease
// TTL plus a minute if it is shorter. Every change of state sets the TTL
// of all three keys to T plus the period (the key TTL), and every other
// append of the full path sets the pending list's; an append of the fast
// path, which runs only within a period of the last change of state,
// leaves it as it is. So a pending event lives at least T after the last
// call that appended it, gave it back or returned it from an expired
// lease, and a leased event lives T plus the period after its lease was
// taken. The state may expire before the pending list, but only once all
// it held (a cooling period, a count, a window, a lease) has ended.
//
// On an error (an *[OpError]) the call may or may not have happened on the
// server. For Take this means the events given may or may not be pending:
// the caller must treat them as not sent and offer them again later (they
// are then pending twice at worst, never lost). A lease whose Commit or
// GiveBack failed expires at its deadline and its events come back.
//
// go-redis itself sends a command again after a connection error or a
// read timeout (Options.MaxRetries), so a script may run twice for one
// call. Every call is safe to run twice: Take recognises its own lease id
// and answers the lease the first run took (it neither loses the events
// that lease carried nor holds a second slot); Commit, GiveBack, Drain and
// Drop leave a record for ten minutes that the second run answers from
// (the drained events, not nothing). The one effect left is that of a
// Take that was suppressed: the second run appends its events again, so
// they are pending twice, never lost.
//
// A LimitStore is safe for concurrent use. Get one from [Store.Limits].
type LimitStore struct {
	s      *Store
	take   *redis.Script
	end    *redis.Script
	drain  *redis.Script
	idBase string                        // random, so lease ids of replicas never collide
	idSeq  atomic.Uint64                 // makes lease ids of this store unique
	policy [2]atomic.Pointer[policyArgs] // [0] Take's, [1] that of the other calls (lease TTL 0)

	// Take's direct path (see call.go): the client as a doer (nil when it
	// is not one) and the EVALSHA and EVAL arguments, boxed once.
	do       doer
	takeSHA  any
	takeSrc  any
	keyCache *keyCache
}

var _ alerts.LimitStore = (*LimitStore)(nil)

// Limits returns the store of the frequency limiter's state and pending
// events.
func (s *Store) Limits() *LimitStore {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	src := limitFastLua + limitCommonLua + limitTakeLua
	ls := &LimitStore{
		s:        s,
		take:     redis.NewScript(src),
		end:      redis.NewScript(limitCommonLua + limitEndLua),
		drain:    redis.NewScript(limitCommonLua + limitDrainLua),
		idBase:   hex.EncodeToString(b[:]),
		do:       directDoer(s.client),
		takeSrc:  src,
		keyCache: &keyCache{seed: maphash.MakeSeed()},
	}
	ls.takeSHA = ls.take.Hash()
	return ls
}

// policyArgs holds the script arguments that follow from a policy and a
// lease TTL, boxed once: a dispatcher uses one policy, and boxing them on
// every call would cost an allocation each.
type policyArgs struct {
	p      alerts.FrequencyLimit
	ttl    time.Duration
	period time.Duration // p.WithDefaults().Period
	mode   any           // string
	keyTTL any           // int64 milliseconds
	packed string        // "limit period-s period-ns ", the start of ARGV[5]
	ttlArg any           // "seconds nanoseconds" of ttl, Take's ARGV[7]
}

// policyArgs returns the arguments of p and ttl, from cache when it holds
// them.
func (ls *LimitStore) policyArgs(cache *atomic.Pointer[policyArgs], p alerts.FrequencyLimit, ttl time.Duration) (*policyArgs, error) {
	pa := cache.Load()
	if pa != nil && pa.p == p && pa.ttl == ttl {
		return pa, nil
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	d := p.WithDefaults()
	// The key TTL: the configured one plus a period, for the fast path of
	// Take (see the TTL rule in limit_common.lua).
	life := max(ls.s.pendingTTL, d.Period+ttl+time.Minute) + d.Period
	ps, pn := splitDuration(d.Period)
	ts, tn := splitDuration(ttl)
	pa = &policyArgs{
		p: p, ttl: ttl, period: d.Period, mode: string(d.Mode), keyTTL: ms(life),
		packed: fmt.Sprintf("%d %d %d ", d.Max, ps, pn),
		ttlArg: fmt.Sprintf("%d %d", ts, tn),
	}
	cache.Store(pa)
	return pa, nil
}

// keysArgs returns the keys of key and the arguments every limiter script
// but Take starts with (see limit_common.lua): mode, key TTL, "" and "" (no
// fast path), and the packed rest.
func (ls *LimitStore) keysArgs(key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, extra int) ([]string, []any, error) {
	pa, err := ls.policyArgs(&ls.policy[1], p, 0)
	if err != nil {
		return nil, nil, err
	}
	keys, err := ls.s.keys.keys(key.Tenant, "category", string(key.Category), "lim", "pend", "lease")
	if err != nil {
		return nil, nil, err
	}
	ns, nn := splitTime(now)
	rest := pa.packed + strconv.FormatInt(ns, 10) + " " + strconv.FormatInt(nn, 10)
	args := make([]any, 0, 5+extra)
	args = append(args, pa.mode, pa.keyTTL, "", "", rest)
	return keys, args, nil
}

// Take implements [alerts.LimitStore.Take] in one script.
func (ls *LimitStore) Take(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, ttl time.Duration, evs []alerts.Event) (alerts.Grant, error) {
	if ttl <= 0 {
		return alerts.Grant{}, fmt.Errorf("redisstore: lease TTL %v is not positive", ttl)
	}
	pa, err := ls.policyArgs(&ls.policy[0], p, ttl)
	if err != nil {
		return alerts.Grant{}, err
	}
	ks, err := ls.keyCache.get(ls.s.keys, key)
	if err != nil {
		return alerts.Grant{}, err
	}
	// The arguments that vary (see limit_common.lua and limit_take.lua)
	// are slices of one pooled buffer: now + 1ns and now + period + 1ns in fixed
	// width, the packed rest, the lease id and the events.
	c := getCall(4 + len(evs))
	defer putCall(c)
	b := appendFixedTime(c.buf[:0], now.Add(1))
	b = appendFixedTime(b, now.Add(pa.period+1))
	fixedEnd := len(b)
	b = append(b, pa.packed...)
	ns, nn := splitTime(now)
	b = strconv.AppendInt(b, ns, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, nn, 10)
	restEnd := len(b)
	b = strconv.AppendUint(append(append(b, ls.idBase...), '.'), ls.idSeq.Add(1), 36)
	idEnd := len(b)
	ends := make([]int, 0, 8)
	if len(evs) > cap(ends) {
		ends = make([]int, 0, len(evs))
	}
	for i := range evs {
		if b, err = appendEvent(b, &evs[i]); err != nil {
			c.buf = b
			return alerts.Grant{}, fmt.Errorf("redisstore: event %q: %w", evs[i].ID, err)
		}
		ends = append(ends, len(b))
	}
	c.buf = b
	if fixedEnd == 40 { // otherwise "": the script takes the full path
		c.refs[0].b, c.refs[1].b = b[:20:20], b[20:40:40]
	}
	c.refs[2].b = b[fixedEnd:restEnd:restEnd]
	c.refs[3].b = b[restEnd:idEnd:idEnd]
	start := idEnd
	for i, end := range ends {
		c.refs[4+i].b = b[start:end:end]
		start = end
	}
	c.args = append(c.args, "evalsha", ls.takeSHA, "3", ks.boxed[0], ks.boxed[1], ks.boxed[2],
		pa.mode, pa.keyTTL, &c.refs[0], &c.refs[1], &c.refs[2], &c.refs[3], pa.ttlArg)
	for i := range evs {
		c.args = append(c.args, &c.refs[4+i])
	}
	var v any
	if ls.do != nil {
		v, err = ls.do.Do(ctx, c.args...).Result()
		if err != nil && isNoScript(err) {
			c.args[0], c.args[1] = "eval", ls.takeSrc
			v, err = ls.do.Do(ctx, c.args...).Result()
		}
	} else {
		v, err = ls.take.Run(ctx, ls.s.client, ks.strs, c.args[6:]...).Result()
	}
	if err != nil {
		return alerts.Grant{}, &OpError{Op: "limiter take", Err: err}
	}
	r, _ := v.([]any)
	if len(r) < 4 {
		return alerts.Grant{}, fmt.Errorf("redisstore: limiter take: unexpected reply %v", v)
	}
	leased, _ := r[0].(int64)
	s, _ := r[1].(int64)
	n, _ := r[2].(int64)
	if f, ok := r[1].(string); ok { // the fast path's fixed-width times
		if s, n, ok = parseFixedTime(f[:min(len(f), 20)]); !ok {
			return alerts.Grant{}, fmt.Errorf("redisstore: limiter take: unexpected time %q", f)
		}
	}
	pending, _ := r[3].(int64)
	g := alerts.Grant{Pending: int(pending)}
	if leased != 1 {
		if s != 0 || n != 0 {
			g.Next = time.Unix(s, n)
		}
		return g, nil
	}
	g.Lease, g.Deadline = string(b[restEnd:idEnd]), time.Unix(s, n)
	g.Events, err = decodeEvents(r[4:])
	if err != nil {
		// The events are leased: they come back when the lease expires.
		return alerts.Grant{}, fmt.Errorf("redisstore: limiter take of %v: %w", key, err)
	}
	return g, nil
}

// isNoScript reports whether err is Redis's answer to EVALSHA of a script
// it does not have.
func isNoScript(err error) bool {
	return errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")
}

// Commit implements [alerts.LimitStore.Commit]: the slot is consumed as a
// send at now and the lease's events are forgotten. An unknown or expired
// lease is [alerts.ErrLeaseExpired].
func (ls *LimitStore) Commit(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
	return ls.finish(ctx, "limiter commit", key, p, lease, now, "1")
}

// GiveBack implements [alerts.LimitStore.GiveBack]: the slot is released
// and the lease's events go back to the front of pending. An unknown or
// expired lease is [alerts.ErrLeaseExpired].
func (ls *LimitStore) GiveBack(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
	return ls.finish(ctx, "limiter give back", key, p, lease, now, "0")
}

func (ls *LimitStore) finish(ctx context.Context, op string, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time, sent string) error {
	keys, args, err := ls.keysArgs(key, p, now, 3)
	if err != nil {
		return err
	}
	if lease == "" {
		return alerts.ErrLeaseExpired
	}
	if keys, err = ls.recordKey(keys, key); err != nil {
		return err
	}
	v, err := ls.s.run(ctx, op, ls.end, keys, append(args, lease, sent, ms(replayTTL))...)
	if err != nil {
		return err
	}
	if found, _ := v.(int64); found != 1 {
		return alerts.ErrLeaseExpired
	}
	return nil
}

// Drain implements [alerts.LimitStore.Drain].
func (ls *LimitStore) Drain(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) ([]alerts.Event, error) {
	keys, args, err := ls.keysArgs(key, p, now, 2)
	if err != nil {
		return nil, err
	}
	if keys, err = ls.recordKey(keys, key); err != nil {
		return nil, err
	}
	v, err := ls.s.run(ctx, "limiter drain", ls.drain, keys, append(args, "1", ms(replayTTL))...)
	if err != nil {
		return nil, err
	}
	r, _ := v.([]any)
	evs, err := decodeEvents(r)
	if err != nil {
		return nil, fmt.Errorf("redisstore: limiter drain of %v: %w", key, err)
	}
	return evs, nil
}

// Drop implements [alerts.LimitStore.Drop].
func (ls *LimitStore) Drop(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) (int, error) {
	keys, args, err := ls.keysArgs(key, p, now, 2)
	if err != nil {
		return 0, err
	}
	if keys, err = ls.recordKey(keys, key); err != nil {
		return 0, err
	}
	v, err := ls.s.run(ctx, "limiter drop", ls.drain, keys, append(args, "0", ms(replayTTL))...)
	if err != nil {
		return 0, err
	}
	n, _ := v.(int64)
	return int(n), nil
}

// replayTTL is how long the record of a Commit, GiveBack, Drain or Drop
// lives on the server, so that a second run of the same call (go-redis
// sends a command again when it lost the reply, within seconds) answers
// what the first run did.
const replayTTL = 10 * time.Minute

// newID returns an id no other call of any replica uses: a lease id, or
// the id of a Drain or Drop.
func (ls *LimitStore) newID() string {
	var b [40]byte
	return string(strconv.AppendUint(append(append(b[:0], ls.idBase...), '.'), ls.idSeq.Add(1), 36))
}

// recordKey returns keys (those of key) with the key of the record of one
// call appended: "<prefix>:{<tenant>}:done:<category>:<call id>", in the
// tenant's hash slot.
func (ls *LimitStore) recordKey(keys []string, key alerts.LimitKey) ([]string, error) {
	rec, err := ls.s.keys.keys(key.Tenant, "category", string(key.Category), "done")
	if err != nil {
		return nil, err
	}
	return append(keys, rec[0]+":"+ls.newID()), nil
}

// fixedTime writes t as the fast path of the Take script compares times:
// 20 digits, "%011d%09d" of its Unix seconds and nanoseconds, so that
// string order is time order. A time before 1970 or after the year 5138
// does not fit and is written as "" (the script then takes the full
// path).
func fixedTime(t time.Time) string { return string(appendFixedTime(nil, t)) }

// appendFixedTime appends fixedTime(t) to b.
func appendFixedTime(b []byte, t time.Time) []byte {
	s, n := splitTime(t)
	if s < 0 || s >= 1e11 {
		return b
	}
	var d [20]byte
	for i := 19; i >= 11; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	for i := 10; i >= 0; i-- {
		d[i] = byte('0' + s%10)
		s /= 10
	}
	return append(b, d[:]...)
}

// parseFixedTime reads a time written by fixedTime (or by the script in
// that form) as Unix seconds and nanoseconds.
func parseFixedTime(f string) (s, n int64, ok bool) {
	if len(f) != 20 {
		return 0, 0, false
	}
	for i := range 20 {
		c := f[i]
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		if i < 11 {
			s = s*10 + int64(c-'0')
		} else {
			n = n*10 + int64(c-'0')
		}
	}
	return s, n, true
}

func decodeEvents(r []any) ([]alerts.Event, error) {
	if len(r) == 0 {
		return nil, nil
	}
	evs := make([]alerts.Event, len(r))
	for i, x := range r {
		s, _ := x.(string)
		ev, err := decodeEvent(s)
		if err != nil {
			return nil, err
		}
		evs[i] = ev
	}
	return evs, nil
}
