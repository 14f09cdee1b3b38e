package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// The shape of the Pipeline run.
const (
	pipelineReplicas = 4
	pipelineTenants  = 50
	pipelineEvents   = 2000
)

// Pipeline runs the pipeline of the SDK end to end on a LimitStore shared
// by four dispatchers, as four replicas of a service share one: each runs
// Dispatcher.Run in asynchronous mode, and 2,000 events across 50 tenants
// arrive spread over the replicas, one in ten of them delivered a second
// time to another replica, as an at-least-once source does; one in ten is
// under its threshold, for the digest. The clock is moved by hand over a
// day, in steps the replicas' Runs see within their PollInterval.
//
// At the end, it checks: every event above its threshold is in exactly one
// email, and no event ID in two; every other is in the digest; each key
// sent at most 5 emails in any 4 hours (the default limit); each
// redelivered event was acknowledged as a duplicate exactly once (the
// first of the two deliveries to be recorded wins); and nothing is left
// pending or due in the store.
func Pipeline(t *testing.T, inner alerts.LimitStore) {
	ctx := context.Background()
	// The checker counts the leases out, and fails the test for any left
	// open at the end.
	store := alertstest.NewLeaseChecker(t, inner)
	clock := alertstest.NewClock(t0)
	settings := everyTenant(t)
	var (
		mu      sync.Mutex
		emails  []alerts.Message
		digests = map[string]int{} // event ID -> hand-offs to the digest
	)
	notifier := alerts.NotifierFunc(func(_ context.Context, msg *alerts.Message) error {
		mu.Lock()
		defer mu.Unlock()
		m := *msg
		m.Events = slices.Clone(msg.Events)
		m.Time = clock.Now()
		emails = append(emails, m)
		return nil
	})
	digest := alerts.DigesterFunc(func(_ context.Context, evs []alerts.Event) error {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs {
			digests[ev.ID]++
		}
		return nil
	})
	replicas := make([]*alerts.Dispatcher, pipelineReplicas)
	runCtx, stop := context.WithCancel(ctx)
	var runs sync.WaitGroup
	for i := range replicas {
		d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
			Settings:     settings,
			Notifier:     notifier,
			Renderer:     alerts.RendererFunc(func(*alerts.Message) error { return nil }),
			Store:        store,
			Digest:       digest,
			Async:        true,
			Clock:        clock,
			PollInterval: 2 * time.Millisecond,
			// Longer than a step of the clock: a send in flight while the
			// test moves the clock keeps its lease.
			LeaseTTL: 2 * time.Hour,
		})
		require.NoError(t, err, "NewDispatcher")
		replicas[i] = d
		runs.Go(func() { d.Run(runCtx) })
	}

	// The source: events in order, each to one replica, one in ten again
	// to the next replica, from 8 goroutines; the clock moves a minute
	// every 50 events.
	evs := pipelineEventList()
	var (
		outcomes   sync.Map // event index -> []alerts.Outcome
		redelivery = func(i int) bool { return i%10 == 3 }
		next       = make(chan int)
		senders    sync.WaitGroup
	)
	for range 8 {
		senders.Go(func() {
			for i := range next {
				deliveries := []int{i % pipelineReplicas}
				if redelivery(i) {
					deliveries = append(deliveries, (i+1)%pipelineReplicas)
				}
				var got []alerts.Outcome
				for _, r := range deliveries {
					res, err := replicas[r].Dispatch(ctx, evs[i])
					if !assert.NoErrorf(t, err, "Dispatch(%q) on replica %d", evs[i].ID, r) {
						continue
					}
					got = append(got, res.Outcome)
				}
				outcomes.Store(i, got)
			}
		})
	}
	for i := range evs {
		if i%50 == 49 {
			clock.Advance(time.Minute)
		}
		next <- i
	}
	close(next)
	senders.Wait()
	// A day, an hour at a time: each step gives the Runs time to send
	// what fell due.
	for range 24 {
		clock.Advance(time.Hour)
		waitQuiet(t, replicas[0], store)
	}
	// The replicas stop; what they left (a send cut short, a key claimed
	// and not flushed) falls due again once its lease or claim is over,
	// and another replica sends it: here, the test's.
	stop()
	runs.Wait()
	clock.Advance(3 * time.Hour)
	waitQuiet(t, replicas[0], store)

	// Outcomes: queued or below-threshold, and one duplicate for each
	// redelivery.
	for i, ev := range evs {
		v, ok := outcomes.Load(i)
		require.Truef(t, ok, "event %q has no outcome", ev.ID)
		got := v.([]alerts.Outcome)
		want := alerts.Queued
		if ev.Score < float64(alerts.DefaultThreshold) {
			want = alerts.BelowThreshold
		}
		switch {
		case !redelivery(i):
			assert.Equalf(t, []alerts.Outcome{want}, got, "outcomes of %q", ev.ID)
		case want == alerts.BelowThreshold:
			assert.Equalf(t, []alerts.Outcome{want, want}, got, "outcomes of %q, delivered twice", ev.ID)
		default:
			assert.ElementsMatchf(t, []alerts.Outcome{alerts.Queued, alerts.Duplicate}, got, "outcomes of %q, delivered twice", ev.ID)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	checkEmails(t, evs, emails, digests)
	for tenant := range pipelineTenants {
		key := alerts.LimitKey{Tenant: fmt.Sprint("tenant-", tenant), Category: alerts.ActiveThreat}
		left, err := store.Drain(ctx, key, alerts.FrequencyLimit{}, clock.Now())
		require.NoError(t, err, "Drain")
		assert.Emptyf(t, left, "events of %v left pending", key)
	}
	keys, _, err := store.Due(ctx, clock.Now(), 10, time.Minute)
	require.NoError(t, err, "Due")
	assert.Empty(t, keys, "keys due at the end")
}

// everyTenant returns a loader that gives every tenant the same
// settings: the defaults (Active Threat on) and one recipient.
func everyTenant(t testing.TB) alerts.SettingsLoader {
	store := alerts.NewMemorySettingsStore(nil)
	cur, err := store.Load(context.Background(), "tenant")
	require.NoError(t, err, "Load")
	draft := cur.Edit()
	require.NoError(t, draft.SetRecipients([]string{"soc@example.com"}), "SetRecipients")
	set, err := store.Save(context.Background(), draft.Settings())
	require.NoError(t, err, "Save")
	return alerts.SettingsLoaderFunc(func(context.Context, string) (*alerts.Settings, error) { return set, nil })
}

// pipelineEventList returns Pipeline's events: Active Threat, across the
// tenants in turn, one in ten under the threshold.
func pipelineEventList() []alerts.Event {
	evs := make([]alerts.Event, pipelineEvents)
	for i := range evs {
		score := 8.0
		if i%10 == 7 {
			score = 2
		}
		evs[i] = alerts.Event{
			ID: fmt.Sprint("ev-", i), Tenant: fmt.Sprint("tenant-", i%pipelineTenants),
			Category: alerts.ActiveThreat, Score: score, Asset: "host", Fingerprint: fmt.Sprint("f", i),
		}
	}
	return evs
}

// waitQuiet flushes what is due through d, as one more replica, until
// nothing is due and no lease is out: the replicas' Runs and d have sent
// what fell due. (A key a Run has claimed but not yet taken is not seen:
// it goes out at the next step of the clock, which is shorter than the
// claim.)
func waitQuiet(t *testing.T, d *alerts.Dispatcher, store *alertstest.LeaseChecker) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		rep, err := d.FlushDue(context.Background())
		require.NoError(t, err, "FlushDue")
		if rep.Keys == 0 && len(store.Open()) == 0 {
			return
		}
		require.Truef(t, time.Now().Before(deadline), "still busy after 30 s: %+v, leases %v", rep, store.Open())
		time.Sleep(time.Millisecond)
	}
}

// checkEmails checks that every event above the threshold is in exactly
// one email, every other in the digest, and that no key sent more than 5
// emails in any 4 hours.
func checkEmails(t *testing.T, evs []alerts.Event, emails []alerts.Message, digests map[string]int) {
	inEmails := map[string]int{}
	byKey := map[alerts.LimitKey][]time.Time{}
	for _, m := range emails {
		for _, ev := range m.Events {
			inEmails[ev.ID]++
		}
		key := alerts.LimitKey{Tenant: m.Tenant, Category: m.Category}
		byKey[key] = append(byKey[key], m.Time)
	}
	for _, ev := range evs {
		if ev.Score < float64(alerts.DefaultThreshold) {
			assert.Zerof(t, inEmails[ev.ID], "emails listing %q, under the threshold", ev.ID)
			assert.NotZerof(t, digests[ev.ID], "digest hand-offs of %q", ev.ID)
			continue
		}
		assert.Equalf(t, 1, inEmails[ev.ID], "emails listing %q", ev.ID)
		assert.Zerof(t, digests[ev.ID], "digest hand-offs of %q", ev.ID)
	}
	for key, times := range byKey {
		slices.SortFunc(times, time.Time.Compare)
		for i := 5; i < len(times); i++ {
			assert.Falsef(t, times[i].Before(times[i-5].Add(4*time.Hour)), "%v sent 6 emails within 4 hours: %v", key, times[i-5:i+1])
		}
	}
	t.Logf("%d events, %d emails, %d keys", len(evs), len(emails), len(byKey))
}
