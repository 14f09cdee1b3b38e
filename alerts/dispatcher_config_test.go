package alerts_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

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
		{"threshold for an unknown category", func(c *alerts.DispatcherConfig) {
			c.Thresholds = map[alerts.CategoryID]alerts.Threshold{alerts.ActiveThreat: 4, "nope": 4}
		}, `alerts: unknown category "nope": DispatcherConfig.Thresholds names it, but it is not in the built-in categories (DispatcherConfig.Catalog is nil)`},
		{"threshold for a category in another case", func(c *alerts.DispatcherConfig) {
			c.Catalog = alerts.DefaultCatalog()
			c.Thresholds = map[alerts.CategoryID]alerts.Threshold{"Active-Threat": 4}
		}, `alerts: unknown category "Active-Threat": DispatcherConfig.Thresholds names it, but it is not in DispatcherConfig.Catalog`},
		{"bad limit", func(c *alerts.DispatcherConfig) { c.Limit.Max = -5 },
			"alerts: DispatcherConfig.Limit: alerts: invalid frequency limit: Max -5 is negative"},
		{"bad lease", func(c *alerts.DispatcherConfig) { c.LeaseTTL = -time.Second },
			"alerts: DispatcherConfig.LeaseTTL -1s is negative"},
		{"negative notify timeout", func(c *alerts.DispatcherConfig) { c.NotifyTimeout = -time.Second },
			"alerts: DispatcherConfig.NotifyTimeout -1s is negative"},
		{"negative retry backoff", func(c *alerts.DispatcherConfig) { c.RetryBackoff = -time.Second },
			"alerts: DispatcherConfig.RetryBackoff -1s is negative"},
		{"negative max retry backoff", func(c *alerts.DispatcherConfig) { c.MaxRetryBackoff = -time.Minute },
			"alerts: DispatcherConfig.MaxRetryBackoff -1m0s is negative"},
		{"negative poll interval", func(c *alerts.DispatcherConfig) { c.PollInterval = -time.Millisecond },
			"alerts: DispatcherConfig.PollInterval -1ms is negative"},
		{"negative flush concurrency", func(c *alerts.DispatcherConfig) { c.FlushConcurrency = -1 },
			"alerts: DispatcherConfig.FlushConcurrency -1 is negative"},
		{"lease not longer than the notify timeout", func(c *alerts.DispatcherConfig) {
			c.LeaseTTL, c.NotifyTimeout = time.Minute, time.Minute
		}, "alerts: DispatcherConfig.LeaseTTL 1m0s (0 means 5m0s) is not longer than DispatcherConfig.NotifyTimeout 1m0s: a send that fails could outlive its lease and charge the frequency limit"},
		{"default lease not longer than the notify timeout", func(c *alerts.DispatcherConfig) { c.NotifyTimeout = 10 * time.Minute },
			"alerts: DispatcherConfig.LeaseTTL 0s (0 means 5m0s) is not longer than DispatcherConfig.NotifyTimeout 10m0s: a send that fails could outlive its lease and charge the frequency limit"},
		{"lease not longer than the notifier's MaxDuration", func(c *alerts.DispatcherConfig) {
			c.LeaseTTL, c.Notifier = 30*time.Second, slowNotifier{alertstest.NewRecorder(), 45 * time.Second}
		}, "alerts: DispatcherConfig.LeaseTTL 30s (0 means 5m0s) is not longer than DispatcherConfig.NotifyTimeout (0: the Notifier's MaxDuration) 45s: a send that fails could outlive its lease and charge the frequency limit"},
		{"bad threshold", func(c *alerts.DispatcherConfig) {
			c.Thresholds = map[alerts.CategoryID]alerts.Threshold{alerts.Threat: 5, alerts.ActiveThreat: 12, alerts.Configuration: -1}
		}, `alerts: DispatcherConfig.Thresholds["active-threat"]: alerts: score 12 is outside the valid range [0, 10]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			d, err := alerts.NewDispatcher(cfg)
			assert.Nilf(t, d, "NewDispatcher(%s) returned a dispatcher", tc.name)
			assert.EqualErrorf(t, err, tc.want, "NewDispatcher(%s) = %v; want %q", tc.name, err, tc.want)
		})
	}
	_, err := alerts.NewDispatcher(ok)
	assert.NoError(t, err, "NewDispatcher(minimal config)")
	// A NotifyTimeout set overrides the notifier's own statement.
	slow := ok
	slow.Notifier, slow.LeaseTTL, slow.NotifyTimeout = slowNotifier{alertstest.NewRecorder(), time.Hour}, 2*time.Minute, time.Minute
	_, err = alerts.NewDispatcher(slow)
	assert.NoError(t, err, "NewDispatcher(NotifyTimeout under LeaseTTL, the notifier's MaxDuration over it)")
	// The catalog is the routing catalog too, so it goes with any renderer.
	withRenderer := ok
	withRenderer.Catalog, withRenderer.Renderer = alerts.DefaultCatalog(), countRenderer
	_, err = alerts.NewDispatcher(withRenderer)
	assert.NoError(t, err, "NewDispatcher(Catalog with a Renderer)")
}

// TestNewDispatcherUnknownThreshold: a threshold for a category outside
// the catalog is an error naming the id, which errors.As finds.
func TestNewDispatcherUnknownThreshold(t *testing.T) {
	t.Parallel()
	catalog, err := alerts.NewCatalog(alerts.CatalogConfig{Categories: []alerts.Category{{ID: "billing", Name: "Billing Alerts"}}})
	require.NoError(t, err, "NewCatalog")
	cfg := alerts.DispatcherConfig{
		Settings:   alerts.NewMemorySettingsStore(catalog),
		Notifier:   alertstest.NewRecorder(),
		Thresholds: map[alerts.CategoryID]alerts.Threshold{"billing": 5},
	}
	_, err = alerts.NewDispatcher(cfg)
	var ce *alerts.CategoryError
	require.ErrorAsf(t, err, &ce, "NewDispatcher(Thresholds[billing], no Catalog) = %v; want a *CategoryError", err)
	assert.Equal(t, alerts.CategoryID("billing"), ce.ID, "CategoryError.ID")
	assert.ErrorIs(t, err, alerts.ErrUnknownCategory, "NewDispatcher(Thresholds[billing], no Catalog)")
	cfg.Catalog = catalog
	_, err = alerts.NewDispatcher(cfg)
	assert.NoError(t, err, "NewDispatcher(Thresholds[billing], the catalog that has it)")
}

// TestDispatcherConfigFuncs wires a dispatcher with functions only: the
// adapters of SettingsLoader, SettingsSaver, Renderer and Notifier.
func TestDispatcherConfigFuncs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := alerts.NewMemorySettingsStore(nil)
	cur, err := store.Load(ctx, tenant)
	require.NoError(t, err, "Load")
	draft := cur.Edit()
	require.NoError(t, draft.SetRecipients([]string{"soc@example.com"}), "SetRecipients")
	var loads, saves, renders int
	var sent []string
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: alerts.SettingsLoaderFunc(func(ctx context.Context, tenant string) (*alerts.Settings, error) {
			loads++
			return store.Load(ctx, tenant)
		}),
		Saver: alerts.SettingsSaverFunc(func(ctx context.Context, next *alerts.Settings) (*alerts.Settings, error) {
			saves++
			return store.Save(ctx, next)
		}),
		Renderer: alerts.RendererFunc(func(msg *alerts.Message) error {
			renders++
			return countRenderer.Render(msg)
		}),
		Notifier: alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			sent = append(sent, msg.Subject)
			return nil
		}),
		Clock: alertstest.NewClock(t0),
	})
	require.NoError(t, err, "NewDispatcher")
	_, err = d.Save(ctx, draft.Settings())
	require.NoError(t, err, "Dispatcher.Save")
	res, err := d.Dispatch(ctx, event("a"))
	require.NoError(t, err, "Dispatch")
	assert.Equal(t, alerts.Sent, res.Outcome, "Dispatch outcome")
	assert.Equal(t, []string{"active-threat: 1 events"}, sent, "emails sent")
	assert.Equal(t, 1, saves, "saves")
	assert.Equal(t, 1, renders, "renders")
	// Save loads once; Dispatch loads before taking and before sending.
	assert.Equal(t, 3, loads, "loads")
}

// slowNotifier is a Notifier that states its worst case, as smtpnotify's
// does.
type slowNotifier struct {
	alerts.Notifier
	max time.Duration
}

func (n slowNotifier) MaxDuration() time.Duration { return n.max }
