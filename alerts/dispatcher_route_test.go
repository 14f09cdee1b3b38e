package alerts_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// TestDispatcherUnknownCategory: a category not in the catalog, in another
// case included, is ErrInvalidEvent naming the event and the id, never a
// silent category-disabled, whether the catalog is configured or comes
// from the settings. Nothing is recorded.
func TestDispatcherUnknownCategory(t *testing.T) {
	t.Parallel()
	for _, configured := range []bool{false, true} {
		var loads int
		e := newEnv(t, func(c *alerts.DispatcherConfig) {
			settings := c.Settings
			c.Settings = alerts.SettingsLoaderFunc(func(ctx context.Context, tenant string) (*alerts.Settings, error) {
				loads++
				return settings.Load(ctx, tenant)
			})
			if configured {
				c.Catalog = alerts.DefaultCatalog()
			}
		})
		for _, cat := range []alerts.CategoryID{"Active-Threat", "ACTIVE-THREAT", "active_threat", " active-threat", "nope"} {
			ev := event("ev-1")
			ev.Category = cat
			res, err := e.d.Dispatch(context.Background(), ev)
			assert.Equalf(t, alerts.Result{}, res, "Dispatch(category %q, catalog configured %t) result", cat, configured)
			require.ErrorIsf(t, err, alerts.ErrInvalidEvent, "Dispatch(category %q, catalog configured %t) = %v; want ErrInvalidEvent", cat, configured, err)
			assert.ErrorIsf(t, err, alerts.ErrUnknownCategory, "Dispatch(category %q, catalog configured %t)", cat, configured)
			var ce *alerts.CategoryError
			require.ErrorAsf(t, err, &ce, "Dispatch(category %q) = %v; want a *CategoryError", cat, err)
			assert.Equalf(t, cat, ce.ID, "Dispatch(category %q): CategoryError.ID", cat)
			want := `alerts: invalid event "ev-1": Category: alerts: unknown category "` + string(cat) + `": not in the catalog`
			assert.EqualErrorf(t, err, want, "Dispatch(category %q, catalog configured %t)", cat, configured)

			_, err = e.d.Flush(context.Background(), tenant, cat)
			assert.ErrorIsf(t, err, alerts.ErrUnknownCategory, "Flush(category %q, catalog configured %t) = %v", cat, configured, err)
		}
		if configured {
			// Refused before any I/O.
			assert.Zero(t, loads, "settings loaded for events the configured catalog refuses")
		}
		assert.Empty(t, e.drain(t), "Drain: an unknown category records nothing")
		assert.Zero(t, e.rec.Len(), "emails sent")
		assert.Empty(t, e.store.Open(), "leases taken")
	}
}

// TestDispatcherSettingsCatalog: without DispatcherConfig.Catalog, the
// categories the service registered in the settings' catalog are known.
func TestDispatcherSettingsCatalog(t *testing.T) {
	t.Parallel()
	catalog, err := alerts.NewCatalog(alerts.CatalogConfig{
		Categories: []alerts.Category{{ID: "billing", Name: "Billing Alerts", DefaultEnabled: true}},
	})
	require.NoError(t, err, "NewCatalog")
	settings := alerts.NewMemorySettingsStore(catalog)
	cur, err := settings.Load(context.Background(), tenant)
	require.NoError(t, err, "Load")
	draft := cur.Edit()
	require.NoError(t, draft.SetRecipients([]string{"soc@example.com"}), "SetRecipients")
	_, err = settings.Save(context.Background(), draft.Settings())
	require.NoError(t, err, "Save")
	rec := alertstest.NewRecorder()
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{Settings: settings, Notifier: rec, Renderer: countRenderer, Clock: alertstest.NewClock(t0)})
	require.NoError(t, err, "NewDispatcher")
	res, err := d.Dispatch(context.Background(), alerts.Event{ID: "inv-1", Tenant: tenant, Category: "billing", Time: t0})
	require.NoError(t, err, "Dispatch(billing)")
	assert.Equalf(t, alerts.Sent, res.Outcome, "Dispatch(billing) = %+v; want sent", res)
	_, err = d.Dispatch(context.Background(), alerts.Event{ID: "inv-2", Tenant: tenant, Category: "Billing", Time: t0})
	assert.ErrorIsf(t, err, alerts.ErrUnknownCategory, "Dispatch(Billing) = %v", err)
}

// digestRecorder is a Digester that keeps the events it is given, or
// fails with err.
type digestRecorder struct {
	mu     sync.Mutex
	events []alerts.Event
	err    error
}

func (r *digestRecorder) Digest(_ context.Context, evs []alerts.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.events = append(r.events, evs...)
	return nil
}

func (r *digestRecorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return eventIDs(r.events)
}

// TestDispatcherBelowThresholdToDigest: an event under the threshold goes
// to the Digest, with its outcome still below-threshold; events that fire,
// events of a disabled category and invalid events do not; a failing
// Digest is Dispatch's error, for the host to retry.
func TestDispatcherBelowThresholdToDigest(t *testing.T) {
	t.Parallel()
	dig := new(digestRecorder)
	e := newEnv(t, func(c *alerts.DispatcherConfig) { c.Digest = dig })
	low := event("low")
	low.Score = 3.5
	e.dispatch(t, low, alerts.BelowThreshold)
	e.dispatch(t, event("high"), alerts.Sent)
	bad := event("bad")
	bad.Score = -1
	_, err := e.d.Dispatch(context.Background(), bad)
	require.ErrorIs(t, err, alerts.ErrInvalidScore, "Dispatch(score -1)")
	assert.Equal(t, []string{"low"}, dig.ids(), "events the digest received")
	assert.Equal(t, []alerts.Event{low}, dig.events, "the event, as dispatched")

	e.save(t, tenant, false, "soc@example.com")
	low2 := event("low-2")
	low2.Score = 1
	e.dispatch(t, low2, alerts.CategoryDisabled)
	assert.Equal(t, []string{"low"}, dig.ids(), "events the digest received after the category was turned off")

	e.save(t, tenant, true, "soc@example.com")
	errDown := errors.New("digest store down")
	dig.err = errDown
	res, err := e.d.Dispatch(context.Background(), low2)
	assert.ErrorIsf(t, err, errDown, "Dispatch with the digest down = %+v, %v; want its error", res, err)
	assert.Equal(t, alerts.Result{}, res, "Dispatch with the digest down: result")
	assert.Empty(t, e.drain(t), "pending events: below-threshold events never wait for an alert")
}

// TestDispatcherWithoutDigest: with no Digest, below-threshold is still
// the outcome and nothing is recorded.
func TestDispatcherWithoutDigest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	low := event("low")
	low.Score = 0
	e.dispatch(t, low, alerts.BelowThreshold)
	assert.Empty(t, e.drain(t), "pending events")
	assert.Zero(t, e.rec.Len(), "emails sent")
}
