package digest

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// A scheduler is the scheduling part of a [Mailer]: the tenants it serves,
// the latest day it knows sent for each, and when it should look again.
// It is safe for concurrent use.
type scheduler struct {
	retry time.Duration // how soon to try again a digest that fell due and is not known sent
	flush time.Duration // how often Run flushes the collector

	mu      sync.RWMutex
	tenants map[string]Subscription // by tenant id
	done    map[string]Day          // the latest day known sent, per tenant: no need to ask the store
	wake    chan struct{}           // tells Run that the tenants changed
}

func newScheduler(retry, flush time.Duration) *scheduler {
	return &scheduler{
		retry:   retry,
		flush:   flush,
		tenants: make(map[string]Subscription),
		done:    make(map[string]Day),
		wake:    make(chan struct{}, 1),
	}
}

// set adds or replaces tenant id, and wakes Run.
func (s *scheduler) set(id string, sub Subscription) {
	s.mu.Lock()
	s.tenants[id] = sub
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// remove forgets tenant id.
func (s *scheduler) remove(id string) {
	s.mu.Lock()
	delete(s.tenants, id)
	delete(s.done, id)
	s.mu.Unlock()
}

// ids returns the ids of the tenants, sorted.
func (s *scheduler) ids() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.tenants))
}

// due returns tenant id's subscription and whether its digest due at now
// is still to be sent: false when the tenant is gone or that digest is
// known sent.
func (s *scheduler) due(id string, now time.Time) (Subscription, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sub, ok := s.tenants[id]
	if !ok {
		return sub, false
	}
	day, _ := sub.Schedule.Due(now)
	return sub, !s.sentLocked(id, day)
}

// next returns the earliest send instant after now of any tenant, or now
// plus the retry interval while a digest that fell due is not known sent;
// the zero time when there are no tenants.
func (s *scheduler) next(now time.Time) time.Time {
	var next time.Time
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, sub := range s.tenants {
		at := now.Add(s.retry)
		if day, _ := sub.Schedule.Due(now); s.sentLocked(id, day) {
			_, at = sub.Schedule.Next(now)
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}

// markDone notes that tenant id's digest of day is sent.
func (s *scheduler) markDone(id string, day Day) {
	s.mu.Lock()
	if d, ok := s.done[id]; !ok || day > d {
		s.done[id] = day
	}
	s.mu.Unlock()
}

// sentLocked reports whether tenant id's digest of day is known to be
// sent. The caller holds s.mu.
func (s *scheduler) sentLocked(id string, day Day) bool {
	done, ok := s.done[id]
	return ok && done >= day
}
