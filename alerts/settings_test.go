package alerts

import (
	"reflect"
	"testing"
)

func TestSettingsEnabled(t *testing.T) {
	t.Parallel()
	custom := customCatalog(t)
	saved, err := custom.NewSettings(Document{Tenant: "acme", Version: 3, Categories: map[CategoryID]bool{Threat: true, "billing": false}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		s    *Settings
		id   CategoryID
		want bool
	}{
		{"default on", DefaultCatalog().Defaults("acme"), ActiveThreat, true},
		{"default off", DefaultCatalog().Defaults("acme"), Threat, false},
		{"unknown id", DefaultCatalog().Defaults("acme"), "billing", false},
		{"empty id", DefaultCatalog().Defaults("acme"), "", false},
		{"custom default on", custom.Defaults("acme"), "billing", true},
		{"saved on", saved, Threat, true},
		{"saved off", saved, "billing", false},
		{"missing from the document: default", saved, SystemStatus, true},
		{"zero settings", &Settings{}, ActiveThreat, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.s.Enabled(tt.id); got != tt.want {
				t.Errorf("Enabled(%q) = %v; want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestSettingsEnabledCategories(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    *Settings
		want []CategoryID
	}{
		{DefaultCatalog().Defaults("acme"), []CategoryID{ActiveThreat, SystemStatus}},
		{customCatalog(t).Defaults("acme"), []CategoryID{ActiveThreat, SystemStatus, "billing"}},
		{&Settings{}, nil},
	}
	for _, tt := range tests {
		if got := tt.s.EnabledCategories(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("EnabledCategories() = %q; want %q", got, tt.want)
		}
	}
}

func TestSettingsRecipientsAppendDoesNotShare(t *testing.T) {
	t.Parallel()
	s, err := DefaultCatalog().NewSettings(Document{Tenant: "acme", Recipients: []string{"a@x.example", "b@x.example"}})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Recipients()
	if want := []string{"a@x.example", "b@x.example"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Recipients() = %q; want %q", got, want)
	}
	grown := append(got, "c@x.example")
	grown[0] = "evil@x.example"
	if r := s.Recipients(); !reflect.DeepEqual(r, []string{"a@x.example", "b@x.example"}) {
		t.Errorf("appending to Recipients() changed the snapshot: %q", r)
	}
}

func TestSettingsRecipientsAllocs(t *testing.T) {
	s, err := DefaultCatalog().NewSettings(Document{Tenant: "acme", Recipients: []string{"a@x.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = s.Recipients() }); n != 0 {
		t.Errorf("Recipients() allocates %v times; want 0", n)
	}
}

func TestDefaultsAreIndependent(t *testing.T) {
	t.Parallel()
	c := DefaultCatalog()
	a := c.Defaults("a")
	d := a.Edit()
	d.EnableAll()
	if _, err := NewMemorySettingsStore(c).Save(t.Context(), d.Settings()); err != nil {
		t.Fatal(err)
	}
	if b := c.Defaults("b"); b.Enabled(Threat) || a.Enabled(Threat) {
		t.Errorf("editing and saving changed the catalog's defaults")
	}
	if (&Settings{}).Catalog() != nil || a.Catalog() != c {
		t.Errorf("Catalog() does not return the settings' catalog")
	}
}
