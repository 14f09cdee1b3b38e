package alerts_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

// The built-in layout is written in Go (content_layout.go) for speed; the
// templates in templates/ define it. These tests render the same messages
// both ways, the second by handing the built-in files back as the host's
// overrides (which always go through html/template), and require the
// same bytes.

// layoutPair returns a Content with cfg, which prints with the built-in
// layout, and one that executes the built-in templates instead.
func layoutPair(t testing.TB, cfg alerts.ContentConfig) (builtin, templates *alerts.Content) {
	t.Helper()
	builtin = mustContent(t, cfg)
	cfg.Templates = os.DirFS("templates")
	return builtin, mustContent(t, cfg)
}

// sameRender renders msg with both and requires the same subject and parts.
func sameRender(t *testing.T, builtin, templates *alerts.Content, msg alerts.Message) {
	t.Helper()
	a, b := msg, msg
	errA, errB := builtin.Render(&a), templates.Render(&b)
	require.Equalf(t, errB, errA, "Render(%q) error with the built-in layout; want the templates' error", msg.ID)
	assert.Equalf(t, b.Subject, a.Subject, "Render(%q) subject with the built-in layout", msg.ID)
	assert.Equalf(t, b.Text, a.Text, "Render(%q) text with the built-in layout", msg.ID)
	assert.Equalf(t, b.HTML, a.HTML, "Render(%q) HTML with the built-in layout", msg.ID)
}

// withCustomCategory returns cfg with a catalog that also has a category
// of the given display name, "custom".
func withCustomCategory(t testing.TB, cfg alerts.ContentConfig, name string) alerts.ContentConfig {
	t.Helper()
	cat, err := alerts.NewCatalog(alerts.CatalogConfig{Categories: []alerts.Category{{ID: "custom", Name: name}}})
	require.NoError(t, err, "NewCatalog")
	cfg.Catalog = cat
	return cfg
}

// TestContentBuiltinLayout renders hostile and ordinary messages of every
// category, with and without links, cut or not: markup, quotes,
// javascript: ids, CR/LF and NUL in every field, a hostile zone name. The
// built-in layout prints them exactly as the templates do (and as the
// tests of TestContentEscapesEventData require).
func TestContentBuiltinLayout(t *testing.T) {
	t.Parallel()
	evil := hostile
	evil.ID = "javascript:alert(1)//\"><script>"
	noScore := hostile
	noScore.Score, noScore.Asset, noScore.ID = 0, "", ""
	plusZone := time.FixedZone("<b>\"x'+&", 5*3600+1800)
	branded := goldenConfig()
	branded.Brand = alerts.Brand{
		ProductName: `<b>"Acme" & 'Co'</b> 東京`,
		LogoURL:     "https://cdn.example.com/logo.png?v=1&size=2x",
		LogoAlt:     `"Acme" <logo>`,
		AccentColor: "#6D28D9",
		Address:     "<Acme> & Co\n\n1 \"Quoted\" Street",
		SettingsURL: "https://console.example.com/settings?tenant={tenant}&x=1",
	}
	branded.Bands = []alerts.Band{{Min: 5, Name: `<i>"Hot"</i>`, Color: "#b3261e"}}
	cid := goldenConfig()
	cid.Brand = alerts.Brand{LogoURL: "cid:logo.png", LogoWidth: 120, LogoHeight: 24}
	cid.Bands = []alerts.Band{}
	configs := map[string]alerts.ContentConfig{
		"golden":   goldenConfig(),
		"zero":     {},
		"catalog":  withCustomCategory(t, goldenConfig(), `<i>Custom & "odd"</i>`),
		"no links": {MaxEvents: 2},
		"branded":  branded,
		"cid logo": cid,
	}
	for name, cfg := range configs {
		builtin, templates := layoutPair(t, cfg)
		for _, cat := range []alerts.CategoryID{alerts.ActiveThreat, alerts.Threat, alerts.SystemStatus, alerts.Configuration, "custom", "unknown"} {
			msgs := []alerts.Message{
				{ID: "golden", Tenant: "acme", Category: cat, Events: events(cat, 5), Carried: 2, Location: mustLocation(t, "Europe/Paris")},
				{ID: "one", Tenant: "acme", Category: cat, Events: events(cat, 1), Carried: 1},
				{ID: "hostile", Tenant: hostile.Tenant, Category: cat, Events: []alerts.Event{hostile, evil, noScore, hostile}, Carried: 4, Location: plusZone},
				{ID: "unscored", Tenant: "é<&>", Category: cat, Events: []alerts.Event{noScore, noScore}},
			}
			for _, msg := range msgs {
				t.Run(name+"/"+string(cat)+"/"+msg.ID, func(t *testing.T) {
					sameRender(t, builtin, templates, msg)
				})
			}
		}
	}
}

// TestContentBuiltinUsed checks that overriding the layout, or one
// category's body, sends just the emails that use it through the
// templates: the built-in layout never hides a host's file.
func TestContentBuiltinUsed(t *testing.T) {
	t.Parallel()
	read := func(name string) string {
		b, err := os.ReadFile("templates/" + name)
		require.NoErrorf(t, err, "reading templates/%s", name)
		return string(b)
	}
	// The built-in files with a marker line: overrides that render as the
	// built-in layout does but for the marker.
	const marker = "<p>host</p>"
	mark := func(src string) string { return strings.Replace(src, "</html>", "</html>\n"+marker, 1) }
	tests := []struct {
		name   string
		files  map[string]string
		marked []alerts.CategoryID
	}{
		{"layout", map[string]string{"layout.txt": read("layout.txt"), "layout.html": mark(read("layout.html"))},
			[]alerts.CategoryID{alerts.ActiveThreat, alerts.Threat, "backup"}},
		{"one body", map[string]string{"threat.txt": read("threat.txt"), "threat.html": read("threat.html") + "\n" + marker},
			[]alerts.CategoryID{alerts.Threat}},
		{"default body", map[string]string{"default.txt": read("default.txt"), "default.html": read("default.html") + "\n" + marker},
			[]alerts.CategoryID{"backup"}},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsys := pair()
			for name, src := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(src)}
			}
			c := mustContent(t, alerts.ContentConfig{Templates: fsys})
			for _, cat := range []alerts.CategoryID{alerts.ActiveThreat, alerts.Threat, "backup"} {
				msg := &alerts.Message{ID: "u", Tenant: "acme", Category: cat, Events: events(cat, 1)}
				require.NoErrorf(t, c.Render(msg), "Render(%s)", cat)
				assert.Equalf(t, slices.Contains(tt.marked, cat), strings.Contains(msg.HTML, marker),
					"Render(%s) with %s overridden: HTML holds the override's marker", cat, tt.name)
			}
		})
	}
}

// FuzzContentBuiltin renders arbitrary event data with the built-in layout
// and with the templates it stands for, and requires the same bytes.
func FuzzContentBuiltin(f *testing.F) {
	f.Add("acme", "host-1", "Suspicious process", "evt-1", 7.5, uint8(0), uint8(3), uint8(1), "Europe/Paris")
	f.Add(hostile.Tenant, hostile.Asset, hostile.Summary, hostile.ID, 9.0, uint8(1), uint8(5), uint8(5), "<x>")
	f.Add("", "", "", "", 0.0, uint8(4), uint8(1), uint8(0), "")
	f.Add("t", "\x00\xff", "a\u2028b", "javascript:x", -1e300, uint8(5), uint8(12), uint8(2), "+&'\"")
	builtin, templates := layoutPair(f, withCustomCategory(f, goldenConfig(), "Custom <Alerts>"))
	cats := []alerts.CategoryID{alerts.ActiveThreat, alerts.Threat, alerts.SystemStatus, alerts.Configuration, "custom", "other"}
	f.Fuzz(func(t *testing.T, tenant, asset, summary, id string, score float64, cat, n, carried uint8, zone string) {
		c := cats[int(cat)%len(cats)]
		evs := make([]alerts.Event, 1+int(n)%12)
		for i := range evs {
			evs[i] = alerts.Event{ID: id, Tenant: tenant, Category: c, Score: score, Asset: asset, Summary: summary,
				Time: time.Date(2026, 3, 29, 0, 58+i, 0, 0, time.UTC)}
			if i%3 == 1 { // some without an id, asset or score
				evs[i].ID, evs[i].Asset, evs[i].Score = "", "", 0
			}
		}
		msg := alerts.Message{ID: "fuzz", Tenant: tenant, Category: c, Events: evs,
			Carried: int(carried) % (len(evs) + 1), Location: time.FixedZone(zone, int(n)*900)}
		sameRender(t, builtin, templates, msg)
	})
}
