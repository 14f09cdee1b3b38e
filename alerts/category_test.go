package alerts

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestBuiltinCategories(t *testing.T) {
	t.Parallel()
	// The table of SPEC.md section 1.
	want := []struct {
		id   CategoryID
		name string
	}{
		{Threat, "Threat Alerts"},
		{ActiveThreat, "Active Threat Alerts"},
		{SystemStatus, "System Status Alerts"},
		{Configuration, "Configuration Alerts"},
	}
	got := BuiltinCategories()
	if len(got) != len(want) {
		t.Fatalf("BuiltinCategories() has %d categories; want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].ID != w.id || got[i].Name != w.name {
			t.Errorf("BuiltinCategories()[%d] = %q %q; want %q %q", i, got[i].ID, got[i].Name, w.id, w.name)
		}
		if err := got[i].validate(); err != nil {
			t.Errorf("built-in category %q is invalid: %v", got[i].ID, err)
		}
		if got[i].Description == "" {
			t.Errorf("built-in category %q has no description", got[i].ID)
		}
	}
	// DefaultCatalog skips validation; it must equal the validated catalog.
	validated, err := NewCatalog(CatalogConfig{})
	if err != nil {
		t.Fatalf("NewCatalog(zero config) error = %v", err)
	}
	if !reflect.DeepEqual(DefaultCatalog(), validated) {
		t.Errorf("DefaultCatalog() differs from NewCatalog(CatalogConfig{})")
	}
	// Callers own the slice.
	got[0].Name = "changed"
	if BuiltinCategories()[0].Name != "Threat Alerts" {
		t.Errorf("modifying the result of BuiltinCategories changed the built-ins")
	}
}

func TestCategoryIDValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id     CategoryID
		reason string // empty when valid
	}{
		{"threat", ""},
		{"active-threat", ""},
		{"a", ""},
		{"x9", ""},
		{"billing-v2-eu", ""},
		{CategoryID(strings.Repeat("a", 64)), ""},
		{"", "empty id"},
		{CategoryID(strings.Repeat("a", 65)), "longer than 64 characters"},
		{"Threat", "must start with a lower-case letter"},
		{"9lives", "must start with a lower-case letter"},
		{"-x", "must start with a lower-case letter"},
		{"x-", "must not end with a hyphen"},
		{"a--b", "must not hold two hyphens in a row"},
		{"a_b", `character '_' at 1: only a-z, 0-9 and '-' are allowed`},
		{"a b", `character ' ' at 1: only a-z, 0-9 and '-' are allowed`},
		{"aé", `character 'é' at 1: only a-z, 0-9 and '-' are allowed`},
		{"a\n", `character '\n' at 1: only a-z, 0-9 and '-' are allowed`},
	}
	for _, tt := range tests {
		t.Run(string(tt.id), func(t *testing.T) {
			t.Parallel()
			err := tt.id.Validate()
			if tt.reason == "" {
				if err != nil {
					t.Errorf("CategoryID(%q).Validate() = %v; want nil", tt.id, err)
				}
				return
			}
			var ce *CategoryError
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidCategory) || ce.Reason != tt.reason || ce.ID != tt.id {
				t.Errorf("CategoryID(%q).Validate() = %v; want ErrInvalidCategory with reason %q", tt.id, err, tt.reason)
			}
		})
	}
}

func TestNewCatalog(t *testing.T) {
	t.Parallel()
	billing := Category{ID: "billing", Name: "Billing Alerts", Description: "Invoices and quotas.", DefaultEnabled: true}
	audit := Category{ID: "audit", Name: "Audit Alerts"}
	tests := []struct {
		name    string
		cfg     CatalogConfig
		wantErr error
		wantMsg string
	}{
		{name: "zero config", cfg: CatalogConfig{}},
		{name: "custom categories", cfg: CatalogConfig{Categories: []Category{billing, audit}, MaxRecipients: 3}},
		{
			name:    "duplicate of a built-in",
			cfg:     CatalogConfig{Categories: []Category{{ID: Threat, Name: "Mine"}}},
			wantErr: ErrDuplicateCategory,
			wantMsg: `alerts: duplicate category "threat": registered twice`,
		},
		{
			name:    "duplicate custom",
			cfg:     CatalogConfig{Categories: []Category{billing, audit, billing}},
			wantErr: ErrDuplicateCategory,
			wantMsg: `alerts: duplicate category "billing": registered twice`,
		},
		{
			name:    "malformed id",
			cfg:     CatalogConfig{Categories: []Category{{ID: "Billing", Name: "Billing"}}},
			wantErr: ErrInvalidCategory,
			wantMsg: `alerts: invalid category "Billing": must start with a lower-case letter`,
		},
		{
			name:    "empty id",
			cfg:     CatalogConfig{Categories: []Category{{Name: "Nameless"}}},
			wantErr: ErrInvalidCategory,
			wantMsg: `alerts: invalid category "": empty id`,
		},
		{
			name:    "empty name",
			cfg:     CatalogConfig{Categories: []Category{{ID: "billing"}}},
			wantErr: ErrInvalidCategory,
			wantMsg: `alerts: invalid category "billing": name is empty`,
		},
		{
			name:    "control character in name",
			cfg:     CatalogConfig{Categories: []Category{{ID: "billing", Name: "Billing\r\nBcc: x"}}},
			wantErr: ErrInvalidCategory,
			wantMsg: `alerts: invalid category "billing": name holds control character U+000D`,
		},
		{
			name:    "invalid UTF-8 in description",
			cfg:     CatalogConfig{Categories: []Category{{ID: "billing", Name: "Billing", Description: "\xff"}}},
			wantErr: ErrInvalidCategory,
			wantMsg: `alerts: invalid category "billing": description is not valid UTF-8`,
		},
		{
			name:    "negative maximum",
			cfg:     CatalogConfig{MaxRecipients: -1},
			wantMsg: "alerts: CatalogConfig.MaxRecipients is -1; want 0 (default 25) or more",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewCatalog(tt.cfg)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("NewCatalog(%+v) error = %v; want nil", tt.cfg, err)
				}
				want := append(BuiltinCategories(), tt.cfg.Categories...)
				if got := c.Categories(); !reflect.DeepEqual(got, want) {
					t.Errorf("Categories() = %+v; want %+v", got, want)
				}
				return
			}
			if err == nil || err.Error() != tt.wantMsg {
				t.Fatalf("NewCatalog(%+v) error = %v; want %q", tt.cfg, err, tt.wantMsg)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("NewCatalog(%+v) error = %v; want errors.Is %v", tt.cfg, err, tt.wantErr)
			}
			if c != nil {
				t.Errorf("NewCatalog(%+v) returned a catalog with an error", tt.cfg)
			}
		})
	}
}

func TestCatalogAccessors(t *testing.T) {
	t.Parallel()
	billing := Category{ID: "billing", Name: "Billing Alerts", DefaultEnabled: true}
	c, err := NewCatalog(CatalogConfig{Categories: []Category{billing}, MaxRecipients: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Len(); got != 5 {
		t.Errorf("Len() = %d; want 5", got)
	}
	if got := c.MaxRecipients(); got != 3 {
		t.Errorf("MaxRecipients() = %d; want 3", got)
	}
	if got := DefaultCatalog().MaxRecipients(); got != DefaultMaxRecipients {
		t.Errorf("DefaultCatalog().MaxRecipients() = %d; want %d", got, DefaultMaxRecipients)
	}
	if got, ok := c.Lookup("billing"); !ok || got != billing {
		t.Errorf("Lookup(%q) = %+v, %v; want %+v, true", "billing", got, ok, billing)
	}
	if got, ok := c.Lookup("nope"); ok || got != (Category{}) {
		t.Errorf("Lookup(%q) = %+v, %v; want zero, false", "nope", got, ok)
	}
	cats := c.Categories()
	cats[0].DefaultEnabled = !cats[0].DefaultEnabled
	if c.Categories()[0] == cats[0] {
		t.Errorf("modifying the result of Categories changed the catalog")
	}
}
