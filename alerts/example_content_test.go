package alerts_test

import (
	"fmt"
	"strings"
	"testing/fstest"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// Rendering an Active Threat email: the host's brand, event links from a
// URL template, times in the recipients' zone, scores with their severity
// band, and a list cut at two events with a link to the hunting page.
func ExampleContent_Render() {
	content, err := alerts.NewContent(alerts.ContentConfig{
		EventURL:   "https://console.example.com/t/{tenant}/events/{id}",
		HuntingURL: "https://console.example.com/t/{tenant}/hunting",
		MaxEvents:  2,
		Brand: alerts.Brand{
			ProductName: "Acme Security",
			AccentColor: "#6d28d9",
			SettingsURL: "https://console.example.com/t/{tenant}/settings/email",
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2026, 6, 2, 7, 30, 0, 0, time.UTC)
	msg := &alerts.Message{
		ID:       "alert-1",
		Tenant:   "acme",
		Category: alerts.ActiveThreat,
		Location: berlin,
		Carried:  1,
		Events: []alerts.Event{
			{ID: "e1", Score: 9.1, Asset: "web-01", Summary: "Ransomware behaviour", Time: at},
			{ID: "e2", Score: 7, Asset: "db-02", Summary: "Credential dumping", Time: at.Add(time.Minute)},
			{ID: "e3", Score: 4.5, Asset: "hr-laptop", Summary: "Suspicious macro", Time: at.Add(2 * time.Minute)},
		},
	}
	if err := content.Render(msg); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Subject:", msg.Subject)
	fmt.Print(msg.Text)
	fmt.Println(strings.Contains(msg.HTML, `<a href="https://console.example.com/t/acme/hunting" target="_blank"`))
	// Output:
	// Subject: Active Threat Alerts: 3 events
	// Acme Security
	// ACTIVE THREAT ALERT
	//
	// 3 high-risk threat events detected for tenant acme. The highest score is
	// 9.1 (Critical).
	// This email includes 1 event held back by the alert frequency limit.
	//
	// Each event below scored at or over the Active Threat threshold. Open an
	// event to quarantine or delete it, or to kill its process.
	//
	// - 2026-06-02 09:30:00 CEST (UTC+02:00) | score 9.1 (Critical)
	//   web-01: Ransomware behaviour
	//   View event: https://console.example.com/t/acme/events/e1
	//
	// - 2026-06-02 09:31:00 CEST (UTC+02:00) | score 7 (High)
	//   db-02: Credential dumping
	//   View event: https://console.example.com/t/acme/events/e2
	//
	// Showing 2 of 3 high-risk threat events; 1 more not shown.
	// View more events: https://console.example.com/t/acme/hunting
	//
	// Times are shown in Europe/Berlin.
	// You receive this email because Active Threat Alerts are turned on for
	// acme.
	// Manage email settings: https://console.example.com/t/acme/settings/email
	// true
}

// A host replaces the templates of one category, here with a terser
// System Status email. Its HTML still goes through html/template, so the
// event data stays escaped.
func ExampleContentConfig_templates() {
	content, err := alerts.NewContent(alerts.ContentConfig{
		Templates: fstest.MapFS{
			"system-status.txt":  {Data: []byte("{{range .Events}}{{.Time}} {{.Asset}}: {{.Summary}}\n{{end}}")},
			"system-status.html": {Data: []byte("<ul>{{range .Events}}<li>{{.Asset}}: {{.Summary}}</li>{{end}}</ul>")},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := &alerts.Message{
		ID:       "status-1",
		Tenant:   "acme",
		Category: alerts.SystemStatus,
		Events: []alerts.Event{{
			ID: "s1", Asset: "sensor <eu-1>", Summary: "offline for 15 minutes",
			Time: time.Date(2026, 6, 2, 7, 30, 0, 0, time.UTC),
		}},
	}
	if err := content.Render(msg); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msg.Subject)
	fmt.Print(msg.Text)
	fmt.Print(msg.HTML)
	// Output:
	// System Status Alerts: 1 event
	// 2026-06-02 07:30:00 UTC sensor <eu-1>: offline for 15 minutes
	// <ul><li>sensor &lt;eu-1&gt;: offline for 15 minutes</li></ul>
}
