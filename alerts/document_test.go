package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSettingsMarshalJSON(t *testing.T) {
	t.Parallel()
	c := customCatalog(t)
	d := c.Defaults("acme").Edit()
	require.NoError(t, d.Toggle(Threat))
	require.NoError(t, d.SetRecipients([]string{"SOC@Acme.Example"}))
	got, err := json.Marshal(d.Settings())
	require.NoError(t, err)
	want := `{"tenant":"acme","version":0,"categories":{"active-threat":true,"audit":false,"billing":true,"configuration":false,"system-status":true,"threat":true},"recipients":["SOC@acme.example"]}`
	assert.Equal(t, want, string(got), "json.Marshal(settings)")
	// No recipients encode as [], not null.
	got, _ = json.Marshal(c.Defaults("acme"))
	assert.Contains(t, string(got), `"recipients":[]`, "json.Marshal(defaults) = %s; want an empty recipients array", got)
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
			in:   `{"tenant":"acme","recipients":["Ops@Bücher.Example","Ops@bücher.example"]}`,
			want: &Document{Tenant: "acme", Categories: map[CategoryID]bool{
				Threat: false, ActiveThreat: true, SystemStatus: true, Configuration: false, "billing": true, "audit": false,
			}, Recipients: []string{"Ops@xn--bcher-kva.example"}},
		},
		{
			name:    "tenant with CR/LF",
			in:      `{"tenant":"a\r\nb"}`,
			wantErr: ErrInvalidTenant,
			wantMsg: `alerts: invalid tenant id "a\r\nb": holds a line break (U+000D) at byte 1`,
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
				require.NoErrorf(t, err, "ParseSettings(%q)", tt.in)
				assert.Equalf(t, *tt.want, s.Document(), "ParseSettings(%q)", tt.in)
				return
			}
			require.ErrorIsf(t, err, tt.wantErr, "ParseSettings(%q)", tt.in)
			if tt.wantMsg != "" {
				assert.EqualErrorf(t, err, tt.wantMsg, "ParseSettings(%q)", tt.in)
			}
			assert.Nilf(t, s, "ParseSettings(%q) returned settings with an error", tt.in)
		})
	}
}

func TestNewSettingsTooManyRecipients(t *testing.T) {
	t.Parallel()
	c, err := NewCatalog(CatalogConfig{MaxRecipients: 1})
	require.NoError(t, err)
	_, err = c.NewSettings(Document{Tenant: "acme", Recipients: []string{"a@x.example", "b@x.example"}})
	assert.ErrorIs(t, err, ErrTooManyRecipients, "NewSettings with 2 recipients under a maximum of 1")
}

func TestDocumentSharesNothing(t *testing.T) {
	t.Parallel()
	s, err := DefaultCatalog().NewSettings(Document{Tenant: "acme", Recipients: []string{"a@x.example"}})
	require.NoError(t, err)
	doc := s.Document()
	doc.Recipients[0] = "evil@x.example"
	doc.Categories[Threat] = true
	assert.Equal(t, "a@x.example", s.Recipients()[0], "modifying a Document changed the settings it came from")
	assert.False(t, s.Enabled(Threat), "modifying a Document changed the settings it came from")
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
			require.Nilf(t, s, "ParseSettings(%q) returned settings with error %v", data, err)
			return
		}
		// RestoreSettings is only more lenient.
		require.NoErrorf(t, rerr, "RestoreSettings(%q); want what ParseSettings accepted", data)
		require.Equalf(t, s.Document(), restored.Document(), "RestoreSettings(%q); want what ParseSettings accepted", data)
		out, err := json.Marshal(s)
		require.NoErrorf(t, err, "json.Marshal(ParseSettings(%q))", data)
		again, err := c.ParseSettings(out)
		require.NoErrorf(t, err, "ParseSettings(%s) of a marshalled document", out)
		require.Equalf(t, s.Document(), again.Document(), "round trip of %q", data)
		out2, _ := json.Marshal(again)
		require.Equalf(t, string(out), string(out2), "marshalling is not stable")
	})
}

func BenchmarkParseSettings(b *testing.B) {
	c := DefaultCatalog()
	data := []byte(`{"tenant":"acme","version":3,"categories":{"threat":true,"active-threat":false,"system-status":true,"configuration":true},"recipients":["soc@acme.example","ops@acme.example"]}`)
	b.ReportAllocs()
	for b.Loop() {
		_, err := c.ParseSettings(data)
		require.NoError(b, err)
	}
}

func TestRestoreSettings(t *testing.T) {
	t.Parallel()
	// Settings saved under a catalog with "billing" and up to 3 recipients.
	old, err := NewCatalog(CatalogConfig{Categories: []Category{{ID: "billing", Name: "Billing Alerts"}}, MaxRecipients: 3})
	require.NoError(t, err)
	saved, err := old.NewSettings(Document{
		Tenant: "acme", Version: 5,
		Categories: map[CategoryID]bool{"billing": true, Threat: true},
		Recipients: []string{"a@x.example", "b@x.example", "c@x.example"},
	})
	require.NoError(t, err)
	data, err := json.Marshal(saved)
	require.NoError(t, err)

	// The service now runs without "billing" and allows 2 recipients.
	current, err := NewCatalog(CatalogConfig{MaxRecipients: 2})
	require.NoError(t, err)
	_, err = current.ParseSettings(data)
	assert.ErrorIs(t, err, ErrUnknownCategory, "ParseSettings(stored)")
	got, err := current.RestoreSettings(data)
	require.NoError(t, err, "RestoreSettings(stored)")
	want := Document{
		Tenant: "acme", Version: 5,
		Categories: map[CategoryID]bool{Threat: true, ActiveThreat: true, SystemStatus: true, Configuration: false},
		Recipients: []string{"a@x.example", "b@x.example", "c@x.example"},
	}
	assert.Equal(t, want, got.Document(), "RestoreSettings(stored)")

	// Strict about everything else.
	for _, bad := range []struct {
		in   string
		want error
	}{
		{`{"tenant":"acme","recipients":["a@x.example\r\nBcc: all@x.example"]}`, ErrInvalidRecipient},
		{`{"tenant":"acme","extra":1}`, ErrInvalidDocument},
		{`{"tenant":"acme"}}`, ErrInvalidDocument},
	} {
		_, err := current.RestoreSettings([]byte(bad.in))
		assert.ErrorIsf(t, err, bad.want, "RestoreSettings(%q)", bad.in)
	}
}

// nested returns a document whose categories hold n objects nested in
// each other, closed or not.
func nested(n int, closed bool) []byte {
	doc := `{"categories":` + strings.Repeat(`{"a":`, n) + "true"
	if closed {
		doc += strings.Repeat("}", n) + "}"
	}
	return []byte(doc)
}

// TestDocumentLimits checks that documents beyond the limits are refused
// with an error naming the limit, by ParseSettings and RestoreSettings
// alike. Before the limits, the 10 MB nested documents killed the process
// with a stack overflow that recover cannot catch.
func TestDocumentLimits(t *testing.T) {
	t.Parallel()
	c := customCatalog(t)
	many := func(n int, format string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(format, i)
		}
		return strings.Join(parts, ",")
	}
	tests := []struct {
		name   string
		in     []byte
		limit  string
		offset int64
	}{
		{"10 MB of nested objects", nested(10<<20/6, true), "MaxDocumentSize", int64(len(nested(10<<20/6, true)))},
		{"10 MB of unclosed arrays", []byte(`{"recipients":` + strings.Repeat("[", 10<<20)), "MaxDocumentSize", 10<<20 + 14},
		{"nested objects just within the size", nested((MaxDocumentSize-20)/6, true), "MaxDocumentDepth", 19},
		{"unclosed arrays just within the size", []byte(`{"recipients":` + strings.Repeat("[", MaxDocumentSize-14)), "MaxDocumentDepth", 15},
		{"one level too deep", []byte(`{"categories":{"threat":{}}}`), "MaxDocumentDepth", 24},
		{"an array in the recipients", []byte(`{"recipients":[["a@x.example"]]}`), "MaxDocumentDepth", 15},
		{"too many recipients entries", []byte(`{"recipients":[` + many(MaxDocumentEntries+1, `"r%d@x.example"`) + `]}`), "MaxDocumentEntries", 0},
		{"too many category keys", []byte(`{"categories":{` + many(MaxDocumentEntries+1, `"c%d":true`) + `}}`), "MaxDocumentEntries", 0},
		{"too many spaces", []byte("{}" + strings.Repeat(" ", MaxDocumentSize-1)), "MaxDocumentSize", MaxDocumentSize + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for name, parse := range map[string]func([]byte) (*Settings, error){
				"ParseSettings": c.ParseSettings, "RestoreSettings": c.RestoreSettings,
			} {
				s, err := parse(tt.in)
				assert.Nilf(t, s, "%s(%.40q…) returned settings with an error", name, tt.in)
				require.ErrorIsf(t, err, ErrInvalidDocument, "%s(%.40q…)", name, tt.in)
				le, ok := errors.AsType[*DocumentLimitError](err)
				require.Truef(t, ok, "%s(%.40q…) = %v; want a *DocumentLimitError", name, tt.in, err)
				assert.Equalf(t, tt.limit, le.Limit, "%s(%.40q…): limit", name, tt.in)
				assert.Containsf(t, err.Error(), tt.limit, "%s(%.40q…): the message names the limit", name, tt.in)
				if tt.offset != 0 {
					assert.Equalf(t, tt.offset, le.Offset, "%s(%.40q…): offset", name, tt.in)
				}
			}
		})
	}
}

// TestDocumentLimitsMemory measures, with runtime.MemStats, what refusing
// a 10 MB nested document costs: a few kilobytes, whatever its size. It
// does not run in parallel, so that the counts are its own. (Before the
// limits, 3 MB of unclosed arrays cost 934 MB, and 10 MB of nested
// objects overflowed the stack.)
func TestDocumentLimitsMemory(t *testing.T) {
	c := DefaultCatalog()
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"10 MB of nested objects", nested(10<<20/6, true)},
		{"10 MB of unclosed arrays", []byte(`{"recipients":` + strings.Repeat("[", 10<<20))},
		{"1 MB of nested objects", nested((MaxDocumentSize-20)/5, false)},
		{"1 MB of unclosed arrays", []byte(`{"recipients":` + strings.Repeat("[", MaxDocumentSize-14))},
	} {
		for name, parse := range map[string]func([]byte) (*Settings, error){
			"ParseSettings": c.ParseSettings, "RestoreSettings": c.RestoreSettings,
		} {
			var err error
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err = parse(tt.in)
			runtime.ReadMemStats(&after)
			// Bytes allocated during the call: an upper bound of the heap
			// it added at its peak.
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s(%s, %d bytes): %d bytes in %d allocations", name, tt.name, len(tt.in), allocated, after.Mallocs-before.Mallocs)
			assert.ErrorIsf(t, err, ErrInvalidDocument, "%s(%s)", name, tt.name)
			assert.LessOrEqualf(t, allocated, uint64(64<<10), "%s(%s): bytes allocated", name, tt.name)
		}
	}
}

// TestLargestDocument builds the largest document a catalog can produce
// (as many categories and recipients as it may have, the recipients as
// long as RFC 5321 allows and made of characters JSON escapes) and checks
// that it is within the limits: stored settings always load.
func TestLargestDocument(t *testing.T) {
	t.Parallel()
	cats := make([]Category, MaxDocumentEntries-len(BuiltinCategories()))
	for i := range cats {
		cats[i] = Category{ID: CategoryID(fmt.Sprintf("c%063d", i)), Name: "Custom"}
	}
	c, err := NewCatalog(CatalogConfig{Categories: cats, MaxRecipients: MaxDocumentEntries})
	require.NoError(t, err)
	domain := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 50) + ".example"
	rs := make([]string, MaxDocumentEntries)
	for i := range rs {
		rs[i] = fmt.Sprintf("%04d", i) + strings.Repeat("&", 60) + "@" + domain // & is escaped as \u0026
		require.Len(t, rs[i], 251)
	}
	s, err := c.NewSettings(Document{Tenant: "acme", Version: 1 << 63, Recipients: rs})
	require.NoError(t, err)
	data, err := json.Marshal(s)
	require.NoError(t, err)
	t.Logf("the largest document is %d bytes; MaxDocumentSize is %d", len(data), MaxDocumentSize)
	assert.LessOrEqual(t, len(data), MaxDocumentSize)
	for name, parse := range map[string]func([]byte) (*Settings, error){
		"ParseSettings": c.ParseSettings, "RestoreSettings": c.RestoreSettings,
	} {
		got, err := parse(data)
		require.NoErrorf(t, err, "%s(the largest document)", name)
		assert.Equalf(t, s.Document(), got.Document(), "%s(the largest document)", name)
	}

	// A catalog that could produce a larger one is refused.
	_, err = NewCatalog(CatalogConfig{MaxRecipients: MaxDocumentEntries + 1})
	assert.ErrorContains(t, err, "MaxDocumentEntries", "NewCatalog with MaxRecipients over the limit")
	_, err = NewCatalog(CatalogConfig{Categories: append(cats, Category{ID: "one-more", Name: "One more"})})
	assert.ErrorContains(t, err, "MaxDocumentEntries", "NewCatalog with more categories than the limit")
}

// FuzzDocumentNesting builds documents of nested objects and arrays, of
// any depth and width, under any field, closed or not, and checks that
// ParseSettings refuses every one beyond the limits with the error of the
// limit it breaks first, and never crashes: the fuzzer of the class of
// documents that once overflowed the stack.
func FuzzDocumentNesting(f *testing.F) {
	f.Add(uint8(2), []byte{'{'}, uint32(3), uint16(1), true)
	f.Add(uint8(3), []byte{'['}, uint32(1_000_000), uint16(1), false)
	f.Add(uint8(1), []byte{'{', '['}, uint32(6_000_000), uint16(2), true)
	f.Add(uint8(3), []byte{'['}, uint32(1), uint16(MaxDocumentEntries+1), true)
	f.Add(uint8(2), []byte{'{'}, uint32(1), uint16(MaxDocumentEntries), true)
	c := DefaultCatalog()
	fields := []string{"tenant", "version", "categories", "recipients"}
	f.Fuzz(func(t *testing.T, field uint8, shape []byte, depth uint32, width uint16, closed bool) {
		depth %= 4 << 20 // up to 4 M levels: well over MaxDocumentSize
		if len(shape) == 0 {
			shape = []byte{'['}
		}
		var b strings.Builder
		b.WriteString(`{"` + fields[int(field)%len(fields)] + `":`)
		closers := make([]byte, 0, depth)
		for i := range depth {
			if shape[int(i)%len(shape)]%2 == 0 {
				b.WriteString(`{"k":`)
				closers = append(closers, '}')
			} else {
				b.WriteByte('[')
				closers = append(closers, ']')
			}
		}
		// The innermost value: width entries in an array.
		b.WriteByte('[')
		for i := range int(width) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"x"`)
		}
		b.WriteByte(']')
		if closed {
			for i := len(closers) - 1; i >= 0; i-- {
				b.WriteByte(closers[i])
			}
			b.WriteByte('}')
		}
		doc := []byte(b.String())

		s, err := c.ParseSettings(doc)
		want := ""
		switch {
		case len(doc) > MaxDocumentSize:
			want = "MaxDocumentSize"
		case depth+2 > MaxDocumentDepth:
			want = "MaxDocumentDepth"
		case int(width) > MaxDocumentEntries:
			want = "MaxDocumentEntries"
		}
		le, isLimit := errors.AsType[*DocumentLimitError](err)
		if want == "" {
			require.Falsef(t, isLimit, "ParseSettings(%.60q…) = %v; want no limit error", doc, err)
			return
		}
		require.Nilf(t, s, "ParseSettings(%.60q…) returned settings with an error", doc)
		require.Truef(t, isLimit, "ParseSettings(%.60q…) = %v; want a *DocumentLimitError", doc, err)
		require.Equalf(t, want, le.Limit, "ParseSettings(%.60q…): limit", doc)
		require.ErrorIsf(t, err, ErrInvalidDocument, "ParseSettings(%.60q…)", doc)
	})
}
