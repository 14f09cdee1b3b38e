package alerts

import (
	"context"
	"errors"
	"hash/maphash"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrLeaseExpired is returned by [LimitStore.Commit] and
// [LimitStore.GiveBack] for a lease the store no longer holds: it expired
// (its events went back to pending) or it never existed.
var ErrLeaseExpired = errors.New("alerts: lease expired or unknown")

// MaxUndelivered is how many undelivered events a [LimitStore] keeps per
// key (see [LimitStore.Undeliver]). Past it, the oldest are discarded to
// make room for the newest, and Undeliver returns how many it discarded,
// which the [Dispatcher] logs at Error and reports in [Result.Dropped]:
// nothing leaves a store unaccounted for. A key whose emails keep being
// refused has a cause the host must fix (its recipients, its sender
// domain); a thousand events is far more than one look at the list needs.
const MaxUndelivered = 1000

// A LimitKey names the stream of emails a frequency limit applies to: one tenant's
// alerts of one category. It is a plain comparable value (a map key); the
// zero LimitKey is the empty tenant's empty category, which stores refuse.
type LimitKey struct {
	Tenant   string     // the tenant, an id [ValidateTenant] accepts
	Category CategoryID // the alert category
}

// String returns "tenant/category", for logs.
func (k LimitKey) String() string { return k.Tenant + "/" + string(k.Category) }

// A Grant is what [LimitStore.Take] decided. It is a plain value; the zero
// Grant allows no send and reports nothing pending.
//
// When Lease is not empty a send is allowed now: one slot of the frequency
// limit is held for it, and Events are the key's pending events, oldest first, taken
// out of pending under the lease until Deadline. The caller then ends the
// lease with [LimitStore.Commit] once the email is accepted, or
// [LimitStore.GiveBack] if it was not. A lease ended by neither expires at
// Deadline: its events return to pending and its slot counts as used (the
// holder may have sent before it died), so a key sends at most Max emails
// per period and an event is sent twice at worst, never lost. A GiveBack
// that arrives after the deadline takes that charge back: the send failed.
//
// When Lease is empty nothing is sent now; Next tells when the limit will
// next allow a send (equal to the time of the call when only other leases
// stand in the way).
type Grant struct {
	// Lease identifies the lease; empty when no send is allowed now.
	Lease string
	// Events are the leased events, oldest first. The store does not
	// modify them afterwards; the caller must not modify them either.
	Events []Event
	// Deadline is when the lease expires.
	Deadline time.Time
	// Pending is the number of events left pending for the key.
	Pending int
	// Next is, when Lease is empty and events are pending, the earliest
	// time the limit allows a send; zero otherwise.
	Next time.Time
	// Duplicates is the number of the call's events the store did not
	// append because the key has taken an event with the same ID already
	// (see [LimitStore]); they are acknowledged, not sent again.
	Duplicates int
	// Failures is the number of sends of the key given back
	// ([LimitStore.GiveBack]) since its last Commit or Undeliver: the
	// caller's count for its retry backoff.
	Failures int
}

// A LimitStore keeps, for every [LimitKey], the state of its frequency limit and
// its pending events: the events that wait for the next allowed email.
//
// Each method is one atomic step for its key, so that a shared store (the
// Redis store runs each as one Lua script) gives the same guarantees to any
// number of replicas as the in-memory store gives to one process. The time
// of every call comes from the SDK's [Clock] through now; a store never reads
// its own clock. p has been validated and its defaults filled in
// ([FrequencyLimit.WithDefaults]); the state is evaluated as [Limiter] does. Before
// doing anything else each method expires the key's leases whose deadline is
// at or before now (their events go back to the front of pending, in order,
// and their slots count as sends made at their deadline), then absorbs a
// clock step backwards as [FrequencyLimit] describes, so that the step shortens the
// limit once and for all.
//
// Events are idempotent by ID: an event whose ID the key has taken already
// (it is pending, leased or undelivered, or it left the key within the
// store's dedup window, [DefaultDedupWindow] unless the store is
// configured otherwise: sent, drained, dropped or discarded) is a
// duplicate, which Take and Queue count in [Grant.Duplicates] and do not
// append. Events without an ID are never duplicates.
//
// The store also knows when each key next needs attention, its due time:
// the earliest of the deadlines of its leases and, when events are
// pending, the time the limit next allows a send (not before the retry
// time of the last GiveBack since a lease was last taken). Pending events
// that wait only for leases to end add nothing: the end of each lease
// recomputes the due time. A key with no lease and nothing pending is not
// due. Every step that changes a key recomputes its due time as part of
// the same atomic step; [LimitStore.Due] claims the keys that are due, so
// that several replicas flushing at once take each key once.
//
// Implementations must be safe for concurrent use. A store error means the
// step did not happen, or may not have (a timeout); callers treat the events
// as not sent and not dropped. A key whose tenant id [ValidateTenant] refuses
// is its error, and the step does not happen.
//
// The conformance tests in alertstest.TestLimitStore check every
// implementation against this contract.
type LimitStore interface {
	// Take appends evs (which may be empty) to key's pending events,
	// leaving out duplicates. Then, if any event is pending and p allows a
	// send at now, it holds a slot and moves all pending events into a new
	// lease that expires at now+ttl. When evs is not empty and every event
	// in it is a duplicate, Take changes nothing and leases nothing: a
	// redelivered event triggers no email. The store keeps copies of evs,
	// never evs itself.
	Take(ctx context.Context, key LimitKey, p FrequencyLimit, now time.Time, ttl time.Duration, evs []Event) (Grant, error)
	// Queue appends evs to key's pending events as Take does, duplicates
	// left out, but never takes a lease: the key falls due when p next
	// allows a send (at once if it allows one now), which the returned
	// Grant's Next tells when events are pending.
	Queue(ctx context.Context, key LimitKey, p FrequencyLimit, now time.Time, evs []Event) (Grant, error)
	// Commit ends a lease whose email was accepted: its slot is consumed
	// as a send at now, and its events are forgotten.
	Commit(ctx context.Context, key LimitKey, p FrequencyLimit, lease string, now time.Time) error
	// GiveBack ends a lease whose email was not sent: its slot is released
	// and its events return to the front of pending, in their order. The
	// key's pending events fall due no earlier than retry, and its count of
	// failures ([Grant.Failures]) goes up by one. A lease that expired is
	// ErrLeaseExpired (its events are pending already, and retry and the
	// count apply all the same), but the send its expiry charged at the
	// deadline is taken back, if it still counts (within a period of the
	// deadline): a failed send never charges the limit. The store
	// remembers at least the last 16 expired leases of a key for this; so
	// does Undeliver.
	GiveBack(ctx context.Context, key LimitKey, p FrequencyLimit, lease string, now, retry time.Time) error
	// Drain removes and returns key's pending events, oldest first (for
	// the daily digest, say). Leased events are not pending.
	Drain(ctx context.Context, key LimitKey, p FrequencyLimit, now time.Time) ([]Event, error)
	// Drop discards key's pending events (the category was disabled) and
	// returns how many there were.
	Drop(ctx context.Context, key LimitKey, p FrequencyLimit, now time.Time) (int, error)

	// Undeliver ends a lease whose email was refused permanently
	// ([ErrPermanent]): its slot is released, as by GiveBack, and its
	// events are appended, in their order, to key's undelivered list,
	// where they wait for Requeue instead of being retried. The list holds
	// at most [MaxUndelivered] events: past that the oldest are discarded,
	// and Undeliver returns how many. The list is retained as pending
	// events are (a store with a TTL on pending events gives the list the
	// same TTL, renewed by each Undeliver). An unknown or expired lease is
	// [ErrLeaseExpired], and its events are pending again.
	Undeliver(ctx context.Context, key LimitKey, p FrequencyLimit, lease string, now time.Time) (dropped int, err error)
	// Undelivered returns key's undelivered events, oldest first, and
	// leaves them in place.
	Undelivered(ctx context.Context, key LimitKey) ([]Event, error)
	// Requeue moves key's undelivered events to the front of its pending
	// events, in their order, and returns how many it moved. It changes
	// nothing else: the next Take (a Flush) offers them for sending.
	Requeue(ctx context.Context, key LimitKey, p FrequencyLimit, now time.Time) (int, error)

	// Due claims up to max keys whose due time is at or before now and
	// returns them, most overdue first as far as the store can tell
	// cheaply: each key's due time moves to now+claim, so that no other
	// call of Due returns it before then, while the caller flushes it (a
	// Take ends the claim, recomputing the due time). A caller that dies
	// leaves the key due again at now+claim: no due time is ever lost.
	// next is the earliest due time of any key after the claims (zero when
	// no key is due at all), for the caller to sleep until.
	Due(ctx context.Context, now time.Time, max int, claim time.Duration) (keys []LimitKey, next time.Time, err error)
}

// DefaultDedupWindow is how long a [LimitStore] remembers the ID of an
// event after the event left its key (sent, drained, dropped), so that a
// redelivery within it is a duplicate: a day covers the redelivery of
// every queue and webhook source in common use.
const DefaultDedupWindow = 24 * time.Hour

// memShards is the number of independently locked parts of a
// MemoryLimitStore; a power of two.
const memShards = 64

// MemoryLimitStore is the in-memory [LimitStore], the default of a
// [Dispatcher] that has no shared store: fine for one process.
//
// Keys are spread by hash over independently locked shards, so calls for
// different keys rarely wait for each other and there is no global lock. A
// call that leaves a key holding nothing (no pending event, no lease, no
// count, no cooling) deletes its state, so memory follows the keys in use.
// Pending events are not bounded: a storm during a cooling period is kept in
// full until it is sent, drained or dropped. Undelivered events are bounded
// by [MaxUndelivered] per key, and kept until requeued.
//
// The zero value is ready to use. It is safe for concurrent use and must
// not be copied after first use.
type MemoryLimitStore struct {
	// DedupWindow is how long the store remembers the ID of an event that
	// left its key, so that a redelivery within it is a duplicate (see
	// [LimitStore]). Zero means [DefaultDedupWindow]. Set it before first
	// use.
	DedupWindow time.Duration

	shards   [memShards]memShard
	leases   atomic.Uint64 // source of lease ids
	rotor    atomic.Uint32 // the shard Due visits first, and sweeps
	seedOnce sync.Once
	seed     maphash.Seed // of the shard hash; random, so no input picks a shard
}

type memShard struct {
	mu   sync.Mutex
	keys map[LimitKey]*memKey
	due  dueHeap       // the keys that have a due time, earliest first
	_    [64 - 40]byte // keeps neighbouring shards' locks off one cache line
}

type memKey struct {
	key         LimitKey
	lim         Limiter
	pending     []Event
	leases      []memLease
	undelivered []Event
	expired     []memLease // the last maxExpired leases expired, without events
	retry       int64      // pending events are not due before it (GiveBack); 0: no retry time
	failures    int        // sends given back since the last Commit or Undeliver
	ids         seenIDs    // the IDs of the events the key took
	due         int64      // the due time, when slot >= 0
	slot        int        // the key's index in its shard's due heap; -1 when not due
}

// maxExpired is how many expired leases a key remembers, so that a late
// GiveBack or Undeliver can still release the slot their expiry charged.
const maxExpired = 16

type memLease struct {
	id       string
	deadline int64
	events   []Event
}

var _ LimitStore = (*MemoryLimitStore)(nil)

// shard returns the shard of key.
func (s *MemoryLimitStore) shard(key LimitKey) *memShard {
	s.seedOnce.Do(func() { s.seed = maphash.MakeSeed() })
	h := maphash.String(s.seed, key.Tenant)
	h = bits.RotateLeft64(h, 31) ^ maphash.String(s.seed, string(key.Category))
	return &s.shards[(h^h>>32)&(memShards-1)]
}

// lock locks key's shard and returns it with key's state, created if create
// is set (else possibly nil), after expiring its leases at now.
func (s *MemoryLimitStore) lock(key LimitKey, p FrequencyLimit, now int64, create bool) (*memShard, *memKey) {
	sh := s.shard(key)
	sh.mu.Lock()
	k := sh.keys[key]
	if k == nil {
		if !create {
			return sh, nil
		}
		if sh.keys == nil {
			sh.keys = make(map[LimitKey]*memKey)
		}
		k = &memKey{key: key, slot: -1}
		sh.keys[key] = k
	}
	k.lim.setLimit(p.WithDefaults())
	k.expire(now)
	k.lim.normalize(now)
	k.expireIDs(now)
	return sh, k
}

// unlock recomputes the due time of key's state and deletes the state if
// it holds nothing, then unlocks the shard.
func (sh *memShard) unlock(key LimitKey, k *memKey, now int64) {
	if k != nil {
		sh.due.set(k, now)
		if k.empty(now) {
			delete(sh.keys, key)
		}
	}
	sh.mu.Unlock()
}

// empty reports whether k holds nothing: no pending, leased or undelivered
// event, no event ID to remember, and a limit with nothing to count.
func (k *memKey) empty(now int64) bool {
	return len(k.pending) == 0 && len(k.leases) == 0 && len(k.undelivered) == 0 && k.ids.empty() && k.lim.idle(now)
}

// expire ends the leases whose deadline is at or before now.
func (k *memKey) expire(now int64) {
	var back []Event
	kept := k.leases[:0]
	for _, l := range k.leases {
		if l.deadline > now {
			kept = append(kept, l)
			continue
		}
		back = append(back, l.events...)
		k.lim.CommitAt(time.Unix(0, l.deadline))
		if len(k.expired) == maxExpired {
			k.expired = slices.Delete(k.expired, 0, 1)
		}
		k.expired = append(k.expired, memLease{id: l.id, deadline: l.deadline})
	}
	clear(k.leases[len(kept):])
	k.leases = kept
	if back != nil {
		k.pending = append(back, k.pending...)
	}
}

// checkCall reports why a call for key cannot start: ctx is done, or the
// tenant breaks the tenant rule ([ValidateTenant]).
func checkCall(ctx context.Context, key LimitKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return ValidateTenant(key.Tenant)
}

// Take implements [LimitStore.Take].
func (s *MemoryLimitStore) Take(ctx context.Context, key LimitKey, p FrequencyLimit, now time.Time, ttl time.Duration, evs []Event) (Grant, error) {
	return s.take(ctx, key, p, now, ttl, evs, true)
}

// Queue implements [LimitStore.Queue].
func (s *MemoryLimitStore) Queue(ctx context.Context, key LimitKey, p FrequencyLimit, now time.Time, evs []Event) (Grant, error) {
	return s.take(ctx, key, p, now, 0, evs, false)
}

// take appends evs to key's pending events, duplicates left out, and, if
// lease is set, leases them as Take does.
func (s *MemoryLimitStore) take(ctx context.Context, key LimitKey, p FrequencyLimit, now time.Time, ttl time.Duration, evs []Event, lease bool) (Grant, error) {
	if err := checkCall(ctx, key); err != nil {
		return Grant{}, err
	}
	t := now.UnixNano()
	sh, k := s.lock(key, p, t, true)
	defer sh.unlock(key, k, t)
	fresh, dups := k.ids.admit(evs)
	if len(evs) > 0 && dups == len(evs) {
		lease = false // only a redelivery: it triggers nothing
	}
	k.pending = append(k.pending, fresh...)
	g := Grant{Duplicates: dups, Failures: k.failures}
	if len(k.pending) > 0 {
		if lease && k.lim.ReserveAt(now) {
			id := strconv.FormatUint(s.leases.Add(1), 36)
			deadline := t + int64(ttl)
			k.leases = append(k.leases, memLease{id: id, deadline: deadline, events: k.pending})
			g.Lease, g.Events, g.Deadline = id, k.pending, time.Unix(0, deadline)
			// The lease owns that array now: pending starts a new one, so
			// nothing the caller reads is ever written again.
			k.pending = nil
			k.retry = 0
		} else {
			g.Next = time.Unix(0, max(k.lim.NextAt(now).UnixNano(), k.retry))
		}
	}
	g.Pending = len(k.pending)
	return g, nil
}

// How a lease ends (MemoryLimitStore.end).
type leaseEnd int

const (
	endSent        leaseEnd = iota // Commit
	endNotSent                     // GiveBack
	endUndelivered                 // Undeliver
)

// Commit implements [LimitStore.Commit].
func (s *MemoryLimitStore) Commit(ctx context.Context, key LimitKey, p FrequencyLimit, lease string, now time.Time) error {
	_, err := s.end(ctx, key, p, lease, now, time.Time{}, endSent)
	return err
}

// GiveBack implements [LimitStore.GiveBack].
func (s *MemoryLimitStore) GiveBack(ctx context.Context, key LimitKey, p FrequencyLimit, lease string, now, retry time.Time) error {
	_, err := s.end(ctx, key, p, lease, now, retry, endNotSent)
	return err
}

// Undeliver implements [LimitStore.Undeliver].
func (s *MemoryLimitStore) Undeliver(ctx context.Context, key LimitKey, p FrequencyLimit, lease string, now time.Time) (int, error) {
	return s.end(ctx, key, p, lease, now, time.Time{}, endUndelivered)
}

// end ends lease as how says, and returns the number of undelivered
// events discarded to keep within MaxUndelivered. retry is GiveBack's.
func (s *MemoryLimitStore) end(ctx context.Context, key LimitKey, p FrequencyLimit, lease string, now, retry time.Time, how leaseEnd) (int, error) {
	if err := checkCall(ctx, key); err != nil {
		return 0, err
	}
	t := now.UnixNano()
	sh, k := s.lock(key, p, t, false)
	defer sh.unlock(key, k, t)
	if k == nil {
		return 0, ErrLeaseExpired
	}
	switch how {
	case endNotSent:
		k.retry = retry.UnixNano()
		k.failures++
	default:
		k.failures = 0
	}
	dropped := 0
	for i, l := range k.leases {
		if l.id != lease {
			continue
		}
		switch how {
		case endSent:
			k.lim.CommitAt(now)
			k.ids.forget(l.events, t, s.window())
		case endNotSent:
			k.lim.Release()
			// A new array: l.events was handed out and is never written.
			back := make([]Event, 0, len(l.events)+len(k.pending))
			k.pending = append(append(back, l.events...), k.pending...)
		case endUndelivered:
			k.lim.Release()
			// A new array, for the same reason; the oldest go past the cap.
			all := append(append(make([]Event, 0, len(k.undelivered)+len(l.events)), k.undelivered...), l.events...)
			dropped = max(0, len(all)-MaxUndelivered)
			k.ids.forget(all[:dropped], t, s.window())
			k.undelivered = all[dropped:]
		}
		n := len(k.leases)
		copy(k.leases[i:], k.leases[i+1:])
		k.leases[n-1] = memLease{} // drop the events for the collector
		k.leases = k.leases[:n-1]
		return dropped, nil
	}
	if how != endSent {
		// A lease that expired while its email failed: its events are
		// pending already, but the send its expiry charged did not
		// happen.
		if i := slices.IndexFunc(k.expired, func(l memLease) bool { return l.id == lease }); i >= 0 {
			k.lim.uncommit(k.expired[i].deadline, t)
			k.expired = slices.Delete(k.expired, i, i+1)
		}
	}
	return 0, ErrLeaseExpired
}

// Undelivered implements [LimitStore.Undelivered].
func (s *MemoryLimitStore) Undelivered(ctx context.Context, key LimitKey) ([]Event, error) {
	if err := checkCall(ctx, key); err != nil {
		return nil, err
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if k := sh.keys[key]; k != nil {
		return slices.Clone(k.undelivered), nil
	}
	return nil, nil
}

// Requeue implements [LimitStore.Requeue].
func (s *MemoryLimitStore) Requeue(ctx context.Context, key LimitKey, p FrequencyLimit, now time.Time) (int, error) {
	if err := checkCall(ctx, key); err != nil {
		return 0, err
	}
	t := now.UnixNano()
	sh, k := s.lock(key, p, t, false)
	defer sh.unlock(key, k, t)
	if k == nil || len(k.undelivered) == 0 {
		return 0, nil
	}
	n := len(k.undelivered)
	// A new array: pending arrays may be handed out by Take and Drain.
	back := make([]Event, 0, n+len(k.pending))
	k.pending = append(append(back, k.undelivered...), k.pending...)
	k.undelivered = nil
	return n, nil
}

// Drain implements [LimitStore.Drain].
func (s *MemoryLimitStore) Drain(ctx context.Context, key LimitKey, p FrequencyLimit, now time.Time) ([]Event, error) {
	if err := checkCall(ctx, key); err != nil {
		return nil, err
	}
	t := now.UnixNano()
	sh, k := s.lock(key, p, t, false)
	defer sh.unlock(key, k, t)
	if k == nil {
		return nil, nil
	}
	evs := k.pending
	k.pending = nil
	k.ids.forget(evs, t, s.window())
	return evs, nil
}

// Drop implements [LimitStore.Drop].
func (s *MemoryLimitStore) Drop(ctx context.Context, key LimitKey, p FrequencyLimit, now time.Time) (int, error) {
	if err := checkCall(ctx, key); err != nil {
		return 0, err
	}
	t := now.UnixNano()
	sh, k := s.lock(key, p, t, false)
	defer sh.unlock(key, k, t)
	if k == nil {
		return 0, nil
	}
	n := len(k.pending)
	k.ids.forget(k.pending, t, s.window())
	// Pending arrays are never handed out (Take moves them into a lease,
	// Drain gives them away), so this one can be reused.
	clear(k.pending)
	k.pending = k.pending[:0]
	return n, nil
}
