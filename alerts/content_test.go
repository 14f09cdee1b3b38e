package alerts_test

import (
	"flag"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	texttemplate "text/template"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/render/rendertest"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the alert email content")

// goldenConfig is the configuration the golden files are rendered with.
func goldenConfig() alerts.ContentConfig {
	return alerts.ContentConfig{
		EventURL:   "https://console.example.com/t/{tenant}/events/{id}",
		HuntingURL: "https://console.example.com/t/{tenant}/hunting?category={category}",
		MaxEvents:  3,
		Brand: alerts.Brand{
			ProductName: "Acme Security",
			SettingsURL: "https://console.example.com/t/{tenant}/settings/email",
			Address:     "Acme Security Inc.\n1 Example Street, Springfield 12345",
		},
	}
}

// longSummary is a summary of 200 characters, as long as detection
// engines write them.
const longSummary = "Process powershell.exe spawned from WINWORD.EXE ran an encoded command that downloaded a payload from a newly registered domain and wrote it to C:\\Users\\Public\\update.exe; isolate this host right now."

func mustLocation(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoErrorf(t, err, "time.LoadLocation(%q)", name)
	return loc
}

func mustContent(t testing.TB, cfg alerts.ContentConfig) *alerts.Content {
	t.Helper()
	c, err := alerts.NewContent(cfg)
	require.NoError(t, err, "NewContent")
	return c
}

// events returns n events of a category, one minute apart from 01:00 UTC on
// the day Paris moves to summer time, so that times on both sides show.
func events(cat alerts.CategoryID, n int) []alerts.Event {
	evs := make([]alerts.Event, n)
	for i := range evs {
		evs[i] = alerts.Event{
			ID:       fmt.Sprintf("evt-%d", i+1),
			Tenant:   "acme",
			Category: cat,
			Score:    float64(4 + i%6),
			Asset:    fmt.Sprintf("host-%02d", i+1),
			Summary:  fmt.Sprintf("Suspicious process tree #%d", i+1),
			Time:     time.Date(2026, 3, 29, 0, 58+i, 0, 0, time.UTC),
		}
	}
	return evs
}

func TestContentGolden(t *testing.T) {
	t.Parallel()
	paris := mustLocation(t, "Europe/Paris")
	status := []alerts.Event{
		{ID: "st-1", Tenant: "acme", Category: alerts.SystemStatus, Asset: "sensor-eu-1", Summary: "Sensor offline for 15 minutes", Time: time.Date(2026, 3, 29, 9, 0, 0, 0, time.UTC)},
		{ID: "st-2", Tenant: "acme", Category: alerts.SystemStatus, Asset: "sensor-eu-1", Summary: "Sensor back online", Time: time.Date(2026, 3, 29, 9, 15, 0, 0, time.UTC)},
	}
	long := events(alerts.Threat, 2)
	long[0].Summary = longSummary
	long[1].Asset = "fileserver-02.eu-west-1.corp.acme-industries.example.com"
	nonASCII := events(alerts.ActiveThreat, 2)
	for i := range nonASCII {
		nonASCII[i].Tenant = "Société Générale 東京"
	}
	nonASCII[1].Asset = "poste-comptabilité-03"
	nonASCII[1].Summary = "Exécution suspecte de « facture.pdf.exe » — 不審なプロセス"
	config := []alerts.Event{
		{ID: "cfg-9", Tenant: "acme", Category: alerts.Configuration, Asset: "policy/default", Summary: "Real-time protection disabled by admin@acme.example", Time: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)},
	}
	tests := []struct {
		name string
		msg  alerts.Message
	}{
		{"active-threat", alerts.Message{ID: "m1", Tenant: "acme", Category: alerts.ActiveThreat, Events: events(alerts.ActiveThreat, 5), Carried: 2, Location: paris}},
		{"active-threat-single", alerts.Message{ID: "m2", Tenant: "acme", Category: alerts.ActiveThreat, Events: events(alerts.ActiveThreat, 1)}},
		{"threat", alerts.Message{ID: "m3", Tenant: "acme", Category: alerts.Threat, Events: events(alerts.Threat, 2), Location: paris}},
		{"system-status", alerts.Message{ID: "m4", Tenant: "acme", Category: alerts.SystemStatus, Events: status, Location: mustLocation(t, "America/New_York")}},
		{"configuration", alerts.Message{ID: "m5", Tenant: "acme", Category: alerts.Configuration, Events: config, Carried: 1, Location: mustLocation(t, "Asia/Kolkata")}},
		{"custom-category", alerts.Message{ID: "m6", Tenant: "acme", Category: "backup", Events: events("backup", 4)}},
		{"long-summary", alerts.Message{ID: "m7", Tenant: "acme", Category: alerts.Threat, Events: long, Location: paris}},
		{"non-ascii", alerts.Message{ID: "m8", Tenant: "Société Générale 東京", Category: alerts.ActiveThreat, Events: nonASCII, Location: mustLocation(t, "Asia/Tokyo")}},
		{"plain", alerts.Message{ID: "m9", Tenant: "acme", Category: alerts.ActiveThreat, Events: events(alerts.ActiveThreat, 2)}},
	}
	branded := goldenConfig()
	branded.Brand = alerts.Brand{
		ProductName: "Sécurité Étoile 星",
		LogoURL:     "cid:logo.png",
		LogoWidth:   96,
		AccentColor: "#6d28d9",
		SettingsURL: "https://console.example.com/t/{tenant}/settings/email",
		Address:     "Étoile Sécurité SAS\n12 rue de l'Église, 75004 Paris",
	}
	contents := map[string]*alerts.Content{
		"":          mustContent(t, goldenConfig()),
		"non-ascii": mustContent(t, branded),
		"plain":     mustContent(t, alerts.ContentConfig{}),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := tt.msg
			c := contents[tt.name]
			if c == nil {
				c = contents[""]
			}
			require.NoErrorf(t, c.Render(&msg), "Render(%s)", tt.name)
			checkGolden(t, tt.name+".txt", "Subject: "+msg.Subject+"\n\n"+msg.Text)
			checkGolden(t, tt.name+".html", msg.HTML)
		})
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	rendertest.CheckGolden(t, name, got, *updateGolden)
}

// hostile is event data that tries to inject markup, break out of an
// attribute, forge lines of the plain-text part and redirect a link.
var hostile = alerts.Event{
	ID:       `x"/../../evil?<script>`,
	Tenant:   "acme\r\nBcc: victim@example.com",
	Category: alerts.ActiveThreat,
	Score:    9,
	Asset:    `<img src=x onerror="alert('asset')">`,
	Summary:  "<script>alert(\"pwned\")</script>\r\nView event: https://evil.example/\x00",
	Time:     time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
}

func TestContentEscapesEventData(t *testing.T) {
	t.Parallel()
	c := mustContent(t, goldenConfig())
	msg := &alerts.Message{ID: "m", Tenant: hostile.Tenant, Category: alerts.ActiveThreat, Events: []alerts.Event{hostile, hostile, hostile, hostile}}
	require.NoError(t, c.Render(msg), "Render")
	for _, bad := range []string{"<script", "<img", `"pwned"`, `onerror="`, "'asset'", "\x00", "evil.example/../"} {
		assert.NotContainsf(t, msg.HTML, bad, "HTML holds %q unescaped", bad)
	}
	for _, want := range []string{
		"&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;",
		"&lt;img src=x onerror=&#34;alert(&#39;asset&#39;)&#34;&gt;",
		// The id stays inside one path segment and the query stays ours.
		`href="https://console.example.com/t/acme%0D%0ABcc:%20victim@example.com/events/x%22%2F..%2F..%2Fevil%3F%3Cscript%3E"`,
	} {
		assert.Containsf(t, msg.HTML, want, "HTML lacks %q", want)
	}
	// In the plain-text part the data stays readable, in its own lines:
	// CR, LF and NUL cannot forge a "View event:" or header-like line, and
	// where the summary wraps, its lines are indented deeper than the
	// email's own "  View event:" lines.
	for line := range strings.Lines(msg.Text) {
		assert.Falsef(t, strings.HasPrefix(line, "Bcc:"), "text part has a forged line %q", line)
		assert.Falsef(t, strings.HasPrefix(line, "  View event: https://evil"), "text part has a forged line %q", line)
	}
	assert.Falsef(t, strings.ContainsAny(msg.Text, "\r\x00"), "text part holds CR or NUL:\n%q", msg.Text)
	assert.Contains(t, msg.Text, "<script>alert(\"pwned\")</script>\n    View event: https://evil.example/", "text part lacks the flattened summary")
	assert.Falsef(t, strings.ContainsAny(msg.Subject, "\r\n\x00"), "Subject = %q; holds CR, LF or NUL", msg.Subject)
}

func TestContentOverrides(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"active-threat.txt":  {Data: []byte("{{range .Events}}{{.Summary}}|{{.URL}}\n{{end}}")},
		"active-threat.html": {Data: []byte(`{{range .Events}}<p title="{{.Asset}}">{{.Summary}}</p><a href="{{.URL}}">go</a>{{end}}`)},
		"subject.txt":        {Data: []byte("{{.Tenant}}\n{{.Count}} urgent")},
	}
	cfg := goldenConfig()
	cfg.Templates = fsys
	c := mustContent(t, cfg)
	msg := &alerts.Message{ID: "m", Tenant: hostile.Tenant, Category: alerts.ActiveThreat, Events: []alerts.Event{hostile}}
	require.NoError(t, c.Render(msg), "Render")
	wantHTML := `<p title="&lt;img src=x onerror=&#34;alert(&#39;asset&#39;)&#34;&gt;">&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; View event: https://evil.example/</p>` +
		`<a href="https://console.example.com/t/acme%0D%0ABcc:%20victim@example.com/events/x%22%2F..%2F..%2Fevil%3F%3Cscript%3E">go</a>` + "\n"
	assert.Equal(t, wantHTML, msg.HTML, "overridden HTML")
	assert.Equal(t, "acme Bcc: victim@example.com 1 urgent", msg.Subject, "overridden Subject")
	// The other categories keep the built-in templates.
	other := &alerts.Message{ID: "o", Tenant: "acme", Category: alerts.Threat, Events: events(alerts.Threat, 1)}
	require.NoError(t, c.Render(other), "Render(threat)")
	assert.Containsf(t, other.Text, "\nTHREAT ALERT\n", "Threat text = %q; want the built-in template", other.Text)
}

// pair returns a file system of the files given as name, content, ...
func pair(files ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for i := 0; i+1 < len(files); i += 2 {
		m[files[i]] = &fstest.MapFile{Data: []byte(files[i+1])}
	}
	return m
}

func TestNewContentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  alerts.ContentConfig
		want string
	}{
		{"negative max", alerts.ContentConfig{MaxEvents: -1}, "ContentConfig.MaxEvents"},
		{"event url scheme", alerts.ContentConfig{EventURL: "javascript:alert(1)"}, "ContentConfig.EventURL"},
		{"event url placeholder", alerts.ContentConfig{EventURL: "https://c.example/{event}"}, "ContentConfig.EventURL"},
		{"hunting url id", alerts.ContentConfig{HuntingURL: "https://c.example/{id}"}, "ContentConfig.HuntingURL"},
		{"html without text", alerts.ContentConfig{Templates: pair("threat.html", "x")}, "threat.html has no threat.txt"},
		{"text without html", alerts.ContentConfig{Templates: pair("backup.txt", "x")}, "backup.txt has no backup.html"},
		{"unknown extension", alerts.ContentConfig{Templates: pair("threat.tmpl", "x")}, `"threat.tmpl"`},
		{"not a category", alerts.ContentConfig{Templates: pair("Threat!.txt", "x", "Threat!.html", "x")}, `is not named after a category`},
		{"html subject", alerts.ContentConfig{Templates: pair("subject.html", "x")}, `"subject.html"`},
		{"text syntax", alerts.ContentConfig{Templates: pair("threat.txt", "{{.X", "threat.html", "x")}, "threat.txt"},
		{"html syntax", alerts.ContentConfig{Templates: pair("threat.txt", "x", "threat.html", "{{end}}")}, "threat.html"},
		{"subject syntax", alerts.ContentConfig{Templates: pair("subject.txt", "{{")}, "subject.txt"},
		{"not utf-8", alerts.ContentConfig{Templates: pair("threat.txt", "\xff", "threat.html", "x")}, "threat.txt is not valid UTF-8"},
		{"directory", alerts.ContentConfig{Templates: pair("sub/threat.txt", "x")}, `directory "sub"`},
		{"accent", alerts.ContentConfig{Brand: alerts.Brand{AccentColor: "#ffcc00"}}, "ContentConfig.Brand.AccentColor"},
		{"logo", alerts.ContentConfig{Brand: alerts.Brand{LogoURL: "http://cdn.example.com/logo.png"}}, "ContentConfig.Brand.LogoURL"},
		{"settings url", alerts.ContentConfig{Brand: alerts.Brand{SettingsURL: "https://c.example/{id}"}}, "ContentConfig.Brand.SettingsURL"},
		{"band order", alerts.ContentConfig{Bands: []alerts.Band{{Min: 5, Name: "A", Color: "#5f6368"}, {Min: 5, Name: "B", Color: "#5f6368"}}}, "ContentConfig.Bands[1].Min"},
		{"band range", alerts.ContentConfig{Bands: []alerts.Band{{Min: -1, Name: "A", Color: "#5f6368"}}}, "ContentConfig.Bands[0].Min"},
		{"band name", alerts.ContentConfig{Bands: []alerts.Band{{Min: 0, Name: "", Color: "#5f6368"}}}, "ContentConfig.Bands[0].Name"},
		{"band name line", alerts.ContentConfig{Bands: []alerts.Band{{Min: 0, Name: "A\nB", Color: "#5f6368"}}}, "ContentConfig.Bands[0].Name"},
		{"band color", alerts.ContentConfig{Bands: []alerts.Band{{Min: 0, Name: "A", Color: "grey"}}}, "ContentConfig.Bands[0].Color"},
		{"band contrast", alerts.ContentConfig{Bands: []alerts.Band{{Min: 0, Name: "A", Color: "#ffd54f"}}}, "ContentConfig.Bands[0].Color is \"#ffd54f\": white text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := alerts.NewContent(tt.cfg)
			assert.Nilf(t, c, "NewContent(%s) returned a Content", tt.name)
			assert.ErrorIsf(t, err, alerts.ErrContent, "NewContent(%s) = %v; want an ErrContent", tt.name, err)
			assert.ErrorContainsf(t, err, tt.want, "NewContent(%s) = %v; want an error naming %q", tt.name, err, tt.want)
		})
	}
}

// deniedFS is a file system that refuses every file.
type deniedFS struct{}

func (deniedFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
}

// TestContentErrorsUnwrap checks that the errors of NewContent and Render
// wrap their cause, for errors.Is and errors.As, besides ErrContent.
func TestContentErrorsUnwrap(t *testing.T) {
	t.Parallel()
	_, err := alerts.NewContent(alerts.ContentConfig{Templates: deniedFS{}})
	var pe *fs.PathError
	assert.ErrorAsf(t, err, &pe, "NewContent(a file system that refuses) = %v; want the *fs.PathError", err)
	assert.ErrorIsf(t, err, fs.ErrPermission, "NewContent(a file system that refuses) = %v; want fs.ErrPermission", err)

	_, err = alerts.NewContent(alerts.ContentConfig{Templates: pair("Threat!.txt", "x", "Threat!.html", "x")})
	assert.ErrorIsf(t, err, alerts.ErrInvalidCategory, "NewContent(Threat!.txt) = %v; want ErrInvalidCategory", err)

	for _, files := range []fstest.MapFS{
		pair("subject.txt", "{{.Nope}}"),
		pair("threat.txt", "{{.Nope}}", "threat.html", "x"),
		pair("threat.txt", "x", "threat.html", "{{.Nope}}"),
	} {
		c := mustContent(t, alerts.ContentConfig{Templates: files})
		err := c.Render(&alerts.Message{ID: "e", Tenant: "acme", Category: alerts.Threat, Events: events(alerts.Threat, 1)})
		var ee texttemplate.ExecError
		assert.ErrorAsf(t, err, &ee, "Render with a template that fails = %v; want the template.ExecError", err)
		assert.ErrorIsf(t, err, alerts.ErrContent, "Render with a template that fails = %v; want ErrContent", err)
	}
}

func TestContentRenderErrors(t *testing.T) {
	t.Parallel()
	missing := alerts.ContentConfig{Templates: pair("threat.txt", "{{.Nope}}", "threat.html", "x")}
	tests := []struct {
		name string
		cfg  alerts.ContentConfig
		msg  *alerts.Message
		want string
	}{
		{"nil message", alerts.ContentConfig{}, nil, "nil message"},
		{"no events", alerts.ContentConfig{}, &alerts.Message{ID: "a", Subject: "keep"}, `message "a" has no events`},
		{"carried too many", alerts.ContentConfig{}, &alerts.Message{ID: "b", Subject: "keep", Events: events(alerts.Threat, 1), Carried: 2}, "carries 2 events of 1"},
		{"carried negative", alerts.ContentConfig{}, &alerts.Message{ID: "c", Subject: "keep", Events: events(alerts.Threat, 1), Carried: -1}, "carries -1 events of 1"},
		{"template field", missing, &alerts.Message{ID: "d", Subject: "keep", Category: alerts.Threat, Events: events(alerts.Threat, 1)}, `message "d"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := mustContent(t, tt.cfg).Render(tt.msg)
			assert.ErrorIsf(t, err, alerts.ErrContent, "Render(%s) = %v; want an ErrContent", tt.name, err)
			assert.ErrorContainsf(t, err, tt.want, "Render(%s) = %v; want an error naming %q", tt.name, err, tt.want)
			if tt.msg != nil {
				assert.Equalf(t, "keep", tt.msg.Subject, "Render(%s) changed the message on error: %+v", tt.name, tt.msg)
				assert.Emptyf(t, tt.msg.Text, "Render(%s) changed the message on error: %+v", tt.name, tt.msg)
				assert.Emptyf(t, tt.msg.HTML, "Render(%s) changed the message on error: %+v", tt.name, tt.msg)
			}
		})
	}
}

func TestContentZeroValue(t *testing.T) {
	t.Parallel()
	var c alerts.Content
	msg := &alerts.Message{ID: "z", Tenant: "acme", Category: alerts.ActiveThreat, Events: events(alerts.ActiveThreat, alerts.DefaultMaxEvents+2)}
	require.NoError(t, c.Render(msg), "zero Content.Render")
	assert.Equal(t, "Active Threat Alerts: 12 events", msg.Subject, "Subject")
	// The default cut, no links configured, UTC.
	for _, want := range []string{"Showing 10 of 12 high-risk threat events; 2 more not shown.", "2026-03-29 00:58:00 UTC", "Times are shown in UTC."} {
		assert.Containsf(t, msg.Text, want, "text lacks %q", want)
	}
	for _, bad := range []string{"View event", "View more events", "host-11"} {
		assert.NotContainsf(t, msg.Text, bad, "zero-config text holds %q", bad)
		assert.NotContainsf(t, msg.HTML, bad, "zero-config HTML holds %q", bad)
	}
}

func TestContentLocation(t *testing.T) {
	t.Parallel()
	cfg := goldenConfig()
	cfg.Location = mustLocation(t, "Asia/Tokyo")
	c := mustContent(t, cfg)
	tests := []struct {
		name string
		loc  *time.Location
		want string
	}{
		{"config default", nil, "2026-03-29 09:58:00 JST (UTC+09:00)"},
		{"message zone", mustLocation(t, "America/Los_Angeles"), "2026-03-28 17:58:00 PDT (UTC-07:00)"},
		{"message zone over config zone", mustLocation(t, "Australia/Sydney"), "2026-03-29 11:58:00 AEDT (UTC+11:00)"},
		{"message in UTC", time.UTC, "2026-03-29 00:58:00 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := &alerts.Message{ID: "l", Tenant: "acme", Category: alerts.Threat, Events: events(alerts.Threat, 1), Location: tt.loc}
			require.NoError(t, c.Render(msg), "Render")
			assert.Containsf(t, msg.Text, tt.want, "Render(%v) lacks %q in text", tt.loc, tt.want)
			assert.Containsf(t, msg.HTML, strings.ReplaceAll(tt.want, "+", "&#43;"), "Render(%v) lacks %q in HTML", tt.loc, tt.want)
		})
	}
}

// TestContentEventWithoutID checks that an event without an ID gets no
// event link: the link would lead to no event's page.
func TestContentEventWithoutID(t *testing.T) {
	t.Parallel()
	c := mustContent(t, goldenConfig())
	evs := events(alerts.Threat, 2)
	evs[1].ID = ""
	msg := &alerts.Message{ID: "n", Tenant: "acme", Category: alerts.Threat, Events: evs}
	require.NoError(t, c.Render(msg), "Render")
	for _, part := range []struct{ name, body string }{{"text", msg.Text}, {"HTML", msg.HTML}} {
		n := strings.Count(part.body, "https://console.example.com/t/acme/events/")
		assert.Equalf(t, 1, n, "Render: the %s part has %d event links; want 1 (evt-1 only):\n%s", part.name, n, part.body)
	}
}

func TestContentSubjectCapped(t *testing.T) {
	t.Parallel()
	c := mustContent(t, alerts.ContentConfig{Templates: pair("subject.txt", `{{.Tenant}}{{.Tenant}}`)})
	msg := &alerts.Message{ID: "s", Tenant: strings.Repeat("é", 100), Category: alerts.Threat, Events: events(alerts.Threat, 1)}
	require.NoError(t, c.Render(msg), "Render")
	assert.Lenf(t, []rune(msg.Subject), 150, "Subject %q; want 150 runes", msg.Subject)
	assert.Truef(t, strings.HasSuffix(msg.Subject, "…"), "Subject %q; want it to end in an ellipsis", msg.Subject)
}

func BenchmarkContentRender(b *testing.B) {
	cfg := goldenConfig()
	cfg.MaxEvents = 20
	c := mustContent(b, cfg)
	paris := mustLocation(b, "Europe/Paris")
	evs := events(alerts.ActiveThreat, 20)
	b.ReportAllocs()
	for b.Loop() {
		msg := alerts.Message{ID: "bench", Tenant: "acme", Category: alerts.ActiveThreat, Events: evs, Carried: 3, Location: paris}
		if err := c.Render(&msg); err != nil {
			require.FailNow(b, "Render", err)
		}
	}
}

// TestContentSeverity checks the badges: each score in its band, with the
// band's name and colour, and the summary line's highest score over every
// event of the message, listed or not.
func TestContentSeverity(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)
	evs := []alerts.Event{
		{ID: "a", Score: 3.9, Summary: "low", Time: at},
		{ID: "b", Score: 4, Summary: "medium", Time: at},
		{ID: "c", Score: 7.99, Summary: "high", Time: at},
		{ID: "d", Score: 8, Summary: "critical", Time: at},
		{ID: "e", Summary: "unscored", Time: at},
		{ID: "f", Score: 9.5, Summary: "cut", Time: at}, // past MaxEvents
	}
	tests := []struct {
		name      string
		bands     []alerts.Band
		wantText  []string
		wantHTML  []string
		wantIntro string
	}{
		{
			name:      "default bands",
			wantText:  []string{"score 3.9 (Low)", "score 4 (Medium)", "score 7.99 (High)", "score 8 (Critical)", "UTC\n  unscored"},
			wantHTML:  []string{"background: #5f6368;", ">3.9 Low</span>", ">4 Medium</span>", ">7.99 High</span>", ">8 Critical</span>"},
			wantIntro: "The highest score is 9.5 (Critical).",
		},
		{
			name:      "custom bands",
			bands:     []alerts.Band{{Min: 5, Name: "Urgent", Color: "#B3261E"}},
			wantText:  []string{"score 3.9\n", "score 4\n", "score 7.99 (Urgent)", "score 8 (Urgent)"},
			wantHTML:  []string{">3.9</span>", "background: #b3261e;", ">8 Urgent</span>"},
			wantIntro: "The highest score is 9.5 (Urgent).",
		},
		{
			name:      "no bands",
			bands:     []alerts.Band{},
			wantText:  []string{"score 3.9\n", "score 8\n"},
			wantHTML:  []string{">8</span>"},
			wantIntro: "The highest score is 9.5.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustContent(t, alerts.ContentConfig{MaxEvents: 5, Bands: tt.bands})
			msg := &alerts.Message{ID: "s", Tenant: "acme", Category: alerts.Threat, Events: evs}
			require.NoError(t, c.Render(msg), "Render")
			for _, want := range tt.wantText {
				assert.Containsf(t, msg.Text, want, "Render(%s) text lacks %q", tt.name, want)
			}
			// The summary line may wrap anywhere.
			assert.Containsf(t, strings.Join(strings.Fields(msg.Text), " "), tt.wantIntro, "Render(%s) text lacks %q", tt.name, tt.wantIntro)
			for _, want := range tt.wantHTML {
				assert.Containsf(t, msg.HTML, want, "Render(%s) HTML lacks %q", tt.name, want)
			}
			assert.Containsf(t, msg.HTML, ">Highest score "+strings.TrimSuffix(strings.TrimPrefix(tt.wantIntro, "The highest score is "), "."),
				"Render(%s) HTML lacks the preheader", tt.name)
		})
	}
	// Without any score, neither the summary line nor the preheader speaks
	// of one, and no event has a badge column.
	c := mustContent(t, alerts.ContentConfig{})
	msg := &alerts.Message{ID: "u", Tenant: "acme", Category: alerts.SystemStatus, Events: evs[4:5]}
	require.NoError(t, c.Render(msg), "Render(unscored)")
	for _, part := range []string{msg.Text, msg.HTML} {
		assert.NotContains(t, part, "highest score", "Render(unscored)")
		assert.NotContains(t, part, "Highest score", "Render(unscored)")
	}
	assert.NotContains(t, msg.HTML, `width="112"`, "Render(unscored) HTML has a badge column")
}

// TestContentTextWidth checks that every line of the plain-text goldens
// fits in 72 columns, but for a single word too long for any line (a
// link).
func TestContentTextWidth(t *testing.T) {
	t.Parallel()
	rendertest.CheckGoldenText(t)
}

// TestGoldenHTML reads every golden HTML part with a real HTML parser:
// tags balance and need no repair, every img has alt text, and nothing
// email clients drop or that tracks the reader.
func TestGoldenHTML(t *testing.T) {
	t.Parallel()
	rendertest.CheckGoldenHTML(t)
}
