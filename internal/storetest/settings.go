package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// NewSettingsStore returns a new, empty settings store following catalog.
// Stores returned by one function may share a backend (one Redis) as long
// as each call's store starts empty.
type NewSettingsStore func(t *testing.T, catalog *alerts.Catalog) alerts.SettingsStore

// settingsCase is one case of the Settings suite: a property of every
// [alerts.SettingsStore], checked on st, a new store following cat (the
// built-in categories and "billing", on by default).
type settingsCase func(t *testing.T, st alerts.SettingsStore, cat *alerts.Catalog)

// settingsCases are the cases of the Settings suite, by name.
var settingsCases = []struct {
	name string
	run  settingsCase
}{
	{"UnknownTenantHasDefaults", unknownTenantHasDefaults},
	{"SaveThenLoad", saveThenLoad},
	{"VersionsCount", versionsCount},
	{"StaleSaveConflicts", staleSaveConflicts},
	{"SaveAheadOfStoreConflicts", saveAheadOfStoreConflicts},
	{"NoTenant", noTenant},
	{"LoadEmptyTenant", loadEmptyTenant},
	{"InvalidTenantsRefused", invalidTenantsRefused},
	{"DisableIsSeenAtOnce", disableIsSeenAtOnce},
	{"TenantsAreIsolated", tenantsAreIsolated},
	{"ConcurrentSavesOneWins", concurrentSavesOneWins},
	{"ConcurrentEditorsRetry", concurrentEditorsRetry},
}

// Settings runs the conformance suite of [alerts.SettingsStore] against
// stores made by newStore, each case in parallel on a store of its own.
func Settings(t *testing.T, newStore NewSettingsStore) {
	cat, err := alerts.NewCatalog(alerts.CatalogConfig{
		Categories: []alerts.Category{{ID: "billing", Name: "Billing Alerts", DefaultEnabled: true}},
	})
	require.NoError(t, err, "NewCatalog")
	for _, c := range settingsCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t, cat), cat)
		})
	}
}

// unknownTenantHasDefaults: a tenant that never saved gets the catalog's
// defaults at version 0.
func unknownTenantHasDefaults(t *testing.T, st alerts.SettingsStore, cat *alerts.Catalog) {
	got, err := st.Load(context.Background(), "acme")
	require.NoErrorf(t, err, "Load(%q)", "acme")
	want := cat.Defaults("acme")
	assert.Truef(t, got.Version == 0 && got.Tenant == "acme" && sameSettings(got, want),
		"Load(%q) = %s; want the defaults %s", "acme", describe(got), describe(want))
}

// saveThenLoad: Load returns what Save stored, at version 1.
func saveThenLoad(t *testing.T, st alerts.SettingsStore, cat *alerts.Catalog) {
	ctx := context.Background()
	next := edit(t, st, "acme", func(d *alerts.Draft) {
		require.NoError(t, d.Set(alerts.ActiveThreat, false))
		require.NoError(t, d.Set("billing", false))
		require.NoError(t, d.SetRecipients([]string{"soc@Acme.example", "ciso@acme.example"}))
	})
	saved, err := st.Save(ctx, next)
	require.NoError(t, err, "Save")
	require.Truef(t, saved.Version == 1 && sameSettings(saved, next), "Save = %s; want version 1 of %s", describe(saved), describe(next))
	got, err := st.Load(ctx, "acme")
	require.NoError(t, err, "Load")
	require.Truef(t, got.Version == 1 && sameSettings(got, next), "Load = %s; want %s", describe(got), describe(saved))
	threatByDefault := cat.Defaults("").Enabled(alerts.Threat)
	assert.Truef(t, !got.Enabled(alerts.ActiveThreat) && !got.Enabled("billing") && got.Enabled(alerts.Threat) == threatByDefault,
		"Load = %s; want active-threat and billing off, threat in its default state", describe(got))
}

// versionsCount: every save adds one to the version.
func versionsCount(t *testing.T, st alerts.SettingsStore, cat *alerts.Catalog) {
	ctx := context.Background()
	for want := uint64(1); want <= 5; want++ {
		next := edit(t, st, "acme", func(d *alerts.Draft) { require.NoError(t, d.Toggle(alerts.Threat)) })
		saved, err := st.Save(ctx, next)
		require.NoErrorf(t, err, "save %d", want)
		require.Equalf(t, want, saved.Version, "save %d: Save = %s; want version %d", want, describe(saved), want)
	}
	got, err := st.Load(ctx, "acme")
	require.NoError(t, err, "Load")
	assert.Truef(t, got.Version == 5 && got.Enabled(alerts.Threat) != cat.Defaults("").Enabled(alerts.Threat),
		"after 5 toggles Load = %s; want version 5 with threat flipped from its default", describe(got))
}

// staleSaveConflicts: of two saves drafted from the same version, the
// second is refused with a *ConflictError and changes nothing.
func staleSaveConflicts(t *testing.T, st alerts.SettingsStore, cat *alerts.Catalog) {
	ctx := context.Background()
	base, err := st.Load(ctx, "acme")
	require.NoError(t, err, "Load")
	first := base.Edit()
	require.NoError(t, first.Set(alerts.Threat, false))
	_, err = st.Save(ctx, first.Settings())
	require.NoError(t, err, "first Save")
	second := base.Edit()
	require.NoError(t, second.Set(alerts.SystemStatus, false))
	_, err = st.Save(ctx, second.Settings())
	wantConflict(t, err, "acme", 0, 1)
	got, err := st.Load(ctx, "acme")
	require.NoError(t, err, "Load")
	statusByDefault := cat.Defaults("").Enabled(alerts.SystemStatus)
	assert.Truef(t, got.Version == 1 && !got.Enabled(alerts.Threat) && got.Enabled(alerts.SystemStatus) == statusByDefault,
		"after the conflict Load = %s; want the first save, unchanged", describe(got))
}

// saveAheadOfStoreConflicts: a save based on a version the store never
// had is refused.
func saveAheadOfStoreConflicts(t *testing.T, st alerts.SettingsStore, cat *alerts.Catalog) {
	ctx := context.Background()
	doc := cat.Defaults("acme").Document()
	doc.Version = 7
	ahead, err := cat.NewSettings(doc)
	require.NoError(t, err, "NewSettings")
	_, err = st.Save(ctx, ahead)
	wantConflict(t, err, "acme", 7, 0)
	got, err := st.Load(ctx, "acme")
	require.NoError(t, err, "Load")
	assert.Zerof(t, got.Version, "Load after a refused save = %s; want version 0", describe(got))
}

// noTenant: settings without a tenant, or none at all, are refused with
// ErrNoTenant.
func noTenant(t *testing.T, st alerts.SettingsStore, cat *alerts.Catalog) {
	ctx := context.Background()
	_, err := st.Save(ctx, cat.Defaults(""))
	assert.ErrorIsf(t, err, alerts.ErrNoTenant, "Save of settings without a tenant = %v; want ErrNoTenant", err)
	_, err = st.Save(ctx, nil)
	assert.ErrorIsf(t, err, alerts.ErrNoTenant, "Save(nil) = %v; want ErrNoTenant", err)
}

// loadEmptyTenant: as alerts.SettingsStore.Load documents, the empty id is
// refused, not given the defaults.
func loadEmptyTenant(t *testing.T, st alerts.SettingsStore, _ *alerts.Catalog) {
	got, err := st.Load(context.Background(), "")
	assert.ErrorIsf(t, err, alerts.ErrInvalidTenant, "Load(\"\") = %s, %v; want an error wrapping ErrInvalidTenant", describe(got), err)
	assert.ErrorIsf(t, err, alerts.ErrNoTenant, "Load(\"\") = %s, %v; want an error wrapping ErrNoTenant", describe(got), err)
	assert.Nilf(t, got, "Load(\"\") = %s with an error; want nil", describe(got))
}

// invalidTenantsRefused: the tenant rule of alerts.ValidateTenant, the same
// on every store. Nothing is loaded or saved for an id it refuses, and the
// error shows a bounded part of the id.
func invalidTenantsRefused(t *testing.T, st alerts.SettingsStore, cat *alerts.Catalog) {
	ctx := context.Background()
	for _, tenant := range alertstest.InvalidTenants() {
		got, err := st.Load(ctx, tenant)
		wantTenantError(t, "Load", tenant, err)
		assert.Nilf(t, got, "Load(%.80q) = %s with an error; want nil", tenant, describe(got))
		_, err = st.Save(ctx, cat.Defaults(tenant))
		wantTenantError(t, "Save", tenant, err)
	}
}

// disableIsSeenAtOnce: the sending path loads settings before every alert,
// so a disable saved after an alert was queued stops it.
func disableIsSeenAtOnce(t *testing.T, st alerts.SettingsStore, _ *alerts.Catalog) {
	ctx := context.Background()
	queuedWith, err := st.Load(ctx, "acme")
	require.NoError(t, err, "Load")
	require.True(t, queuedWith.Enabled(alerts.ActiveThreat), "active-threat is off by default; the case needs it on")
	next := edit(t, st, "acme", func(d *alerts.Draft) { require.NoError(t, d.Set(alerts.ActiveThreat, false)) })
	_, err = st.Save(ctx, next)
	require.NoError(t, err, "Save")
	now, err := st.Load(ctx, "acme")
	require.NoError(t, err, "Load after saving a disable")
	assert.Falsef(t, now.Enabled(alerts.ActiveThreat), "Load after saving a disable = %s; want active-threat off", describe(now))
}

// tenantsAreIsolated: tenant ids that look like key separators, hash tags
// or glob patterns, and every id of alertstest.ValidTenants, each have
// their own settings.
func tenantsAreIsolated(t *testing.T, st alerts.SettingsStore, _ *alerts.Catalog) {
	ctx := context.Background()
	tenants := []string{"acme", "acme:settings", "acme}", "{acme}", "acme*", "*", "ac?me", "%61cme", "ACME"}
	for _, tn := range alertstest.ValidTenants() {
		if !slices.Contains(tenants, tn) {
			tenants = append(tenants, tn)
		}
	}
	recipient := func(i int) string { return "r" + string(rune('a'+i)) + "@acme.example" }
	for i, tenant := range tenants {
		next := edit(t, st, tenant, func(d *alerts.Draft) { require.NoError(t, d.SetRecipients([]string{recipient(i)})) })
		_, err := st.Save(ctx, next)
		require.NoErrorf(t, err, "Save for tenant %q", tenant)
	}
	for i, tenant := range tenants {
		got, err := st.Load(ctx, tenant)
		want := []string{recipient(i)}
		if assert.NoErrorf(t, err, "Load(%q)", tenant) {
			assert.Truef(t, got.Version == 1 && got.Tenant == tenant && slices.Equal(want, got.Recipients()),
				"Load(%q) = %s; want version 1 with recipients %q", tenant, describe(got), want)
		}
	}
}

// concurrentSavesOneWins: of concurrent saves drafted from one version,
// exactly one wins and every other gets a conflict.
func concurrentSavesOneWins(t *testing.T, st alerts.SettingsStore, _ *alerts.Catalog) {
	ctx := context.Background()
	base, err := st.Load(ctx, "acme")
	require.NoError(t, err, "Load")
	const n = 16
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		winners   []*alerts.Settings
		conflicts int
		others    []error
	)
	for i := range n {
		wg.Go(func() {
			d := base.Edit()
			if !assert.NoError(t, d.SetRecipients([]string{"r" + string(rune('a'+i)) + "@acme.example"})) {
				return
			}
			next := d.Settings()
			saved, err := st.Save(ctx, next)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, next)
				assert.EqualValuesf(t, 1, saved.Version, "winning Save returned version %d; want 1", saved.Version)
			case errors.Is(err, alerts.ErrConflict):
				conflicts++
			default:
				others = append(others, err)
			}
		})
	}
	wg.Wait()
	require.Truef(t, len(winners) == 1 && conflicts == n-1 && len(others) == 0,
		"%d concurrent saves: %d won, %d conflicts, other errors %v; want 1 and %d", n, len(winners), conflicts, others, n-1)
	got, err := st.Load(ctx, "acme")
	require.NoError(t, err, "Load")
	assert.Truef(t, got.Version == 1 && sameSettings(got, winners[0]), "Load = %s; want the winner's draft %s", describe(got), describe(winners[0]))
}

// concurrentEditorsRetry: each of n editors adds its own recipient,
// retrying on conflict; no edit is lost, so the result has all n.
func concurrentEditorsRetry(t *testing.T, st alerts.SettingsStore, _ *alerts.Catalog) {
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { addRecipientRetrying(t, st, "acme", "r"+string(rune('a'+i))+"@acme.example") })
	}
	wg.Wait()
	got, err := st.Load(ctx, "acme")
	require.NoError(t, err, "Load")
	assert.Truef(t, got.Version == n && len(got.Recipients()) == n,
		"after %d retried edits Load = %s; want version %d with %d recipients", n, describe(got), n, n)
}

// addRecipientRetrying adds addr to tenant's recipients, loading and
// saving again until no one saved in between. It runs in goroutines of
// its own, so it reports with assert.
func addRecipientRetrying(t *testing.T, st alerts.SettingsStore, tenant, addr string) {
	ctx := context.Background()
	for {
		cur, err := st.Load(ctx, tenant)
		if !assert.NoErrorf(t, err, "Load(%q)", tenant) {
			return
		}
		d := cur.Edit()
		if !assert.NoError(t, d.SetRecipients(append(cur.Recipients(), addr))) {
			return
		}
		_, err = st.Save(ctx, d.Settings())
		if err == nil || !assert.ErrorIsf(t, err, alerts.ErrConflict, "Save = %v; want success or a conflict", err) {
			return
		}
	}
}

// edit loads tenant's settings, applies f to a draft and returns the
// settings to save.
func edit(t *testing.T, st alerts.SettingsStore, tenant string, f func(*alerts.Draft)) *alerts.Settings {
	t.Helper()
	cur, err := st.Load(context.Background(), tenant)
	require.NoErrorf(t, err, "Load(%q)", tenant)
	d := cur.Edit()
	f(d)
	return d.Settings()
}

// wantTenantError checks that err, from op on tenant, wraps
// alerts.ErrInvalidTenant and shows a bounded part of the id.
func wantTenantError(t *testing.T, op, tenant string, err error) {
	t.Helper()
	if assert.ErrorIsf(t, err, alerts.ErrInvalidTenant, "%s(tenant %.80q) error = %v; want an error wrapping ErrInvalidTenant", op, tenant, err) {
		assert.LessOrEqualf(t, len(err.Error()), 300, "%s(tenant of %d bytes): error of %d bytes; want the id cut short", op, len(tenant), len(err.Error()))
	}
}

func wantConflict(t *testing.T, err error, tenant string, base, current uint64) {
	t.Helper()
	require.ErrorIsf(t, err, alerts.ErrConflict, "Save error = %v; want an *alerts.ConflictError", err)
	var ce *alerts.ConflictError
	require.ErrorAsf(t, err, &ce, "Save error = %v; want an *alerts.ConflictError", err)
	assert.Truef(t, ce.Tenant == tenant && ce.Base == base && ce.Current == current,
		"Save error = %+v; want tenant %q, base %d, current %d", *ce, tenant, base, current)
}

// sameSettings reports whether a and b hold the same category states and
// recipients.
func sameSettings(a, b *alerts.Settings) bool {
	if a == nil || b == nil {
		return a == b
	}
	return slices.Equal(a.EnabledCategories(), b.EnabledCategories()) &&
		slices.Equal(a.Recipients(), b.Recipients())
}

func describe(s *alerts.Settings) string {
	if s == nil {
		return "<nil>"
	}
	b, _ := s.MarshalJSON()
	return string(b)
}

// NewSettingsBackend returns a function that opens settings stores over one
// new, empty backend: every store it opens sees the same data, following
// the catalog it was opened with, as replicas deployed with different
// catalogs do.
type NewSettingsBackend func(t *testing.T) (open func(catalog *alerts.Catalog) alerts.SettingsStore)

// catalogChangeCase is one case of the SettingsCatalogChange suite, run on
// stores opened over one new backend by open.
type catalogChangeCase func(t *testing.T, open func(*alerts.Catalog) alerts.SettingsStore, cats catalogs)

// catalogs are the catalogs the SettingsCatalogChange cases switch between.
type catalogs struct {
	wide    *alerts.Catalog // up to 10 recipients
	billing *alerts.Catalog // the built-in categories and "billing"
	narrow  *alerts.Catalog // up to 3 recipients
}

// catalogChangeCases are the cases of the SettingsCatalogChange suite, by
// name.
var catalogChangeCases = []struct {
	name string
	run  catalogChangeCase
}{
	{"LowerRecipientMaximum", lowerRecipientMaximum},
	{"RemovedCategory", removedCategory},
}

// SettingsCatalogChange runs the cases of a [alerts.SettingsStore] whose
// data outlives its catalog (a store on a database): stored settings always
// load, under the catalog of the store that loads them, and that catalog's
// limits apply to new saves only. An in-memory store, whose data dies with
// its catalog, has no such case.
func SettingsCatalogChange(t *testing.T, newBackend NewSettingsBackend) {
	var (
		cats catalogs
		err  error
	)
	cats.wide, err = alerts.NewCatalog(alerts.CatalogConfig{MaxRecipients: 10})
	require.NoError(t, err, "NewCatalog with 10 recipients")
	cats.billing, err = alerts.NewCatalog(alerts.CatalogConfig{
		Categories: []alerts.Category{{ID: "billing", Name: "Billing Alerts", DefaultEnabled: true}},
	})
	require.NoError(t, err, "NewCatalog with billing")
	cats.narrow, err = alerts.NewCatalog(alerts.CatalogConfig{MaxRecipients: 3})
	require.NoError(t, err, "NewCatalog with 3 recipients")
	for _, c := range catalogChangeCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newBackend(t), cats)
		})
	}
}

// lowerRecipientMaximum: saved with 5 recipients under a maximum of 10,
// loaded where the maximum is 3, the settings load whole, and only a save
// must keep to the new maximum.
func lowerRecipientMaximum(t *testing.T, open func(*alerts.Catalog) alerts.SettingsStore, cats catalogs) {
	ctx := context.Background()
	five := []string{"a@acme.example", "b@acme.example", "c@acme.example", "d@acme.example", "e@acme.example"}
	next := edit(t, open(cats.wide), "acme", func(d *alerts.Draft) { require.NoError(t, d.SetRecipients(five)) })
	_, err := open(cats.wide).Save(ctx, next)
	require.NoError(t, err, "Save of 5 recipients under a maximum of 10")
	st := open(cats.narrow)
	got, err := st.Load(ctx, "acme")
	require.NoError(t, err, "Load under a maximum of 3")
	require.Truef(t, got.Version == 1 && slices.Equal(got.Recipients(), five),
		"Load under a maximum of 3 = %s; want version 1 with the 5 recipients", describe(got))
	_, err = st.Save(ctx, got)
	require.ErrorIsf(t, err, alerts.ErrTooManyRecipients, "Save of the 5 recipients under a maximum of 3 = %v; want ErrTooManyRecipients", err)
	d := got.Edit()
	require.NoError(t, d.SetRecipients(five[:3]))
	saved, err := st.Save(ctx, d.Settings())
	require.NoError(t, err, "Save of 3 recipients under a maximum of 3")
	assert.EqualValuesf(t, 2, saved.Version, "Save of 3 recipients under a maximum of 3 = %s; want version 2", describe(saved))
}

// removedCategory: saved with a category the loading store's catalog no
// longer has, the settings load without it; the store that has it still
// sees its state.
func removedCategory(t *testing.T, open func(*alerts.Catalog) alerts.SettingsStore, cats catalogs) {
	ctx := context.Background()
	next := edit(t, open(cats.billing), "acme", func(d *alerts.Draft) {
		require.NoError(t, d.Set("billing", false))
		require.NoError(t, d.Set(alerts.Threat, true))
	})
	_, err := open(cats.billing).Save(ctx, next)
	require.NoError(t, err, "Save")
	got, err := open(cats.narrow).Load(ctx, "acme")
	require.NoError(t, err, "Load without the category billing")
	assert.Truef(t, got.Version == 1 && got.Enabled(alerts.Threat) && !got.Enabled("billing"),
		"Load without the category billing = %s; want version 1 with threat on", describe(got))
	again, err := open(cats.billing).Load(ctx, "acme")
	require.NoError(t, err, "Load under the first catalog")
	assert.Falsef(t, again.Enabled("billing"), "Load under the first catalog = %s; want billing still off", describe(again))
}
