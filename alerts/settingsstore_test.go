package alerts

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
)

func TestMemorySettingsStoreLoadNeverSaved(t *testing.T) {
	t.Parallel()
	store := NewMemorySettingsStore(nil)
	s, err := store.Load(context.Background(), "acme")
	if err != nil {
		t.Fatalf("Load(%q) error = %v; want nil", "acme", err)
	}
	if s.Tenant != "acme" || s.Version != 0 {
		t.Errorf("Load(%q) = tenant %q version %d; want tenant %q version 0", "acme", s.Tenant, s.Version, "acme")
	}
	if got := s.Recipients(); len(got) != 0 {
		t.Errorf("Load(%q).Recipients() = %q; want none", "acme", got)
	}
	for _, cat := range BuiltinCategories() {
		if got := s.Enabled(cat.ID); got != cat.DefaultEnabled {
			t.Errorf("Load(%q).Enabled(%q) = %v; want the default %v", "acme", cat.ID, got, cat.DefaultEnabled)
		}
	}
}

func TestMemorySettingsStoreSaveAndLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewMemorySettingsStore(nil)
	base, _ := store.Load(ctx, "acme")
	d := base.Edit()
	d.EnableAll()
	if err := d.Set(SystemStatus, false); err != nil {
		t.Fatal(err)
	}
	if err := d.SetRecipients([]string{"SOC@Acme.Example", "ops@acme.example"}); err != nil {
		t.Fatal(err)
	}
	saved, err := store.Save(ctx, d.Settings())
	if err != nil {
		t.Fatalf("Save error = %v; want nil", err)
	}
	if saved.Version != 1 {
		t.Errorf("Save(...).Version = %d; want 1", saved.Version)
	}
	loaded, err := store.Load(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if loaded != saved {
		t.Errorf("Load after Save returned a different snapshot; want the saved one")
	}
	want := Document{
		Tenant:     "acme",
		Version:    1,
		Categories: map[CategoryID]bool{Threat: true, ActiveThreat: true, SystemStatus: false, Configuration: true},
		Recipients: []string{"SOC@acme.example", "ops@acme.example"},
	}
	if got := loaded.Document(); !reflect.DeepEqual(got, want) {
		t.Errorf("Load(%q).Document() = %+v; want %+v", "acme", got, want)
	}
	// The base snapshot was not touched by the save.
	if base.Version != 0 || base.Enabled(Threat) {
		t.Errorf("base after Save = version %d, threat %v; want version 0, threat off", base.Version, base.Enabled(Threat))
	}
	// Other tenants are unaffected.
	other, _ := store.Load(ctx, "globex")
	if other.Version != 0 || other.Enabled(Threat) {
		t.Errorf("Load(%q) = version %d, threat %v; want defaults", "globex", other.Version, other.Enabled(Threat))
	}
}

func TestMemorySettingsStoreSaveCopiesInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewMemorySettingsStore(nil)
	base, _ := store.Load(ctx, "acme")
	next := base.Edit().Settings()
	saved, err := store.Save(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if saved == next {
		t.Fatal("Save returned its argument; want a copy the caller holds no handle on")
	}
	next.Version = 42
	next.Tenant = "evil"
	if got, _ := store.Load(ctx, "acme"); got.Version != 1 || got.Tenant != "acme" {
		t.Errorf("stored settings changed with the caller's copy: version %d tenant %q", got.Version, got.Tenant)
	}
}

func TestMemorySettingsStoreConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewMemorySettingsStore(nil)
	base, _ := store.Load(ctx, "acme")

	alice := base.Edit()
	alice.EnableAll()
	bob := base.Edit()
	bob.DisableAll()

	won, err := store.Save(ctx, alice.Settings())
	if err != nil {
		t.Fatalf("first Save error = %v; want nil", err)
	}
	_, err = store.Save(ctx, bob.Settings())
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("stale Save error = %v; want ErrConflict", err)
	}
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("stale Save error is %T; want *ConflictError", err)
	}
	if ce.Tenant != "acme" || ce.Base != 0 || ce.Current != 1 {
		t.Errorf("ConflictError = %+v; want tenant acme, base 0, current 1", *ce)
	}
	wantMsg := `alerts: settings of tenant "acme" changed since they were loaded: the save was based on version 0 but version 1 is stored`
	if err.Error() != wantMsg {
		t.Errorf("error = %q; want %q", err, wantMsg)
	}
	if got, _ := store.Load(ctx, "acme"); got != won {
		t.Errorf("stale Save overwrote the stored settings")
	}

	// Saving from the current version works, then the old one conflicts
	// with version 2 named.
	next := won.Edit()
	if err := next.Toggle(Threat); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(ctx, next.Settings()); err != nil {
		t.Fatalf("Save from current version error = %v; want nil", err)
	}
	_, err = store.Save(ctx, alice.Settings())
	if !errors.As(err, &ce) || ce.Base != 0 || ce.Current != 2 {
		t.Errorf("Save from version 0 after two saves = %v; want a conflict naming versions 0 and 2", err)
	}
	// A version from the future (never stored) conflicts too.
	future := won.Edit().Settings()
	future.Version = 7
	_, err = store.Save(ctx, future)
	if !errors.As(err, &ce) || ce.Base != 7 || ce.Current != 2 {
		t.Errorf("Save from version 7 = %v; want a conflict naming versions 7 and 2", err)
	}
	// So does a non-zero version for a tenant that never saved.
	ghost := future.Edit().Settings()
	ghost.Tenant = "globex"
	_, err = store.Save(ctx, ghost)
	if !errors.As(err, &ce) || ce.Base != 7 || ce.Current != 0 {
		t.Errorf("Save of version 7 for a new tenant = %v; want a conflict naming versions 7 and 0", err)
	}
}

func TestMemorySettingsStoreSaveErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	custom, err := NewCatalog(CatalogConfig{Categories: []Category{{ID: "billing", Name: "Billing Alerts"}}})
	if err != nil {
		t.Fatal(err)
	}
	store := NewMemorySettingsStore(nil) // built-ins only

	noTenant := custom.Defaults("").Edit().Settings()
	if _, err := store.Save(ctx, noTenant); !errors.Is(err, ErrNoTenant) {
		t.Errorf("Save without tenant error = %v; want ErrNoTenant", err)
	}
	if _, err := store.Save(ctx, nil); !errors.Is(err, ErrNoTenant) {
		t.Errorf("Save(nil) error = %v; want ErrNoTenant", err)
	}

	d := custom.Defaults("acme").Edit()
	d.EnableAll() // billing on: the store's catalog does not know it
	if _, err := store.Save(ctx, d.Settings()); !errors.Is(err, ErrUnknownCategory) {
		t.Errorf("Save with a category the store does not know error = %v; want ErrUnknownCategory", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := store.Save(cancelled, custom.Defaults("acme")); !errors.Is(err, context.Canceled) {
		t.Errorf("Save(cancelled ctx) error = %v; want context.Canceled", err)
	}
	if _, err := store.Load(cancelled, "acme"); !errors.Is(err, context.Canceled) {
		t.Errorf("Load(cancelled ctx) error = %v; want context.Canceled", err)
	}
	if got, _ := store.Load(ctx, "acme"); got.Version != 0 {
		t.Errorf("failed saves stored something: version %d", got.Version)
	}
}

// TestMemorySettingsStoreConcurrentSaves has many editors save from the same
// version at once: exactly one wins, every other gets the conflict error, and
// the stored state is the winner's draft.
func TestMemorySettingsStoreConcurrentSaves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		baseVersion uint64
		loaded      bool // whether the store saw a Load of the tenant first
	}{
		{"first save, tenant never loaded", 0, false}, // insert
		{"first save, tenant loaded", 0, true},        // swap of the cached defaults
		{"later save", 1, true},                       // swap
	}
	for _, tt := range tests {
		baseVersion := tt.baseVersion
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := NewMemorySettingsStore(nil)
			base := store.Catalog().Defaults("acme")
			if tt.loaded {
				base, _ = store.Load(ctx, "acme")
			}
			if baseVersion == 1 {
				var err error
				if base, err = store.Save(ctx, base); err != nil {
					t.Fatal(err)
				}
			}

			const editors = 64
			drafts := make([]*Settings, editors)
			for i := range drafts {
				d := base.Edit()
				// Each draft is distinguishable: its own recipient and a
				// pattern of categories.
				if err := d.SetRecipients([]string{fmt.Sprintf("editor%d@acme.example", i)}); err != nil {
					t.Fatal(err)
				}
				if i%2 == 0 {
					d.EnableAll()
				} else {
					d.DisableAll()
				}
				drafts[i] = d.Settings()
			}

			var (
				wg        sync.WaitGroup
				start     = make(chan struct{})
				results   = make([]*Settings, editors)
				errs      = make([]error, editors)
				conflicts int
				winner    = -1
			)
			for i := range drafts {
				wg.Go(func() {
					<-start
					results[i], errs[i] = store.Save(ctx, drafts[i])
				})
			}
			close(start)
			wg.Wait()

			for i, err := range errs {
				var ce *ConflictError
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("editors %d and %d both saved from version %d", winner, i, baseVersion)
					}
					winner = i
				case errors.As(err, &ce) && errors.Is(err, ErrConflict):
					conflicts++
					if ce.Base != baseVersion || ce.Current != baseVersion+1 {
						t.Errorf("editor %d: ConflictError = %+v; want base %d, current %d", i, *ce, baseVersion, baseVersion+1)
					}
				default:
					t.Errorf("editor %d: Save error = %v; want nil or ErrConflict", i, err)
				}
			}
			if winner < 0 || conflicts != editors-1 {
				t.Fatalf("winners = %v, conflicts = %d; want exactly 1 winner and %d conflicts", winner >= 0, conflicts, editors-1)
			}
			stored, _ := store.Load(ctx, "acme")
			if stored != results[winner] {
				t.Errorf("stored snapshot is not the one the winner's Save returned")
			}
			want := drafts[winner].Document()
			want.Version = baseVersion + 1
			if got := stored.Document(); !reflect.DeepEqual(got, want) {
				t.Errorf("stored = %+v; want the winner's draft %+v", got, want)
			}
		})
	}
}

// TestDisableStopsQueuedAlert models the sending path: alerts are queued,
// then a disable is saved, then the queue drains. Each queued alert is
// checked against the settings loaded at send time, so the disable stops
// the alerts queued before it, and other categories still go out.
func TestDisableStopsQueuedAlert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewMemorySettingsStore(nil)

	// The tenant turns Threat alerts on.
	s, _ := store.Load(ctx, "acme")
	d := s.Edit()
	if err := d.Set(Threat, true); err != nil {
		t.Fatal(err)
	}
	if err := d.SetRecipients([]string{"soc@acme.example"}); err != nil {
		t.Fatal(err)
	}
	s, err := store.Save(ctx, d.Settings())
	if err != nil {
		t.Fatal(err)
	}

	// Alerts are accepted into the queue while Threat is on.
	var queue []Event
	for i, cat := range []CategoryID{Threat, ActiveThreat, Threat} {
		ev := Event{ID: fmt.Sprint(i), Tenant: "acme", Category: cat}
		s, _ := store.Load(ctx, ev.Tenant)
		if !s.Enabled(ev.Category) {
			t.Fatalf("Enabled(%q) = false at enqueue time; want true", ev.Category)
		}
		queue = append(queue, ev)
	}

	// The tenant disables Threat alerts and saves.
	d = s.Edit()
	if err := d.Set(Threat, false); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(ctx, d.Settings()); err != nil {
		t.Fatal(err)
	}

	// The queue drains: the sending path checks each alert at send time.
	var sent []string
	for _, ev := range queue {
		s, err := store.Load(ctx, ev.Tenant)
		if err != nil {
			t.Fatal(err)
		}
		if s.Enabled(ev.Category) {
			sent = append(sent, ev.ID)
		}
	}
	if want := []string{"1"}; !reflect.DeepEqual(sent, want) {
		t.Errorf("sent after the disable = %q; want only the Active Threat alert %q", sent, want)
	}
}

func TestMemorySettingsStoreLoadAllocs(t *testing.T) {
	ctx := context.Background()
	store := NewMemorySettingsStore(nil)
	s, _ := store.Load(ctx, "acme")
	if _, err := store.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"acme", "never-saved"} {
		allocs := testing.AllocsPerRun(100, func() {
			s, _ := store.Load(ctx, tenant)
			_ = s.Enabled(ActiveThreat)
		})
		if allocs != 0 {
			t.Errorf("Load(%q)+Enabled allocates %v times; want 0", tenant, allocs)
		}
	}
}

// TestMemorySettingsStoreLoadRacesSave has first Loads of a tenant (which
// cache its defaults) race its first Save: the save still wins exactly
// once and every Load returns either the defaults or the saved settings.
func TestMemorySettingsStoreLoadRacesSave(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for i := range 50 {
		store := NewMemorySettingsStore(nil)
		tenant := fmt.Sprint("tenant-", i)
		d := store.Catalog().Defaults(tenant).Edit()
		d.EnableAll()
		var wg sync.WaitGroup
		var saveErr error
		wg.Go(func() { _, saveErr = store.Save(ctx, d.Settings()) })
		for range 4 {
			wg.Go(func() {
				s, err := store.Load(ctx, tenant)
				if err != nil || s.Tenant != tenant || (s.Version != 0 && s.Version != 1) {
					t.Errorf("Load(%q) = %+v, %v; want version 0 or 1", tenant, s, err)
				}
			})
		}
		wg.Wait()
		if saveErr != nil {
			t.Fatalf("first Save of %q racing Loads: %v; want nil", tenant, saveErr)
		}
		if s, _ := store.Load(ctx, tenant); s.Version != 1 || !s.Enabled(Threat) {
			t.Fatalf("after the race, Load(%q) = version %d, threat %v; want the saved version 1", tenant, s.Version, s.Enabled(Threat))
		}
	}
}

// BenchmarkEnabled measures the check on the sending path of every alert:
// load the tenant's settings and ask whether the category is on.
func BenchmarkEnabled(b *testing.B) {
	ctx := context.Background()
	store := NewMemorySettingsStore(nil)
	const tenants = 1000
	for i := range tenants {
		s, _ := store.Load(ctx, fmt.Sprintf("tenant-%d", i))
		if _, err := store.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("saved", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s, err := store.Load(ctx, "tenant-500")
				if err != nil || !s.Enabled(ActiveThreat) {
					b.Error("Enabled(ActiveThreat) = false; want true")
					return
				}
			}
		})
	})
	b.Run("never-saved", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s, err := store.Load(ctx, "newcomer")
				if err != nil || !s.Enabled(ActiveThreat) {
					b.Error("Enabled(ActiveThreat) = false; want true")
					return
				}
			}
		})
	})
	b.Run("settings-only", func(b *testing.B) {
		s, _ := store.Load(ctx, "tenant-1")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !s.Enabled(ActiveThreat) {
					b.Error("Enabled(ActiveThreat) = false; want true")
					return
				}
			}
		})
	})
}

func BenchmarkSave(b *testing.B) {
	ctx := context.Background()
	store := NewMemorySettingsStore(nil)
	s, _ := store.Load(ctx, "acme")
	d := s.Edit()
	if err := d.SetRecipients([]string{"soc@acme.example", "ops@acme.example"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		next := d.Settings()
		saved, err := store.Save(ctx, next)
		if err != nil {
			b.Fatal(err)
		}
		d = saved.Edit()
		d.EnableAll()
	}
}
