package redisstore

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/redisscript"
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

// newIDBase returns the random start of the ids of a store's calls, so
// that lease ids of replicas never collide.
func newIDBase() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
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
func (s *Store) policyArgs(cache *atomic.Pointer[policyArgs], p alerts.FrequencyLimit, ttl time.Duration) (*policyArgs, error) {
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
	life := max(s.pendingTTL, d.Period+ttl+time.Minute) + d.Period
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
func (s *Store) keysArgs(key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, extra int) ([]string, []any, error) {
	pa, err := s.policyArgs(&s.policy[1], p, 0)
	if err != nil {
		return nil, nil, err
	}
	keys, err := s.keys.Keys(key.Tenant, "category", string(key.Category), "lim", "pend", "lease")
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
func (s *Store) Take(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, ttl time.Duration, evs []alerts.Event) (alerts.Grant, error) {
	if ttl <= 0 {
		return alerts.Grant{}, fmt.Errorf("redisstore: lease TTL %v is not positive", ttl)
	}
	pa, err := s.policyArgs(&s.policy[0], p, ttl)
	if err != nil {
		return alerts.Grant{}, err
	}
	ks, err := s.keyCache.get(s.keys, key)
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
	b = strconv.AppendUint(append(append(b, s.idBase...), '.'), s.idSeq.Add(1), 36)
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
	c.args = append(c.args, "evalsha", s.takeSHA, "3", ks.boxed[0], ks.boxed[1], ks.boxed[2],
		pa.mode, pa.keyTTL, &c.refs[0], &c.refs[1], &c.refs[2], &c.refs[3], pa.ttlArg)
	for i := range evs {
		c.args = append(c.args, &c.refs[4+i])
	}
	var v any
	if s.do != nil {
		v, err = s.do.Do(ctx, c.args...).Result()
		if err != nil && isNoScript(err) {
			c.args[0], c.args[1] = "eval", s.takeSrc
			v, err = s.do.Do(ctx, c.args...).Result()
		}
	} else {
		v, err = s.take.Run(ctx, s.client, ks.strs, c.args[6:]...).Result()
	}
	if err != nil {
		return alerts.Grant{}, &OpError{Op: "limiter take", Err: err}
	}
	r, _ := v.([]any)
	if len(r) < 4 {
		return alerts.Grant{}, fmt.Errorf("redisstore: limiter take: unexpected reply %v", v)
	}
	leased, _ := r[0].(int64)
	sec, _ := r[1].(int64)
	nsec, _ := r[2].(int64)
	if f, ok := r[1].(string); ok { // the fast path's fixed-width times
		if sec, nsec, ok = parseFixedTime(f[:min(len(f), 20)]); !ok {
			return alerts.Grant{}, fmt.Errorf("redisstore: limiter take: unexpected time %q", f)
		}
	}
	pending, _ := r[3].(int64)
	g := alerts.Grant{Pending: int(pending)}
	if leased != 1 {
		if sec != 0 || nsec != 0 {
			g.Next = time.Unix(sec, nsec)
		}
		return g, nil
	}
	g.Lease, g.Deadline = string(b[restEnd:idEnd]), time.Unix(sec, nsec)
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
func (s *Store) Commit(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
	return s.finish(ctx, "limiter commit", key, p, lease, now, "1")
}

// GiveBack implements [alerts.LimitStore.GiveBack]: the slot is released
// and the lease's events go back to the front of pending. An unknown or
// expired lease is [alerts.ErrLeaseExpired].
func (s *Store) GiveBack(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
	return s.finish(ctx, "limiter give back", key, p, lease, now, "0")
}

func (s *Store) finish(ctx context.Context, op string, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time, sent string) error {
	keys, args, err := s.keysArgs(key, p, now, 3)
	if err != nil {
		return err
	}
	if lease == "" {
		return alerts.ErrLeaseExpired
	}
	if keys, err = s.recordKey(keys, key); err != nil {
		return err
	}
	v, err := redisscript.Run(ctx, s.client, op, s.end, keys, append(args, lease, sent, ms(replayTTL))...)
	if err != nil {
		return err
	}
	if found, _ := v.(int64); found != 1 {
		return alerts.ErrLeaseExpired
	}
	return nil
}

// Drain implements [alerts.LimitStore.Drain].
func (s *Store) Drain(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) ([]alerts.Event, error) {
	keys, args, err := s.keysArgs(key, p, now, 2)
	if err != nil {
		return nil, err
	}
	if keys, err = s.recordKey(keys, key); err != nil {
		return nil, err
	}
	v, err := redisscript.Run(ctx, s.client, "limiter drain", s.drain, keys, append(args, "1", ms(replayTTL))...)
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
func (s *Store) Drop(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) (int, error) {
	keys, args, err := s.keysArgs(key, p, now, 2)
	if err != nil {
		return 0, err
	}
	if keys, err = s.recordKey(keys, key); err != nil {
		return 0, err
	}
	v, err := redisscript.Run(ctx, s.client, "limiter drop", s.drain, keys, append(args, "0", ms(replayTTL))...)
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
func (s *Store) newID() string {
	var b [40]byte
	return string(strconv.AppendUint(append(append(b[:0], s.idBase...), '.'), s.idSeq.Add(1), 36))
}

// recordKey returns keys (those of key) with the key of the record of one
// call appended: "<prefix>:{<tenant>}:done:<category>:<call id>", in the
// tenant's hash slot.
func (s *Store) recordKey(keys []string, key alerts.LimitKey) ([]string, error) {
	rec, err := s.keys.Keys(key.Tenant, "category", string(key.Category), "done")
	if err != nil {
		return nil, err
	}
	return append(keys, rec[0]+":"+s.newID()), nil
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
