package alerts

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSettingsMarshalJSON(t *testing.T) {
	t.Parallel()
	c := customCatalog(t)
	d := c.Defaults("acme").Edit()
	if err := d.Toggle(Threat); err != nil {
		t.Fatal(err)
	}
	if err := d.SetRecipients([]string{"SOC@Acme.Example"}); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(d.Settings())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"tenant":"acme","version":0,"categories":{"active-threat":true,"audit":false,"billing":true,"configuration":false,"system-status":true,"threat":true},"recipients":["SOC@acme.example"]}`
	if string(got) != want {
		t.Errorf("json.Marshal(settings) = %s; want %s", got, want)
	}
	// No recipients encode as [], not null.
	got, _ = json.Marshal(c.Defaults("acme"))
	if !strings.Contains(string(got), `"recipients":[]`) {
		t.Errorf("json.Marshal(defaults) = %s; want an empty recipients array", got)
	}
}

func TestParseSettings(t *testing.T) {
	t.Parallel()
	c := customCatalog(t)
	tests := []struct {
		name    string
		in      string
		want    *Document // nil when rejected
		wantErr error
		wantMsg string
	}{
		{
			name: "full document",
			in:   `{"tenant":"acme","version":3,"categories":{"threat":true,"active-threat":false,"system-status":true,"configuration":true,"billing":false,"audit":true},"recipients":["soc@acme.example"]}`,
			want: &Document{Tenant: "acme", Version: 3, Categories: map[CategoryID]bool{
				Threat: true, ActiveThreat: false, SystemStatus: true, Configuration: true, "billing": false, "audit": true,
			}, Recipients: []string{"soc@acme.example"}},
		},
		{
			name: "missing categories take their defaults",
			in:   `{"tenant":"acme","version":1,"categories":{"threat":true}}`,
			want: &Document{Tenant: "acme", Version: 1, Categories: map[CategoryID]bool{
				Threat: true, ActiveThreat: true, SystemStatus: true, Configuration: false, "billing": true, "audit": false,
			}, Recipients: []string{}},
		},
		{
			name: "empty object",
			in:   ` { } `,
			want: &Document{Categories: map[CategoryID]bool{
				Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false, "billing": true, "audit": false,
			}, Recipients: []string{}},
		},
		{
			name: "nulls",
			in:   `{"tenant":"acme","categories":null,"recipients":null}`,
			want: &Document{Tenant: "acme", Categories: map[CategoryID]bool{
				Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false, "billing": true, "audit": false,
			}, Recipients: []string{}},
		},
		{
			name: "recipients normalised",
			in:   `{"tenant":"acme","recipients":["Ops@Bücher.Example","ops@bücher.example"]}`,
			want: &Document{Tenant: "acme", Categories: map[CategoryID]bool{
				Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false, "billing": true, "audit": false,
			}, Recipients: []string{"Ops@xn--bcher-kva.example"}},
		},
		{
			name:    "unknown field",
			in:      `{"tenant":"acme","enabled":true}`,
			wantErr: ErrInvalidDocument,
			wantMsg: `alerts: invalid settings document: unknown field "enabled"`,
		},
		{
			name:    "field name in another case",
			in:      `{"Tenant":"acme"}`,
			wantErr: ErrInvalidDocument,
			wantMsg: `alerts: invalid settings document: unknown field "Tenant"`,
		},
		{
			name:    "repeated field",
			in:      `{"tenant":"acme","tenant":"globex"}`,
			wantErr: ErrInvalidDocument,
			wantMsg: `alerts: invalid settings document: field "tenant" appears twice`,
		},
		{
			name:    "repeated category",
			in:      `{"categories":{"threat":true,"threat":false}}`,
			wantErr: ErrInvalidDocument,
			wantMsg: `alerts: invalid settings document: field "threat" appears twice`,
		},
		{
			name:    "unknown category",
			in:      `{"tenant":"acme","categories":{"threat":true,"quantum":true}}`,
			wantErr: ErrUnknownCategory,
			wantMsg: `alerts: unknown category "quantum": not in the catalog`,
		},
		{
			name:    "category state not a boolean",
			in:      `{"categories":{"threat":"yes"}}`,
			wantErr: ErrInvalidDocument,
		},
		{
			name:    "negative version",
			in:      `{"version":-1}`,
			wantErr: ErrInvalidDocument,
		},
		{
			name:    "fractional version",
			in:      `{"version":1.5}`,
			wantErr: ErrInvalidDocument,
		},
		{
			name:    "bad recipient",
			in:      `{"recipients":["a@acme.example","Eve <eve@x.example>"]}`,
			wantErr: ErrInvalidRecipient,
			wantMsg: `alerts: invalid recipient at position 2, "Eve <eve@x.example>": display names and angle brackets are not allowed`,
		},
		{
			name:    "trailing data",
			in:      `{"tenant":"acme"} {"tenant":"globex"}`,
			wantErr: ErrInvalidDocument,
			wantMsg: `alerts: invalid settings document: data after the document`,
		},
		{
			name:    "not an object",
			in:      `["tenant"]`,
			wantErr: ErrInvalidDocument,
			wantMsg: `alerts: invalid settings document: want a JSON object`,
		},
		{
			name:    "empty input",
			in:      ``,
			wantErr: ErrInvalidDocument,
			wantMsg: `alerts: invalid settings document: EOF`,
		},
		{
			name:    "truncated",
			in:      `{"tenant":"acme",`,
			wantErr: ErrInvalidDocument,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := c.ParseSettings([]byte(tt.in))
			if tt.want != nil {
				if err != nil {
					t.Fatalf("ParseSettings(%q) error = %v; want nil", tt.in, err)
				}
				if got := s.Document(); !reflect.DeepEqual(got, *tt.want) {
					t.Errorf("ParseSettings(%q) = %+v; want %+v", tt.in, got, *tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseSettings(%q) error = %v; want %v", tt.in, err, tt.wantErr)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("ParseSettings(%q) error = %q; want %q", tt.in, err, tt.wantMsg)
			}
			if s != nil {
				t.Errorf("ParseSettings(%q) returned settings with an error", tt.in)
			}
		})
	}
}

func TestNewSettingsTooManyRecipients(t *testing.T) {
	t.Parallel()
	c, err := NewCatalog(CatalogConfig{MaxRecipients: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.NewSettings(Document{Tenant: "acme", Recipients: []string{"a@x.example", "b@x.example"}})
	if !errors.Is(err, ErrTooManyRecipients) {
		t.Errorf("NewSettings with 2 recipients under a maximum of 1: error = %v; want ErrTooManyRecipients", err)
	}
}

func TestDocumentSharesNothing(t *testing.T) {
	t.Parallel()
	s, err := DefaultCatalog().NewSettings(Document{Tenant: "acme", Recipients: []string{"a@x.example"}})
	if err != nil {
		t.Fatal(err)
	}
	doc := s.Document()
	doc.Recipients[0] = "evil@x.example"
	doc.Categories[Threat] = true
	if s.Recipients()[0] != "a@x.example" || s.Enabled(Threat) {
		t.Errorf("modifying a Document changed the settings it came from")
	}
}

// FuzzParseSettings feeds arbitrary bytes to ParseSettings and
// RestoreSettings: they never panic, whatever ParseSettings accepts
// RestoreSettings accepts the same, and it round-trips through
// json.Marshal to the same settings.
func FuzzParseSettings(f *testing.F) {
	for _, seed := range []string{
		`{"tenant":"acme","version":3,"categories":{"threat":true,"active-threat":false,"billing":true},"recipients":["soc@acme.example"]}`,
		`{}`,
		`{"tenant":"acme","categories":null,"recipients":null}`,
		`{"Tenant":"acme"}`,
		`{"tenant":"acme","tenant":"globex"}`,
		`{"categories":{"quantum":true}}`,
		`{"recipients":["Ops@Bücher.Example","ops@bücher.example"]}`,
		`{"recipients":["a@x.example\r\nBcc: b@x.example"]}`,
		`{"version":18446744073709551615}`,
		`{"tenant":"\u00e9\ud800"}`,
		`{"tenant":"acme"} x`,
		`[[[[`,
	} {
		f.Add([]byte(seed))
	}
	c := customCatalog(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		restored, rerr := c.RestoreSettings(data)
		s, err := c.ParseSettings(data)
		if err != nil {
			if s != nil {
				t.Fatalf("ParseSettings(%q) returned settings with error %v", data, err)
			}
			return
		}
		// RestoreSettings is only more lenient.
		if rerr != nil || !reflect.DeepEqual(restored.Document(), s.Document()) {
			t.Fatalf("RestoreSettings(%q) = %v; want what ParseSettings accepted", data, rerr)
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("json.Marshal(ParseSettings(%q)) error = %v", data, err)
		}
		again, err := c.ParseSettings(out)
		if err != nil {
			t.Fatalf("ParseSettings(%s) of a marshalled document error = %v", out, err)
		}
		if got, want := again.Document(), s.Document(); !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip of %q: %+v; want %+v", data, got, want)
		}
		out2, _ := json.Marshal(again)
		if string(out2) != string(out) {
			t.Fatalf("marshalling is not stable: %s then %s", out, out2)
		}
	})
}

func BenchmarkParseSettings(b *testing.B) {
	c := DefaultCatalog()
	data := []byte(`{"tenant":"acme","version":3,"categories":{"threat":true,"active-threat":false,"system-status":true,"configuration":true},"recipients":["soc@acme.example","ops@acme.example"]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ParseSettings(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRestoreSettings(t *testing.T) {
	t.Parallel()
	// Settings saved under a catalog with "billing" and up to 3 recipients.
	old, err := NewCatalog(CatalogConfig{Categories: []Category{{ID: "billing", Name: "Billing Alerts"}}, MaxRecipients: 3})
	if err != nil {
		t.Fatal(err)
	}
	saved, err := old.NewSettings(Document{
		Tenant: "acme", Version: 5,
		Categories: map[CategoryID]bool{"billing": true, Threat: true},
		Recipients: []string{"a@x.example", "b@x.example", "c@x.example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(saved)
	if err != nil {
		t.Fatal(err)
	}

	// The service now runs without "billing" and allows 2 recipients.
	current, err := NewCatalog(CatalogConfig{MaxRecipients: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := current.ParseSettings(data); !errors.Is(err, ErrUnknownCategory) {
		t.Errorf("ParseSettings(stored) error = %v; want ErrUnknownCategory", err)
	}
	got, err := current.RestoreSettings(data)
	if err != nil {
		t.Fatalf("RestoreSettings(stored) error = %v; want nil", err)
	}
	want := Document{
		Tenant: "acme", Version: 5,
		Categories: map[CategoryID]bool{Threat: true, ActiveThreat: true, SystemStatus: true, Configuration: false},
		Recipients: []string{"a@x.example", "b@x.example", "c@x.example"},
	}
	if doc := got.Document(); !reflect.DeepEqual(doc, want) {
		t.Errorf("RestoreSettings(stored) = %+v; want %+v", doc, want)
	}

	// Strict about everything else.
	for _, bad := range []struct {
		in   string
		want error
	}{
		{`{"tenant":"acme","recipients":["a@x.example\r\nBcc: all@x.example"]}`, ErrInvalidRecipient},
		{`{"tenant":"acme","extra":1}`, ErrInvalidDocument},
		{`{"tenant":"acme"}}`, ErrInvalidDocument},
	} {
		if _, err := current.RestoreSettings([]byte(bad.in)); !errors.Is(err, bad.want) {
			t.Errorf("RestoreSettings(%q) error = %v; want %v", bad.in, err, bad.want)
		}
	}
}
