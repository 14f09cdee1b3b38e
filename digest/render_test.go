package digest_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/digest"
)

// renderDigest sends one digest of items (Monday 09:00 Berlin) and returns it.
func renderDigest(t *testing.T, cfg digest.MailerConfig, items []digest.Item) alerts.Message {
	t.Helper()
	s, clk, rec := newMailer(t, cfg, monday.Add(-12*time.Hour))
	mustSetTenant(t, s, "acme", berlinSubscription())
	for _, it := range items {
		mustAdd(t, s, it)
	}
	if err := sendAt(t, s, clk, monday); err != nil {
		t.Fatal(err)
	}
	got := rec.Messages()
	if len(got) != 1 {
		t.Fatalf("%d digests; want 1", len(got))
	}
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

func TestRenderText(t *testing.T) {
	t.Parallel()
	msg := renderDigest(t, digest.MailerConfig{}, renderItems())
	want := `Daily digest for acme, 2026-03-02 (UTC+01:00)

6 new notifications (7 occurrences) on 5 assets:
  Threat Alerts: 3 on 2 assets
  System Status Alerts: 1 on 1 asset
  Configuration Alerts: 1 on 1 asset
  custom-audit: 1 on 1 asset

Threat Alerts (3)

  laptop-7 (2)
  - Suspicious PowerShell (x2)
      first seen 2026-03-02 01:00:00 CET (UTC+01:00), last seen 2026-03-02 06:00:00 CET (UTC+01:00)
  - Credential dump Bcc: evil@example.com
      seen 2026-03-02 07:00:00 CET (UTC+01:00)

  srv-2 (1)
  - Port scan
      seen 2026-03-02 05:00:00 CET (UTC+01:00)

System Status Alerts (1)

  (no asset) (1)
  - Sensor offline <script>alert(1)</script>
      seen 2026-03-02 08:00:00 CET (UTC+01:00)

Configuration Alerts (1)

  fw-1 (1)
  - Rule set changed
      seen 2026-03-02 04:00:00 CET (UTC+01:00)

custom-audit (1)

  db-1 (1)
  - Audit log gap
      seen 2026-03-02 03:00:00 CET (UTC+01:00)
`
	if msg.Text != want {
		t.Errorf("digest text =\n%s\nwant\n%s", msg.Text, want)
	}
	if want := "Daily digest 2026-03-02: 6 new notifications"; msg.Subject != want {
		t.Errorf("Subject = %q; want %q", msg.Subject, want)
	}
	if len(msg.Events) != 6 || msg.Category != "" || msg.Tenant != "acme" || msg.To[0] != "soc@acme.example" {
		t.Errorf("message = %d events, category %q, tenant %q, to %v; want 6, \"\", acme, [soc@acme.example]",
			len(msg.Events), msg.Category, msg.Tenant, msg.To)
	}
}

func TestRenderHTML(t *testing.T) {
	t.Parallel()
	msg := renderDigest(t, digest.MailerConfig{}, renderItems())
	for _, want := range []string{
		"<h2>Threat Alerts (3)</h2>",
		"<h3>laptop-7 (2)</h3>",
		"<li>Suspicious PowerShell (x2)<br>",
		"Sensor offline &lt;script&gt;alert(1)&lt;/script&gt;",
		"<li>Configuration Alerts: 1 on 1 asset</li>",
	} {
		if !strings.Contains(msg.HTML, want) {
			t.Errorf("digest HTML lacks %q:\n%s", want, msg.HTML)
		}
	}
	if strings.Contains(msg.HTML, "<script>") {
		t.Errorf("digest HTML has an unescaped <script>:\n%s", msg.HTML)
	}
	// Headings follow the text part's order: categories as the settings
	// screen lists them, then assets by name.
	order := []string{"Threat Alerts (3)", "laptop-7", "srv-2", "System Status Alerts (1)", "Configuration Alerts (1)", "custom-audit (1)"}
	pos := 0
	for _, s := range order {
		i := strings.Index(msg.HTML[pos:], s)
		if i < 0 {
			t.Fatalf("digest HTML lacks %q after byte %d:\n%s", s, pos, msg.HTML)
		}
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
`
	if !strings.HasSuffix(msg.Text, wantTail) {
		t.Errorf("cut digest text =\n%s\nwant it to end with\n%s", msg.Text, wantTail)
	}
	// The summary still counts every category.
	if !strings.Contains(msg.Text, "  custom-audit: 1 on 1 asset\n") || strings.Contains(msg.Text, "Audit log gap") {
		t.Errorf("cut digest text should count custom-audit but not list it:\n%s", msg.Text)
	}
	if want := `<a href="https://console.example.com/digest/acme?day=2026-03-02">View all</a>`; !strings.Contains(msg.HTML, want) {
		t.Errorf("cut digest HTML lacks %q:\n%s", want, msg.HTML)
	}
	if len(msg.Events) != 6 {
		t.Errorf("cut digest has %d events; want all 6", len(msg.Events))
	}
	// Without a link, the email still says how many are left out.
	msg = renderDigest(t, digest.MailerConfig{MaxLines: 5}, renderItems())
	if !strings.HasSuffix(msg.Text, "\n1 more notification is not listed here.\n") {
		t.Errorf("cut digest text without a link =\n%s", msg.Text)
	}
	// A negative MaxLines lists all.
	msg = renderDigest(t, digest.MailerConfig{MaxLines: -1}, renderItems())
	if strings.Contains(msg.Text, "not listed") {
		t.Errorf("digest with MaxLines -1 cut:\n%s", msg.Text)
	}
}

// TestRenderTemplates: a host's own templates replace the defaults and get
// the same data; a broken one is refused by New.
func TestRenderTemplates(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"digest.txt":  {Data: []byte("{{.Lines}} new for {{.Tenant}}{{range .Categories}}; {{.Name}}{{range .Assets}} {{.Name}}{{end}}{{end}}\n")},
		"digest.html": {Data: []byte("<p>{{.Lines}} new for {{.Tenant}}</p>")},
	}
	msg := renderDigest(t, digest.MailerConfig{Templates: fsys}, renderItems())
	if want := "6 new for acme; Threat Alerts laptop-7 srv-2; System Status Alerts (no asset); Configuration Alerts fw-1; custom-audit db-1\n"; msg.Text != want {
		t.Errorf("custom text = %q; want %q", msg.Text, want)
	}
	if want := "<p>6 new for acme</p>"; msg.HTML != want {
		t.Errorf("custom HTML = %q; want %q", msg.HTML, want)
	}
	for name, bad := range map[string]fstest.MapFS{
		"missing html": {"digest.txt": fsys["digest.txt"]},
		"syntax":       {"digest.txt": {Data: []byte("{{.Lines")}, "digest.html": fsys["digest.html"]},
	} {
		_, err := digest.NewMailer(digest.MailerConfig{Notifier: alertstest.NewRecorder(), Templates: bad})
		if !errors.Is(err, digest.ErrConfig) || !strings.Contains(err.Error(), "Templates") {
			t.Errorf("New with templates (%s) = %v; want ErrConfig naming Templates", name, err)
		}
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
	if msg.Text != want {
		t.Errorf("custom template rendered\n%s\nwant\n%s", msg.Text, want)
	}
	var _ *digest.TemplateData // the type the doc names
}
