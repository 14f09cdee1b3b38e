package alerts_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

func TestMemoryLimitStore(t *testing.T) {
	t.Parallel()
	alertstest.TestLimitStore(t, func(*testing.T) alerts.LimitStore { return new(alerts.MemoryLimitStore) })
}

func TestKeyString(t *testing.T) {
	t.Parallel()
	k := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	if got, want := k.String(), "acme/active-threat"; got != want {
		t.Errorf("Key.String() = %q; want %q", got, want)
	}
}

func TestMemoryLimitStoreCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var s alerts.MemoryLimitStore
	k := alerts.LimitKey{Tenant: "t", Category: alerts.Threat}
	now := time.Unix(0, 0)
	if _, err := s.Take(ctx, k, alerts.FrequencyLimit{}, now, time.Minute, []alerts.Event{{ID: "a"}}); err != context.Canceled {
		t.Errorf("Take(canceled) error = %v; want %v", err, context.Canceled)
	}
	// Nothing was recorded.
	if evs, err := s.Drain(context.Background(), k, alerts.FrequencyLimit{}, now); err != nil || len(evs) != 0 {
		t.Errorf("Drain = %v, %v; want nothing", evs, err)
	}
}

// benchEvent is the event every benchmark Take carries. It has no ID, so
// that each Take appends it (the same ID would be a duplicate after the
// first): these benchmarks measure the limiter's decision, and
// BenchmarkDispatch/id the cost of the duplicate check.
var benchEvent = []alerts.Event{{Tenant: "t", Category: alerts.ActiveThreat, Score: 9}}

// BenchmarkMemoryLimitStoreTake measures the limiter decision of the
// in-memory store for a key in its cooling period: the event is kept as
// pending (dropped every 1024 events, as a disabled category would).
func BenchmarkMemoryLimitStoreTake(b *testing.B) {
	var s alerts.MemoryLimitStore
	ctx := context.Background()
	k := alerts.LimitKey{Tenant: "t", Category: alerts.ActiveThreat}
	p := alerts.FrequencyLimit{}.WithDefaults()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	coolOne(b, &s, k, p, now)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		g, err := s.Take(ctx, k, p, now, time.Minute, benchEvent)
		if err != nil || g.Lease != "" {
			b.Fatalf("Take = %+v, %v; want a suppression", g, err)
		}
		if i++; i%1024 == 0 {
			s.Drop(ctx, k, p, now)
		}
	}
}

// BenchmarkMemoryLimitStoreTakeParallel is BenchmarkMemoryLimitStoreTake
// from every core at once, each goroutine on its own key.
func BenchmarkMemoryLimitStoreTakeParallel(b *testing.B) {
	var s alerts.MemoryLimitStore
	ctx := context.Background()
	p := alerts.FrequencyLimit{}.WithDefaults()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		k := alerts.LimitKey{Tenant: fmt.Sprint("t", next.Add(1)), Category: alerts.ActiveThreat}
		coolOne(b, &s, k, p, now)
		i := 0
		for pb.Next() {
			g, err := s.Take(ctx, k, p, now, time.Minute, benchEvent)
			if err != nil || g.Lease != "" {
				b.Errorf("Take = %+v, %v; want a suppression", g, err)
				return
			}
			if i++; i%1024 == 0 {
				s.Drop(ctx, k, p, now)
			}
		}
	})
}

// BenchmarkMemoryLimitStoreSend measures a whole allowed send: Take with a
// lease, then Commit.
func BenchmarkMemoryLimitStoreSend(b *testing.B) {
	var s alerts.MemoryLimitStore
	ctx := context.Background()
	k := alerts.LimitKey{Tenant: "t", Category: alerts.ActiveThreat}
	p := alerts.FrequencyLimit{Mode: alerts.SlidingWindow, Max: 1 << 30, Period: time.Nanosecond}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Nanosecond)
		g, err := s.Take(ctx, k, p, now, time.Minute, benchEvent)
		if err != nil || g.Lease == "" {
			b.Fatalf("Take = %+v, %v; want a lease", g, err)
		}
		if err := s.Commit(ctx, k, p, g.Lease, now); err != nil {
			b.Fatal(err)
		}
	}
}

// coolOne sends p.Limit emails for k so that k is cooling at now.
func coolOne(b *testing.B, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) {
	b.Helper()
	ctx := context.Background()
	for range p.Max {
		g, err := s.Take(ctx, k, p, now, time.Minute, benchEvent)
		if err != nil || g.Lease == "" {
			b.Fatalf("Take = %+v, %v; want a lease", g, err)
		}
		if err := s.Commit(ctx, k, p, g.Lease, now); err != nil {
			b.Fatal(err)
		}
	}
}
