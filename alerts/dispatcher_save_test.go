package alerts_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

// next returns the settings that turn the tenant's Active Threat and
// Threat alerts on or off, drafted from the current version.
func (e *env) next(t testing.TB, on bool) *alerts.Settings {
	t.Helper()
	cur, err := e.settings.Load(context.Background(), tenant)
	require.NoError(t, err, "Load")
	d := cur.Edit()
	for _, id := range []alerts.CategoryID{alerts.ActiveThreat, alerts.Threat} {
		require.NoError(t, d.Set(id, on), "Draft.Set")
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
	require.NoErrorf(t, err, "Dispatcher.Save(Active Threat on: %v)", on)
	require.NotNilf(t, saved, "Dispatcher.Save(Active Threat on: %v) returned no settings", on)
	require.Equalf(t, next.Version+1, saved.Version, "Dispatcher.Save(Active Threat on: %v) = %+v; want version %d saved", on, saved, next.Version+1)
	require.Equalf(t, on, saved.Enabled(alerts.ActiveThreat), "Dispatcher.Save(Active Threat on: %v) = %+v", on, saved)
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
	assert.Empty(t, e.drain(t), "Drain")
	assert.Equal(t, 5, e.rec.Len(), "emails: want the 5 sent before the disable")
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
	cur, err := e.settings.Load(context.Background(), tenant)
	require.NoError(t, err, "Load")
	d := cur.Edit()
	require.NoError(t, d.SetRecipients([]string{"soc@example.com", "oncall@example.com"}), "SetRecipients")
	_, err = e.d.Save(context.Background(), d.Settings())
	require.NoError(t, err, "Dispatcher.Save(new recipients)")
	e.clock.Advance(4 * time.Hour)
	res := e.flush(t, alerts.Sent)
	assert.Equalf(t, 2, res.Events, "Flush after the period = %+v; want the 2 held events sent", res)
	assert.Equal(t, []string{"soc@example.com", "oncall@example.com"}, e.rec.Messages()[5].To, "email To: want the new recipients")
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
			res := e.flush(t, alerts.CategoryDisabled)
			assert.Equalf(t, 2, res.Dropped, "Flush after the failed drop = %+v; want Dropped 2", res)
		}},
		{"DropDisabledRetry", func(t *testing.T, e *env) {
			n, err := e.d.DropDisabled(context.Background(), tenant)
			assert.NoErrorf(t, err, "DropDisabled(%q)", tenant)
			assert.Equalf(t, 2, n, "DropDisabled(%q) = %d; want 2", tenant, n)
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
			require.ErrorAsf(t, err, &de, "Dispatcher.Save with Drop failing: error = %v; want a *DropError", err)
			require.ErrorIsf(t, err, errStore, "Dispatcher.Save with Drop failing: error = %v; want it to wrap %v", err, errStore)
			// Every category off in the saved settings, in catalog order.
			wantCats := []alerts.CategoryID{alerts.Threat, alerts.ActiveThreat, alerts.Configuration}
			assert.Equal(t, tenant, de.Tenant, "DropError.Tenant")
			assert.Equal(t, next.Version+1, de.Version, "DropError.Version")
			assert.Equal(t, wantCats, de.Categories, "DropError.Categories")
			assert.ErrorContains(t, err, "are saved", "DropError.Error(): want it to say the settings are saved")
			assert.ErrorContains(t, err, "active-threat", "DropError.Error(): want it to name active-threat")
			// The save stands.
			if assert.NotNil(t, saved, "Dispatcher.Save with Drop failing returned no settings") {
				assert.Equalf(t, next.Version+1, saved.Version, "Dispatcher.Save with Drop failing returned settings %+v", saved)
				assert.Falsef(t, saved.Enabled(alerts.ActiveThreat), "Dispatcher.Save with Drop failing returned settings %+v; want Active Threat off", saved)
			}
			cur, err := e.settings.Load(context.Background(), tenant)
			require.NoError(t, err, "Load")
			assert.Equalf(t, next.Version+1, cur.Version, "stored settings = %+v", cur)
			assert.Falsef(t, cur.Enabled(alerts.ActiveThreat), "stored settings = %+v; want Active Threat off", cur)

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
	require.Nilf(t, saved, "Dispatcher.Save(on) with Drop failing = %+v; want nil", saved)
	require.ErrorIsf(t, err, errStore, "Dispatcher.Save(on) with Drop failing: error = %v", err)
	require.ErrorContainsf(t, err, "not saved", "Dispatcher.Save(on) with Drop failing: error = %v; want it to say nothing was saved", err)
	cur, err := e.settings.Load(context.Background(), tenant)
	require.NoError(t, err, "Load")
	assert.Equalf(t, next.Version, cur.Version, "stored settings = %+v; want the version unchanged", cur)
	assert.Falsef(t, cur.Enabled(alerts.ActiveThreat), "stored settings = %+v; want Active Threat off", cur)

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
	require.Nilf(t, saved, "Dispatcher.Save(stale) = %+v; want nil", saved)
	var ce *alerts.ConflictError
	require.ErrorAsf(t, err, &ce, "Dispatcher.Save(stale) error = %v; want a *ConflictError", err)
	assert.Equal(t, stale.Version, ce.Base, "ConflictError.Base")
	assert.Equal(t, stale.Version+1, ce.Current, "ConflictError.Current")
	e.clock.Advance(4 * time.Hour)
	res := e.flush(t, alerts.Sent)
	assert.Equalf(t, 2, res.Events, "Flush after the refused save = %+v; want the 2 held events sent", res)
}

// cancelOnSave is a settings saver that cancels the caller's context once
// it has saved, as a caller giving up at that moment would.
func cancelOnSave(store *alerts.MemorySettingsStore, cancel context.CancelFunc) alerts.SettingsSaverFunc {
	return func(ctx context.Context, next *alerts.Settings) (*alerts.Settings, error) {
		saved, err := store.Save(ctx, next)
		cancel()
		return saved, err
	}
}

// TestDispatcherSaveCanceledAfterSave: once the settings are saved, their
// drops are made even if the caller's context is done.
func TestDispatcherSaveCanceledAfterSave(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Saver = cancelOnSave(c.Settings.(*alerts.MemorySettingsStore), cancel)
	})
	e.queue(t)
	next := e.next(t, false)
	saved, err := e.d.Save(ctx, next)
	require.NoError(t, err, "Dispatcher.Save(off) canceled after the save")
	require.Equalf(t, next.Version+1, saved.Version, "Dispatcher.Save(off) canceled after the save = %+v", saved)
	e.save(t, tenant, true, "soc@example.com")
	e.expectNothingMore(t)
}

func TestDispatcherSaveErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, err := e.d.Save(context.Background(), nil)
	assert.ErrorIsf(t, err, alerts.ErrNoTenant, "Dispatcher.Save(nil) error = %v; want %v", err, alerts.ErrNoTenant)

	ro := newEnv(t, func(c *alerts.DispatcherConfig) { c.Saver = nil })
	next := ro.next(t, false)
	saved, err := ro.d.Save(context.Background(), next)
	assert.Nilf(t, saved, "Dispatcher.Save without a Saver = %+v; want nil", saved)
	assert.EqualErrorf(t, err, "alerts: Dispatcher.Save: DispatcherConfig.Saver is nil", "Dispatcher.Save without a Saver = %v; want an error naming the field", err)
	cur, err := ro.settings.Load(context.Background(), tenant)
	require.NoError(t, err, "Load")
	assert.Equal(t, next.Version, cur.Version, "stored version: nothing saved")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	saved, err = e.d.Save(ctx, e.next(t, false))
	assert.Nilf(t, saved, "Dispatcher.Save(canceled) = %+v; want nil", saved)
	assert.ErrorIsf(t, err, context.Canceled, "Dispatcher.Save(canceled) = %v; want context.Canceled", err)
	_, err = e.d.DropDisabled(ctx, tenant)
	assert.ErrorIsf(t, err, context.Canceled, "DropDisabled(canceled) error = %v; want context.Canceled", err)
}

// TestDispatcherDropDisabled: a host that saved straight through the store
// drops the queued events of what it turned off, and nothing else.
func TestDispatcherDropDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.queue(t)
	other := event("cfg")
	other.Category = alerts.Configuration
	cur, err := e.settings.Load(context.Background(), tenant)
	require.NoError(t, err, "Load")
	d := cur.Edit()
	require.NoError(t, d.Set(alerts.Configuration, true), "Draft.Set")
	_, err = e.settings.Save(context.Background(), d.Settings())
	require.NoError(t, err, "Save")
	// Configuration's limit holds its event back too.
	for i := range 5 {
		ev := other
		ev.ID = fmt.Sprint("cfg", i)
		e.dispatch(t, ev, alerts.Sent)
	}
	e.dispatch(t, other, alerts.Suppressed)

	e.save(t, tenant, false, "soc@example.com") // Active Threat and Threat off, Configuration on
	n, err := e.d.DropDisabled(context.Background(), tenant)
	assert.NoErrorf(t, err, "DropDisabled(%q)", tenant)
	assert.Equalf(t, 2, n, "DropDisabled(%q) = %d; want 2", tenant, n)
	e.save(t, tenant, true, "soc@example.com")
	e.clock.Advance(4 * time.Hour)
	e.flush(t, alerts.NothingPending)
	res, err := e.d.Flush(context.Background(), tenant, alerts.Configuration)
	require.NoError(t, err, "Flush(Configuration)")
	assert.Equalf(t, alerts.Sent, res.Outcome, "Flush(Configuration) = %+v; want its held event sent", res)
	assert.Equalf(t, 1, res.Events, "Flush(Configuration) = %+v; want its held event sent", res)
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
		Renderer: countRenderer,
		Store:    e.store,
		Clock:    e.clock,
	})
	require.NoError(t, err, "NewDispatcher")
	e.queue(t)
	e.save(t, tenant, false, "soc@example.com")
	res, err := other.Flush(context.Background(), tenant, alerts.ActiveThreat)
	require.NoError(t, err, "other replica's Flush after the disable")
	assert.Equalf(t, alerts.CategoryDisabled, res.Outcome, "other replica's Flush after the disable = %+v", res)
	assert.Equalf(t, 2, res.Dropped, "other replica's Flush after the disable = %+v", res)
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
	require.NoErrorf(t, err, "Dispatcher.Load(%q)", tenant)
	require.Truef(t, cur.Enabled(alerts.ActiveThreat), "Dispatcher.Load(%q) = %+v; want the saved settings", tenant, cur)
	for _, on := range []bool{false, true} {
		d := cur.Edit()
		require.NoError(t, d.Set(alerts.ActiveThreat, on), "Draft.Set")
		cur, err = store.Save(context.Background(), d.Settings())
		require.NoErrorf(t, err, "Dispatcher.Save(Active Threat on: %v)", on)
	}
	e.expectNothingMore(t)
}

var _ alerts.SettingsStore = (*alerts.Dispatcher)(nil)
