package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// NewSettingsStore returns a new, empty settings store following catalog.
// Stores returned by one function may share a backend (one Redis) as long
// as each call's store starts empty.
type NewSettingsStore func(t *testing.T, catalog *alerts.Catalog) alerts.SettingsStore

// Settings runs the conformance suite of [alerts.SettingsStore] against
// stores made by newStore.
func Settings(t *testing.T, newStore NewSettingsStore) {
	cat, err := alerts.NewCatalog(alerts.CatalogConfig{
		Categories: []alerts.Category{{ID: "billing", Name: "Billing Alerts", DefaultEnabled: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, st alerts.SettingsStore)
	}{
		{"UnknownTenantHasDefaults", func(t *testing.T, st alerts.SettingsStore) {
			got, err := st.Load(ctx, "acme")
			if err != nil {
				t.Fatalf("Load(%q) error = %v", "acme", err)
			}
			want := cat.Defaults("acme")
			if got.Version != 0 || got.Tenant != "acme" || !sameSettings(got, want) {
				t.Fatalf("Load(%q) = %s; want the defaults %s", "acme", describe(got), describe(want))
			}
		}},
		{"SaveThenLoad", func(t *testing.T, st alerts.SettingsStore) {
			next := edit(t, st, "acme", func(d *alerts.Draft) {
				mustSet(t, d, alerts.ActiveThreat, false)
				mustSet(t, d, "billing", false)
				if err := d.SetRecipients([]string{"soc@Acme.example", "ciso@acme.example"}); err != nil {
					t.Fatal(err)
				}
			})
			saved, err := st.Save(ctx, next)
			if err != nil {
				t.Fatalf("Save error = %v", err)
			}
			if saved.Version != 1 || !sameSettings(saved, next) {
				t.Fatalf("Save = %s; want version 1 of %s", describe(saved), describe(next))
			}
			got, err := st.Load(ctx, "acme")
			if err != nil {
				t.Fatalf("Load error = %v", err)
			}
			if got.Version != 1 || !sameSettings(got, next) {
				t.Fatalf("Load = %s; want %s", describe(got), describe(saved))
			}
			if got.Enabled(alerts.ActiveThreat) || got.Enabled("billing") || got.Enabled(alerts.Threat) != cat.Defaults("").Enabled(alerts.Threat) {
				t.Fatalf("Load = %s; want active-threat and billing off, threat in its default state", describe(got))
			}
		}},
		{"VersionsCount", func(t *testing.T, st alerts.SettingsStore) {
			for want := uint64(1); want <= 5; want++ {
				next := edit(t, st, "acme", func(d *alerts.Draft) { mustToggle(t, d, alerts.Threat) })
				saved, err := st.Save(ctx, next)
				if err != nil || saved.Version != want {
					t.Fatalf("save %d: Save = %s, %v; want version %d", want, describe(saved), err, want)
				}
			}
			got, _ := st.Load(ctx, "acme")
			if got.Version != 5 || got.Enabled(alerts.Threat) == cat.Defaults("").Enabled(alerts.Threat) {
				t.Fatalf("after 5 toggles Load = %s; want version 5 with threat flipped from its default", describe(got))
			}
		}},
		{"StaleSaveConflicts", func(t *testing.T, st alerts.SettingsStore) {
			base, _ := st.Load(ctx, "acme")
			first := base.Edit()
			mustSet(t, first, alerts.Threat, false)
			if _, err := st.Save(ctx, first.Settings()); err != nil {
				t.Fatal(err)
			}
			second := base.Edit()
			mustSet(t, second, alerts.SystemStatus, false)
			_, err := st.Save(ctx, second.Settings())
			wantConflict(t, err, "acme", 0, 1)
			got, _ := st.Load(ctx, "acme")
			if got.Version != 1 || got.Enabled(alerts.Threat) || got.Enabled(alerts.SystemStatus) != cat.Defaults("").Enabled(alerts.SystemStatus) {
				t.Fatalf("after the conflict Load = %s; want the first save, unchanged", describe(got))
			}
		}},
		{"SaveAheadOfStoreConflicts", func(t *testing.T, st alerts.SettingsStore) {
			doc := cat.Defaults("acme").Document()
			doc.Version = 7
			ahead, err := cat.NewSettings(doc)
			if err != nil {
				t.Fatal(err)
			}
			_, err = st.Save(ctx, ahead)
			wantConflict(t, err, "acme", 7, 0)
			got, _ := st.Load(ctx, "acme")
			if got.Version != 0 {
				t.Fatalf("Load after a refused save = %s; want version 0", describe(got))
			}
		}},
		{"NoTenant", func(t *testing.T, st alerts.SettingsStore) {
			_, err := st.Save(ctx, cat.Defaults(""))
			if !errors.Is(err, alerts.ErrNoTenant) {
				t.Fatalf("Save of settings without a tenant = %v; want ErrNoTenant", err)
			}
			if _, err := st.Save(ctx, nil); !errors.Is(err, alerts.ErrNoTenant) {
				t.Fatalf("Save(nil) = %v; want ErrNoTenant", err)
			}
		}},
		{"LoadEmptyTenant", func(t *testing.T, st alerts.SettingsStore) {
			// As alerts.SettingsStore.Load documents: the empty id is
			// refused, not given the defaults.
			got, err := st.Load(ctx, "")
			if !errors.Is(err, alerts.ErrInvalidTenant) || !errors.Is(err, alerts.ErrNoTenant) || got != nil {
				t.Fatalf("Load(\"\") = %s, %v; want nil and an error wrapping ErrInvalidTenant and ErrNoTenant", describe(got), err)
			}
		}},
		{"InvalidTenantsRefused", func(t *testing.T, st alerts.SettingsStore) {
			// The tenant rule of alerts.ValidateTenant, the same on every
			// store: nothing is loaded or saved for an id it refuses, and
			// the error shows a bounded part of the id.
			for _, tenant := range alertstest.InvalidTenants() {
				got, err := st.Load(ctx, tenant)
				wantTenantError(t, "Load", tenant, err)
				if got != nil {
					t.Errorf("Load(%.80q) = %s with an error; want nil", tenant, describe(got))
				}
				_, err = st.Save(ctx, cat.Defaults(tenant))
				wantTenantError(t, "Save", tenant, err)
			}
		}},
		{"DisableIsSeenAtOnce", func(t *testing.T, st alerts.SettingsStore) {
			// The sending path loads settings before every alert: a disable
			// saved after an alert was queued stops it.
			queuedWith, _ := st.Load(ctx, "acme")
			if !queuedWith.Enabled(alerts.ActiveThreat) {
				t.Fatal("active-threat is off by default; the case needs it on")
			}
			next := edit(t, st, "acme", func(d *alerts.Draft) { mustSet(t, d, alerts.ActiveThreat, false) })
			if _, err := st.Save(ctx, next); err != nil {
				t.Fatal(err)
			}
			now, err := st.Load(ctx, "acme")
			if err != nil || now.Enabled(alerts.ActiveThreat) {
				t.Fatalf("Load after saving a disable = %s, %v; want active-threat off", describe(now), err)
			}
		}},
		{"TenantsAreIsolated", func(t *testing.T, st alerts.SettingsStore) {
			// Tenant ids that look like key separators, hash tags or glob
			// patterns must each have their own settings.
			tenants := []string{"acme", "acme:settings", "acme}", "{acme}", "acme*", "*", "ac?me", "%61cme", "ACME"}
			for _, tn := range alertstest.ValidTenants() {
				if !slices.Contains(tenants, tn) {
					tenants = append(tenants, tn)
				}
			}
			for i, tenant := range tenants {
				next := edit(t, st, tenant, func(d *alerts.Draft) {
					if err := d.SetRecipients([]string{"r" + string(rune('a'+i)) + "@acme.example"}); err != nil {
						t.Fatal(err)
					}
				})
				if _, err := st.Save(ctx, next); err != nil {
					t.Fatalf("Save for tenant %q: %v", tenant, err)
				}
			}
			for i, tenant := range tenants {
				got, err := st.Load(ctx, tenant)
				want := []string{"r" + string(rune('a'+i)) + "@acme.example"}
				if err != nil || got.Version != 1 || got.Tenant != tenant || !slices.Equal(got.Recipients(), want) {
					t.Errorf("Load(%q) = %s, %v; want version 1 with recipients %q", tenant, describe(got), err, want)
				}
			}
		}},
		{"ConcurrentSavesOneWins", func(t *testing.T, st alerts.SettingsStore) {
			base, _ := st.Load(ctx, "acme")
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
					if err := d.SetRecipients([]string{"r" + string(rune('a'+i)) + "@acme.example"}); err != nil {
						t.Error(err)
						return
					}
					next := d.Settings()
					saved, err := st.Save(ctx, next)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						winners = append(winners, next)
						if saved.Version != 1 {
							t.Errorf("winning Save returned version %d; want 1", saved.Version)
						}
					case errors.Is(err, alerts.ErrConflict):
						conflicts++
					default:
						others = append(others, err)
					}
				})
			}
			wg.Wait()
			if len(winners) != 1 || conflicts != n-1 || len(others) != 0 {
				t.Fatalf("%d concurrent saves: %d won, %d conflicts, other errors %v; want 1 and %d", n, len(winners), conflicts, others, n-1)
			}
			got, _ := st.Load(ctx, "acme")
			if got.Version != 1 || !sameSettings(got, winners[0]) {
				t.Fatalf("Load = %s; want the winner's draft %s", describe(got), describe(winners[0]))
			}
		}},
		{"ConcurrentEditorsRetry", func(t *testing.T, st alerts.SettingsStore) {
			// Each of n editors turns its own recipient on, retrying on
			// conflict: no edit is lost, so the result has all n.
			const n = 8
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					addr := "r" + string(rune('a'+i)) + "@acme.example"
					for {
						cur, err := st.Load(ctx, "acme")
						if err != nil {
							t.Error(err)
							return
						}
						d := cur.Edit()
						if err := d.SetRecipients(append(cur.Recipients(), addr)); err != nil {
							t.Error(err)
							return
						}
						_, err = st.Save(ctx, d.Settings())
						if err == nil {
							return
						}
						if !errors.Is(err, alerts.ErrConflict) {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			got, _ := st.Load(ctx, "acme")
			if got.Version != n || len(got.Recipients()) != n {
				t.Fatalf("after %d retried edits Load = %s; want version %d with %d recipients", n, describe(got), n, n)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t, cat))
		})
	}
}

// edit loads tenant's settings, applies f to a draft and returns the
// settings to save.
func edit(t *testing.T, st alerts.SettingsStore, tenant string, f func(*alerts.Draft)) *alerts.Settings {
	t.Helper()
	cur, err := st.Load(context.Background(), tenant)
	if err != nil {
		t.Fatalf("Load(%q) error = %v", tenant, err)
	}
	d := cur.Edit()
	f(d)
	return d.Settings()
}

func mustSet(t *testing.T, d *alerts.Draft, id alerts.CategoryID, on bool) {
	t.Helper()
	if err := d.Set(id, on); err != nil {
		t.Fatal(err)
	}
}

func mustToggle(t *testing.T, d *alerts.Draft, id alerts.CategoryID) {
	t.Helper()
	if err := d.Toggle(id); err != nil {
		t.Fatal(err)
	}
}

// wantTenantError checks that err, from op on tenant, wraps
// alerts.ErrInvalidTenant and shows a bounded part of the id.
func wantTenantError(t *testing.T, op, tenant string, err error) {
	t.Helper()
	if !errors.Is(err, alerts.ErrInvalidTenant) {
		t.Errorf("%s(tenant %.80q) error = %v; want an error wrapping ErrInvalidTenant", op, tenant, err)
	} else if len(err.Error()) > 300 {
		t.Errorf("%s(tenant of %d bytes): error of %d bytes; want the id cut short", op, len(tenant), len(err.Error()))
	}
}

func wantConflict(t *testing.T, err error, tenant string, base, current uint64) {
	t.Helper()
	var ce *alerts.ConflictError
	if !errors.Is(err, alerts.ErrConflict) || !errors.As(err, &ce) {
		t.Fatalf("Save error = %v; want an *alerts.ConflictError", err)
	}
	if ce.Tenant != tenant || ce.Base != base || ce.Current != current {
		t.Fatalf("Save error = %+v; want tenant %q, base %d, current %d", *ce, tenant, base, current)
	}
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

// SettingsCatalogChange runs the cases of a [alerts.SettingsStore] whose
// data outlives its catalog (a store on a database): stored settings always
// load, under the catalog of the store that loads them, and that catalog's
// limits apply to new saves only. An in-memory store, whose data dies with
// its catalog, has no such case.
func SettingsCatalogChange(t *testing.T, newBackend NewSettingsBackend) {
	ctx := context.Background()
	wide, err := alerts.NewCatalog(alerts.CatalogConfig{MaxRecipients: 10})
	if err != nil {
		t.Fatal(err)
	}
	billing, err := alerts.NewCatalog(alerts.CatalogConfig{
		Categories: []alerts.Category{{ID: "billing", Name: "Billing Alerts", DefaultEnabled: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	narrow, err := alerts.NewCatalog(alerts.CatalogConfig{MaxRecipients: 3})
	if err != nil {
		t.Fatal(err)
	}
	five := []string{"a@acme.example", "b@acme.example", "c@acme.example", "d@acme.example", "e@acme.example"}
	cases := []struct {
		name string
		run  func(t *testing.T, open func(*alerts.Catalog) alerts.SettingsStore)
	}{
		{"LowerRecipientMaximum", func(t *testing.T, open func(*alerts.Catalog) alerts.SettingsStore) {
			// Saved with 5 recipients under a maximum of 10, loaded where
			// the maximum is 3: the settings load whole, and only a save
			// must keep to the new maximum.
			next := edit(t, open(wide), "acme", func(d *alerts.Draft) {
				if err := d.SetRecipients(five); err != nil {
					t.Fatal(err)
				}
			})
			if _, err := open(wide).Save(ctx, next); err != nil {
				t.Fatalf("Save of 5 recipients under a maximum of 10: %v", err)
			}
			st := open(narrow)
			got, err := st.Load(ctx, "acme")
			if err != nil || got.Version != 1 || !slices.Equal(got.Recipients(), five) {
				t.Fatalf("Load under a maximum of 3 = %s, %v; want version 1 with the 5 recipients", describe(got), err)
			}
			if _, err := st.Save(ctx, got); !errors.Is(err, alerts.ErrTooManyRecipients) {
				t.Fatalf("Save of the 5 recipients under a maximum of 3 = %v; want ErrTooManyRecipients", err)
			}
			d := got.Edit()
			if err := d.SetRecipients(five[:3]); err != nil {
				t.Fatal(err)
			}
			if saved, err := st.Save(ctx, d.Settings()); err != nil || saved.Version != 2 {
				t.Fatalf("Save of 3 recipients under a maximum of 3 = %s, %v; want version 2", describe(saved), err)
			}
		}},
		{"RemovedCategory", func(t *testing.T, open func(*alerts.Catalog) alerts.SettingsStore) {
			// Saved with a category the loading store's catalog no longer
			// has: the category is dropped, the rest loads.
			next := edit(t, open(billing), "acme", func(d *alerts.Draft) {
				mustSet(t, d, "billing", false)
				mustSet(t, d, alerts.Threat, true)
			})
			if _, err := open(billing).Save(ctx, next); err != nil {
				t.Fatal(err)
			}
			got, err := open(narrow).Load(ctx, "acme")
			if err != nil || got.Version != 1 || !got.Enabled(alerts.Threat) || got.Enabled("billing") {
				t.Fatalf("Load without the category billing = %s, %v; want version 1 with threat on", describe(got), err)
			}
			if again, err := open(billing).Load(ctx, "acme"); err != nil || again.Enabled("billing") {
				t.Fatalf("Load under the first catalog = %s, %v; want billing still off", describe(again), err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newBackend(t))
		})
	}
}
