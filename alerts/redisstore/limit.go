package redisstore

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/rediskey"
	"github.com/alertmail/alertmail/internal/redisscript"
)

var (
	//go:embed lua/limit_event.lua
	limitEventLua string
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
	//go:embed lua/limit_requeue.lua
	limitRequeueLua string
	//go:embed lua/limit_undelivered.lua
	limitUndeliveredLua string
	//go:embed lua/limit_due_peek.lua
	limitDuePeekLua string
	//go:embed lua/limit_due.lua
	limitDueLua string
)

// The elements of the reply of the Take script (limit_take.lua and its
// fast path, limit_fast.lua): {leased, at-s, at-ns, pending, duplicates,
// failures, events...}.
const (
	takeLeased     = iota // 1 when the pending events were leased, else 0
	takeAtSec             // leased: the lease's deadline; else the next send (0 0: nothing pending)
	takeAtNsec            // and its nanoseconds
	takePending           // the number of events still pending
	takeDuplicates        // the number of the call's events left out as duplicates
	takeFailures          // the key's failures since its last Commit or Undeliver
	takeEvents            // the leased events, oldest first
)

// replayTTL is how long the record of a Commit, GiveBack, Drain or Drop
// lives on the server, so that a second run of the same call (go-redis
// sends a command again when it lost the reply, within seconds) answers
// what the first run did.
const replayTTL = 10 * time.Minute

// Take implements [alerts.LimitStore.Take] in one script.
func (s *Store) Take(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, ttl time.Duration, evs []alerts.Event) (alerts.Grant, error) {
	if ttl <= 0 {
		return alerts.Grant{}, fmt.Errorf("redisstore: lease TTL %v is not positive", ttl)
	}
	keys, args, lease, err := s.takeArgs(key, p, now, ttl, evs)
	if err != nil {
		return alerts.Grant{}, err
	}
	r, err := s.conn.Decide(ctx, "limiter take", s.take, keys, args...)
	if err != nil {
		s.unreplicated(ctx, r, err, key, p, now, lease)
		return alerts.Grant{}, err
	}
	// On an error, events the call leased come back when the lease expires.
	return decodeGrant(r, key, lease)
}

// Queue implements [alerts.LimitStore.Queue]: the script of Take without
// a lease id, which appends and never leases.
func (s *Store) Queue(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, evs []alerts.Event) (alerts.Grant, error) {
	keys, args, _, err := s.takeArgs(key, p, now, 0, evs)
	if err != nil {
		return alerts.Grant{}, err
	}
	r, err := s.conn.Decide(ctx, "limiter queue", s.take, keys, args...)
	if err != nil {
		return alerts.Grant{}, err
	}
	return decodeGrant(r, key, "")
}

// takeArgs returns the keys and arguments of the Take script (see
// limit_common.lua and limit_take.lua) and the id of the lease it may
// take; a ttl of 0 makes them Queue's, which takes none. It makes them
// with few allocations (see TestTakeArgsAllocs): on a pipelined client,
// the client's work per call limits the decisions per second.
func (s *Store) takeArgs(key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, ttl time.Duration, evs []alerts.Event) ([]string, []any, string, error) {
	keys, member, err := s.limiterKeys(key, "")
	if err != nil {
		return nil, nil, "", err
	}
	args, err := s.commonArgs(p, now, ttl, true, member, 2+len(evs))
	if err != nil {
		return nil, nil, "", err
	}
	lease, ttlArg := "", "0 0"
	if ttl > 0 {
		lease, ttlArg = s.newID(), spaced(int64(ttl/time.Second), int64(ttl%time.Second))
	}
	args = append(args, lease, ttlArg)
	for i := range evs {
		enc, err := appendEvent(nil, &evs[i])
		if err != nil {
			return nil, nil, "", fmt.Errorf("redisstore: event %q: %w", evs[i].ID, err)
		}
		args = append(args, enc)
	}
	return keys, args, lease, nil
}

// decodeGrant decodes the reply of the Take script for key that used lease
// as the id of a new lease ("" for Queue).
func decodeGrant(r redisscript.Reply, key alerts.LimitKey, lease string) (alerts.Grant, error) {
	a, err := r.Array(takeEvents)
	if err != nil {
		return alerts.Grant{}, err
	}
	leased := a.Int(takeLeased, "leased")
	at := time.Unix(a.Int(takeAtSec, "the time's seconds"), a.Int(takeAtNsec, "the time's nanoseconds"))
	g := alerts.Grant{
		Pending:    int(a.Int(takePending, "pending")),
		Duplicates: int(a.Int(takeDuplicates, "duplicates")),
		Failures:   int(a.Int(takeFailures, "failures")),
	}
	encs := a.Texts(takeEvents, "a leased event")
	if err := a.Err(); err != nil {
		return alerts.Grant{}, err
	}
	switch {
	case leased == 0:
		if at.Unix() != 0 || at.Nanosecond() != 0 {
			g.Next = at
		}
		return g, nil
	case leased == 1 && lease != "":
		g.Lease, g.Deadline = lease, at
		if g.Events, err = decodeEvents(encs); err != nil {
			return alerts.Grant{}, fmt.Errorf("redisstore: limiter take of %v: %w", key, err)
		}
		return g, nil
	}
	return alerts.Grant{}, fmt.Errorf("redisstore: limiter take: leased is %d; want 0 or 1 (0 for Queue)", leased)
}

// Commit implements [alerts.LimitStore.Commit]: the slot is consumed as a
// send at now and the lease's events are forgotten. An unknown or expired
// lease is [alerts.ErrLeaseExpired].
func (s *Store) Commit(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
	_, err := s.endLease(ctx, "limiter commit", key, p, lease, now, time.Time{}, endSent)
	return err
}

// GiveBack implements [alerts.LimitStore.GiveBack]: the slot is released,
// the lease's events go back to the front of pending, and the key falls
// due no earlier than retry. An unknown or expired lease is
// [alerts.ErrLeaseExpired].
func (s *Store) GiveBack(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now, retry time.Time) error {
	_, err := s.endLease(ctx, "limiter give back", key, p, lease, now, retry, endNotSent)
	return err
}

// Undeliver implements [alerts.LimitStore.Undeliver]: the slot is released
// and the lease's events are appended to the key's undelivered list,
// "<prefix>:{b:<bucket>}:<tenant>:<category>:undl", which keeps the newest
// [alerts.MaxUndelivered] and lives the key TTL (see [Config.PendingTTL])
// after the last Undeliver. An unknown or expired lease is
// [alerts.ErrLeaseExpired].
func (s *Store) Undeliver(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) (int, error) {
	return s.endLease(ctx, "limiter undeliver", key, p, lease, now, time.Time{}, endUndelivered)
}

// How a lease ends: ARGV[9] of limit_end.lua.
const (
	endNotSent     = "0" // GiveBack
	endSent        = "1" // Commit
	endUndelivered = "2" // Undeliver
)

// The elements of the reply of limit_end.lua: {found, discarded}.
const (
	endFound     = iota // 1, or 0 when the lease is unknown or expired
	endDiscarded        // undelivered events dropped past the cap
	endLen
)

// endLease runs the script of Commit, GiveBack (with its retry time) or
// Undeliver, as how says, and returns the number of undelivered events
// discarded.
func (s *Store) endLease(ctx context.Context, op string, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now, retry time.Time, how string) (int, error) {
	keys, member, err := s.limiterKeys(key, s.newID())
	if err != nil {
		return 0, err
	}
	args, err := s.commonArgs(p, now, 0, false, member, 5)
	if err != nil {
		return 0, err
	}
	if lease == "" {
		return 0, alerts.ErrLeaseExpired
	}
	retryArg := ""
	if how == endNotSent {
		retryArg = spaced(retry.Unix(), int64(retry.Nanosecond()))
	}
	run := s.conn.Run
	if how == endSent {
		run = s.conn.Decide // the email is out: see Config.Durability
	}
	r, err := run(ctx, op, s.end, keys, append(args, lease, how, redisscript.Millis(replayTTL), alerts.MaxUndelivered, retryArg)...)
	if err != nil {
		return 0, err
	}
	a, err := r.Array(endLen)
	if err != nil {
		return 0, err
	}
	found, discarded := a.Int(endFound, "found"), a.Int(endDiscarded, "discarded")
	switch err := a.Err(); {
	case err != nil:
		return 0, err
	case found == 0:
		return 0, alerts.ErrLeaseExpired
	case found != 1:
		return 0, fmt.Errorf("redisstore: %s: found is %d; want 0 or 1", op, found)
	}
	return int(discarded), nil
}

// Undelivered implements [alerts.LimitStore.Undelivered].
func (s *Store) Undelivered(ctx context.Context, key alerts.LimitKey) ([]alerts.Event, error) {
	keys, _, err := s.conn.Keys.BucketKeys(key.Tenant, "category", string(key.Category), "undl")
	if err != nil {
		return nil, err
	}
	r, err := s.conn.Run(ctx, "limiter undelivered", s.undelivered, keys)
	if err != nil {
		return nil, err
	}
	return eventList(r, "limiter undelivered", "an undelivered event", key)
}

// eventList decodes a reply of key's events, oldest first (of Drain or
// Undelivered: op; what names one event in errors).
func eventList(r redisscript.Reply, op, what string, key alerts.LimitKey) ([]alerts.Event, error) {
	a, err := r.Array(0)
	if err != nil {
		return nil, err
	}
	encs := a.Texts(0, what)
	if err := a.Err(); err != nil {
		return nil, err
	}
	evs, err := decodeEvents(encs)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s of %v: %w", op, key, err)
	}
	return evs, nil
}

// Requeue implements [alerts.LimitStore.Requeue].
func (s *Store) Requeue(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) (int, error) {
	keys, member, err := s.limiterKeys(key, s.newID())
	if err != nil {
		return 0, err
	}
	args, err := s.commonArgs(p, now, 0, false, member, 1)
	if err != nil {
		return 0, err
	}
	r, err := s.conn.Run(ctx, "limiter requeue", s.requeue, keys, append(args, redisscript.Millis(replayTTL))...)
	if err != nil {
		return 0, err
	}
	n, err := r.Int()
	return int(n), err
}

// Drain implements [alerts.LimitStore.Drain].
func (s *Store) Drain(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) ([]alerts.Event, error) {
	r, err := s.removePending(ctx, "limiter drain", key, p, now, true)
	if err != nil {
		return nil, err
	}
	return eventList(r, "limiter drain", "a drained event", key)
}

// Drop implements [alerts.LimitStore.Drop].
func (s *Store) Drop(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) (int, error) {
	r, err := s.removePending(ctx, "limiter drop", key, p, now, false)
	if err != nil {
		return 0, err
	}
	n, err := r.Int()
	return int(n), err
}

// removePending runs the script of Drain (ret: the events are returned) or
// Drop (their number is).
func (s *Store) removePending(ctx context.Context, op string, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, ret bool) (redisscript.Reply, error) {
	keys, member, err := s.limiterKeys(key, s.newID())
	if err != nil {
		return redisscript.Reply{}, err
	}
	args, err := s.commonArgs(p, now, 0, false, member, 2)
	if err != nil {
		return redisscript.Reply{}, err
	}
	return s.conn.Run(ctx, op, s.drain, keys, append(args, luaBool(ret), redisscript.Millis(replayTTL))...)
}

// commonArgs returns the arguments every limiter script starts with (see
// limit_common.lua), with room for extra more: the mode, the key TTL, the
// two times of Take's fast path ("" unless fast), and "limit period-s
// period-ns now-s now-ns window-s window-ns seen-TTL member" (member: the
// key's in its bucket's due index). leaseTTL is Take's lease TTL; 0 for
// the other calls.
func (s *Store) commonArgs(p alerts.FrequencyLimit, now time.Time, leaseTTL time.Duration, fast bool, member string, extra int) ([]any, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	d := p.WithDefaults()
	// The key TTL: the configured one plus a period, for the fast path of
	// Take (see the TTL rule in limit_common.lua). The seen set lives at
	// least as long, and at least the dedup window (rounded up to the
	// millisecond of PEXPIRE) after an event left.
	keyTTL := max(s.pendingTTL, d.Period+leaseTTL+time.Minute) + d.Period
	seenTTL := max(keyTTL, s.window+time.Millisecond)
	fastNow, fastEnd := "", ""
	if fast {
		fastNow, fastEnd = fixedTime(now.Add(1)), fixedTime(now.Add(d.Period+1))
	}
	packed := packArgs(member, int64(d.Max), int64(d.Period/time.Second), int64(d.Period%time.Second), now.Unix(), int64(now.Nanosecond()),
		int64(s.window/time.Second), int64(s.window%time.Second), redisscript.Millis(seenTTL))
	return append(make([]any, 0, 5+extra), string(d.Mode), redisscript.Millis(keyTTL), fastNow, fastEnd, packed), nil
}

// limiterKeys returns the keys of key (see limit_common.lua): the state,
// the pending events, the leased events, the seen IDs, the due index of
// the key's bucket and, when callID is not "", the record of that call,
// "<prefix>:{b:<bucket>}:<tenant>:<category>:done:<call id>", and the
// undelivered events; and key's member in the due index.
func (s *Store) limiterKeys(key alerts.LimitKey, callID string) ([]string, string, error) {
	kinds := []string{"lim", "pend", "lease", "seen", "done", "undl"}
	if callID == "" {
		kinds = kinds[:4]
	}
	keys, member, err := s.conn.Keys.BucketKeys(key.Tenant, "category", string(key.Category), kinds...)
	if err != nil {
		return nil, "", err
	}
	// BucketKeys leaves room for one more key: no allocation.
	keys = slices.Insert(keys, 4, s.dueKeys[rediskey.Bucket(key.Tenant)])
	if callID != "" {
		keys[5] += ":" + callID
	}
	return keys, member, nil
}

// newIDBase returns the random start of the ids of a store's calls, so
// that lease ids of replicas never collide.
func newIDBase() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// newID returns an id no other call of any replica uses: a lease id, or
// the id of a Commit, GiveBack, Drain or Drop.
func (s *Store) newID() string {
	var b [40]byte // on the stack: one allocation, the string's
	return string(strconv.AppendUint(append(append(b[:0], s.idBase...), '.'), s.idSeq.Add(1), 36))
}

// spaced returns the numbers in decimal, separated by spaces, as the
// scripts take a time or a duration.
func spaced(nums ...int64) string { return packArgs("", nums...) }

// packArgs returns the numbers in decimal, then last if it is not "",
// separated by spaces, as the limiter scripts take their packed argument.
func packArgs(last string, nums ...int64) string {
	var buf [256]byte // on the stack for the usual lengths: one allocation, the string's
	b := buf[:0]
	for i, n := range nums {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, n, 10)
	}
	if last != "" {
		b = append(append(b, ' '), last...)
	}
	return string(b)
}

// luaBool returns b as the scripts take a flag: "1" or "0".
func luaBool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// fixedTime writes t as the fast path of the Take script compares times:
// 20 digits, "%011d%09d" of its Unix seconds and nanoseconds, so that
// string order is time order. A time before 1970 or after the year 5138
// does not fit and is written as "" (the script then takes the full
// path).
func fixedTime(t time.Time) string {
	s, n := t.Unix(), t.Nanosecond()
	if s < 0 || s >= 1e11 {
		return ""
	}
	var d [20]byte // the digits, from the last: one allocation, the string's
	for i := 19; i >= 11; i-- {
		d[i], n = byte('0'+n%10), n/10
	}
	for i := 10; i >= 0; i-- {
		d[i], s = byte('0'+s%10), s/10
	}
	return string(d[:])
}
