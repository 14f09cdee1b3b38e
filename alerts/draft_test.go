package alerts

import (
	"errors"
	"reflect"
	"testing"
)

// customCatalog has the built-ins (threat off, active-threat on,
// system-status on, configuration off by default) and two registered
// categories: billing (on by default) and audit (off by default).
func customCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := NewCatalog(CatalogConfig{Categories: []Category{
		{ID: "billing", Name: "Billing Alerts", DefaultEnabled: true},
		{ID: "audit", Name: "Audit Alerts"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// states returns the state of every category of the draft's catalog.
func states(d *Draft) map[CategoryID]bool {
	m := make(map[CategoryID]bool)
	for _, cat := range d.catalog.cats {
		m[cat.ID] = d.Enabled(cat.ID)
	}
	return m
}

// flips summarises a change's flips as id -> new state.
func flips(ch Change) map[CategoryID]bool {
	m := make(map[CategoryID]bool)
	for _, f := range ch.Flips {
		m[f.Category.ID] = f.Enabled
	}
	return m
}

func TestDraftToggles(t *testing.T) {
	t.Parallel()
	builtin := DefaultCatalog()
	custom := customCatalog(t)
	// allOn is a saved state of the custom catalog with everything on.
	allOn, err := custom.NewSettings(Document{Tenant: "acme", Version: 4, Categories: map[CategoryID]bool{
		Threat: true, ActiveThreat: true, SystemStatus: true, Configuration: true, "billing": true, "audit": true,
	}})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		base      *Settings
		edit      func(*Draft) error
		want      map[CategoryID]bool // every category's state after the edit
		wantFlips map[CategoryID]bool // what Change reports
		wantErr   error
	}{
		{
			name:      "no edit",
			base:      builtin.Defaults("acme"),
			edit:      func(d *Draft) error { return nil },
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false},
			wantFlips: map[CategoryID]bool{},
		},
		{
			name:      "toggle off to on",
			base:      builtin.Defaults("acme"),
			edit:      func(d *Draft) error { return d.Toggle(Threat) },
			want:      map[CategoryID]bool{Threat: true, ActiveThreat: true, SystemStatus: true, Configuration: false},
			wantFlips: map[CategoryID]bool{Threat: true},
		},
		{
			name:      "toggle on to off",
			base:      builtin.Defaults("acme"),
			edit:      func(d *Draft) error { return d.Toggle(ActiveThreat) },
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: false, SystemStatus: true, Configuration: false},
			wantFlips: map[CategoryID]bool{ActiveThreat: false},
		},
		{
			name: "toggle twice is no change",
			base: builtin.Defaults("acme"),
			edit: func(d *Draft) error {
				if err := d.Toggle(Configuration); err != nil {
					return err
				}
				return d.Toggle(Configuration)
			},
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false},
			wantFlips: map[CategoryID]bool{},
		},
		{
			name:      "set on",
			base:      builtin.Defaults("acme"),
			edit:      func(d *Draft) error { return d.Set(Configuration, true) },
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: true},
			wantFlips: map[CategoryID]bool{Configuration: true},
		},
		{
			name:      "set to the current state",
			base:      builtin.Defaults("acme"),
			edit:      func(d *Draft) error { return d.Set(SystemStatus, true) },
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false},
			wantFlips: map[CategoryID]bool{},
		},
		{
			name:      "toggle a custom category",
			base:      custom.Defaults("acme"),
			edit:      func(d *Draft) error { return d.Toggle("billing") },
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false, "billing": false, "audit": false},
			wantFlips: map[CategoryID]bool{"billing": false},
		},
		{
			name:      "toggle an unknown category",
			base:      builtin.Defaults("acme"),
			edit:      func(d *Draft) error { return d.Toggle("billing") },
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false},
			wantFlips: map[CategoryID]bool{},
			wantErr:   ErrUnknownCategory,
		},
		{
			name:      "set an unknown category",
			base:      builtin.Defaults("acme"),
			edit:      func(d *Draft) error { return d.Set("", true) },
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false},
			wantFlips: map[CategoryID]bool{},
			wantErr:   ErrUnknownCategory,
		},
		{
			name:      "enable all, built-in catalog",
			base:      builtin.Defaults("acme"),
			edit:      func(d *Draft) error { d.EnableAll(); return nil },
			want:      map[CategoryID]bool{Threat: true, ActiveThreat: true, SystemStatus: true, Configuration: true},
			wantFlips: map[CategoryID]bool{Threat: true, Configuration: true},
		},
		{
			name: "enable all, custom catalog",
			base: custom.Defaults("acme"),
			edit: func(d *Draft) error { d.EnableAll(); return nil },
			want: map[CategoryID]bool{Threat: true, ActiveThreat: true, SystemStatus: true, Configuration: true, "billing": true, "audit": true},
			// billing is on by default: it does not flip.
			wantFlips: map[CategoryID]bool{Threat: true, Configuration: true, "audit": true},
		},
		{
			name:      "enable all when all are on",
			base:      allOn,
			edit:      func(d *Draft) error { d.EnableAll(); return nil },
			want:      map[CategoryID]bool{Threat: true, ActiveThreat: true, SystemStatus: true, Configuration: true, "billing": true, "audit": true},
			wantFlips: map[CategoryID]bool{},
		},
		{
			name:      "disable all, custom catalog",
			base:      custom.Defaults("acme"),
			edit:      func(d *Draft) error { d.DisableAll(); return nil },
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: false, SystemStatus: false, Configuration: false, "billing": false, "audit": false},
			wantFlips: map[CategoryID]bool{ActiveThreat: false, SystemStatus: false, "billing": false},
		},
		{
			name:      "disable all then toggle one back",
			base:      allOn,
			edit:      func(d *Draft) error { d.DisableAll(); return d.Toggle(ActiveThreat) },
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: true, SystemStatus: false, Configuration: false, "billing": false, "audit": false},
			wantFlips: map[CategoryID]bool{Threat: false, SystemStatus: false, Configuration: false, "billing": false, "audit": false},
		},
		{
			name:      "reset after custom registrations",
			base:      allOn,
			edit:      func(d *Draft) error { d.Reset(); return nil },
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false, "billing": true, "audit": false},
			wantFlips: map[CategoryID]bool{Threat: false, Configuration: false, "audit": false},
		},
		{
			name:      "reset after disable all",
			base:      custom.Defaults("acme"),
			edit:      func(d *Draft) error { d.DisableAll(); d.Reset(); return nil },
			want:      map[CategoryID]bool{Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false, "billing": true, "audit": false},
			wantFlips: map[CategoryID]bool{},
		},
		{
			name:      "enable all then reset",
			base:      builtin.Defaults("acme"),
			edit:      func(d *Draft) error { d.EnableAll(); d.Reset(); return d.Toggle(Threat) },
			want:      map[CategoryID]bool{Threat: true, ActiveThreat: true, SystemStatus: true, Configuration: false},
			wantFlips: map[CategoryID]bool{Threat: true},
		},
		{
			name:      "zero settings follow the built-in catalog, all off",
			base:      &Settings{},
			edit:      func(d *Draft) error { return d.Toggle(Threat) },
			want:      map[CategoryID]bool{Threat: true, ActiveThreat: false, SystemStatus: false, Configuration: false},
			wantFlips: map[CategoryID]bool{Threat: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := tt.base.Document()
			d := tt.base.Edit()
			err := tt.edit(d)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("edit error = %v; want nil", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("edit error = %v; want %v", err, tt.wantErr)
			}
			if got := states(d); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("draft states = %v; want %v", got, tt.want)
			}
			ch := d.Change()
			if got := flips(ch); !reflect.DeepEqual(got, tt.wantFlips) {
				t.Errorf("Change().Flips = %v; want %v", got, tt.wantFlips)
			}
			if ch.Empty() != (len(tt.wantFlips) == 0) {
				t.Errorf("Change().Empty() = %v with flips %v", ch.Empty(), tt.wantFlips)
			}
			// Flips come in catalog order.
			for i := 1; i < len(ch.Flips); i++ {
				if d.catalog.index[ch.Flips[i-1].Category.ID] > d.catalog.index[ch.Flips[i].Category.ID] {
					t.Errorf("Change().Flips not in catalog order: %v", ch.Flips)
				}
			}
			// The result carries the base's identity and the draft's states.
			s := d.Settings()
			if s.Tenant != tt.base.Tenant || s.Version != tt.base.Version {
				t.Errorf("Settings() = tenant %q version %d; want %q %d", s.Tenant, s.Version, tt.base.Tenant, tt.base.Version)
			}
			for id, on := range tt.want {
				if s.Enabled(id) != on {
					t.Errorf("Settings().Enabled(%q) = %v; want %v", id, s.Enabled(id), on)
				}
			}
			// Nothing took effect on the base.
			if after := tt.base.Document(); !reflect.DeepEqual(after, before) {
				t.Errorf("base changed by the draft: %+v; want %+v", after, before)
			}
		})
	}
}

func TestDraftSettingsIsASnapshot(t *testing.T) {
	t.Parallel()
	d := DefaultCatalog().Defaults("acme").Edit()
	s := d.Settings()
	d.EnableAll()
	if err := d.SetRecipients([]string{"a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if s.Enabled(Threat) || len(s.Recipients()) != 0 {
		t.Errorf("Settings() changed with later edits: threat %v, recipients %q", s.Enabled(Threat), s.Recipients())
	}
}

func TestDraftRecipients(t *testing.T) {
	t.Parallel()
	c, err := NewCatalog(CatalogConfig{MaxRecipients: 2})
	if err != nil {
		t.Fatal(err)
	}
	base, err := c.NewSettings(Document{Tenant: "acme", Version: 2, Recipients: []string{"old@acme.example", "keep@acme.example"}})
	if err != nil {
		t.Fatal(err)
	}
	d := base.Edit()
	if err := d.SetRecipients([]string{"keep@ACME.example", " new@acme.example "}); err != nil {
		t.Fatalf("SetRecipients error = %v; want nil", err)
	}
	if got, want := d.Recipients(), []string{"keep@acme.example", "new@acme.example"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Recipients() = %q; want %q", got, want)
	}
	ch := d.Change()
	if !reflect.DeepEqual(ch.Added, []string{"new@acme.example"}) || !reflect.DeepEqual(ch.Removed, []string{"old@acme.example"}) {
		t.Errorf("Change() = added %q removed %q; want added [new@acme.example] removed [old@acme.example]", ch.Added, ch.Removed)
	}

	// A bad list changes nothing.
	for _, bad := range [][]string{
		{"fine@acme.example", "Bob <bob@acme.example>"},
		{"a@acme.example", "b@acme.example", "c@acme.example"}, // over the maximum of 2
	} {
		err := d.SetRecipients(bad)
		var re *RecipientError
		if !errors.As(err, &re) {
			t.Errorf("SetRecipients(%q) error = %v; want a *RecipientError", bad, err)
		}
		if got, want := d.Recipients(), []string{"keep@acme.example", "new@acme.example"}; !reflect.DeepEqual(got, want) {
			t.Errorf("after SetRecipients(%q) failed, Recipients() = %q; want %q unchanged", bad, got, want)
		}
	}

	// Recipients returns a copy.
	d.Recipients()[0] = "evil@x.example"
	if d.Recipients()[0] != "keep@acme.example" {
		t.Errorf("modifying the result of Recipients changed the draft")
	}
}

func TestDraftClone(t *testing.T) {
	t.Parallel()
	d := DefaultCatalog().Defaults("acme").Edit()
	preview := d.Clone()
	preview.EnableAll()
	if got := flips(preview.Change()); !reflect.DeepEqual(got, map[CategoryID]bool{Threat: true, Configuration: true}) {
		t.Errorf("preview Change() flips = %v; want threat and configuration on", got)
	}
	if !d.Change().Empty() {
		t.Errorf("the original draft changed with its clone: %v", d.Change())
	}
}

func TestChangeString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ch   Change
		want string
	}{
		{Change{}, "no change"},
		{
			Change{
				Flips: []Flip{
					{Category: Category{ID: Threat, Name: "Threat Alerts"}, Enabled: true},
					{Category: Category{ID: SystemStatus, Name: "System Status Alerts"}},
				},
				Added:   []string{"a@x.example"},
				Removed: []string{"b@x.example"},
			},
			`turn on "Threat Alerts"; turn off "System Status Alerts"; add a@x.example; remove b@x.example`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.ch.String(); got != tt.want {
				t.Errorf("Change.String() = %q; want %q", got, tt.want)
			}
		})
	}
}
