package alerts_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// next returns the settings that turn the tenant's Active Threat and
// Threat alerts on or off, drafted from the current version.
func (e *env) next(t testing.TB, on bool) *alerts.Settings {
	t.Helper()
	cur, err := e.settings.Load(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	d := cur.Edit()
	for _, id := range []alerts.CategoryID{alerts.ActiveThreat, alerts.Threat} {
		if err := d.Set(id, on); err != nil {
			t.Fatal(err)
		}
	}
	return d.Settings()
}

// saveVia saves through the dispatcher the tenant's Active Threat and
// Threat alerts on or off, and checks that the save and its drops
// succeeded.
func (e *env) saveVia(t testing.TB, on bool) *alerts.Settings {
	t.Helper()
	next := e.next(t, on)
	saved, err := e.d.Save(context.Background(), next)
	if err != nil || saved == nil || saved.Version != next.Version+1 || saved.Enabled(alerts.ActiveThreat) != on {
		t.Fatalf("Dispatcher.Save(Active Threat on: %v) = %+v, %v; want version %d saved", on, saved, err, next.Version+1)
	}
	return saved
}

// queue sends the five emails of the period and holds two events back.
func (e *env) queue(t testing.TB) {
	t.Helper()
	for i := range 5 {
		e.dispatch(t, event(fmt.Sprint("e", i)), alerts.Sent)
	}
	e.dispatch(t, event("p1"), alerts.Suppressed)
	e.dispatch(t, event("p2"), alerts.Suppressed)
}

// expectNothingMore checks that after the cooling period nothing is pending
// and no email went beyond the first five.
func (e *env) expectNothingMore(t testing.TB) {
	t.Helper()
	e.clock.Advance(4 * time.Hour)
	e.flush(t, alerts.NothingPending)
	if got := e.drain(t); len(got) != 0 {
		t.Errorf("Drain = %q; want nothing", got)
	}
	if n := e.rec.Len(); n != 5 {
		t.Errorf("%d emails; want the 5 sent before the disable", n)
	}
}

// TestDispatcherSaveOffOnDropsPending is the gap Save closes: a category
// turned off and on again with no Dispatch or Flush in between does not
// send what was queued before it was turned off.
// The drop happens at the disable, whichever way the category is turned on
// again.
func TestDispatcherSaveOffOnDropsPending(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		enable func(t *testing.T, e *env)
	}{
		{"EnableThroughDispatcher", func(t *testing.T, e *env) { e.saveVia(t, true) }},
		{"EnableThroughStore", func(t *testing.T, e *env) { e.save(t, tenant, true, "soc@example.com") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.queue(t)
			e.saveVia(t, false)
			tc.enable(t, e)
			e.expectNothingMore(t)

			// Events that arrive once it is on again are sent as usual.
			e.dispatch(t, event("new"), alerts.Sent)
		})
	}
}

// TestDispatcherSaveOnDropsStale: the disable was saved straight through
// the store, bypassing the dispatcher; turning the category on again
// through the dispatcher drops what was queued before the disable.
func TestDispatcherSaveOnDropsStale(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.queue(t)
	e.save(t, tenant, false, "soc@example.com")
	e.saveVia(t, true)
	e.expectNothingMore(t)
}

// TestDispatcherSaveKeepsEnabled: a save drops nothing of a category that
// stays on, such as a change of recipients.
func TestDispatcherSaveKeepsEnabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.queue(t)
	cur, _ := e.settings.Load(context.Background(), tenant)
	d := cur.Edit()
	if err := d.SetRecipients([]string{"soc@example.com", "oncall@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.Save(context.Background(), d.Settings()); err != nil {
		t.Fatalf("Dispatcher.Save(new recipients) error = %v", err)
	}
	e.clock.Advance(4 * time.Hour)
	if res := e.flush(t, alerts.Sent); res.Events != 2 {
		t.Errorf("Flush after the period = %+v; want the 2 held events sent", res)
	}
	if m := e.rec.Messages()[5]; !slices.Equal(m.To, []string{"soc@example.com", "oncall@example.com"}) {
		t.Errorf("email To = %q; want the new recipients", m.To)
	}
}

// TestDispatcherSaveDropFails: the save took effect but dropping afterwards
// failed. The error says so, the save is not undone, and the events are
// still dropped later: by the next Flush that finds the category off (the
// lazy backstop), or by DropDisabled.
func TestDispatcherSaveDropFails(t *testing.T) {
	t.Parallel()
	errStore := errors.New("store: i/o timeout")
	for _, tc := range []struct {
		name    string
		recover func(t *testing.T, e *env)
	}{
		{"FlushDrops", func(t *testing.T, e *env) {
			if res := e.flush(t, alerts.CategoryDisabled); res.Dropped != 2 {
				t.Errorf("Flush after the failed drop = %+v; want Dropped 2", res)
			}
		}},
		{"DropDisabledRetry", func(t *testing.T, e *env) {
			if n, err := e.d.DropDisabled(context.Background(), tenant); n != 2 || err != nil {
				t.Errorf("DropDisabled(%q) = %d, %v; want 2, nil", tenant, n, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			faults := &storeFaults{LimitStore: new(alerts.MemoryLimitStore)}
			e := newEnv(t, func(c *alerts.DispatcherConfig) { c.Store = faults })
			e.queue(t)

			faults.drop = errStore
			next := e.next(t, false)
			saved, err := e.d.Save(context.Background(), next)
			var de *alerts.DropError
			if !errors.As(err, &de) || !errors.Is(err, errStore) {
				t.Fatalf("Dispatcher.Save with Drop failing: error = %v; want a *DropError wrapping %v", err, errStore)
			}
			// Every category off in the saved settings, in catalog order.
			wantCats := []alerts.CategoryID{alerts.Threat, alerts.ActiveThreat, alerts.Configuration}
			if de.Tenant != tenant || de.Version != next.Version+1 || !slices.Equal(de.Categories, wantCats) {
				t.Errorf("DropError = %+v; want tenant %q, version %d, categories %q", de, tenant, next.Version+1, wantCats)
			}
			if msg := err.Error(); !strings.Contains(msg, "are saved") || !strings.Contains(msg, "active-threat") {
				t.Errorf("DropError.Error() = %q; want it to say the settings are saved and name active-threat", msg)
			}
			// The save stands.
			if saved == nil || saved.Version != next.Version+1 || saved.Enabled(alerts.ActiveThreat) {
				t.Errorf("Dispatcher.Save with Drop failing returned settings %+v; want version %d with Active Threat off", saved, next.Version+1)
			}
			if cur, _ := e.settings.Load(context.Background(), tenant); cur.Version != next.Version+1 || cur.Enabled(alerts.ActiveThreat) {
				t.Errorf("stored settings = %+v; want version %d with Active Threat off", cur, next.Version+1)
			}

			faults.drop = nil
			tc.recover(t, e)
			e.saveVia(t, true)
			e.expectNothingMore(t)
		})
	}
}

// TestDispatcherSaveEnableDropFails: the events queued before a disable
// made elsewhere cannot be dropped before the category is turned on
// again, so nothing is saved: the host tries again.
func TestDispatcherSaveEnableDropFails(t *testing.T) {
	t.Parallel()
	errStore := errors.New("store: i/o timeout")
	faults := &storeFaults{LimitStore: new(alerts.MemoryLimitStore)}
	e := newEnv(t, func(c *alerts.DispatcherConfig) { c.Store = faults })
	e.queue(t)
	e.save(t, tenant, false, "soc@example.com")

	faults.drop = errStore
	next := e.next(t, true)
	saved, err := e.d.Save(context.Background(), next)
	if saved != nil || !errors.Is(err, errStore) || !strings.Contains(err.Error(), "not saved") {
		t.Fatalf("Dispatcher.Save(on) with Drop failing = %+v, %v; want nil and an error saying nothing was saved", saved, err)
	}
	if cur, _ := e.settings.Load(context.Background(), tenant); cur.Version != next.Version || cur.Enabled(alerts.ActiveThreat) {
		t.Errorf("stored settings = %+v; want version %d unchanged, Active Threat off", cur, next.Version)
	}

	faults.drop = nil
	e.saveVia(t, true)
	e.expectNothingMore(t)
}

// TestDispatcherSaveConflict: a stale save is refused as the store refuses
// it, and drops nothing.
func TestDispatcherSaveConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.queue(t)
	stale := e.next(t, false)
	e.save(t, tenant, true, "soc@example.com", "oncall@example.com") // someone else saves first
	saved, err := e.d.Save(context.Background(), stale)
	var ce *alerts.ConflictError
	if saved != nil || !errors.As(err, &ce) || ce.Base != stale.Version || ce.Current != stale.Version+1 {
		t.Fatalf("Dispatcher.Save(stale) = %+v, %v; want a *ConflictError from version %d to %d", saved, err, stale.Version, stale.Version+1)
	}
	e.clock.Advance(4 * time.Hour)
	if res := e.flush(t, alerts.Sent); res.Events != 2 {
		t.Errorf("Flush after the refused save = %+v; want the 2 held events sent", res)
	}
}

// cancelOnSave is a settings store that cancels the caller's context once it
// has saved, as a caller giving up at that moment would.
type cancelOnSave struct {
	*alerts.MemorySettingsStore
	cancel context.CancelFunc
}

func (s cancelOnSave) Save(ctx context.Context, next *alerts.Settings) (*alerts.Settings, error) {
	saved, err := s.MemorySettingsStore.Save(ctx, next)
	s.cancel()
	return saved, err
}

// TestDispatcherSaveCanceledAfterSave: once the settings are saved, their
// drops are made even if the caller's context is done.
func TestDispatcherSaveCanceledAfterSave(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Settings = cancelOnSave{c.Settings.(*alerts.MemorySettingsStore), cancel}
	})
	e.queue(t)
	next := e.next(t, false)
	if saved, err := e.d.Save(ctx, next); err != nil || saved.Version != next.Version+1 {
		t.Fatalf("Dispatcher.Save(off) canceled after the save = %+v, %v; want version %d and no error", saved, err, next.Version+1)
	}
	e.save(t, tenant, true, "soc@example.com")
	e.expectNothingMore(t)
}

// loaderOnly is a SettingsLoader without a Save method.
type loaderOnly struct{ alerts.SettingsLoader }

func TestDispatcherSaveErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if _, err := e.d.Save(context.Background(), nil); !errors.Is(err, alerts.ErrNoTenant) {
		t.Errorf("Dispatcher.Save(nil) error = %v; want %v", err, alerts.ErrNoTenant)
	}

	ro := newEnv(t, func(c *alerts.DispatcherConfig) { c.Settings = loaderOnly{c.Settings} })
	next := ro.next(t, false)
	if saved, err := ro.d.Save(context.Background(), next); saved != nil || err == nil || !strings.Contains(err.Error(), "no Save method") {
		t.Errorf("Dispatcher.Save with a read-only loader = %+v, %v; want an error naming the missing Save method", saved, err)
	}
	if cur, _ := ro.settings.Load(context.Background(), tenant); cur.Version != next.Version {
		t.Errorf("stored version = %d; want %d: nothing saved", cur.Version, next.Version)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if saved, err := e.d.Save(ctx, e.next(t, false)); saved != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Dispatcher.Save(canceled) = %+v, %v; want context.Canceled", saved, err)
	}
	if _, err := e.d.DropDisabled(ctx, tenant); !errors.Is(err, context.Canceled) {
		t.Errorf("DropDisabled(canceled) error = %v; want context.Canceled", err)
	}
}

// TestDispatcherDropDisabled: a host that saved straight through the store
// drops the queued events of what it turned off, and nothing else.
func TestDispatcherDropDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.queue(t)
	other := event("cfg")
	other.Category = alerts.Configuration
	cur, _ := e.settings.Load(context.Background(), tenant)
	d := cur.Edit()
	if err := d.Set(alerts.Configuration, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.settings.Save(context.Background(), d.Settings()); err != nil {
		t.Fatal(err)
	}
	// Configuration's limit holds its event back too.
	for i := range 5 {
		ev := other
		ev.ID = fmt.Sprint("cfg", i)
		e.dispatch(t, ev, alerts.Sent)
	}
	e.dispatch(t, other, alerts.Suppressed)

	e.save(t, tenant, false, "soc@example.com") // Active Threat and Threat off, Configuration on
	if n, err := e.d.DropDisabled(context.Background(), tenant); n != 2 || err != nil {
		t.Errorf("DropDisabled(%q) = %d, %v; want 2, nil", tenant, n, err)
	}
	e.save(t, tenant, true, "soc@example.com")
	e.clock.Advance(4 * time.Hour)
	e.flush(t, alerts.NothingPending)
	res, err := e.d.Flush(context.Background(), tenant, alerts.Configuration)
	if err != nil || res.Outcome != alerts.Sent || res.Events != 1 {
		t.Errorf("Flush(Configuration) = %+v, %v; want its held event sent", res, err)
	}
}

// TestDispatcherLazyDropOtherReplica: the lazy check remains the backstop.
// A disable saved by a process without a dispatcher is seen by another
// replica's next Flush, which drops the events; turned on again, nothing
// of them is sent.
func TestDispatcherLazyDropOtherReplica(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	other, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: e.settings,
		Notifier: e.rec,
		Renderer: countRenderer{},
		Store:    e.store,
		Clock:    e.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.queue(t)
	e.save(t, tenant, false, "soc@example.com")
	res, err := other.Flush(context.Background(), tenant, alerts.ActiveThreat)
	if err != nil || res.Outcome != alerts.CategoryDisabled || res.Dropped != 2 {
		t.Errorf("other replica's Flush after the disable = %+v, %v; want CategoryDisabled, Dropped 2", res, err)
	}
	e.save(t, tenant, true, "soc@example.com")
	e.expectNothingMore(t)
}

// TestDispatcherIsSettingsStore: a host hands the dispatcher to its
// settings screen as a SettingsStore, and every save goes through it.
func TestDispatcherIsSettingsStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.queue(t)
	var store alerts.SettingsStore = e.d
	cur, err := store.Load(context.Background(), tenant)
	if err != nil || !cur.Enabled(alerts.ActiveThreat) {
		t.Fatalf("Dispatcher.Load(%q) = %+v, %v; want the saved settings", tenant, cur, err)
	}
	for _, on := range []bool{false, true} {
		d := cur.Edit()
		if err := d.Set(alerts.ActiveThreat, on); err != nil {
			t.Fatal(err)
		}
		if cur, err = store.Save(context.Background(), d.Settings()); err != nil {
			t.Fatalf("Dispatcher.Save(Active Threat on: %v) error = %v", on, err)
		}
	}
	e.expectNothingMore(t)
}

var _ alerts.SettingsStore = (*alerts.Dispatcher)(nil)
