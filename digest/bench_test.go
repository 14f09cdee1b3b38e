package digest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/digest"
)

// BenchmarkSendDue builds and sends one tenant's digest of a day with
// 1,000,000 items, 10% of them repeats of others (900,000 distinct
// notifications), into an empty store. ns/op is the build: claim, read
// the pending items, collapse, look up the reported keys, sort, render,
// and commit 900,000 keys. B/fingerprint is the heap the in-memory store
// keeps per reported key afterwards (its dedup map, measured after a GC).
func BenchmarkSendDue(b *testing.B) {
	const total, distinct = 1_000_000, 900_000
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	items := benchItems(total, distinct, at)

	var lines int
	notifier := alerts.NotifierFunc(func(_ context.Context, msg *alerts.Message) error {
		lines = len(msg.Events)
		return nil
	})
	ctx := context.Background()
	var perFP float64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		store := digest.NewMemoryStore()
		clk := alertstest.NewClock(at.Add(time.Hour))
		s, err := digest.NewMailer(digest.MailerConfig{Notifier: notifier, Store: store, Clock: clk})
		require.NoError(b, err, "NewMailer")
		require.NoError(b, s.SetTenant("acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9}}), "SetTenant")
		runtime.GC()
		var m0 runtime.MemStats
		runtime.ReadMemStats(&m0)
		require.NoError(b, store.Append(ctx, "acme", items), "Append")
		b.StartTimer()

		err = s.SendDue(ctx)

		b.StopTimer()
		require.NoError(b, err, "SendDue")
		require.Equal(b, distinct, lines, "lines of the digest")
		runtime.GC()
		var m1 runtime.MemStats
		runtime.ReadMemStats(&m1)
		p, _, err := store.Pending(ctx, "acme")
		require.NoError(b, err, "Pending")
		require.Empty(b, p, "items still pending")
		perFP = float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / distinct
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(perFP, "B/fingerprint")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/total, "ns/item")
}

// benchItems returns total items of tenant acme seen before at, shuffled,
// of which the first distinct are distinct notifications and the rest
// repeats of them.
func benchItems(total, distinct int, at time.Time) []digest.Item {
	rng := rand.New(rand.NewPCG(1, 2))
	items := make([]digest.Item, total)
	cats := []alerts.CategoryID{alerts.Threat, alerts.ActiveThreat, alerts.SystemStatus, alerts.Configuration}
	for i := range items {
		n := i
		if i >= distinct {
			n = rng.IntN(distinct) // a repeat
		}
		items[i] = digest.Item{
			Tenant:      "acme",
			Category:    cats[n%len(cats)],
			Asset:       fmt.Sprintf("host-%05d.corp.example.com", n%20000),
			Fingerprint: fmt.Sprintf("rule-%03d:sha256:%016x", n%500, uint64(n)*0x9E3779B97F4A7C15),
			Summary:     "Suspicious process tree spawned from an office document",
			Time:        at.Add(-time.Duration(n%86400) * time.Second),
		}
	}
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	return items
}

// discard is a Store whose Append keeps nothing, to measure the collector
// alone.
type discard struct{ digest.Store }

func (discard) Append(context.Context, string, []digest.Item) error { return nil }

// BenchmarkCollectorAdd measures Add from all procs at once, with a flush
// every 4096 adds as a host's ticker would do.
func BenchmarkCollectorAdd(b *testing.B) {
	c := digest.NewCollector(discard{})
	it := digest.Item{Tenant: "acme", Category: alerts.Threat, Asset: "host", Fingerprint: "fp", Summary: "s",
		Time: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for n := 1; pb.Next(); n++ {
			if !assert.NoError(b, c.Add(it), "Add") {
				return
			}
			if n%4096 == 0 && !assert.NoError(b, c.Flush(ctx), "Flush") {
				return
			}
		}
	})
}

// BenchmarkScheduleAt measures the send instant of a date in a zone with
// daylight saving time.
func BenchmarkScheduleAt(b *testing.B) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(b, err, "LoadLocation")
	s := digest.Schedule{Hour: 2, Minute: 30, Location: ny}
	d := digest.DateDay(2026, 3, 8)
	b.ReportAllocs()
	for b.Loop() {
		s.At(d)
	}
}
