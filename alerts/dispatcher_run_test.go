package alerts_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// runEnv is a dispatcher on the system clock, for tests inside a
// testing/synctest bubble, whose Run loop the test starts and stops.
type runEnv struct {
	d        *alerts.Dispatcher
	rec      *alertstest.Recorder
	store    *alerts.MemoryLimitStore
	settings *alerts.MemorySettingsStore
	stop     func() // cancels Run and waits for it to return
}

// newRunEnv returns a dispatcher whose tenant "acme" has its alerts on and
// one recipient; edit adjusts the configuration. It does not start Run.
func newRunEnv(t *testing.T, edit func(*alerts.DispatcherConfig)) *runEnv {
	t.Helper()
	e := &runEnv{rec: alertstest.NewRecorder(), store: new(alerts.MemoryLimitStore), settings: alerts.NewMemorySettingsStore(nil)}
	ctx := context.Background()
	cur, err := e.settings.Load(ctx, tenant)
	require.NoError(t, err, "Load")
	draft := cur.Edit()
	require.NoError(t, draft.SetRecipients([]string{"soc@example.com"}), "SetRecipients")
	_, err = e.settings.Save(ctx, draft.Settings())
	require.NoError(t, err, "Save")
	cfg := alerts.DispatcherConfig{Settings: e.settings, Notifier: e.rec, Renderer: countRenderer, Store: e.store}
	if edit != nil {
		edit(&cfg)
	}
	e.d, err = alerts.NewDispatcher(cfg)
	require.NoError(t, err, "NewDispatcher")
	return e
}

// run starts d.Run, to be stopped by e.stop.
func (e *runEnv) run(t *testing.T, d *alerts.Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	e.stop = func() {
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled, "Run's error after cancel")
	}
}

// TestRunSendsAtCoolingEnd: five alerts go out, three are held back by
// the frequency limit, and nobody calls Flush: Run sends one email
// covering the three exactly when the cooling period ends.
func TestRunSendsAtCoolingEnd(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newRunEnv(t, nil)
		e.run(t, e.d)
		defer e.stop()
		start := time.Now()
		for i := range 8 {
			want := alerts.Sent
			if i >= 5 {
				want = alerts.Suppressed
			}
			res, err := e.d.Dispatch(context.Background(), event(fmt.Sprint("e", i)))
			require.NoError(t, err, "Dispatch")
			require.Equalf(t, want, res.Outcome, "Dispatch(e%d) = %+v", i, res)
		}
		time.Sleep(4*time.Hour - time.Nanosecond)
		synctest.Wait()
		require.Equal(t, 5, e.rec.Len(), "emails a nanosecond before the cooling period ends")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		msgs := e.rec.Messages()
		require.Len(t, msgs, 6, "emails when the cooling period ends")
		last := msgs[5]
		assert.Equal(t, []string{"e5", "e6", "e7"}, eventIDs(last.Events), "events of the email Run sent")
		assert.Equal(t, 3, last.Carried, "Carried")
		assert.Equal(t, start.Add(4*time.Hour), last.Time, "time of the email Run sent")
	})
}

// attempts is a Notifier that fails its first n calls temporarily and
// records the time of every call.
type attempts struct {
	mu    sync.Mutex
	fails int
	at    []time.Time
	sent  []alerts.Message
}

func (a *attempts) Notify(_ context.Context, msg *alerts.Message) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at = append(a.at, time.Now())
	if len(a.at) <= a.fails {
		return errDown
	}
	a.sent = append(a.sent, *msg)
	return nil
}

func (a *attempts) times() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.at...)
}

// TestRunRetriesWithBackoff: a send fails twice; Run alone retries it,
// after 15–30 s and then 30–60 s (RetryBackoff 30 s, doubled, drawn from
// the upper half), and the third attempt goes, under the same Message-ID.
func TestRunRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := &attempts{fails: 2}
		e := newRunEnv(t, func(c *alerts.DispatcherConfig) { c.Notifier = n })
		first, err := e.d.Dispatch(context.Background(), event("a"))
		require.NoError(t, err, "Dispatch")
		require.Equalf(t, alerts.SendFailed, first.Outcome, "Dispatch(a) = %+v", first)
		e.run(t, e.d)
		defer e.stop()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		at := n.times()
		require.Len(t, at, 3, "attempts")
		for i, want := range [][2]time.Duration{{15 * time.Second, 30 * time.Second}, {30 * time.Second, 60 * time.Second}} {
			gap := at[i+1].Sub(at[i])
			assert.Truef(t, gap >= want[0] && gap <= want[1], "attempt %d came %v after the one before; want within %v", i+2, gap, want)
		}
		require.Len(t, n.sent, 1, "emails delivered")
		assert.Equal(t, first.MessageID, n.sent[0].ID, "Message-ID of the retry that went")
		// Nothing is left to do: the store has no due key.
		keys, next, err := e.store.Due(context.Background(), time.Now(), 10, time.Minute)
		require.NoError(t, err, "Due")
		assert.Empty(t, keys, "due keys after the retry")
		assert.True(t, next.IsZero(), "next due time = %v; want none", next)
	})
}

// TestRunAfterReplicaDied: a replica takes a lease and dies before
// sending; another replica's Run sends the events when the lease ends.
func TestRunAfterReplicaDied(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const lease = 5 * time.Minute
		e := newRunEnv(t, func(c *alerts.DispatcherConfig) { c.LeaseTTL = lease })
		start := time.Now()
		key := alerts.LimitKey{Tenant: tenant, Category: alerts.ActiveThreat}
		// The replica that dies: it took the event for an email, then
		// nothing more.
		g, err := e.store.Take(context.Background(), key, alerts.FrequencyLimit{}, start, lease, []alerts.Event{event("a")})
		require.NoError(t, err, "Take")
		require.NotEmpty(t, g.Lease, "Take = %+v; want a lease", g)
		e.run(t, e.d)
		defer e.stop()
		time.Sleep(lease - time.Nanosecond)
		synctest.Wait()
		require.Zero(t, e.rec.Len(), "emails before the lease ends")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		msgs := e.rec.Messages()
		require.Len(t, msgs, 1, "emails once the lease ended")
		assert.Equal(t, []string{"a"}, eventIDs(msgs[0].Events), "events of the email")
		assert.Equal(t, start.Add(lease), msgs[0].Time, "time of the email")
	})
}

// TestDispatchAsync: with Async, Dispatch returns at once, even with a
// relay that takes a minute, and Run sends.
func TestDispatchAsync(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		slow := alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			time.Sleep(time.Minute)
			return nil
		})
		var sent sync.WaitGroup
		sent.Add(1)
		e := newRunEnv(t, func(c *alerts.DispatcherConfig) {
			c.Async = true
			c.Notifier = alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
				defer sent.Done()
				return slow.Notify(ctx, msg)
			})
		})
		e.run(t, e.d)
		defer e.stop()
		start := time.Now()
		res, err := e.d.Dispatch(context.Background(), event("a"))
		require.NoError(t, err, "Dispatch")
		assert.Equalf(t, alerts.Queued, res.Outcome, "Dispatch = %+v", res)
		assert.Equalf(t, 1, res.Pending, "Dispatch = %+v; want the event pending", res)
		assert.Equal(t, start, time.Now(), "time Dispatch took")
		sent.Wait()
		assert.Equal(t, start.Add(time.Minute), time.Now(), "time the email was sent")
		res, err = e.d.Dispatch(context.Background(), event("a"))
		require.NoError(t, err, "Dispatch again")
		assert.Equalf(t, alerts.Duplicate, res.Outcome, "Dispatch(a) again = %+v", res)
	})
}

// TestDispatchDuplicate: an event redelivered by its source is
// acknowledged and not sent again, while the key holds it and for a day
// after it left; after that it is a new event.
func TestDispatchDuplicate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	first := e.dispatch(t, event("a"), alerts.Sent)
	e.dispatch(t, event("a"), alerts.Duplicate)
	for i := range 4 {
		e.dispatch(t, event(fmt.Sprint("b", i)), alerts.Sent)
	}
	e.dispatch(t, event("c"), alerts.Suppressed)
	res := e.dispatch(t, event("c"), alerts.Duplicate)
	assert.Equalf(t, 1, res.Pending, "Dispatch(c) again = %+v; want c pending once", res)
	e.clock.Advance(4 * time.Hour)
	sent := e.flush(t, alerts.Sent)
	assert.Equalf(t, 1, sent.Events, "Flush = %+v; want c once", sent)
	e.clock.Advance(alerts.DefaultDedupWindow - 4*time.Hour - time.Nanosecond)
	e.dispatch(t, event("a"), alerts.Duplicate)
	e.clock.Advance(time.Nanosecond)
	again := e.dispatch(t, event("a"), alerts.Sent)
	assert.Equal(t, first.MessageID, again.MessageID, "Message-ID of a sent again after the window")
	// Events without an ID are never duplicates.
	anon := event("")
	e.dispatch(t, anon, alerts.Sent)
	e.dispatch(t, anon, alerts.Sent)
	assert.Equal(t, 9, e.rec.Len(), "emails")
}

// TestRunTwice: one Run per Dispatcher.
func TestRunTwice(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newRunEnv(t, nil)
		e.run(t, e.d)
		defer e.stop()
		synctest.Wait()
		assert.ErrorIs(t, e.d.Run(context.Background()), alerts.ErrRunning, "second Run")
	})
}

// TestFlushDueFailures: a key whose flush fails is reported and falls due
// again; the others are flushed.
func TestFlushDueFailures(t *testing.T) {
	t.Parallel()
	clock := alertstest.NewClock(t0)
	e := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Async = true
		c.Notifier = alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			if msg.Category == alerts.Threat {
				return alerts.Permanent(errors.New("550 no"))
			}
			return nil
		})
		c.Clock = clock
	})
	e.dispatch(t, event("a"), alerts.Queued)
	th := event("t")
	th.Category = alerts.Threat
	e.dispatch(t, th, alerts.Queued)
	rep, err := e.d.FlushDue(context.Background())
	require.NoError(t, err, "FlushDue")
	assert.Equal(t, alerts.DueReport{Keys: 2, Sent: 1, Failed: 1}, rep, "FlushDue's report")
	rep, err = e.d.FlushDue(context.Background())
	require.NoError(t, err, "FlushDue again")
	assert.Equal(t, alerts.DueReport{}, rep, "FlushDue's report with nothing due")
}

// TestNotifyDeadlineClockStill: with a clock that stands still, Notify's
// context still ends after NotifyTimeout in real time, well within the
// lease, so a fake clock cannot keep a send going past it.
func TestNotifyDeadlineClockStill(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var took time.Duration
		e := newEnv(t, func(c *alerts.DispatcherConfig) {
			c.NotifyTimeout = 50 * time.Millisecond
			c.Notifier = alerts.NotifierFunc(func(ctx context.Context, _ *alerts.Message) error {
				start := time.Now()
				<-ctx.Done()
				took = time.Since(start)
				return ctx.Err()
			})
		})
		res := e.dispatch(t, event("a"), alerts.SendFailed)
		assert.ErrorIs(t, res.Err, context.DeadlineExceeded, "the send's error")
		assert.Equal(t, 50*time.Millisecond, took, "real time Notify had")
	})
}
