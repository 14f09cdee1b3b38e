package alerts_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// BenchmarkMemoryLimitStoreDue measures Due with 10,000 idle keys (events
// pending, due a day later) and 100 due keys, which each call claims for a
// millisecond; the next call, a millisecond later, finds them due again.
// The in-memory store keeps a due heap per shard: a call costs the due
// keys and the shards, not the idle keys.
func BenchmarkMemoryLimitStoreDue(b *testing.B) {
	var s alerts.MemoryLimitStore
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	p := alerts.FrequencyLimit{Max: 1, Period: 24 * time.Hour}
	const idle, due = 10000, 100
	for i := range idle + due {
		tenant := fmt.Sprint("tenant-", i)
		key := alerts.LimitKey{Tenant: tenant, Category: alerts.ActiveThreat}
		ev := []alerts.Event{{ID: "a", Tenant: tenant, Category: alerts.ActiveThreat}}
		if i < idle {
			g, err := s.Take(ctx, key, p, now, time.Minute, ev)
			if err == nil {
				err = s.Commit(ctx, key, p, g.Lease, now)
			}
			if err != nil {
				b.Fatal(err)
			}
			ev[0].ID = "b"
		}
		if _, err := s.Queue(ctx, key, p, now, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		keys, _, err := s.Due(ctx, now, 1000, time.Millisecond)
		if err != nil || len(keys) != due {
			b.Fatalf("Due = %d keys, %v; want %d", len(keys), err, due)
		}
		now = now.Add(time.Millisecond)
	}
}
