package digest_test

import (
	"flag"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/internal/render"
	"github.com/alertmail/alertmail/internal/render/rendertest"
)

// renderDigest sends one digest of items (Monday 09:00 Berlin) and returns it.
func renderDigest(t *testing.T, cfg digest.MailerConfig, items []digest.Item) alerts.Message {
	t.Helper()
	s, clk, rec := newMailer(t, cfg, monday.Add(-12*time.Hour))
	mustSetTenant(t, s, "acme", berlinSubscription())
	for _, it := range items {
		mustAdd(t, s, it)
	}
	require.NoError(t, sendAt(t, s, clk, monday), "SendDue")
	got := rec.Messages()
	require.Len(t, got, 1, "digests")
	return got[0]
}

func renderItems() []digest.Item {
	at := func(h int) time.Time { return monday.Add(-time.Duration(h) * time.Hour) }
	return []digest.Item{
		{Tenant: "acme", Category: alerts.Configuration, Asset: "fw-1", Fingerprint: "c1", Summary: "Rule set changed", Time: at(5)},
		{Tenant: "acme", Category: alerts.Threat, Asset: "srv-2", Fingerprint: "t3", Summary: "Port scan", Time: at(4)},
		{Tenant: "acme", Category: alerts.Threat, Asset: "laptop-7", Fingerprint: "t1", Summary: "Suspicious PowerShell", Time: at(8)},
		{Tenant: "acme", Category: alerts.Threat, Asset: "laptop-7", Fingerprint: "t1", Summary: "Suspicious PowerShell", Time: at(3)},
		{Tenant: "acme", Category: alerts.Threat, Asset: "laptop-7", Fingerprint: "t2", Summary: "Credential dump\r\nBcc: evil@example.com", Time: at(2)},
		{Tenant: "acme", Category: alerts.SystemStatus, Asset: "", Fingerprint: "s1", Summary: "Sensor offline <script>alert(1)</script>", Time: at(1)},
		{Tenant: "acme", Category: "custom-audit", Asset: "db-1", Fingerprint: "u1", Summary: "Audit log gap", Time: at(6)},
	}
}

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the digest email")

// goldenBrand is the brand of the golden digests.
func goldenBrand() alerts.Brand {
	return alerts.Brand{
		ProductName: "Acme Security",
		SettingsURL: "https://console.example.com/t/{tenant}/settings/email",
		Address:     "Acme Security Inc.\n1 Example Street, Springfield 12345",
	}
}

// TestRenderGolden renders the digest of renderItems, branded and listing
// all, cut at three lines, and with the zero config, and compares both
// parts with the golden files.
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	const viewAll = "https://console.example.com/digest/{tenant}?day={day}"
	tests := []struct {
		name string
		cfg  digest.MailerConfig
	}{
		{"digest", digest.MailerConfig{Brand: goldenBrand(), ViewAllURL: viewAll}},
		{"digest-cut", digest.MailerConfig{Brand: goldenBrand(), ViewAllURL: viewAll, MaxLines: 3}},
		{"digest-plain", digest.MailerConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := renderDigest(t, tt.cfg, renderItems())
			checkGolden(t, tt.name+".txt", "Subject: "+msg.Subject+"\n\n"+msg.Text)
			checkGolden(t, tt.name+".html", msg.HTML)
		})
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	rendertest.CheckGolden(t, name, got, *updateGolden)
}

// TestGoldenText checks that every line of the plain-text goldens fits in
// 72 columns, but for a single word too long for any line (a link).
func TestGoldenText(t *testing.T) {
	t.Parallel()
	rendertest.CheckGoldenText(t)
}

func TestRenderText(t *testing.T) {
	t.Parallel()
	msg := renderDigest(t, digest.MailerConfig{}, renderItems())
	for _, want := range []string{
		"Daily digest for acme, 2026-03-02 (UTC+01:00)\n\n6 new notifications (7 occurrences) on 5 assets:\n",
		"  Threat Alerts: 3 on 2 assets\n  System Status Alerts: 1 on 1 asset\n  Configuration Alerts: 1 on 1 asset\n  custom-audit: 1 on 1 asset\n",
		"Threat Alerts (3)\n\n  laptop-7 (2)\n  - Suspicious PowerShell (x2)\n" +
			"      first seen 2026-03-02 01:00:00 CET (UTC+01:00)\n      last seen 2026-03-02 06:00:00 CET (UTC+01:00)\n" +
			"  - Credential dump Bcc: evil@example.com\n      seen 2026-03-02 07:00:00 CET (UTC+01:00)\n",
		"  (no asset) (1)\n  - Sensor offline <script>alert(1)</script>\n",
	} {
		assert.Contains(t, msg.Text, want, "the digest text")
	}
	for line := range strings.Lines(msg.Text) {
		assert.LessOrEqualf(t, render.Width(strings.TrimSuffix(line, "\n")), render.TextWidth, "digest text line %q is wider than %d columns", line, render.TextWidth)
	}
	assert.Equal(t, "Daily digest 2026-03-02: 6 new notifications", msg.Subject, "the Subject")
	assert.Len(t, msg.Events, 6, "the message's events")
	assert.Empty(t, msg.Category, "the message's category")
	assert.Equal(t, "acme", msg.Tenant, "the message's tenant")
	assert.Equal(t, []string{"soc@acme.example"}, msg.To, "the message's recipients")
}

func TestRenderHTML(t *testing.T) {
	t.Parallel()
	msg := renderDigest(t, digest.MailerConfig{}, renderItems())
	for _, want := range []string{
		`<html lang="en">`,
		">Threat Alerts <span",
		">laptop-7 <span",
		">Suspicious PowerShell <span",
		">×2</span>",
		"Sensor offline &lt;script&gt;alert(1)&lt;/script&gt;",
		">Configuration Alerts</td>",
	} {
		assert.Contains(t, msg.HTML, want, "the digest HTML")
	}
	assert.NotContains(t, msg.HTML, "<script>", "the digest HTML, escaped")
	// Headings follow the text part's order: categories as the settings
	// screen lists them, then assets by name.
	body := msg.HTML[strings.Index(msg.HTML, "<h2"):]
	order := []string{"Threat Alerts", "laptop-7", "srv-2", "System Status Alerts", "Configuration Alerts", "custom-audit"}
	pos := 0
	for _, s := range order {
		i := strings.Index(body[pos:], s)
		require.GreaterOrEqualf(t, i, 0, "digest HTML lacks %q after byte %d:\n%s", s, pos, body)
		pos += i + len(s)
	}
}

func TestRenderCut(t *testing.T) {
	t.Parallel()
	msg := renderDigest(t, digest.MailerConfig{MaxLines: 3, ViewAllURL: "https://console.example.com/digest/{tenant}?day={day}"}, renderItems())
	wantTail := `  srv-2 (1)
  - Port scan
      seen 2026-03-02 05:00:00 CET (UTC+01:00)

3 more notifications are not listed here.
View all: https://console.example.com/digest/acme?day=2026-03-02

Times are shown in Europe/Berlin.
`
	assert.Containsf(t, msg.Text, wantTail, "cut digest text =\n%s\nwant it to hold\n%s", msg.Text, wantTail)
	// The summary still counts every category.
	assert.Contains(t, msg.Text, "  custom-audit: 1 on 1 asset\n", "the cut digest text counts custom-audit")
	assert.NotContains(t, msg.Text, "Audit log gap", "the cut digest text does not list custom-audit")
	assert.Contains(t, msg.HTML, `<a href="https://console.example.com/digest/acme?day=2026-03-02" target="_blank" rel="noopener" style="display: inline-block;`, "the cut digest HTML")
	assert.Contains(t, msg.HTML, `>View all notifications</a>`, "the cut digest HTML")
	assert.Len(t, msg.Events, 6, "the cut digest's events: all of them")
	// Without a link, the email still says how many are left out.
	msg = renderDigest(t, digest.MailerConfig{MaxLines: 5}, renderItems())
	assert.Contains(t, msg.Text, "\n1 more notification is not listed here.\n\nTimes", "cut digest text without a link")
	// A negative MaxLines lists all.
	msg = renderDigest(t, digest.MailerConfig{MaxLines: -1}, renderItems())
	assert.NotContains(t, msg.Text, "not listed", "the digest with MaxLines -1")
}

// TestRenderTemplates: a host's own templates replace the defaults and get
// the same data; a broken one is refused by NewMailer.
func TestRenderTemplates(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"digest.txt":  {Data: []byte("{{.Lines}} new for {{.Tenant}}{{range .Categories}}; {{.Name}}{{range .Assets}} {{.Name}}{{end}}{{end}}\n")},
		"digest.html": {Data: []byte("<p>{{.Lines}} new for {{.Tenant}}</p>")},
	}
	msg := renderDigest(t, digest.MailerConfig{Templates: fsys}, renderItems())
	assert.Equal(t, "6 new for acme; Threat Alerts laptop-7 srv-2; System Status Alerts (no asset); Configuration Alerts fw-1; custom-audit db-1\n",
		msg.Text, "the custom text")
	assert.Equal(t, "<p>6 new for acme</p>", msg.HTML, "the custom HTML")
	for name, bad := range map[string]fstest.MapFS{
		"missing html": {"digest.txt": fsys["digest.txt"]},
		"syntax":       {"digest.txt": {Data: []byte("{{.Lines")}, "digest.html": fsys["digest.html"]},
	} {
		_, err := digest.NewMailer(digest.MailerConfig{Notifier: alertstest.NewRecorder(), Templates: bad})
		assert.ErrorIsf(t, err, digest.ErrConfig, "NewMailer with templates (%s)", name)
		assert.ErrorContainsf(t, err, "MailerConfig.Templates", "NewMailer with templates (%s) = %v; want it to name Templates", name, err)
	}
}

// TestTemplateData: a host's templates get a *digest.TemplateData, as its
// doc says: a template using every documented field renders them with the
// digest's values.
func TestTemplateData(t *testing.T) {
	t.Parallel()
	const txt = `{{.Tenant}}|{{.Date}}|{{.Lines}}|{{.Occurrences}}|{{.Assets}}|{{.More}}|{{.ViewAll}}
{{range .Summary}}S {{.Name}} {{.Lines}} {{.AssetCount}} {{len .Assets}}
{{end}}{{range .Categories}}C {{.Name}} {{.Lines}} {{.AssetCount}}
{{range .Assets}}A {{.Name}} {{.Lines}}
{{range .Items}}L {{.Summary}}|{{.Fingerprint}}|{{.Count}}|{{.First}}|{{.Last}}
{{end}}{{end}}{{end}}`
	fsys := fstest.MapFS{
		"digest.txt":  {Data: []byte(txt)},
		"digest.html": {Data: []byte(`<p>{{.Tenant}}</p>`)},
	}
	msg := renderDigest(t, digest.MailerConfig{Templates: fsys, MaxLines: 2, ViewAllURL: "https://console.example/d/{tenant}/{day}"},
		renderItems())
	cet := func(h int) string {
		return monday.Add(-time.Duration(h)*time.Hour).Format("2006-01-02 15:04:05") + " CET (UTC+01:00)"
	}
	want := "acme|2026-03-02 (UTC+01:00)|6|7|5|4|https://console.example/d/acme/2026-03-02\n" +
		"S Threat Alerts 3 2 0\nS System Status Alerts 1 1 0\nS Configuration Alerts 1 1 0\nS custom-audit 1 1 0\n" +
		"C Threat Alerts 3 2\nA laptop-7 2\n" +
		"L Suspicious PowerShell|t1|2|" + cet(8) + "|" + cet(3) + "\n" +
		"L Credential dump Bcc: evil@example.com|t2|1|" + cet(2) + "|" + cet(2) + "\n"
	assert.Equal(t, want, msg.Text, "the custom template's rendering")
	var _ *digest.TemplateData // the type the doc names
}

// TestRenderSkippedDate: Pacific/Apia skipped 2011-12-30, so the digest of
// that date (09:00) is sent at the end of the skip, 2011-12-31 00:00. Its
// body must show its own date, as its subject and Message-ID do, not the
// date of the send instant (which the body showed before).
func TestRenderSkippedDate(t *testing.T) {
	t.Parallel()
	apia, err := time.LoadLocation("Pacific/Apia")
	require.NoError(t, err)
	sendTime := time.Date(2011, 12, 31, 0, 0, 0, 0, apia)
	s, clk, rec := newMailer(t, digest.MailerConfig{}, sendTime.Add(-time.Hour))
	mustSetTenant(t, s, "acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9, Location: apia}, To: []string{"soc@acme.example"}})
	mustAdd(t, s, digest.Item{Tenant: "acme", Category: alerts.Threat, Asset: "h", Fingerprint: "f", Summary: "s", Time: sendTime.Add(-2 * time.Hour)})
	require.NoError(t, sendAt(t, s, clk, sendTime))
	msgs := rec.Messages()
	require.Len(t, msgs, 1, "digests sent")
	msg := msgs[0]
	assert.Contains(t, msg.Subject, "2011-12-30", "Subject")
	assert.Contains(t, msg.ID, "2011-12-30", "Message-ID")
	assert.Contains(t, msg.Text, "\nDaily digest for acme, 2011-12-30 (UTC+14:00)\n", "the text body")
	assert.Contains(t, msg.HTML, "2011-12-30 (UTC&#43;14:00)", "HTML body")
	assert.NotContains(t, msg.Text+msg.HTML, "2011-12-31 (", "the bodies show the send instant's date")
}

// TestGoldenHTML reads every golden HTML part with a real HTML parser:
// tags balance and need no repair, every img has alt text, and nothing
// email clients drop or that tracks the reader.
func TestGoldenHTML(t *testing.T) {
	t.Parallel()
	rendertest.CheckGoldenHTML(t)
}
