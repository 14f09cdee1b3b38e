package alerts

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// keys counts the keys a MemoryLimitStore holds state for.
func (s *MemoryLimitStore) keys() int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += len(s.shards[i].keys)
		s.shards[i].mu.Unlock()
	}
	return n
}

// TestMemoryLimitStoreForgetsIdleKeys checks that memory follows the keys in
// use: a key's state goes once it holds nothing that matters.
func TestMemoryLimitStoreForgetsIdleKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Event IDs are remembered for the dedup window after their events
	// left: a window of 1ns lets the keys go with their limit (a key
	// holding only IDs is checked in TestMemoryLimitStoreForgetsIDs).
	s := MemoryLimitStore{DedupWindow: time.Nanosecond}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := FrequencyLimit{}.WithDefaults()
	for _, mode := range []LimitMode{Cooldown, SlidingWindow} {
		p.Mode = mode
		for i := range 100 {
			k := LimitKey{Tenant: string(rune('a'+i%26)) + string(rune('a'+i/26)), Category: Threat}
			for j := range 5 {
				g, err := s.Take(ctx, k, p, t0, time.Minute, []Event{{ID: "e" + strconv.Itoa(j)}})
				if err != nil || g.Lease == "" {
					t.Fatalf("Take = %+v, %v", g, err)
				}
				if err := s.Commit(ctx, k, p, g.Lease, t0); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Take(ctx, k, p, t0, time.Minute, []Event{{ID: "late"}}); err != nil {
				t.Fatal(err)
			}
		}
		if got := s.keys(); got != 100 {
			t.Fatalf("%s: %d keys with state; want 100", mode, got)
		}
		later := t0.Add(p.Period)
		for i := range 100 {
			k := LimitKey{Tenant: string(rune('a'+i%26)) + string(rune('a'+i/26)), Category: Threat}
			// Still cooling a nanosecond before: the state stays.
			if _, err := s.Drain(ctx, k, p, later.Add(-time.Nanosecond)); err != nil {
				t.Fatal(err)
			}
		}
		if got := s.keys(); got != 100 {
			t.Fatalf("%s: %d keys with state while cooling; want 100", mode, got)
		}
		for i := range 100 {
			k := LimitKey{Tenant: string(rune('a'+i%26)) + string(rune('a'+i/26)), Category: Threat}
			if _, err := s.Drop(ctx, k, p, later); err != nil {
				t.Fatal(err)
			}
		}
		if got := s.keys(); got != 0 {
			t.Errorf("%s: %d keys with state after the period; want 0", mode, got)
		}
	}
}
