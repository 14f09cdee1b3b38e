package digest

import (
	"context"
	"sync"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// A MemoryStore is the in-memory [Store]: the default, for a single process.
// Its state is lost when the process ends.
//
// Deduplication state costs one map entry per reported key: the 16-byte
// [ItemKey] and an 8-byte report time (see BenchmarkSendDue for the measured
// bytes per key, map overhead included), whatever the length of the asset
// and fingerprint. Expired keys are dropped at each commit of their tenant.
//
// The zero value is an empty store ready to use. A MemoryStore is safe for
// concurrent use; calls for different tenants do not contend, apart from a
// brief read lock to find the tenant.
type MemoryStore struct {
	mu      sync.RWMutex
	tenants map[string]*memTenant
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

type memTenant struct {
	mu sync.Mutex
	// pending[i] is item number removed+i+1.
	pending []Item
	removed uint64
	// reported maps a key to the Unix second it was last reported.
	reported map[ItemKey]int64
	sent     Day
	hasSent  bool
	token    string
	until    time.Time
}

// check returns ctx's error, or the error of alerts.ValidateTenant for a
// tenant id it refuses: every method's first step.
func check(ctx context.Context, tenant string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return alerts.ValidateTenant(tenant)
}

// lookup returns tenant's state, or nil if it has none. Calls that only
// read use it, so that asking about a tenant does not create state that
// would stay for good.
func (s *MemoryStore) lookup(tenant string) *memTenant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tenants[tenant]
}

// tenant returns tenant's state, creating it.
func (s *MemoryStore) tenant(tenant string) *memTenant {
	if t := s.lookup(tenant); t != nil {
		return t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	if t == nil {
		if s.tenants == nil {
			s.tenants = make(map[string]*memTenant)
		}
		t = &memTenant{}
		s.tenants[tenant] = t
	}
	return t
}

// Append implements [Store].
func (s *MemoryStore) Append(ctx context.Context, tenant string, items []Item) error {
	if err := check(ctx, tenant); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	t := s.tenant(tenant)
	t.mu.Lock()
	t.pending = append(t.pending, items...)
	t.mu.Unlock()
	return nil
}

// Claim implements [Store].
func (s *MemoryStore) Claim(ctx context.Context, tenant string, c Claim) (ClaimStatus, error) {
	if err := check(ctx, tenant); err != nil {
		return 0, err
	}
	t := s.tenant(tenant)
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.hasSent && t.sent >= c.Day:
		return AlreadySent, nil
	case t.token != "" && t.token != c.Token && t.until.After(c.Now):
		return Busy, nil
	}
	t.token, t.until = c.Token, c.Until
	return Claimed, nil
}

// Pending implements [Store]. The returned slice shares the store's memory
// (the store never modifies an element once appended) and has no spare
// capacity, so appending to it copies.
func (s *MemoryStore) Pending(ctx context.Context, tenant string) ([]Item, uint64, error) {
	if err := check(ctx, tenant); err != nil {
		return nil, 0, err
	}
	t := s.lookup(tenant)
	if t == nil {
		return nil, 0, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.pending)
	return t.pending[:n:n], t.removed + uint64(n), nil
}

// Reported implements [Store].
func (s *MemoryStore) Reported(ctx context.Context, tenant string, keys []ItemKey, since time.Time) ([]bool, error) {
	if err := check(ctx, tenant); err != nil {
		return nil, err
	}
	out := make([]bool, len(keys))
	t := s.lookup(tenant)
	if t == nil {
		return out, nil
	}
	min := since.Unix() // times are kept to the second
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, k := range keys {
		if at, ok := t.reported[k]; ok && at >= min {
			out[i] = true
		}
	}
	return out, nil
}

// Commit implements [Store]. Report times are kept to the second.
func (s *MemoryStore) Commit(ctx context.Context, tenant string, c Commit) error {
	if err := check(ctx, tenant); err != nil {
		return err
	}
	t := s.tenant(tenant)
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.Through > t.removed {
		n := min(c.Through-t.removed, uint64(len(t.pending)))
		// Copy what is left, so the removed items' memory can be freed.
		t.pending = append([]Item(nil), t.pending[n:]...)
		t.removed += n
	}
	if len(c.Reported) > 0 && t.reported == nil {
		t.reported = make(map[ItemKey]int64, len(c.Reported))
	}
	now := c.Now.Unix()
	for _, k := range c.Reported {
		if now > t.reported[k] {
			t.reported[k] = now
		}
	}
	expire := c.ExpireBefore.Unix()
	for k, at := range t.reported {
		if at < expire {
			delete(t.reported, k)
		}
	}
	if !t.hasSent || c.Day > t.sent {
		t.sent, t.hasSent = c.Day, true
	}
	t.release(c.Token)
	return nil
}

// Release implements [Store].
func (s *MemoryStore) Release(ctx context.Context, tenant, token string) error {
	if err := check(ctx, tenant); err != nil {
		return err
	}
	t := s.lookup(tenant)
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.release(token)
	return nil
}

// release ends the lease if token holds it. The caller holds t.mu.
func (t *memTenant) release(token string) {
	if t.token != "" && t.token == token {
		t.token, t.until = "", time.Time{}
	}
}
