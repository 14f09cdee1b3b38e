package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// nullNotifier accepts every email.
var nullNotifier = alerts.NotifierFunc(func(context.Context, *alerts.Message) error { return nil })

// noRender leaves the emails empty: the benchmarks measure the pipeline.
var noRender = alerts.RendererFunc(func(*alerts.Message) error { return nil })

// BenchDispatch measures Dispatch for a key in its cooling period, the
// path every event of a storm takes, on store: with a new event ID each
// time (the store checks and remembers it) and without IDs (content
// identity, no check), so that the cost of the duplicate check shows
// beside the rest. window must be the store's dedup window (see Storm).
func BenchDispatch(b *testing.B, newStore func(b *testing.B) alerts.LimitStore, window time.Duration) {
	for _, withID := range []bool{true, false} {
		name := "no-id"
		if withID {
			name = "id"
		}
		b.Run(name, func(b *testing.B) {
			clock := alertstest.NewClock(t0)
			d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
				Settings: everyTenant(b), Notifier: nullNotifier, Renderer: noRender,
				Store: newStore(b), Clock: clock,
			})
			require.NoError(b, err, "NewDispatcher")
			Storm(context.Background(), b, d, clock, window, withID)
		})
	}
}

// Storm is the loop of a benchmark of Dispatch on the path every event of
// a storm takes: tenant "acme"'s Active Threat alerts, on in d's settings,
// send five emails, then each event is held back by the cooling period;
// with withID each carries a new ID, else none. clock must be d's, and
// window the dedup window of d's store, short (a millisecond): every 1,024
// events the key's pending events are drained and the clock moves on by
// window, so that the IDs can be used again.
func Storm(ctx context.Context, b *testing.B, d *alerts.Dispatcher, clock *alertstest.Clock, window time.Duration, withID bool) {
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = fmt.Sprint("storm-", i)
	}
	ev := alerts.Event{Tenant: "acme", Category: alerts.ActiveThreat, Score: 8, Asset: "host-1", Summary: "storm", Time: clock.Now()}
	for i := range 5 {
		ev.ID = fmt.Sprint("sent-", i)
		res, err := d.Dispatch(ctx, ev)
		require.NoError(b, err, "Dispatch")
		require.Equal(b, alerts.Sent, res.Outcome, "Dispatch of the first five")
	}
	ev.ID = ""
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if withID {
			ev.ID = ids[i%len(ids)]
		}
		if res, err := d.Dispatch(ctx, ev); err != nil || res.Outcome != alerts.Suppressed {
			require.FailNowf(b, "Dispatch", "Dispatch = %+v, %v; want suppressed", res, err)
		}
		if i++; i%len(ids) == 0 {
			if _, err := d.Drain(ctx, "acme", alerts.ActiveThreat); err != nil {
				require.FailNow(b, "Drain", err)
			}
			clock.Advance(window)
		}
	}
}

// BenchFlushDue measures FlushDue on store, which holds 10,000 idle keys
// (each sent its email of the day and holds an event until tomorrow) and
// 100 keys due now: its cost should follow the due keys, not the keys.
// Each round queues one event for each of 100 new tenants, untimed.
func BenchFlushDue(b *testing.B, store alerts.LimitStore) {
	ctx := context.Background()
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: everyTenant(b), Notifier: nullNotifier, Renderer: noRender,
		Store: store, Clock: alertstest.NewClock(t0), Async: true,
		Limit: alerts.FrequencyLimit{Max: 1, Period: 24 * time.Hour}, // an email a day
	})
	require.NoError(b, err, "NewDispatcher")
	queue := func(ten, id string) {
		ev := alerts.Event{ID: id, Tenant: ten, Category: alerts.ActiveThreat, Score: 8}
		if res, err := d.Dispatch(ctx, ev); err != nil || res.Outcome != alerts.Queued {
			require.FailNowf(b, "Dispatch", "Dispatch(%q, %q) = %+v, %v; want queued", ten, id, res, err)
		}
	}
	flush := func(want int) {
		if rep, err := d.FlushDue(ctx); err != nil || rep.Keys != want || rep.Sent != want {
			require.FailNowf(b, "FlushDue", "FlushDue = %+v, %v; want %d keys sent", rep, err, want)
		}
	}
	const idle, due = 10_000, 100
	for i := range idle {
		queue(fmt.Sprint("idle-", i), "sent")
	}
	flush(idle)
	for i := range idle {
		queue(fmt.Sprint("idle-", i), "tomorrow")
	}
	flush(0)
	round := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		round++
		for i := range due {
			queue(fmt.Sprint("due-", round, "-", i), "a")
		}
		b.StartTimer()
		flush(due)
	}
}
