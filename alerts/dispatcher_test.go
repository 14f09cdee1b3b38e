package alerts_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/internal/storetest"
)

// countRenderer renders a message as its category and the number of events
// it covers, which is what the tests check.
var countRenderer = alerts.RendererFunc(func(msg *alerts.Message) error {
	msg.Subject = fmt.Sprintf("%s: %d events", msg.Category, len(msg.Events))
	msg.Text = fmt.Sprintf("This email covers %d events (%d carried over).\n", len(msg.Events), msg.Carried)
	msg.HTML = "<p>" + msg.Text + "</p>"
	return nil
})

const tenant = "acme"

// env is a dispatcher wired to fakes.
type env struct {
	d        *alerts.Dispatcher
	clock    *alertstest.Clock
	rec      *alertstest.Recorder
	settings *alerts.MemorySettingsStore
	store    *alertstest.LeaseChecker // fails the test if a lease is left open
}

// newEnv returns a dispatcher whose tenant "acme" has Active Threat and
// Threat alerts on and one recipient; edit adjusts the configuration.
func newEnv(t testing.TB, edit func(*alerts.DispatcherConfig)) *env {
	t.Helper()
	e := &env{
		clock:    alertstest.NewClock(t0),
		rec:      alertstest.NewRecorder(),
		settings: alerts.NewMemorySettingsStore(nil),
		store:    alertstest.NewLeaseChecker(t, nil),
	}
	e.save(t, tenant, true, "soc@example.com")
	cfg := alerts.DispatcherConfig{
		Settings: e.settings,
		Saver:    e.settings,
		Notifier: e.rec,
		Renderer: countRenderer,
		Store:    e.store,
		Clock:    e.clock,
	}
	if edit != nil {
		edit(&cfg)
	}
	d, err := alerts.NewDispatcher(cfg)
	require.NoError(t, err, "NewDispatcher")
	e.d = d
	return e
}

// save saves ten's settings with Active Threat and Threat on or off and
// the recipients given.
func (e *env) save(t testing.TB, ten string, on bool, recipients ...string) {
	t.Helper()
	ctx := context.Background()
	cur, err := e.settings.Load(ctx, ten)
	require.NoError(t, err, "Load")
	d := cur.Edit()
	for _, id := range []alerts.CategoryID{alerts.ActiveThreat, alerts.Threat} {
		require.NoError(t, d.Set(id, on), "Draft.Set")
	}
	require.NoError(t, d.SetRecipients(recipients), "Draft.SetRecipients")
	_, err = e.settings.Save(ctx, d.Settings())
	require.NoError(t, err, "Save")
}

func event(id string) alerts.Event {
	return alerts.Event{ID: id, Tenant: tenant, Category: alerts.ActiveThreat, Score: 8, Asset: "host-1", Summary: "threat " + id, Time: t0}
}

// dispatch dispatches ev and checks the outcome.
func (e *env) dispatch(t testing.TB, ev alerts.Event, want alerts.Outcome) alerts.Result {
	t.Helper()
	res, err := e.d.Dispatch(context.Background(), ev)
	require.NoErrorf(t, err, "Dispatch(%q) at %v = %+v", ev.ID, e.clock.Now(), res)
	require.Equalf(t, want, res.Outcome, "Dispatch(%q) at %v = %+v; want %s", ev.ID, e.clock.Now(), res, want)
	return res
}

// flush flushes tenant's Active Threat alerts and checks the outcome.
func (e *env) flush(t testing.TB, want alerts.Outcome) alerts.Result {
	t.Helper()
	res, err := e.d.Flush(context.Background(), tenant, alerts.ActiveThreat)
	require.NoErrorf(t, err, "Flush at %v = %+v", e.clock.Now(), res)
	require.Equalf(t, want, res.Outcome, "Flush at %v = %+v; want %s", e.clock.Now(), res, want)
	return res
}

func (e *env) drain(t testing.TB) []string {
	t.Helper()
	evs, err := e.d.Drain(context.Background(), tenant, alerts.ActiveThreat)
	require.NoError(t, err, "Drain")
	return eventIDs(evs)
}

func eventIDs(evs []alerts.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func TestDispatcherFiveThenCooling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for i := range 5 {
		e.dispatch(t, event(fmt.Sprint("e", i)), alerts.Sent)
		e.clock.Advance(time.Minute)
	}
	// The fifth email went at t0+4m: the cooling period ends at t0+4h4m.
	end := t0.Add(4*time.Minute + 4*time.Hour)
	res := e.dispatch(t, event("e5"), alerts.Suppressed)
	assert.Equalf(t, 1, res.Pending, "Dispatch(e5) = %+v; want Pending 1", res)
	assert.Truef(t, res.Next.Equal(end), "Dispatch(e5) = %+v; want Next %v", res, end)
	e.clock.Set(end.Add(-time.Nanosecond))
	e.dispatch(t, event("e6"), alerts.Suppressed)
	e.flush(t, alerts.Suppressed)
	require.Equalf(t, 5, e.rec.Len(), "%d emails sent in the period; want 5", e.rec.Len())

	// Exactly at the end of the period the next event goes, carrying the
	// two held back, and the email says how many it covers.
	e.clock.Set(end)
	res = e.dispatch(t, event("e7"), alerts.Sent)
	assert.Equalf(t, 3, res.Events, "Dispatch(e7) = %+v; want Events 3", res)
	assert.Zerof(t, res.Pending, "Dispatch(e7) = %+v; want Pending 0", res)
	msgs := e.rec.Messages()
	last := msgs[len(msgs)-1]
	assert.Equal(t, []string{"e5", "e6", "e7"}, eventIDs(last.Events), "events of the email after the period")
	assert.Equal(t, 2, last.Carried, "Carried of the email after the period")
	assert.Contains(t, last.Text, "covers 3 events", "Text of the email after the period")
	assert.Equal(t, []string{"soc@example.com"}, last.To, "To of the email after the period")
	assert.Equal(t, tenant, last.Tenant, "Tenant of the email after the period")
	assert.Equal(t, alerts.ActiveThreat, last.Category, "Category of the email after the period")
	assert.Truef(t, last.Time.Equal(end), "Time of the email after the period = %v; want %v", last.Time, end)
	// The count started again: four more, then cooling.
	for i := range 4 {
		e.dispatch(t, event(fmt.Sprint("f", i)), alerts.Sent)
	}
	e.dispatch(t, event("g"), alerts.Suppressed)
}

func TestDispatcherFlushAfterCooling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for i := range 5 {
		e.dispatch(t, event(fmt.Sprint("e", i)), alerts.Sent)
	}
	res := e.dispatch(t, event("held"), alerts.Suppressed)
	e.flush(t, alerts.Suppressed)
	// The host's ticker calls Flush at Next: the held event goes alone.
	e.clock.Set(res.Next)
	res = e.flush(t, alerts.Sent)
	msgs := e.rec.Messages()
	last := msgs[len(msgs)-1]
	assert.Equalf(t, 1, res.Events, "Flush = %+v; want one event", res)
	assert.Equalf(t, 1, last.Carried, "email %+v; want one carried event", last)
	assert.Equal(t, res.MessageID, last.ID, "email ID")
	e.flush(t, alerts.NothingPending)
}

func TestDispatcherClockBackwards(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for i := range 5 {
		e.dispatch(t, event(fmt.Sprint("e", i)), alerts.Sent)
	}
	// NTP steps the clock back a day: the cooling period ends 4 hours from
	// now, not 28.
	back := e.clock.Advance(-24 * time.Hour)
	res := e.dispatch(t, event("x"), alerts.Suppressed)
	want := back.Add(4 * time.Hour)
	assert.Truef(t, res.Next.Equal(want), "Dispatch after the step: Next = %v; want %v", res.Next, want)
	e.clock.Advance(4 * time.Hour)
	e.flush(t, alerts.Sent)
}

func TestDispatcherManyKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const tenants = 100
	for i := range tenants {
		e.save(t, fmt.Sprint("tenant-", i), true, "soc@example.com")
	}
	cats := []alerts.CategoryID{alerts.ActiveThreat, alerts.Threat}
	for round := range 6 {
		want := alerts.Sent
		if round == 5 {
			want = alerts.Suppressed
		}
		for i := range tenants {
			for _, c := range cats {
				e.dispatch(t, alerts.Event{ID: fmt.Sprint(i, c, round), Tenant: fmt.Sprint("tenant-", i), Category: c, Score: 9}, want)
			}
		}
	}
	assert.Equal(t, tenants*len(cats)*5, e.rec.Len(), "emails")
}

func TestDispatcherSlidingWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Limit = alerts.FrequencyLimit{Mode: alerts.SlidingWindow, Max: 3, Period: time.Hour}
	})
	for i := range 3 {
		e.dispatch(t, event(fmt.Sprint("e", i)), alerts.Sent)
		e.clock.Advance(20 * time.Minute)
	}
	// At t0+60m the send of t0 leaves the window: one more, not three.
	e.dispatch(t, event("e3"), alerts.Sent)
	res := e.dispatch(t, event("e4"), alerts.Suppressed)
	want := t0.Add(80 * time.Minute)
	assert.Truef(t, res.Next.Equal(want), "Next = %v; want %v", res.Next, want)
	e.clock.Set(res.Next)
	e.dispatch(t, event("e5"), alerts.Sent)
	assert.Equal(t, []string{"e4", "e5"}, eventIDs(e.rec.Messages()[4].Events), "events of the email at t0+80m")
}

var errDown = errors.New("smtp: connection refused")

func TestDispatcherFailureRetry(t *testing.T) {
	t.Parallel()
	rec := alertstest.NewRecorder()
	fail := alertstest.NewFailingNotifier(errDown, 2, rec)
	e := newEnv(t, func(c *alerts.DispatcherConfig) { c.Notifier = fail })

	first := e.dispatch(t, event("a"), alerts.SendFailed)
	require.ErrorIsf(t, first.Err, errDown, "Dispatch(a) = %+v; want the notifier's error", first)
	require.Equalf(t, 1, first.Pending, "Dispatch(a) = %+v; want the event pending", first)
	require.NotEmptyf(t, first.MessageID, "Dispatch(a) = %+v; want a MessageID", first)
	// The retry carries the same event and has the same identity.
	retry := e.flush(t, alerts.SendFailed)
	assert.Equal(t, first.MessageID, retry.MessageID, "retry MessageID")
	sent := e.flush(t, alerts.Sent)
	assert.Equal(t, first.MessageID, sent.MessageID, "MessageID of the send that went")
	refused := fail.Refused()
	if assert.Len(t, refused, 2, "refused emails") {
		assert.Equal(t, []string{"a"}, eventIDs(refused[0].Events), "events of the refused email")
	}
	msgs := rec.Messages()
	if assert.Len(t, msgs, 1, "delivered emails") {
		assert.Equal(t, first.MessageID, msgs[0].ID, "ID of the delivered email")
		assert.Equal(t, []string{"a"}, eventIDs(msgs[0].Events), "events of the delivered email")
	}
	// The failures cost no slot: four more go before the cooling period.
	for i := range 4 {
		e.dispatch(t, event(fmt.Sprint("b", i)), alerts.Sent)
	}
	e.dispatch(t, event("c"), alerts.Suppressed)
}

func TestDispatcherFailureThenNewEvent(t *testing.T) {
	t.Parallel()
	rec := alertstest.NewRecorder()
	e := newEnv(t, func(c *alerts.DispatcherConfig) { c.Notifier = alertstest.NewFailingNotifier(errDown, 1, rec) })
	first := e.dispatch(t, event("a"), alerts.SendFailed)
	// A new event joins the retry: a different email, so a different ID.
	res := e.dispatch(t, event("b"), alerts.Sent)
	assert.NotEqualf(t, first.MessageID, res.MessageID, "Dispatch(b) = %+v; want an ID other than %q", res, first.MessageID)
	assert.Equalf(t, 2, res.Events, "Dispatch(b) = %+v; want both events", res)
	m := rec.Messages()[0]
	assert.Equal(t, 1, m.Carried, "Carried")
	assert.Equal(t, []string{"a", "b"}, eventIDs(m.Events), "events of the email")
}

func TestDispatcherDisableDropsPending(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for i := range 5 {
		e.dispatch(t, event(fmt.Sprint("e", i)), alerts.Sent)
	}
	e.dispatch(t, event("p1"), alerts.Suppressed)
	e.dispatch(t, event("p2"), alerts.Suppressed)
	e.save(t, tenant, false, "soc@example.com")
	res := e.dispatch(t, event("p3"), alerts.CategoryDisabled)
	assert.Equal(t, 2, res.Dropped, "Dispatch after disable: Dropped")
	// Turned on again after the period, nothing of the old events is sent.
	e.save(t, tenant, true, "soc@example.com")
	e.clock.Advance(4 * time.Hour)
	e.flush(t, alerts.NothingPending)
	assert.Empty(t, e.drain(t), "Drain")
	assert.Equal(t, 5, e.rec.Len(), "emails")
}

func TestDispatcherDisableBeforeNotify(t *testing.T) {
	t.Parallel()
	var e *env
	// A disable is saved while the email is being rendered, after the
	// dispatcher's first look at the settings.
	e = newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Renderer = alerts.RendererFunc(func(msg *alerts.Message) error {
			e.save(t, tenant, false, "soc@example.com")
			return countRenderer.Render(msg)
		})
	})
	res := e.dispatch(t, event("a"), alerts.CategoryDisabled)
	assert.Equalf(t, 1, res.Dropped, "Dispatch = %+v; want the event dropped", res)
	assert.Zero(t, e.rec.Len(), "emails sent")
	e.save(t, tenant, true, "soc@example.com")
	e.flush(t, alerts.NothingPending)
}

func TestDispatcherThreshold(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct {
		cat   alerts.CategoryID
		score float64
		want  alerts.Outcome
	}{
		{alerts.ActiveThreat, 3.99, alerts.BelowThreshold},
		{alerts.ActiveThreat, 4, alerts.Sent},
		{alerts.ActiveThreat, 10, alerts.Sent},
		{alerts.Threat, 0, alerts.Sent}, // no threshold for Threat
		{alerts.SystemStatus, 0, alerts.Sent},
	} {
		ev := alerts.Event{ID: fmt.Sprint(tc.cat, tc.score), Tenant: tenant, Category: tc.cat, Score: tc.score}
		res, err := e.d.Dispatch(context.Background(), ev)
		assert.NoErrorf(t, err, "Dispatch(%s score %v)", tc.cat, tc.score)
		assert.Equalf(t, tc.want, res.Outcome, "Dispatch(%s score %v) = %+v; want %s", tc.cat, tc.score, res, tc.want)
	}
	// A bad score is an error in every category, not only those with a
	// threshold: it is never passed on to an email.
	for _, cat := range []alerts.CategoryID{alerts.ActiveThreat, alerts.Threat} {
		for _, score := range []float64{-1, 10.5, math.NaN(), math.Inf(1)} {
			ev := alerts.Event{ID: "bad", Tenant: tenant, Category: cat, Score: score}
			_, err := e.d.Dispatch(context.Background(), ev)
			var se *alerts.ScoreError
			assert.ErrorAsf(t, err, &se, "Dispatch(%s score %v) error = %v; want a *ScoreError", cat, score, err)
			assert.ErrorIsf(t, err, alerts.ErrInvalidScore, "Dispatch(%s score %v)", cat, score)
			assert.ErrorIsf(t, err, alerts.ErrInvalidEvent, "Dispatch(%s score %v)", cat, score)
		}
	}
	assert.Empty(t, e.drain(t), "Drain: rejected and below-threshold events are not recorded")

	custom := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Thresholds = map[alerts.CategoryID]alerts.Threshold{alerts.Threat: 7}
	})
	for _, tc := range []struct {
		cat   alerts.CategoryID
		score float64
		want  alerts.Outcome
	}{
		{alerts.Threat, 6.9, alerts.BelowThreshold},
		{alerts.Threat, 7, alerts.Sent},
		{alerts.ActiveThreat, 1, alerts.Sent}, // the map replaces the default
	} {
		ev := alerts.Event{ID: fmt.Sprint(tc.cat, tc.score), Tenant: tenant, Category: tc.cat, Score: tc.score}
		res, err := custom.d.Dispatch(context.Background(), ev)
		assert.NoErrorf(t, err, "custom thresholds: Dispatch(%s score %v)", tc.cat, tc.score)
		assert.Equalf(t, tc.want, res.Outcome, "custom thresholds: Dispatch(%s score %v) = %+v; want %s", tc.cat, tc.score, res, tc.want)
	}
}

func TestDispatcherNoRecipients(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.save(t, tenant, true) // no recipients
	res := e.dispatch(t, event("a"), alerts.NoRecipients)
	assert.Equal(t, 1, res.Pending, "Dispatch without recipients: Pending")
	e.save(t, tenant, true, "soc@example.com")
	res = e.flush(t, alerts.Sent)
	assert.Equalf(t, 1, res.Events, "Flush = %+v; want the kept event", res)
}

func TestDispatcherInvalidEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, ev := range []alerts.Event{
		{ID: "a", Category: alerts.ActiveThreat, Score: 5},
		{ID: "b", Tenant: tenant, Score: 5},
	} {
		_, err := e.d.Dispatch(context.Background(), ev)
		assert.ErrorIsf(t, err, alerts.ErrInvalidEvent, "Dispatch(%+v) error = %v; want ErrInvalidEvent", ev, err)
	}
	// Bad input is an error whatever the settings say.
	e.save(t, tenant, false, "soc@example.com")
	ev := alerts.Event{ID: "c", Tenant: tenant, Category: alerts.ActiveThreat, Score: math.NaN()}
	res, err := e.d.Dispatch(context.Background(), ev)
	assert.ErrorIsf(t, err, alerts.ErrInvalidScore, "Dispatch(score NaN, category off) = %+v, %v; want ErrInvalidScore", res, err)
}

// defaultDispatcher returns a dispatcher with every default but the clock
// and the catalog, whose settings follow catalog and give tenant one
// recipient.
func defaultDispatcher(t *testing.T, catalog *alerts.Catalog, clock alerts.Clock) (*alerts.Dispatcher, *alertstest.Recorder) {
	t.Helper()
	settings := alerts.NewMemorySettingsStore(catalog)
	rec := alertstest.NewRecorder()
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{Settings: settings, Notifier: rec, Catalog: catalog, Clock: clock})
	require.NoError(t, err, "NewDispatcher")
	ctx := context.Background()
	cur, err := settings.Load(ctx, tenant)
	require.NoError(t, err, "Load")
	draft := cur.Edit()
	require.NoError(t, draft.SetRecipients([]string{"soc@example.com"}), "SetRecipients")
	_, err = settings.Save(ctx, draft.Settings())
	require.NoError(t, err, "Save")
	return d, rec
}

// TestDispatcherDefaults uses every default: the built-in renderer, the
// in-memory store and the system clock.
func TestDispatcherDefaults(t *testing.T) {
	t.Parallel()
	d, rec := defaultDispatcher(t, nil, nil)
	ev := event("a")
	ev.Time = time.Now()
	res, err := d.Dispatch(context.Background(), ev)
	require.NoError(t, err, "Dispatch")
	require.Equalf(t, alerts.Sent, res.Outcome, "Dispatch = %+v; want sent", res)
	m := rec.Messages()[0]
	assert.NotEmpty(t, m.Subject, "default rendering: Subject")
	assert.Contains(t, m.Text, "threat a", "default rendering: Text")
	assert.Contains(t, m.HTML, "threat a", "default rendering: HTML")
}

// TestDispatcherDefaultRendererCatalog checks that the default renderer
// names a category the service registered, given as
// DispatcherConfig.Catalog, rather than by its id.
func TestDispatcherDefaultRendererCatalog(t *testing.T) {
	t.Parallel()
	catalog, err := alerts.NewCatalog(alerts.CatalogConfig{
		Categories: []alerts.Category{{ID: "billing", Name: "Billing Alerts", DefaultEnabled: true}},
	})
	require.NoError(t, err, "NewCatalog")
	d, rec := defaultDispatcher(t, catalog, alertstest.NewClock(t0))
	ev := alerts.Event{ID: "inv-1", Tenant: tenant, Category: "billing", Summary: "Invoice overdue", Time: t0}
	res, err := d.Dispatch(context.Background(), ev)
	require.NoError(t, err, "Dispatch")
	require.Equalf(t, alerts.Sent, res.Outcome, "Dispatch = %+v; want sent", res)
	assert.Equal(t, "Billing Alerts: 1 event", rec.Messages()[0].Subject, "Subject")
}

// TestDispatcherSlowSend is a send that outlives its lease and then fails:
// the events are pending already, and nothing is reported as wrong.
func TestDispatcherSlowSend(t *testing.T) {
	t.Parallel()
	var e *env
	e = newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Notifier = alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			e.clock.Advance(alerts.DefaultLeaseTTL)
			return errDown
		})
	})
	e.dispatch(t, event("a"), alerts.SendFailed)
	assert.Equal(t, []string{"a"}, e.drain(t), "Drain")
}

// TestDispatcherNotifierEditsEvents is a backend that rewrites the events
// of the message it is given, then fails: the events kept for the retry
// are the ones dispatched, not the backend's edits.
func TestDispatcherNotifierEditsEvents(t *testing.T) {
	t.Parallel()
	first := true
	rec := alertstest.NewRecorder()
	e := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Notifier = alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			if first {
				first = false
				msg.Events[0].Summary = "redacted by the backend"
				return errDown
			}
			return rec.Notify(ctx, msg)
		})
	})
	e.dispatch(t, event("a"), alerts.SendFailed)
	e.flush(t, alerts.Sent)
	assert.Equal(t, "threat a", rec.Messages()[0].Events[0].Summary, "retried event Summary")
}

// TestDispatcherNotifierEditsTo is a backend that rewrites the recipients
// of the message it is given: the tenant's saved settings do not change.
func TestDispatcherNotifierEditsTo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Notifier = alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			msg.To[0] = "someone-else@example.net"
			return nil
		})
	})
	e.dispatch(t, event("a"), alerts.Sent)
	s, err := e.settings.Load(context.Background(), tenant)
	require.NoError(t, err, "Load")
	assert.Equal(t, []string{"soc@example.com"}, s.Recipients(), "saved Recipients after a send")
}

// TestDispatcherLeaseOverBeforeNotify is a send whose lease ran out before
// Notify (rendering or loading the settings took that long): its events are
// pending again and may be taken by another call, so it must not be sent,
// or the email would go out twice.
func TestDispatcherLeaseOverBeforeNotify(t *testing.T) {
	t.Parallel()
	var e *env
	slow := true
	e = newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Renderer = alerts.RendererFunc(func(msg *alerts.Message) error {
			if slow {
				slow = false
				e.clock.Advance(alerts.DefaultLeaseTTL)
			}
			return countRenderer.Render(msg)
		})
	})
	res := e.dispatch(t, event("a"), alerts.SendFailed)
	require.ErrorIsf(t, res.Err, alerts.ErrLeaseExpired, "Dispatch with the lease over before Notify = %+v; want ErrLeaseExpired", res)
	require.Zerof(t, e.rec.Len(), "%d emails sent after the lease was over; want 0", e.rec.Len())
	res = e.flush(t, alerts.Sent)
	assert.Equalf(t, 1, res.Events, "Flush = %+v; want the event sent once", res)
	assert.Equal(t, 1, e.rec.Len(), "emails in all")
}

// TestDispatcherNotifyDeadline checks that Notify's context ends with the
// lease, not a whole LeaseTTL after the time spent before Notify.
func TestDispatcherNotifyDeadline(t *testing.T) {
	t.Parallel()
	var e *env
	var left time.Duration
	e = newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Renderer = alerts.RendererFunc(func(msg *alerts.Message) error {
			e.clock.Advance(alerts.DefaultLeaseTTL - time.Minute)
			return countRenderer.Render(msg)
		})
		c.Notifier = alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			dl, ok := ctx.Deadline()
			if !ok {
				return errors.New("no deadline")
			}
			left = time.Until(dl)
			return nil
		})
	})
	e.dispatch(t, event("a"), alerts.Sent)
	assert.Positivef(t, left, "Notify's context had %v left; want some of the minute left of the lease", left)
	assert.LessOrEqualf(t, left, time.Minute, "Notify's context had %v left; want at most the minute left of the lease", left)
}

// TestDispatcherLocation checks the one path of the recipients' time zone:
// DispatcherConfig.Location sets Message.Location, and the default renderer
// shows event times in it, or in its own default (UTC) when there is none.
func TestDispatcherLocation(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	e := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Renderer = nil // the default, a zero alerts.Content
		c.Location = func(tenant string) *time.Location {
			if tenant == "acme" {
				return paris
			}
			return nil
		}
	})
	e.save(t, "globex", true, "soc@globex.example")
	e.dispatch(t, event("a"), alerts.Sent)
	other := event("b")
	other.Tenant = "globex"
	e.dispatch(t, other, alerts.Sent)

	msgs := e.rec.Messages()
	tests := []struct {
		tenant string
		loc    *time.Location
		when   string
	}{
		{"acme", paris, t0.In(paris).Format("2006-01-02 15:04:05") + " CET (UTC+01:00)"},
		{"globex", nil, t0.UTC().Format("2006-01-02 15:04:05") + " UTC"},
	}
	for i, tt := range tests {
		m := msgs[i]
		assert.Equalf(t, tt.tenant, m.Tenant, "message %d: Tenant", i)
		assert.Samef(t, tt.loc, m.Location, "message %d: Location = %v; want %v", i, m.Location, tt.loc)
		assert.Containsf(t, m.Text, tt.when, "message %d for %s lacks the time %q", i, tt.tenant, tt.when)
	}
}

func TestDispatcherCanceled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The settings store refuses a done context: nothing is recorded.
	_, err := e.d.Dispatch(ctx, event("a"))
	assert.ErrorIsf(t, err, context.Canceled, "Dispatch(canceled) error = %v; want context.Canceled", err)
	assert.Empty(t, e.drain(t), "Drain")
}

// storeFaults wraps a LimitStore and fails the calls the test chooses.
type storeFaults struct {
	alerts.LimitStore
	take, commit, giveBack, drop error
}

func (s *storeFaults) Take(ctx context.Context, k alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, ttl time.Duration, evs []alerts.Event) (alerts.Grant, error) {
	if s.take != nil {
		return alerts.Grant{}, s.take
	}
	return s.LimitStore.Take(ctx, k, p, now, ttl, evs)
}

func (s *storeFaults) Commit(ctx context.Context, k alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
	if s.commit != nil {
		return s.commit
	}
	return s.LimitStore.Commit(ctx, k, p, lease, now)
}

func (s *storeFaults) GiveBack(ctx context.Context, k alerts.LimitKey, p alerts.FrequencyLimit, lease string, now, retry time.Time) error {
	if s.giveBack != nil {
		return s.giveBack
	}
	return s.LimitStore.GiveBack(ctx, k, p, lease, now, retry)
}

func (s *storeFaults) Drop(ctx context.Context, k alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) (int, error) {
	if s.drop != nil {
		return 0, s.drop
	}
	return s.LimitStore.Drop(ctx, k, p, now)
}

func TestDispatcherStoreFaults(t *testing.T) {
	t.Parallel()
	errStore := errors.New("store: i/o timeout")
	faults := &storeFaults{LimitStore: new(alerts.MemoryLimitStore)}
	rec := alertstest.NewRecorder()
	fail := alertstest.NewFailingNotifier(errDown, 1, rec)
	e := newEnv(t, func(c *alerts.DispatcherConfig) { c.Store, c.Notifier = faults, fail })

	faults.take = errStore
	_, err := e.d.Dispatch(context.Background(), event("a"))
	assert.ErrorIsf(t, err, errStore, "Dispatch with Take failing: error = %v; want %v", err, errStore)
	faults.take = nil

	// The notifier fails and so does the give-back: the events come back
	// when the lease expires, and the caller is told.
	faults.giveBack = errStore
	res, err := e.d.Dispatch(context.Background(), event("b"))
	assert.Equalf(t, alerts.SendFailed, res.Outcome, "Dispatch with Notify and GiveBack failing = %+v, %v; want SendFailed", res, err)
	assert.ErrorIsf(t, err, errStore, "Dispatch with Notify and GiveBack failing = %+v, %v; want the store's error", res, err)
	assert.ErrorIsf(t, res.Err, errDown, "Dispatch with Notify and GiveBack failing = %+v, %v; want the notifier's error in Result.Err", res, err)
	faults.giveBack = nil
	e.flush(t, alerts.NothingPending) // the lease still holds b
	e.clock.Advance(alerts.DefaultLeaseTTL)
	res = e.flush(t, alerts.Sent)
	assert.Equalf(t, 1, res.Events, "Flush after the lease = %+v; want b sent", res)

	// Sent but not recorded: the outcome is not to be trusted.
	faults.commit = errStore
	res, err = e.d.Dispatch(context.Background(), event("c"))
	assert.Equalf(t, alerts.Sent, res.Outcome, "Dispatch with Commit failing = %+v, %v; want Sent", res, err)
	assert.ErrorIsf(t, err, errStore, "Dispatch with Commit failing = %+v, %v; want the error", res, err)
}

// TestDispatcherLeaseExpiry is a replica that dies between taking events and
// sending them: after the lease they are sent by another, with the same ID.
func TestDispatcherLeaseExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	key := alerts.LimitKey{Tenant: tenant, Category: alerts.ActiveThreat}
	// The dead replica takes the event straight from the shared store.
	g, err := e.store.LimitStore.Take(context.Background(), key, alerts.FrequencyLimit{}.WithDefaults(), e.clock.Now(), alerts.DefaultLeaseTTL, []alerts.Event{event("a")})
	require.NoError(t, err, "Take")
	require.NotEmptyf(t, g.Lease, "Take = %+v; want a lease", g)
	e.flush(t, alerts.NothingPending)
	e.clock.Advance(alerts.DefaultLeaseTTL)
	res := e.flush(t, alerts.Sent)
	m := e.rec.Messages()[0]
	assert.Equal(t, []string{"a"}, eventIDs(m.Events), "events of the email after the lease")
	assert.Equal(t, res.MessageID, m.ID, "ID of the email after the lease")
	// The dead replica's slot counts: 5 - 2 = 3 more.
	for i := range 3 {
		e.dispatch(t, event(fmt.Sprint("b", i)), alerts.Sent)
	}
	e.dispatch(t, event("c"), alerts.Suppressed)
}

func TestMessageID(t *testing.T) {
	t.Parallel()
	rec := alertstest.NewRecorder()
	e := newEnv(t, func(c *alerts.DispatcherConfig) { c.Notifier = rec })
	noID := alerts.Event{Tenant: tenant, Category: alerts.ActiveThreat, Score: 5, Asset: "h", Summary: "s", Time: t0}
	for _, ev := range []alerts.Event{event("x"), noID, event("y")} {
		e.dispatch(t, ev, alerts.Sent)
	}
	// The same events in another store, another order, give the same IDs.
	other := newEnv(t, nil)
	for _, ev := range []alerts.Event{event("y"), noID, event("x")} {
		other.dispatch(t, ev, alerts.Sent)
	}
	a, b := rec.Messages(), other.rec.Messages()
	for i := range a {
		assert.Regexp(t, `^alert-[0-9a-f]{32}$`, a[i].ID, "Message.ID: want alert- and 32 hex digits")
		assert.Equal(t, a[i].ID, b[2-i].ID, "IDs of the same email differ")
	}
	assert.NotEqual(t, a[0].ID, a[1].ID, "IDs of different emails collide")
	assert.NotEqual(t, a[1].ID, a[2].ID, "IDs of different emails collide")
	assert.NotEqual(t, a[0].ID, a[2].ID, "IDs of different emails collide")
	// Another tenant with the same event IDs gets other IDs.
	e.save(t, "globex", true, "soc@example.com")
	ev := event("x")
	ev.Tenant = "globex"
	res := e.dispatch(t, ev, alerts.Sent)
	assert.NotEqual(t, a[0].ID, res.MessageID, "same event ID in two tenants: same Message.ID")
}

// wantEachOnce checks that the events delivered and those still pending
// are the fired events, each exactly once.
func wantEachOnce(t *testing.T, delivered []alerts.Message, pending []string, fired int) {
	t.Helper()
	var covered []string
	for _, m := range delivered {
		covered = append(covered, eventIDs(m.Events)...)
	}
	all := append(covered, pending...)
	slices.Sort(all)
	distinct := len(slices.Compact(slices.Clone(all)))
	assert.Equalf(t, fired, len(all), "delivered %d + pending %d = %d events; want each of %d exactly once", len(covered), len(pending), len(all), fired)
	assert.Equalf(t, fired, distinct, "%d distinct events; want each of %d exactly once", distinct, fired)
}

// TestDispatcherRaceWithFailures fires events for one key from many
// goroutines while another flushes and every other send fails: every event
// ends up in exactly one delivered email or still pending, none twice.
func TestDispatcherRaceWithFailures(t *testing.T) {
	t.Parallel()
	rec := alertstest.NewRecorder()
	var calls atomic.Int64
	e := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Limit = alerts.FrequencyLimit{Max: 1000}
		c.Notifier = alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			if calls.Add(1)%2 == 0 {
				return errDown
			}
			return rec.Notify(ctx, msg)
		})
	})
	const goroutines, each = 32, 16
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				ev := event(fmt.Sprintf("g%d-%d", g, i))
				_, err := e.d.Dispatch(context.Background(), ev)
				assert.NoErrorf(t, err, "Dispatch(%s)", ev.ID)
			}
		})
	}
	wg.Go(func() {
		for range goroutines * each / 4 {
			_, err := e.d.Flush(context.Background(), tenant, alerts.ActiveThreat)
			assert.NoError(t, err, "Flush")
		}
	})
	wg.Wait()
	wantEachOnce(t, rec.Messages(), e.drain(t), goroutines*each)
}

// TestDispatcherRace fires events at one key from 64 goroutines, period
// after period: exactly 5 emails go out per period, and every event is
// covered by exactly one email or still pending.
func TestDispatcherRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const goroutines, each, periods = 64, 8, 3
	for p := range periods {
		before := e.rec.Len()
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					ev := event(fmt.Sprintf("p%d-g%d-%d", p, g, i))
					res, err := e.d.Dispatch(context.Background(), ev)
					assert.NoErrorf(t, err, "Dispatch(%s)", ev.ID)
					assert.Containsf(t, []alerts.Outcome{alerts.Sent, alerts.Suppressed}, res.Outcome, "Dispatch(%s) = %+v", ev.ID, res)
				}
			})
		}
		wg.Wait()
		assert.Equalf(t, alerts.DefaultLimit, e.rec.Len()-before, "period %d: emails", p)
		e.clock.Advance(alerts.DefaultPeriod)
	}
	wantEachOnce(t, e.rec.Messages(), e.drain(t), goroutines*each*periods)
}

// TestDispatcherSynctest runs the default clock (SystemClock) inside a
// testing/synctest bubble: the 4-hour cooling period passes at once.
func TestDispatcherSynctest(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		settings := alerts.NewMemorySettingsStore(nil)
		ctx := context.Background()
		cur, err := settings.Load(ctx, tenant)
		require.NoError(t, err, "Load")
		draft := cur.Edit()
		require.NoError(t, draft.SetRecipients([]string{"soc@example.com"}), "SetRecipients")
		_, err = settings.Save(ctx, draft.Settings())
		require.NoError(t, err, "Save")
		rec := alertstest.NewRecorder()
		d, err := alerts.NewDispatcher(alerts.DispatcherConfig{Settings: settings, Notifier: rec, Renderer: countRenderer})
		require.NoError(t, err, "NewDispatcher")
		start := time.Now()
		var res alerts.Result
		for i := range 6 {
			res, err = d.Dispatch(ctx, event(fmt.Sprint("e", i)))
			require.NoError(t, err, "Dispatch")
		}
		require.Equalf(t, alerts.Suppressed, res.Outcome, "sixth Dispatch = %+v; want suppressed", res)
		require.Truef(t, res.Next.Equal(start.Add(4*time.Hour)), "sixth Dispatch = %+v; want suppressed until %v", res, start.Add(4*time.Hour))
		time.Sleep(time.Until(res.Next) - time.Second)
		res, _ = d.Flush(ctx, tenant, alerts.ActiveThreat)
		require.Equalf(t, alerts.Suppressed, res.Outcome, "Flush a second early = %+v; want suppressed", res)
		time.Sleep(time.Second)
		res, err = d.Flush(ctx, tenant, alerts.ActiveThreat)
		require.NoError(t, err, "Flush at the end of the period")
		require.Equalf(t, alerts.Sent, res.Outcome, "Flush at the end of the period = %+v; want the held event sent", res)
		require.Equalf(t, 1, res.Events, "Flush at the end of the period = %+v; want the held event sent", res)
		assert.Equal(t, 4*time.Hour, time.Since(start), "bubble time elapsed")
		assert.Equal(t, 6, rec.Len(), "emails")
	})
}

// BenchmarkDispatch measures Dispatch for a key in its cooling period, in
// memory, with and without event IDs (see storetest.BenchDispatch).
func BenchmarkDispatch(b *testing.B) {
	storetest.BenchDispatch(b, func(*testing.B) alerts.LimitStore {
		return &alerts.MemoryLimitStore{DedupWindow: time.Millisecond}
	}, time.Millisecond)
}

// BenchmarkFlushDue measures FlushDue in memory with 10,000 idle keys and
// 100 due (see storetest.BenchFlushDue).
func BenchmarkFlushDue(b *testing.B) {
	storetest.BenchFlushDue(b, new(alerts.MemoryLimitStore))
}
