package alerts

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"time"
)

// This file holds what MemoryLimitStore keeps beside the limit and the
// events of a key: its due time, in a heap per shard, and the IDs of the
// events it took, for idempotency.

// window returns the store's dedup window.
func (s *MemoryLimitStore) window() int64 {
	if s.DedupWindow > 0 {
		return int64(s.DedupWindow)
	}
	return int64(DefaultDedupWindow)
}

// Due implements [LimitStore.Due]. It visits the shards from a rotating
// start, so that a full batch does not always favour the same ones, and
// sweeps the first shard it visits of the event IDs whose window is over
// (a key is otherwise swept only when it is next used).
func (s *MemoryLimitStore) Due(ctx context.Context, now time.Time, max int, claim time.Duration) ([]LimitKey, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, err
	}
	if max <= 0 {
		return nil, time.Time{}, fmt.Errorf("alerts: Due: max %d is not positive", max)
	}
	if claim <= 0 {
		return nil, time.Time{}, fmt.Errorf("alerts: Due: claim %v is not positive", claim)
	}
	t := now.UnixNano()
	var keys []LimitKey
	next := int64(math.MaxInt64)
	start := int(s.rotor.Add(1))
	for i := range memShards {
		sh := &s.shards[(start+i)%memShards]
		sh.mu.Lock()
		if i == 0 {
			sh.sweep(t)
		}
		for len(keys) < max && len(sh.due) > 0 && sh.due[0].due <= t {
			k := sh.due[0]
			k.due = t + int64(claim)
			heap.Fix(&sh.due, 0)
			keys = append(keys, k.key)
		}
		if len(sh.due) > 0 {
			next = min(next, sh.due[0].due)
		}
		sh.mu.Unlock()
	}
	if next == math.MaxInt64 {
		return keys, time.Time{}, nil
	}
	return keys, time.Unix(0, next), nil
}

// sweep forgets the event IDs of the shard's keys whose window is over,
// and deletes the keys left holding nothing.
func (sh *memShard) sweep(now int64) {
	for key, k := range sh.keys {
		if k.ids.empty() {
			continue
		}
		k.expireIDs(now)
		if k.empty(now) && k.slot < 0 {
			delete(sh.keys, key)
		}
	}
}

// dueAt returns k's due time (see [LimitStore]), with ok false when k is
// not due. Its leases must have been expired at now.
func (k *memKey) dueAt(now int64) (at int64, ok bool) {
	at = math.MaxInt64
	for _, l := range k.leases {
		at, ok = min(at, l.deadline), true
	}
	if len(k.pending) > 0 {
		t := time.Unix(0, now)
		// Events that wait only for leases to end add nothing: the end of
		// each lease recomputes the due time.
		if next := k.lim.NextAt(t).UnixNano(); next > now || k.lim.AllowAt(t) {
			at, ok = min(at, max(next, k.retry)), true
		}
	}
	return at, ok
}

// A dueHeap holds the keys of a shard that have a due time, by due time:
// a min-heap (container/heap) that keeps each key's index in memKey.slot.
type dueHeap []*memKey

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].slot, h[j].slot = i, j
}

// Push appends x, a *memKey; for container/heap.
func (h *dueHeap) Push(x any) {
	k := x.(*memKey)
	k.slot = len(*h)
	*h = append(*h, k)
}

// Pop removes the last key; for container/heap.
func (h *dueHeap) Pop() any {
	old := *h
	k := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	k.slot = -1
	return k
}

// set puts k at its due time at now, or takes it out when it is not due.
func (h *dueHeap) set(k *memKey, now int64) {
	at, ok := k.dueAt(now)
	switch {
	case !ok && k.slot >= 0:
		heap.Remove(h, k.slot)
	case !ok:
	case k.slot < 0:
		k.due = at
		heap.Push(h, k)
	case k.due != at:
		k.due = at
		heap.Fix(h, k.slot)
	}
}

// seenIDs are the IDs of the events a key took: while it holds them
// (pending, leased, undelivered), and for the dedup window after they
// left. The zero value is empty.
//
// An ID stays in the set from the event's arrival to the end of its
// window, which makes every check one map operation: an ID in the set is a
// duplicate, whether its event is held or gone. The queue lists the IDs
// whose event left, with the end of their window, in the order they left
// (the order of those ends, as long as the clock does not step back: an
// entry after a step back waits for the ones before it). An ID is queued
// at most once, since it cannot arrive again before its window ends.
type seenIDs struct {
	set   map[string]struct{}
	queue []seenID
	head  int // the first entry of queue still to expire
}

type seenID struct {
	id    string
	until int64
}

// empty reports whether no ID is remembered.
func (s *seenIDs) empty() bool { return len(s.set) == 0 }

// admit returns the events of evs whose ID is not in the set, and the
// number of the others, and adds the IDs of the events it returns. It
// returns evs itself when no event is a duplicate.
func (s *seenIDs) admit(evs []Event) ([]Event, int) {
	var kept []Event // a copy, made at the first duplicate
	dups := 0
	for i := range evs {
		if id := evs[i].ID; id != "" {
			if s.set == nil {
				s.set = make(map[string]struct{})
			}
			// One map operation: the set grows unless id was in it.
			n := len(s.set)
			if s.set[id] = struct{}{}; len(s.set) == n {
				if kept == nil {
					kept = append(make([]Event, 0, len(evs)-1), evs[:i]...)
				}
				dups++
				continue
			}
		}
		if kept != nil {
			kept = append(kept, evs[i])
		}
	}
	if dups == 0 {
		return evs, 0
	}
	return kept, dups
}

// forget starts the dedup window of the IDs of evs, events that left the
// key at now.
func (s *seenIDs) forget(evs []Event, now, window int64) {
	until := now + window
	for i := range evs {
		if id := evs[i].ID; id != "" {
			s.queue = append(s.queue, seenID{id: id, until: until})
		}
	}
}

// expireIDs forgets the IDs of k whose window ended at or before now. When
// they are most of what k remembers (a storm's IDs, which left together),
// it clears the set and puts back the IDs that stay, those of the events k
// holds and those still within their window: a map clears far faster than
// it deletes one key at a time (a delete leaves a tombstone that later
// inserts and lookups pay for).
func (k *memKey) expireIDs(now int64) {
	s := &k.ids
	n := 0
	for s.head+n < len(s.queue) && s.queue[s.head+n].until <= now {
		n++
	}
	if n == 0 {
		return
	}
	gone := s.queue[s.head : s.head+n]
	s.head += n
	if 2*n < len(s.set) {
		for _, e := range gone {
			delete(s.set, e.id)
		}
	} else {
		clear(s.set)
		for _, e := range s.queue[s.head:] {
			s.set[e.id] = struct{}{}
		}
		k.eachHeld(func(id string) { s.set[id] = struct{}{} })
	}
	clear(gone) // let the strings go
	switch {
	case s.head == len(s.queue):
		s.queue, s.head = s.queue[:0], 0
	case s.head > 64 && s.head > len(s.queue)/2:
		m := copy(s.queue, s.queue[s.head:])
		clear(s.queue[m:])
		s.queue, s.head = s.queue[:m], 0
	}
}

// eachHeld calls f with the ID of each event k holds: pending, leased or
// undelivered.
func (k *memKey) eachHeld(f func(id string)) {
	for _, evs := range [][]Event{k.pending, k.undelivered} {
		for i := range evs {
			if evs[i].ID != "" {
				f(evs[i].ID)
			}
		}
	}
	for _, l := range k.leases {
		for i := range l.events {
			if l.events[i].ID != "" {
				f(l.events[i].ID)
			}
		}
	}
}
