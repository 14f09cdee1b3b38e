package alertstest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// A LeaseChecker is an alerts.LimitStore for tests: it passes every call to
// another store and keeps track of the leases it grants. When the test ends
// it fails the test for every lease still open, neither committed, given
// back nor undelivered: a send path that forgets one leaves its events stranded until the
// lease expires.
//
// A LeaseChecker is safe for concurrent use.
type LeaseChecker struct {
	alerts.LimitStore

	mu   sync.Mutex
	open map[string]alerts.LimitKey
}

// NewLeaseChecker returns a LeaseChecker wrapping inner (a new
// alerts.MemoryLimitStore if inner is nil) and registers the check of open
// leases with t.Cleanup.
func NewLeaseChecker(t testing.TB, inner alerts.LimitStore) *LeaseChecker {
	t.Helper()
	if inner == nil {
		inner = new(alerts.MemoryLimitStore)
	}
	s := &LeaseChecker{LimitStore: inner, open: make(map[string]alerts.LimitKey)}
	t.Cleanup(func() {
		t.Helper()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, lease := range slices.Sorted(maps.Keys(s.open)) {
			t.Errorf("alertstest: lease %q on %v was neither committed nor given back", lease, s.open[lease])
		}
	})
	return s
}

// Open returns the leases granted and not yet committed or given back, in
// no particular order.
func (s *LeaseChecker) Open() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.open))
}

// Take implements alerts.LimitStore.
func (s *LeaseChecker) Take(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, ttl time.Duration, evs []alerts.Event) (alerts.Grant, error) {
	g, err := s.LimitStore.Take(ctx, key, p, now, ttl, evs)
	if err == nil && g.Lease != "" {
		s.mu.Lock()
		s.open[g.Lease] = key
		s.mu.Unlock()
	}
	return g, err
}

// Commit implements alerts.LimitStore.
func (s *LeaseChecker) Commit(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
	err := s.LimitStore.Commit(ctx, key, p, lease, now)
	s.settle(lease, err)
	return err
}

// GiveBack implements alerts.LimitStore.
func (s *LeaseChecker) GiveBack(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now, retry time.Time) error {
	err := s.LimitStore.GiveBack(ctx, key, p, lease, now, retry)
	s.settle(lease, err)
	return err
}

// Undeliver implements alerts.LimitStore.
func (s *LeaseChecker) Undeliver(ctx context.Context, key alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) (int, error) {
	n, err := s.LimitStore.Undeliver(ctx, key, p, lease, now)
	s.settle(lease, err)
	return n, err
}

// settle closes lease unless the store failed (then it may still be open).
func (s *LeaseChecker) settle(lease string, err error) {
	if err == nil || errors.Is(err, alerts.ErrLeaseExpired) {
		s.mu.Lock()
		delete(s.open, lease)
		s.mu.Unlock()
	}
}
