package alerts_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// countRenderer renders a message as its category and the number of events
// it covers, which is what the tests check.
type countRenderer struct{}

func (countRenderer) Render(msg *alerts.Message) error {
	msg.Subject = fmt.Sprintf("%s: %d events", msg.Category, len(msg.Events))
	msg.Text = fmt.Sprintf("This email covers %d events (%d carried over).\n", len(msg.Events), msg.Carried)
	msg.HTML = "<p>" + msg.Text + "</p>"
	return nil
}

// rendererFunc adapts a function to alerts.Renderer.
type rendererFunc func(*alerts.Message) error

func (f rendererFunc) Render(msg *alerts.Message) error { return f(msg) }

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
		Notifier: e.rec,
		Renderer: countRenderer{},
		Store:    e.store,
		Clock:    e.clock,
	}
	if edit != nil {
		edit(&cfg)
	}
	d, err := alerts.NewDispatcher(cfg)
	if err != nil {
		t.Fatalf("NewDispatcher: %v", err)
	}
	e.d = d
	return e
}

// save saves ten's settings with Active Threat and Threat on or off and
// the recipients given.
func (e *env) save(t testing.TB, ten string, on bool, recipients ...string) {
	t.Helper()
	ctx := context.Background()
	cur, err := e.settings.Load(ctx, ten)
	if err != nil {
		t.Fatal(err)
	}
	d := cur.Edit()
	for _, id := range []alerts.CategoryID{alerts.ActiveThreat, alerts.Threat} {
		if err := d.Set(id, on); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SetRecipients(recipients); err != nil {
		t.Fatal(err)
	}
	if _, err := e.settings.Save(ctx, d.Settings()); err != nil {
		t.Fatal(err)
	}
}

func event(id string) alerts.Event {
	return alerts.Event{ID: id, Tenant: tenant, Category: alerts.ActiveThreat, Score: 8, Asset: "host-1", Summary: "threat " + id, Time: t0}
}

// dispatch dispatches ev and checks the outcome.
func (e *env) dispatch(t testing.TB, ev alerts.Event, want alerts.Outcome) alerts.Result {
	t.Helper()
	res, err := e.d.Dispatch(context.Background(), ev)
	if err != nil || res.Outcome != want {
		t.Fatalf("Dispatch(%q) at %v = %+v, %v; want %s", ev.ID, e.clock.Now(), res, err, want)
	}
	return res
}

// flush flushes tenant's Active Threat alerts and checks the outcome.
func (e *env) flush(t testing.TB, want alerts.Outcome) alerts.Result {
	t.Helper()
	res, err := e.d.Flush(context.Background(), tenant, alerts.ActiveThreat)
	if err != nil || res.Outcome != want {
		t.Fatalf("Flush at %v = %+v, %v; want %s", e.clock.Now(), res, err, want)
	}
	return res
}

func (e *env) drain(t testing.TB) []string {
	t.Helper()
	evs, err := e.d.Drain(context.Background(), tenant, alerts.ActiveThreat)
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
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
	if res.Pending != 1 || !res.Next.Equal(end) {
		t.Errorf("Dispatch(e5) = %+v; want Pending 1, Next %v", res, end)
	}
	e.clock.Set(end.Add(-time.Nanosecond))
	e.dispatch(t, event("e6"), alerts.Suppressed)
	e.flush(t, alerts.Suppressed)
	if n := e.rec.Len(); n != 5 {
		t.Fatalf("%d emails sent in the period; want 5", n)
	}

	// Exactly at the end of the period the next event goes, carrying the
	// two held back, and the email says how many it covers.
	e.clock.Set(end)
	res = e.dispatch(t, event("e7"), alerts.Sent)
	if res.Events != 3 || res.Pending != 0 {
		t.Errorf("Dispatch(e7) = %+v; want Events 3, Pending 0", res)
	}
	msgs := e.rec.Messages()
	last := msgs[len(msgs)-1]
	if got, want := eventIDs(last.Events), []string{"e5", "e6", "e7"}; !slices.Equal(got, want) {
		t.Errorf("email after the period covers %q; want %q", got, want)
	}
	if last.Carried != 2 || !strings.Contains(last.Text, "covers 3 events") {
		t.Errorf("email after the period: Carried %d, Text %q; want 2 and \"covers 3 events\"", last.Carried, last.Text)
	}
	if !slices.Equal(last.To, []string{"soc@example.com"}) || last.Tenant != tenant || last.Category != alerts.ActiveThreat || !last.Time.Equal(end) {
		t.Errorf("email after the period = %+v; want it addressed to the tenant's recipient at %v", last, end)
	}
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
	if last := msgs[len(msgs)-1]; res.Events != 1 || last.Carried != 1 || last.ID != res.MessageID {
		t.Errorf("Flush = %+v, email %+v; want one carried event", res, last)
	}
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
	if want := back.Add(4 * time.Hour); !res.Next.Equal(want) {
		t.Errorf("Dispatch after the step: Next = %v; want %v", res.Next, want)
	}
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
	ctx := context.Background()
	for round := range 6 {
		for i := range tenants {
			for _, c := range cats {
				ev := alerts.Event{ID: fmt.Sprint(i, c, round), Tenant: fmt.Sprint("tenant-", i), Category: c, Score: 9}
				res, err := e.d.Dispatch(ctx, ev)
				want := alerts.Sent
				if round == 5 {
					want = alerts.Suppressed
				}
				if err != nil || res.Outcome != want {
					t.Fatalf("Dispatch(%+v) = %+v, %v; want %s", ev, res, err, want)
				}
			}
		}
	}
	if got, want := e.rec.Len(), tenants*len(cats)*5; got != want {
		t.Errorf("%d emails; want %d", got, want)
	}
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
	if want := t0.Add(80 * time.Minute); !res.Next.Equal(want) {
		t.Errorf("Next = %v; want %v", res.Next, want)
	}
	e.clock.Set(res.Next)
	e.dispatch(t, event("e5"), alerts.Sent)
	if last := e.rec.Messages()[4]; !slices.Equal(eventIDs(last.Events), []string{"e4", "e5"}) {
		t.Errorf("email at t0+80m covers %q; want [e4 e5]", eventIDs(last.Events))
	}
}

var errDown = errors.New("smtp: connection refused")

func TestDispatcherFailureRetry(t *testing.T) {
	t.Parallel()
	rec := alertstest.NewRecorder()
	fail := alertstest.NewFailingNotifier(errDown, 2, rec)
	e := newEnv(t, func(c *alerts.DispatcherConfig) { c.Notifier = fail })

	first := e.dispatch(t, event("a"), alerts.SendFailed)
	if !errors.Is(first.Err, errDown) || first.Pending != 1 || first.MessageID == "" {
		t.Fatalf("Dispatch(a) = %+v; want SendFailed with the notifier's error and the event pending", first)
	}
	// The retry carries the same event and has the same identity.
	retry := e.flush(t, alerts.SendFailed)
	if retry.MessageID != first.MessageID {
		t.Errorf("retry MessageID = %q; want %q", retry.MessageID, first.MessageID)
	}
	sent := e.flush(t, alerts.Sent)
	refused := fail.Refused()
	msgs := rec.Messages()
	if sent.MessageID != first.MessageID || len(refused) != 2 || len(msgs) != 1 || msgs[0].ID != first.MessageID ||
		!slices.Equal(eventIDs(msgs[0].Events), []string{"a"}) || !slices.Equal(eventIDs(refused[0].Events), []string{"a"}) {
		t.Errorf("after the retries: sent %+v, refused %d, delivered %+v; want one email with event a and ID %q", sent, len(refused), msgs, first.MessageID)
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
	if res.MessageID == first.MessageID || res.Events != 2 {
		t.Errorf("Dispatch(b) = %+v; want both events under an ID other than %q", res, first.MessageID)
	}
	if m := rec.Messages()[0]; m.Carried != 1 || !slices.Equal(eventIDs(m.Events), []string{"a", "b"}) {
		t.Errorf("email = %+v; want a carried, then b", m)
	}
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
	if res.Dropped != 2 {
		t.Errorf("Dispatch after disable: Dropped = %d; want 2", res.Dropped)
	}
	// Turned on again after the period, nothing of the old events is sent.
	e.save(t, tenant, true, "soc@example.com")
	e.clock.Advance(4 * time.Hour)
	e.flush(t, alerts.NothingPending)
	if got := e.drain(t); len(got) != 0 {
		t.Errorf("Drain = %q; want nothing", got)
	}
	if n := e.rec.Len(); n != 5 {
		t.Errorf("%d emails; want 5", n)
	}
}

func TestDispatcherDisableBeforeNotify(t *testing.T) {
	t.Parallel()
	var e *env
	// A disable is saved while the email is being rendered, after the
	// dispatcher's first look at the settings.
	e = newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Renderer = rendererFunc(func(msg *alerts.Message) error {
			e.save(t, tenant, false, "soc@example.com")
			return countRenderer{}.Render(msg)
		})
	})
	res := e.dispatch(t, event("a"), alerts.CategoryDisabled)
	if res.Dropped != 1 || e.rec.Len() != 0 {
		t.Errorf("Dispatch = %+v with %d emails; want the event dropped and nothing sent", res, e.rec.Len())
	}
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
		if res, err := e.d.Dispatch(context.Background(), ev); err != nil || res.Outcome != tc.want {
			t.Errorf("Dispatch(%s score %v) = %+v, %v; want %s", tc.cat, tc.score, res, err, tc.want)
		}
	}
	// A bad score is an error in every category, not only those with a
	// threshold: it is never passed on to an email.
	for _, cat := range []alerts.CategoryID{alerts.ActiveThreat, alerts.Threat} {
		for _, score := range []float64{-1, 10.5, math.NaN(), math.Inf(1)} {
			ev := alerts.Event{ID: "bad", Tenant: tenant, Category: cat, Score: score}
			_, err := e.d.Dispatch(context.Background(), ev)
			var se *alerts.ScoreError
			if !errors.Is(err, alerts.ErrInvalidScore) || !errors.Is(err, alerts.ErrInvalidEvent) || !errors.As(err, &se) {
				t.Errorf("Dispatch(%s score %v) error = %v; want a *ScoreError", cat, score, err)
			}
		}
	}
	if got := e.drain(t); len(got) != 0 {
		t.Errorf("Drain = %q; want nothing (rejected and below-threshold events are not recorded)", got)
	}

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
		if res, err := custom.d.Dispatch(context.Background(), ev); err != nil || res.Outcome != tc.want {
			t.Errorf("custom thresholds: Dispatch(%s score %v) = %+v, %v; want %s", tc.cat, tc.score, res, err, tc.want)
		}
	}
}

func TestDispatcherNoRecipients(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.save(t, tenant, true) // no recipients
	res := e.dispatch(t, event("a"), alerts.NoRecipients)
	if res.Pending != 1 {
		t.Errorf("Dispatch without recipients: Pending = %d; want 1", res.Pending)
	}
	e.save(t, tenant, true, "soc@example.com")
	if res := e.flush(t, alerts.Sent); res.Events != 1 {
		t.Errorf("Flush = %+v; want the kept event", res)
	}
}

func TestDispatcherInvalidEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, ev := range []alerts.Event{
		{ID: "a", Category: alerts.ActiveThreat, Score: 5},
		{ID: "b", Tenant: tenant, Score: 5},
	} {
		if _, err := e.d.Dispatch(context.Background(), ev); !errors.Is(err, alerts.ErrInvalidEvent) {
			t.Errorf("Dispatch(%+v) error = %v; want ErrInvalidEvent", ev, err)
		}
	}
	// Bad input is an error whatever the settings say.
	e.save(t, tenant, false, "soc@example.com")
	ev := alerts.Event{ID: "c", Tenant: tenant, Category: alerts.ActiveThreat, Score: math.NaN()}
	if res, err := e.d.Dispatch(context.Background(), ev); !errors.Is(err, alerts.ErrInvalidScore) {
		t.Errorf("Dispatch(score NaN, category off) = %+v, %v; want ErrInvalidScore", res, err)
	}
}

func TestNewDispatcherErrors(t *testing.T) {
	t.Parallel()
	ok := alerts.DispatcherConfig{Settings: alerts.NewMemorySettingsStore(nil), Notifier: alertstest.NewRecorder()}
	for _, tc := range []struct {
		name string
		edit func(*alerts.DispatcherConfig)
		want string
	}{
		{"no settings", func(c *alerts.DispatcherConfig) { c.Settings = nil }, "alerts: DispatcherConfig.Settings is nil"},
		{"no notifier", func(c *alerts.DispatcherConfig) { c.Notifier = nil }, "alerts: DispatcherConfig.Notifier is nil"},
		{"bad policy", func(c *alerts.DispatcherConfig) { c.Limit.Max = -5 },
			"alerts: DispatcherConfig.Limit: alerts: invalid frequency limit: Max -5 is negative"},
		{"bad lease", func(c *alerts.DispatcherConfig) { c.LeaseTTL = -time.Second },
			"alerts: DispatcherConfig.LeaseTTL -1s is negative"},
		{"bad threshold", func(c *alerts.DispatcherConfig) {
			c.Thresholds = map[alerts.CategoryID]alerts.Threshold{alerts.ActiveThreat: 12}
		}, `alerts: DispatcherConfig.Thresholds["active-threat"]: alerts: score 12 is outside the valid range [0, 10]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			d, err := alerts.NewDispatcher(cfg)
			if d != nil || err == nil || err.Error() != tc.want {
				t.Errorf("NewDispatcher(%s) = %v, %v; want %q", tc.name, d, err, tc.want)
			}
		})
	}
	if _, err := alerts.NewDispatcher(ok); err != nil {
		t.Errorf("NewDispatcher(minimal config) = %v; want nil", err)
	}
}

// defaultDispatcher returns a dispatcher with every default but the clock,
// whose settings follow catalog and give tenant one recipient.
func defaultDispatcher(t *testing.T, catalog *alerts.Catalog, clock alerts.Clock) (*alerts.Dispatcher, *alertstest.Recorder) {
	t.Helper()
	settings := alerts.NewMemorySettingsStore(catalog)
	rec := alertstest.NewRecorder()
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{Settings: settings, Notifier: rec, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cur, _ := settings.Load(ctx, tenant)
	draft := cur.Edit()
	if err := draft.SetRecipients([]string{"soc@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := settings.Save(ctx, draft.Settings()); err != nil {
		t.Fatal(err)
	}
	return d, rec
}

// TestDispatcherDefaults uses every default: the built-in renderer, the
// in-memory store and the system clock.
func TestDispatcherDefaults(t *testing.T) {
	t.Parallel()
	d, rec := defaultDispatcher(t, nil, nil)
	ev := event("a")
	ev.Time = time.Now()
	if res, err := d.Dispatch(context.Background(), ev); err != nil || res.Outcome != alerts.Sent {
		t.Fatalf("Dispatch = %+v, %v; want sent", res, err)
	}
	m := rec.Messages()[0]
	if m.Subject == "" || !strings.Contains(m.Text, "threat a") || !strings.Contains(m.HTML, "threat a") {
		t.Errorf("default rendering: Subject %q, Text %q; want the event rendered", m.Subject, m.Text)
	}
}

// TestDispatcherDefaultRendererCatalog checks that the default renderer
// names a category the service registered as the settings store's catalog
// does, rather than by its id.
func TestDispatcherDefaultRendererCatalog(t *testing.T) {
	t.Parallel()
	catalog, err := alerts.NewCatalog(alerts.CatalogConfig{
		Categories: []alerts.Category{{ID: "billing", Name: "Billing Alerts", DefaultEnabled: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, rec := defaultDispatcher(t, catalog, alertstest.NewClock(t0))
	ev := alerts.Event{ID: "inv-1", Tenant: tenant, Category: "billing", Summary: "Invoice overdue", Time: t0}
	if res, err := d.Dispatch(context.Background(), ev); err != nil || res.Outcome != alerts.Sent {
		t.Fatalf("Dispatch = %+v, %v; want sent", res, err)
	}
	if got, want := rec.Messages()[0].Subject, "Billing Alerts: 1 event"; got != want {
		t.Errorf("Subject = %q; want %q", got, want)
	}
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
	res, err := e.d.Dispatch(context.Background(), event("a"))
	if err != nil || res.Outcome != alerts.SendFailed {
		t.Fatalf("Dispatch = %+v, %v; want SendFailed and no error", res, err)
	}
	if got := e.drain(t); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Drain = %q; want [a]", got)
	}
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
	if got := rec.Messages()[0].Events[0].Summary; got != "threat a" {
		t.Errorf("retried event Summary = %q; want %q", got, "threat a")
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Recipients(); !slices.Equal(got, []string{"soc@example.com"}) {
		t.Errorf("saved Recipients after a send = %q; want [soc@example.com]", got)
	}
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
		c.Renderer = rendererFunc(func(msg *alerts.Message) error {
			if slow {
				slow = false
				e.clock.Advance(alerts.DefaultLeaseTTL)
			}
			return countRenderer{}.Render(msg)
		})
	})
	res, err := e.d.Dispatch(context.Background(), event("a"))
	if err != nil || res.Outcome != alerts.SendFailed || !errors.Is(res.Err, alerts.ErrLeaseExpired) {
		t.Fatalf("Dispatch with the lease over before Notify = %+v, %v; want SendFailed with ErrLeaseExpired", res, err)
	}
	if n := e.rec.Len(); n != 0 {
		t.Fatalf("%d emails sent after the lease was over; want 0", n)
	}
	if res := e.flush(t, alerts.Sent); res.Events != 1 {
		t.Errorf("Flush = %+v; want the event sent once", res)
	}
	if n := e.rec.Len(); n != 1 {
		t.Errorf("%d emails in all; want 1", n)
	}
}

// TestDispatcherNotifyDeadline checks that Notify's context ends with the
// lease, not a whole LeaseTTL after the time spent before Notify.
func TestDispatcherNotifyDeadline(t *testing.T) {
	t.Parallel()
	var e *env
	var left time.Duration
	e = newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Renderer = rendererFunc(func(msg *alerts.Message) error {
			e.clock.Advance(alerts.DefaultLeaseTTL - time.Minute)
			return countRenderer{}.Render(msg)
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
	if left <= 0 || left > time.Minute {
		t.Errorf("Notify's context had %v left; want at most the minute left of the lease", left)
	}
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
		if m.Tenant != tt.tenant || m.Location != tt.loc {
			t.Errorf("message %d: Tenant, Location = %q, %v; want %q, %v", i, m.Tenant, m.Location, tt.tenant, tt.loc)
		}
		if !strings.Contains(m.Text, tt.when) {
			t.Errorf("message %d for %s lacks the time %q:\n%s", i, tt.tenant, tt.when, m.Text)
		}
	}
}

func TestDispatcherCanceled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The settings store refuses a done context: nothing is recorded.
	if _, err := e.d.Dispatch(ctx, event("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("Dispatch(canceled) error = %v; want context.Canceled", err)
	}
	if got := e.drain(t); len(got) != 0 {
		t.Errorf("Drain = %q; want nothing", got)
	}
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

func (s *storeFaults) GiveBack(ctx context.Context, k alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) error {
	if s.giveBack != nil {
		return s.giveBack
	}
	return s.LimitStore.GiveBack(ctx, k, p, lease, now)
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
	if _, err := e.d.Dispatch(context.Background(), event("a")); !errors.Is(err, errStore) {
		t.Errorf("Dispatch with Take failing: error = %v; want %v", err, errStore)
	}
	faults.take = nil

	// The notifier fails and so does the give-back: the events come back
	// when the lease expires, and the caller is told.
	faults.giveBack = errStore
	res, err := e.d.Dispatch(context.Background(), event("b"))
	if res.Outcome != alerts.SendFailed || !errors.Is(err, errStore) || !errors.Is(res.Err, errDown) {
		t.Errorf("Dispatch with Notify and GiveBack failing = %+v, %v; want SendFailed and both errors", res, err)
	}
	faults.giveBack = nil
	e.flush(t, alerts.NothingPending) // the lease still holds b
	e.clock.Advance(alerts.DefaultLeaseTTL)
	if res := e.flush(t, alerts.Sent); res.Events != 1 {
		t.Errorf("Flush after the lease = %+v; want b sent", res)
	}

	// Sent but not recorded: the outcome is not to be trusted.
	faults.commit = errStore
	res, err = e.d.Dispatch(context.Background(), event("c"))
	if res.Outcome != alerts.Sent || !errors.Is(err, errStore) {
		t.Errorf("Dispatch with Commit failing = %+v, %v; want Sent and the error", res, err)
	}
}

// TestDispatcherLeaseExpiry is a replica that dies between taking events and
// sending them: after the lease they are sent by another, with the same ID.
func TestDispatcherLeaseExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	key := alerts.LimitKey{Tenant: tenant, Category: alerts.ActiveThreat}
	// The dead replica takes the event straight from the shared store.
	g, err := e.store.LimitStore.Take(context.Background(), key, alerts.FrequencyLimit{}.WithDefaults(), e.clock.Now(), alerts.DefaultLeaseTTL, []alerts.Event{event("a")})
	if err != nil || g.Lease == "" {
		t.Fatalf("Take = %+v, %v; want a lease", g, err)
	}
	e.flush(t, alerts.NothingPending)
	e.clock.Advance(alerts.DefaultLeaseTTL)
	res := e.flush(t, alerts.Sent)
	if m := e.rec.Messages()[0]; !slices.Equal(eventIDs(m.Events), []string{"a"}) || m.ID != res.MessageID {
		t.Errorf("email after the lease = %+v; want event a", m)
	}
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
	valid := regexp.MustCompile(`^alert-[0-9a-f]{32}$`)
	for i := range a {
		if !valid.MatchString(a[i].ID) {
			t.Errorf("Message.ID = %q; want alert- and 32 hex digits", a[i].ID)
		}
		if j := 2 - i; a[i].ID != b[j].ID {
			t.Errorf("IDs of the same email differ: %q and %q", a[i].ID, b[j].ID)
		}
	}
	if a[0].ID == a[1].ID || a[1].ID == a[2].ID || a[0].ID == a[2].ID {
		t.Errorf("IDs of different emails collide: %q %q %q", a[0].ID, a[1].ID, a[2].ID)
	}
	// Another tenant with the same event IDs gets other IDs.
	e.save(t, "globex", true, "soc@example.com")
	ev := event("x")
	ev.Tenant = "globex"
	res := e.dispatch(t, ev, alerts.Sent)
	if res.MessageID == a[0].ID {
		t.Errorf("same event ID in two tenants: same Message.ID %q", res.MessageID)
	}
}

// TestDispatcherRace fires events at one key from 64 goroutines, period
// after period: exactly 5 emails go out per period, and every event is
// covered by exactly one email or still pending.
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
				if _, err := e.d.Dispatch(context.Background(), ev); err != nil {
					t.Errorf("Dispatch(%s): %v", ev.ID, err)
				}
			}
		})
	}
	wg.Go(func() {
		for range goroutines * each / 4 {
			if _, err := e.d.Flush(context.Background(), tenant, alerts.ActiveThreat); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}
	})
	wg.Wait()
	var covered []string
	for _, m := range rec.Messages() {
		covered = append(covered, eventIDs(m.Events)...)
	}
	pending := e.drain(t)
	all := append(covered, pending...)
	slices.Sort(all)
	distinct := len(slices.Compact(slices.Clone(all)))
	if fired := goroutines * each; len(all) != fired || distinct != fired {
		t.Errorf("delivered %d + pending %d = %d events (%d distinct); want each of %d exactly once",
			len(covered), len(pending), len(all), distinct, fired)
	}
}

func TestDispatcherRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const goroutines, each, periods = 64, 8, 3
	fired := 0
	for p := range periods {
		before := e.rec.Len()
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					ev := event(fmt.Sprintf("p%d-g%d-%d", p, g, i))
					if res, err := e.d.Dispatch(context.Background(), ev); err != nil ||
						(res.Outcome != alerts.Sent && res.Outcome != alerts.Suppressed) {
						t.Errorf("Dispatch(%s) = %+v, %v", ev.ID, res, err)
					}
				}
			})
		}
		wg.Wait()
		fired += goroutines * each
		if got := e.rec.Len() - before; got != alerts.DefaultLimit {
			t.Errorf("period %d: %d emails; want exactly %d", p, got, alerts.DefaultLimit)
		}
		e.clock.Advance(alerts.DefaultPeriod)
	}
	var covered []string
	for _, m := range e.rec.Messages() {
		covered = append(covered, eventIDs(m.Events)...)
	}
	pending := e.drain(t)
	all := append(covered, pending...)
	slices.Sort(all)
	distinct := len(slices.Compact(slices.Clone(all)))
	if len(all) != fired || distinct != fired {
		t.Errorf("covered %d + pending %d = %d events (%d distinct); want each of %d exactly once",
			len(covered), len(pending), len(all), distinct, fired)
	}
}

// TestDispatcherSynctest runs the default clock (SystemClock) inside a
// testing/synctest bubble: the 4-hour cooling period passes at once.
func TestDispatcherSynctest(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		settings := alerts.NewMemorySettingsStore(nil)
		ctx := context.Background()
		cur, _ := settings.Load(ctx, tenant)
		draft := cur.Edit()
		if err := draft.SetRecipients([]string{"soc@example.com"}); err != nil {
			t.Fatal(err)
		}
		if _, err := settings.Save(ctx, draft.Settings()); err != nil {
			t.Fatal(err)
		}
		rec := alertstest.NewRecorder()
		d, err := alerts.NewDispatcher(alerts.DispatcherConfig{Settings: settings, Notifier: rec, Renderer: countRenderer{}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var res alerts.Result
		for i := range 6 {
			if res, err = d.Dispatch(ctx, event(fmt.Sprint("e", i))); err != nil {
				t.Fatal(err)
			}
		}
		if res.Outcome != alerts.Suppressed || !res.Next.Equal(start.Add(4*time.Hour)) {
			t.Fatalf("sixth Dispatch = %+v; want suppressed until %v", res, start.Add(4*time.Hour))
		}
		time.Sleep(time.Until(res.Next) - time.Second)
		if res, _ := d.Flush(ctx, tenant, alerts.ActiveThreat); res.Outcome != alerts.Suppressed {
			t.Fatalf("Flush a second early = %+v; want suppressed", res)
		}
		time.Sleep(time.Second)
		if res, err := d.Flush(ctx, tenant, alerts.ActiveThreat); err != nil || res.Outcome != alerts.Sent || res.Events != 1 {
			t.Fatalf("Flush at the end of the period = %+v, %v; want the held event sent", res, err)
		}
		if got := time.Since(start); got != 4*time.Hour {
			t.Errorf("bubble time elapsed = %v; want 4h", got)
		}
		if rec.Len() != 6 {
			t.Errorf("%d emails; want 6", rec.Len())
		}
	})
}

// BenchmarkDispatch measures Dispatch for a key in its cooling period, the
// path every event of a storm takes.
func BenchmarkDispatch(b *testing.B) {
	e := newEnv(b, nil)
	for i := range 5 {
		e.dispatch(b, event(fmt.Sprint("e", i)), alerts.Sent)
	}
	ctx := context.Background()
	ev := event("storm")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if res, err := e.d.Dispatch(ctx, ev); err != nil || res.Outcome != alerts.Suppressed {
			b.Fatalf("Dispatch = %+v, %v", res, err)
		}
		if i++; i%1024 == 0 {
			e.d.Drain(ctx, tenant, alerts.ActiveThreat)
		}
	}
}
